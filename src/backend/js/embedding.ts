/**
 * Reference embedding lookup and its scatter-add gradient.
 * weight is (numEmbeddings, dim); indices are already range-checked by the op.
 */
import type { Params } from '../table.js';

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
