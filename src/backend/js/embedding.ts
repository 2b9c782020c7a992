/**
 * Reference embedding lookup and its scatter-add gradient.
 * weight is (numEmbeddings, dim); indices are already range-checked by the op.
 */
import type { Params } from '../table.js';
import { lowbias32 } from './dropout-hash.js';

/** out[i, :] = weight[indices[i], :]. */
export function embeddingForward({ weight, indices, out, dim }: Params<'embeddingForward'>): void {
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i] * dim;
    out.set(weight.subarray(src, src + dim), i * dim);
  }
}

/** dWeight[indices[i], :] += dOut[i, :], skipping rows equal to paddingIdx (−1 for none). */
export function embeddingBackward({ dOut, indices, dWeight, dim, paddingIdx }: Params<'embeddingBackward'>): void {
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    if (r === paddingIdx) continue;
    const d = r * dim, s = i * dim;
    for (let c = 0; c < dim; c++) dWeight[d + c] += dOut[s + c];
  }
}

/** Rounds each step to float32 for float32 arrays (as the composed kernels store), not for float64 ones. */
const roundOf = (a: ArrayLike<number>): ((x: number) => number) => (a instanceof Float32Array ? Math.fround : (x: number) => x);

/**
 * out[i, c] = dropout_p(weight[indices[i], c] · scale + positions[offset + i mod seqLen, c]): the
 * embedding, × scale, + positions and dropout kernels in one pass, each step rounded to float32
 * as those kernels do. Element e = i·dim + c is kept iff lowbias32(e ^ lowbias32(seed)) ≥ p·2³²
 * (the dropout kernel's mask), and a kept element is multiplied by the float32 1/(1 − p).
 */
export function embedPositionsForward({ weight, indices, positions, out, dim, seqLen, offset, scale, p, seed }: Params<'embedPositionsForward'>): void {
  const r = roundOf(out), s = r(scale), keepScale = Math.fround(1 / (1 - p)), threshold = p * 4294967296, mixed = lowbias32(seed);
  const hasPos = positions !== null;
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i] * dim, pos = (offset + (i % seqLen)) * dim, dst = i * dim;
    for (let c = 0; c < dim; c++) {
      let v = r(weight[src + c] * s);
      if (hasPos) v = r(v + positions![pos + c]);
      out[dst + c] = p === 0 ? v : lowbias32((dst + c) ^ mixed) >= threshold ? v * keepScale : 0;
    }
  }
}

/** dWeight[indices[i], c] += dropout_p(dOut[i, c]) · scale (embedPositionsForward's mask), skipping paddingIdx rows. */
export function embedPositionsBackward({ dOut, indices, dWeight, dim, paddingIdx, scale, p, seed }: Params<'embedPositionsBackward'>): void {
  const r = roundOf(dWeight), s = r(scale), keepScale = Math.fround(1 / (1 - p)), threshold = p * 4294967296, mixed = lowbias32(seed);
  for (let i = 0; i < indices.length; i++) {
    const row = indices[i];
    if (row === paddingIdx) continue;
    const d = row * dim, src = i * dim;
    for (let c = 0; c < dim; c++) {
      const g = p === 0 ? dOut[src + c] : lowbias32((src + c) ^ mixed) >= threshold ? r(dOut[src + c] * keepScale) : 0;
      dWeight[d + c] += r(g * s);
    }
  }
}
