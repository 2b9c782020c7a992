/**
 * Reference embedding lookup and its scatter-add gradient.
 * weight is (numEmbeddings, dim); indices are already range-checked by the op.
 */

/** out[i, :] = weight[indices[i], :]. */
export function embeddingForward(weight: Float32Array, indices: Int32Array, out: Float32Array, dim: number): void {
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i] * dim;
    out.set(weight.subarray(src, src + dim), i * dim);
  }
}

/** dWeight[indices[i], :] += dOut[i, :], skipping rows equal to paddingIdx (−1 for none). */
export function embeddingBackward(dOut: Float32Array, indices: Int32Array, dWeight: Float32Array, dim: number, paddingIdx: number): void {
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    if (r === paddingIdx) continue;
    const d = r * dim, s = i * dim;
    for (let c = 0; c < dim; c++) dWeight[d + c] += dOut[s + c];
  }
}
