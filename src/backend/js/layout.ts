/**
 * Reference data-movement kernel: a general permutation copy.
 * out has shape shape[perm[0]], shape[perm[1]], ...; works for any typed array.
 *
 * When the last dim stays last (splitting or merging attention heads), rows of that
 * dim are contiguous in both tensors and are copied as blocks.
 */
export function permute<T extends Float32Array | Int32Array | Uint8Array>(x: T, out: T, shape: readonly number[], perm: readonly number[]): void {
  const nd = shape.length;
  if (out.length === 0) return;
  const inStrides = new Array<number>(nd);
  let s = 1;
  for (let d = nd - 1; d >= 0; d--) { inStrides[d] = s; s *= shape[d]; }
  const outShape = perm.map((p) => shape[p]);
  const st = perm.map((p) => inStrides[p]);
  const last = nd - 1;
  if (perm[last] === last) {
    copyRows(x, out, outShape, st, shape[last]);
    return;
  }
  const idx = new Array<number>(nd).fill(0);
  const inner = outShape[last], sl = st[last];
  let src = 0;
  for (let o = 0; o < out.length; o += inner) {
    for (let j = 0; j < inner; j++) out[o + j] = x[src + j * sl];
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      src += st[d];
      if (idx[d] < outShape[d]) break;
      src -= st[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

/** Copies contiguous rows of length `row`, walking the output's leading dims. */
function copyRows<T extends Float32Array | Int32Array | Uint8Array>(x: T, out: T, outShape: readonly number[], st: readonly number[], row: number): void {
  const lead = outShape.length - 1;
  const idx = new Array<number>(lead).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o += row) {
    out.set(x.subarray(src, src + row), o);
    for (let d = lead - 1; d >= 0; d--) {
      idx[d]++;
      src += st[d];
      if (idx[d] < outShape[d]) break;
      src -= st[d] * outShape[d];
      idx[d] = 0;
    }
  }
}
