/**
 * Reference int8 weight quantization and the int8 GEMM that uses it.
 *
 * quantizePerChannel: symmetric, one scale per output row of w (n, k):
 *   scale_r = max_c |w_rc| / 127 (1 for an all-zero row),  q_rc = round(w_rc / scale_r)
 * int8Gemm: out (m, n) = x (m, k) · dequant(wq)ᵀ + bias, with x quantized per row on
 * the fly the same way (round half away from zero, clamp to ±127); the dot products
 * are exact int32 sums, so every backend gives the same integers:
 *   out_ij = sx_i · sw_j · Σ_c qx_ic · qw_jc + bias_j
 * int8PackWeights / int8GemmPacked: the same two steps split so that the weights are
 * quantized and laid out once (at load time) and every call only quantizes x. Packed
 * layout, the one AVX-512 VNNI's vpdpbusd reads 4 k-bytes × 16 columns at a time:
 *   packed[((p · KQ + q) · 32 + jj) · 4 + e] = q_{32p+jj, 4q+e}   (0 past n or k)
 * with KQ = ⌈k/4⌉ quads and ⌈n/32⌉ panels; colSums_j = Σ_c q_jc. int8GemmPacked's epilogue
 * also applies sgemm's activation (0 none, 1 relu, 2 gelu) and adds an optional residual.
 */
import type { Params } from '../table.js';
import { ACT_RELU, ACT_GELU } from './gemm.js';
import { geluScalar } from './scalar.js';

/** Round half away from zero and clamp to [−127, 127]. */
export function quantizeValue(x: number, invScale: number): number {
  const y = x * invScale;
  const r = y >= 0 ? Math.floor(y + 0.5) : -Math.floor(-y + 0.5);
  return r > 127 ? 127 : r < -127 ? -127 : r;
}

/** Panel width (columns) and quad depth (k-bytes) of the packed layout. */
export const PACK_COLUMNS = 32;
export const PACK_QUAD = 4;

/** Length of the packed buffer for w (n, k). */
export function packedLength(n: number, k: number): number {
  return Math.ceil(n / PACK_COLUMNS) * PACK_COLUMNS * Math.ceil(k / PACK_QUAD) * PACK_QUAD;
}

/** Quantizes src[off, off + k) symmetrically into q[0, k); returns the scale (its own, or `fixed` when > 0: values past ±127·fixed clamp). */
function quantizeRow(src: Float32Array, off: number, k: number, q: Int8Array, qOff: number, fixed = 0): number {
  let maxAbs = 0;
  if (fixed === 0) for (let c = 0; c < k; c++) maxAbs = Math.max(maxAbs, Math.abs(src[off + c]));
  const scale = fixed > 0 ? fixed : maxAbs > 0 ? Math.fround(maxAbs / 127) : 1;
  const inv = Math.fround(1 / scale);
  for (let c = 0; c < k; c++) q[qOff + c] = quantizeValue(Math.fround(src[off + c] * inv), 1);
  return scale;
}

export function quantizePerChannel({ w, q, scales, n, k }: Params<'quantizePerChannel'>): void {
  for (let r = 0; r < n; r++) scales[r] = quantizeRow(w, r * k, k, q, r * k);
}

/** out_ij from the int32 dot, as every backend rounds it. */
function dequantize(sx: number, sw: number, dot: number, bias: number | null): number {
  const v = Math.fround(Math.fround(sx * sw) * dot);
  return bias !== null ? v + bias : v;
}

export function int8Gemm({ x, wq, wScales, out, m, n, k, bias }: Params<'int8Gemm'>): void {
  const qx = new Int8Array(k);
  for (let i = 0; i < m; i++) {
    const sx = quantizeRow(x, i * k, k, qx, 0);
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let c = 0; c < k; c++) dot += qx[c] * wq[j * k + c];
      out[i * n + j] = dequantize(sx, wScales[j], dot, bias !== null ? bias[j] : null);
    }
  }
}

/** Index of q_jc in the packed layout. */
function packedIndex(j: number, c: number, kq: number): number {
  const p = Math.floor(j / PACK_COLUMNS), jj = j % PACK_COLUMNS;
  const q = Math.floor(c / PACK_QUAD), e = c % PACK_QUAD;
  return ((p * kq + q) * PACK_COLUMNS + jj) * PACK_QUAD + e;
}

export function int8PackWeights({ w, packed, scales, colSums, n, k }: Params<'int8PackWeights'>): void {
  const kq = Math.ceil(k / PACK_QUAD);
  packed.fill(0);
  const row = new Int8Array(k);
  for (let j = 0; j < n; j++) {
    scales[j] = quantizeRow(w, j * k, k, row, 0);
    let sum = 0;
    for (let c = 0; c < k; c++) {
      packed[packedIndex(j, c, kq)] = row[c];
      sum += row[c];
    }
    colSums[j] = sum;
  }
}

/**
 * Lays out already-quantized weights q (n, k) in the packed layout and sums their columns:
 * int8PackWeights without the quantization, for weights read back from a checkpoint (whose
 * int8 values and scales must be used as stored, not re-derived). A layout routine, not a
 * kernel: it runs once per layer at load time.
 */
export function packQuantizedWeights(q: Int8Array, packed: Int8Array, colSums: Int32Array, n: number, k: number): void {
  const kq = Math.ceil(k / PACK_QUAD);
  packed.fill(0);
  for (let j = 0; j < n; j++) {
    let sum = 0;
    for (let c = 0; c < k; c++) {
      packed[packedIndex(j, c, kq)] = q[j * k + c];
      sum += q[j * k + c];
    }
    colSums[j] = sum;
  }
}

/**
 * out = act(x · dequant(packed)ᵀ + bias) + residual; residual may be out (each element is read, then
 * written). xScale 0: each row of x gets its own scale; > 0: every row this one (static quantization).
 */
export function int8GemmPacked({ x, packed, wScales, out, m, n, k, bias, activation, residual, xScale }: Params<'int8GemmPacked'>): void {
  const kq = Math.ceil(k / PACK_QUAD);
  const qx = new Int8Array(k);
  for (let i = 0; i < m; i++) {
    const sx = quantizeRow(x, i * k, k, qx, 0, Math.fround(xScale));
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let c = 0; c < k; c++) dot += qx[c] * packed[packedIndex(j, c, kq)];
      let v = Math.fround(dequantize(sx, wScales[j], dot, bias !== null ? bias[j] : null));
      if (activation === ACT_RELU) v = v > 0 ? v : (v === v ? 0 : v);
      else if (activation === ACT_GELU) v = geluScalar(v);
      out[i * n + j] = residual !== null ? v + residual[i * n + j] : v;
    }
  }
}
