/** Specs of the GEMM kernels (reference: ../js/gemm.ts and ../js/int8.ts, native: native/gemm.cpp, native/int8.cpp). */
import { kernel, input, optionalInput, output, optionalOutput, shape, scalar, option } from '../spec.js';

/** C[b] = act(alpha · op(A[b]) · op(B[b]) + beta · C[b] + bias), batched and strided. */
export const sgemm = kernel('sgemm', {
  a: input('f32', { minLen: 'batch == 0 || m * k == 0 ? 0 : (batch - 1) * strideA + m * k' }),
  b: input('f32', { minLen: 'batch == 0 || k * n == 0 ? 0 : (batch - 1) * strideB + k * n' }),
  c: output('f32', { minLen: 'batch == 0 || m * n == 0 ? 0 : (batch - 1) * strideC + m * n' }),
  batch: shape(), m: shape(), n: shape(), k: shape(),
  transA: option(), transB: option(),
  alpha: scalar('float'), beta: scalar('float'),
  strideA: shape(), strideB: shape(), strideC: shape(),
  bias: optionalInput('f32', { len: 'n' }),
  activation: scalar('int', { min: 0, max: 2, doc: '0 none, 1 relu, 2 gelu' }),
}, {
  checks: [{ ok: 'batch <= 1 || m * n == 0 || strideC >= m * n', message: 'strideC makes batches of C overlap, expected strideC ≥ m·n' }],
});

/** Symmetric per-row int8 quantization of w (n, k). */
export const quantizePerChannel = kernel('quantizePerChannel', {
  w: input('f32', { len: 'n * k' }),
  q: output('i8', { len: 'n * k' }),
  scales: output('f32', { len: 'n' }),
  n: shape(), k: shape(),
});

/** out (m, n) = x (m, k) · dequant(wq)ᵀ + bias. */
export const int8Gemm = kernel('int8Gemm', {
  x: input('f32', { len: 'm * k' }),
  wq: input('i8', { len: 'n * k' }),
  wScales: input('f32', { len: 'n' }),
  out: output('f32', { len: 'm * n' }),
  m: shape(), n: shape(), k: shape(),
  bias: optionalInput('f32', { len: 'n' }),
}, {
  checks: [{ ok: 'k <= 131072', message: 'k is too large for exact int32 sums, expected k ≤ 131072' }],
});

/**
 * Packed int8 weights, made once at load time: w (n, k) quantized per output row
 * (as quantizePerChannel) and laid out as [n/32 panels][k/4 quads][32 columns][4 bytes]
 * (n padded to 32 and k to 4 with zeros), the layout AVX-512 VNNI's vpdpbusd reads.
 * colSums_j = Σ_c q_jc, for the kernel's u8 = s8 + 128 shift.
 */
export const int8PackWeights = kernel('int8PackWeights', {
  w: input('f32', { len: 'n * k' }),
  packed: output('i8', { len: '(n + 31) / 32 * 32 * ((k + 3) / 4 * 4)' }),
  scales: output('f32', { len: 'n' }),
  colSums: output('i32', { len: 'n' }),
  n: shape(), k: shape(),
}, {
  checks: [{ ok: 'k <= 131072', message: 'k is too large for exact int32 sums, expected k ≤ 131072' }],
});

/**
 * out (m, n) = act(x (m, k) · dequant(packed)ᵀ + bias) + residual, x quantized per row at run time
 * (xScale 0), or with one calibrated scale for every row (xScale > 0: static quantization, values
 * past ±127·xScale clamp).
 * The activation and the residual are the epilogue a Transformer layer's FFN and output
 * projections need (sgemm's activation codes); residual may be `out` itself (out += …).
 */
export const int8GemmPacked = kernel('int8GemmPacked', {
  x: input('f32', { len: 'm * k' }),
  packed: input('i8', { len: '(n + 31) / 32 * 32 * ((k + 3) / 4 * 4)' }),
  wScales: input('f32', { len: 'n' }),
  colSums: input('i32', { len: 'n' }),
  out: output('f32', { len: 'm * n' }),
  m: shape(), n: shape(), k: shape(),
  bias: optionalInput('f32', { len: 'n' }),
  activation: scalar('int', { min: 0, max: 2, doc: '0 none, 1 relu, 2 gelu' }),
  residual: optionalInput('f32', { len: 'm * n' }),
  xScale: scalar('float', { min: 0, finite: true, doc: '0: each row of x quantized with its own scale (dynamic); > 0: every row with this one (static, calibrated)' }),
}, {
  checks: [{ ok: 'k <= 131072', message: 'k is too large for exact int32 sums, expected k ≤ 131072' }],
});

/**
 * The two weight-side gradients of y = x · Wᵀ (x: rows × inF, W: outF × inF) from dy (rows × outF):
 * gx = dy · W (rows × inF) and gw = dyᵀ · x (outF × inF). One call so that, on two threads, each
 * product runs whole on its own thread instead of each being cut into two slabs (the slabs' edges,
 * operands packed twice); on one thread, or at any other thread count, they are two sgemm calls.
 */
export const linearBackward = kernel('linearBackward', {
  g: input('f32', { len: 'rows * outF' }),
  x: input('f32', { len: 'rows * inF' }),
  w: input('f32', { len: 'outF * inF' }),
  gx: output('f32', { len: 'rows * inF' }),
  gw: output('f32', { len: 'outF * inF' }),
  rows: shape(), inF: shape(), outF: shape(),
});

/**
 * linearBackward with the bias gradient, and either product optional: gx = g · w, gw = gᵀ · x, gb (outF)
 * = Σ_rows g in float64 in row order (read off the dW product's packing of gᵀ, not a pass of its own;
 * alone when gw is null). A null gx or gw is not computed.
 * maskScale > 0: gx is written already through the relu-dropout that produced x, gx = (g · w) · maskScale
 * where x > 0, else 0 (reluDropoutBackward's arithmetic, applied to each output tile while it is in L1:
 * the gradient at the pre-activation of the Linear that wrote x); 0: gx = g · w.
 */
export const linearBackwardFused = kernel('linearBackwardFused', {
  g: input('f32', { len: 'rows * outF' }),
  x: input('f32', { len: 'rows * inF' }),
  w: input('f32', { len: 'outF * inF' }),
  gx: optionalOutput('f32', { len: 'rows * inF' }),
  gw: optionalOutput('f32', { len: 'outF * inF' }),
  gb: optionalOutput('f32', { len: 'outF' }),
  rows: shape(), inF: shape(), outF: shape(),
  maskScale: scalar('float', { min: 0, finite: true, doc: '0: gx = g·w; > 0: gx = (g·w)·maskScale where x > 0, else 0' }),
});
