/**
 * Specs of the convolution window gather (im2col) and its scatter-add gradient (col2im)
 * (reference: ../js/conv.ts, native: native/conv.cpp). Conv1d/Conv2d are im2col + one GEMM.
 *
 * Layout: x (B, C, H, W); cols (B, Ho, Wo, C, kh, kw), i.e. one row of C·kh·kw per output
 * position, the layout a GEMM against the weight viewed as (O, C·kh·kw) reads. Taps that
 * fall in the zero padding are 0 in cols and receive no gradient.
 */
import { kernel, input, optionalInput, output, optionalOutput, shape, scalar, option } from '../spec.js';

const geometry = {
  B: shape(), C: shape(), H: shape(), W: shape(),
  kh: shape(), kw: shape(), Ho: shape(), Wo: shape(),
  strideH: scalar('int', { min: 1, max: 2 ** 20 }), strideW: scalar('int', { min: 1, max: 2 ** 20 }),
  padH: scalar('int', { min: 0, max: 2 ** 20 }), padW: scalar('int', { min: 0, max: 2 ** 20 }),
  dilationH: scalar('int', { min: 1, max: 2 ** 20 }), dilationW: scalar('int', { min: 1, max: 2 ** 20 }),
} as const;

/** Ho and Wo must be the output sizes the geometry gives, so no tap reads past the padded input. */
const checks = [
  { ok: 'kh >= 1 && kw >= 1', message: 'kernel sizes kh and kw must be ≥ 1' },
  { ok: 'H + 2 * padH >= dilationH * (kh - 1) + 1 && W + 2 * padW >= dilationW * (kw - 1) + 1', message: 'the padded input is smaller than the dilated kernel' },
  { ok: 'Ho == (H + 2 * padH - dilationH * (kh - 1) - 1) / strideH + 1', message: 'Ho must equal (H + 2·padH − dilationH·(kh − 1) − 1) / strideH + 1' },
  { ok: 'Wo == (W + 2 * padW - dilationW * (kw - 1) - 1) / strideW + 1', message: 'Wo must equal (W + 2·padW − dilationW·(kw − 1) − 1) / strideW + 1' },
];

/** cols[b, oh, ow, c, i, j] = x[b, c, oh·sH + i·dH − pH, ow·sW + j·dW − pW], 0 in the padding. */
export const im2col = kernel('im2col', {
  x: input('f32', { len: 'B * C * H * W' }),
  cols: output('f32', { len: 'B * Ho * Wo * C * kh * kw' }),
  ...geometry,
}, { checks });

/** dx[b, c, y, x] += Σ dCols over every (oh, ow, i, j) whose tap reads (y, x). dx is accumulated into. */
export const col2im = kernel('col2im', {
  dCols: input('f32', { len: 'B * Ho * Wo * C * kh * kw' }),
  dx: output('f32', { len: 'B * C * H * W' }),
  ...geometry,
}, { checks });

/**
 * A whole convolution in one call (no (B, Ho·Wo, C·kh·kw) matrix in memory): per image and group,
 * the windows are gathered into a cache-sized scratch and multiplied by the weight, so the output
 * comes out in (B, O, Ho, Wo) order. weight (O, C/groups, kh, kw); bias (O) or null.
 *   y[b, o, oh, ow] = bias[o] + Σ_{c, i, j} weight[o, c, i, j] · x[b, g·C/G + c, oh·sH + i·dH − pH, ow·sW + j·dW − pW]
 * with g = ⌊o / (O/G)⌋ and taps in the padding reading 0.
 */
const convArgs = { ...geometry, O: shape(), groups: scalar('int', { min: 1, max: 2 ** 20 }) } as const;
const convChecks = [...checks, { ok: 'C % groups == 0 && O % groups == 0', message: 'C and O must be multiples of groups' }];

export const conv2dForward = kernel('conv2dForward', {
  x: input('f32', { len: 'B * C * H * W' }),
  weight: input('f32', { len: 'O * (C / groups) * kh * kw' }),
  bias: optionalInput('f32', { len: 'O' }),
  y: output('f32', { len: 'B * O * Ho * Wo' }),
  ...convArgs,
}, { checks: convChecks });

/**
 * The gradients of conv2dForward from dy (B, O, Ho, Wo); each output is written in full (not
 * accumulated) and may be null when that gradient is not needed:
 *   dx = Σ over the taps reading x of dy·weight,  dWeight = Σ_{b, oh, ow} dy·window,  dBias = Σ_{b, oh, ow} dy
 */
export const conv2dBackward = kernel('conv2dBackward', {
  x: input('f32', { len: 'B * C * H * W' }),
  weight: input('f32', { len: 'O * (C / groups) * kh * kw' }),
  dy: input('f32', { len: 'B * O * Ho * Wo' }),
  dx: optionalOutput('f32', { len: 'B * C * H * W' }),
  dWeight: optionalOutput('f32', { len: 'O * (C / groups) * kh * kw' }),
  dBias: optionalOutput('f32', { len: 'O' }),
  ...convArgs,
}, { checks: convChecks });

/**
 * An inference convolution (stride 1, no dilation, one group) with its bias and ReLU in the
 * epilogue, the weight given transposed: weightT (C·kh·kw, O), row t = (c·kh + i)·kw + j holding
 * the O output channels' taps side by side, the layout the register tiles read without packing
 * (callers transpose once and keep it, e.g. with a BatchNorm folded in: src/models/fused-cnn.ts).
 *   y[b, o, oh, ow] = act(bias[o] + Σ_{c, i, j} weightT[(c·kh + i)·kw + j, o] · x[b, c, oh + i − pH, ow + j − pW])
 * act = ReLU when `relu`; taps in the padding read 0; Ho = H + 2·pH − kh + 1, Wo likewise.
 */
export const conv2dTransposedForward = kernel('conv2dTransposedForward', {
  x: input('f32', { len: 'B * C * H * W' }),
  weightT: input('f32', { len: 'C * kh * kw * O' }),
  bias: optionalInput('f32', { len: 'O' }),
  y: output('f32', { len: 'B * O * Ho * Wo' }),
  B: shape(), C: shape(), H: shape(), W: shape(), O: shape(),
  kh: shape(), kw: shape(), Ho: shape(), Wo: shape(),
  padH: scalar('int', { min: 0, max: 2 ** 20 }), padW: scalar('int', { min: 0, max: 2 ** 20 }),
  relu: option(),
}, {
  checks: [
    { ok: 'kh >= 1 && kw >= 1 && 2 * padH < kh + H && 2 * padW < kw + W', message: 'kernel sizes must be ≥ 1 and the padded input at least the kernel' },
    { ok: 'Ho == H + 2 * padH - kh + 1 && Wo == W + 2 * padW - kw + 1', message: 'Ho must equal H + 2·padH − kh + 1 and Wo must equal W + 2·padW − kw + 1 (stride 1)' },
  ],
});
