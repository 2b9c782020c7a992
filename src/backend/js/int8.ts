/**
 * Reference int8 weight quantization and the int8 GEMM that uses it.
 *
 * quantizePerChannel: symmetric, one scale per output row of w (n, k):
 *   scale_r = max_c |w_rc| / 127 (1 for an all-zero row),  q_rc = round(w_rc / scale_r)
 * int8Gemm: out (m, n) = x (m, k) · dequant(wq)ᵀ + bias, with x quantized per row on
 * the fly the same way (round half away from zero, clamp to ±127); the dot products
 * are exact int32 sums, so every backend gives the same integers:
 *   out_ij = sx_i · sw_j · Σ_c qx_ic · qw_jc + bias_j
 */
import type { Params } from '../table.js';

/** Round half away from zero and clamp to [−127, 127]. */
export function quantizeValue(x: number, invScale: number): number {
  const y = x * invScale;
  const r = y >= 0 ? Math.floor(y + 0.5) : -Math.floor(-y + 0.5);
  return r > 127 ? 127 : r < -127 ? -127 : r;
}

export function quantizePerChannel({ w, q, scales, n, k }: Params<'quantizePerChannel'>): void {
  for (let r = 0; r < n; r++) {
    let maxAbs = 0;
    for (let c = 0; c < k; c++) maxAbs = Math.max(maxAbs, Math.abs(w[r * k + c]));
    const scale = maxAbs > 0 ? Math.fround(maxAbs / 127) : 1;
    scales[r] = scale;
    const inv = Math.fround(1 / scale);
    for (let c = 0; c < k; c++) q[r * k + c] = quantizeValue(Math.fround(w[r * k + c] * inv), 1);
  }
}

export function int8Gemm({ x, wq, wScales, out, m, n, k, bias }: Params<'int8Gemm'>): void {
  const qx = new Int8Array(k);
  for (let i = 0; i < m; i++) {
    let maxAbs = 0;
    for (let c = 0; c < k; c++) maxAbs = Math.max(maxAbs, Math.abs(x[i * k + c]));
    const sx = maxAbs > 0 ? Math.fround(maxAbs / 127) : 1;
    const inv = Math.fround(1 / sx);
    for (let c = 0; c < k; c++) qx[c] = quantizeValue(Math.fround(x[i * k + c] * inv), 1);
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let c = 0; c < k; c++) dot += qx[c] * wq[j * k + c];
      const v = Math.fround(Math.fround(sx * wScales[j]) * dot);
      out[i * n + j] = bias !== null ? v + bias[j] : v;
    }
  }
}
