/**
 * Reference data-movement kernel: a general permutation copy.
 * out has shape shape[perm[0]], shape[perm[1]], ...; works for any typed array.
 *
 * When the last dim stays last (splitting or merging attention heads), rows of that
 * dim are contiguous in both tensors and are copied as blocks.
 */
import type { Params } from '../table.js';
export function permute({ x, out, shape, perm }: Params<'permute'>): void {
  const nd = shape.length;
  if (out.length === 0) return;
  const inStrides = new Array<number>(nd);
  let s = 1;
  for (let d = nd - 1; d >= 0; d--) { inStrides[d] = s; s *= shape[d]; }
  const outShape = perm.map((p) => shape[p]);
  const st = perm.map((p) => inStrides[p]);
  const last = nd - 1;
  const inner = nd === 0 ? 1 : outShape[last], sl = nd === 0 ? 1 : st[last];
  const block = sl === 1 && inner >= 16; // a contiguous row, long enough that one set() beats a loop
  // Walk the output row by row; idx is the row's index over the leading output dims, src its
  // first element in x.
  const idx = new Array<number>(Math.max(last, 0)).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o += inner) {
    if (block) out.set(x.subarray(src, src + inner), o);
    else for (let j = 0; j < inner; j++) out[o + j] = x[src + j * sl];
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      src += st[d];
      if (idx[d] < outShape[d]) break;
      src -= st[d] * outShape[d];
      idx[d] = 0;
    }
  }
}
