/**
 * Specs of the CNN layers' per-channel kernels (reference: ../js/cnn.ts, native: native/cnn.cpp):
 * batch normalization with an optional fused ReLU, and max pooling over fixed windows.
 *
 * Layout: x (B, C, L) with the channel on dim 1 and L = H·W (or 1, or a length) positions after it.
 */
import { kernel, input, optionalInput, output, optionalOutput, shape, scalar, option } from '../spec.js';

/**
 * y = act((x − mean[c])·invstd[c]·weight[c] + bias[c]), act = ReLU when `relu`, else identity.
 * training: mean and invstd (1/√(biased var + eps)) are computed over the B·L values of each
 * channel and written; otherwise they are read (the caller fills them from running statistics).
 */
export const batchNormForward = kernel('batchNormForward', {
  x: input('f32', { len: 'B * C * L' }),
  weight: optionalInput('f32', { len: 'C' }),
  bias: optionalInput('f32', { len: 'C' }),
  y: output('f32', { len: 'B * C * L' }),
  mean: output('f32', { len: 'C' }),
  invstd: output('f32', { len: 'C' }),
  B: shape(), C: shape(), L: shape(),
  eps: scalar('float', { min: 0 }),
  training: option(),
  relu: option(),
}, { checks: [{ ok: '!training || B * L > 1', message: 'training needs more than one value per channel' }] });

/**
 * Gradients of batchNormForward. With y given (the fused-ReLU output), dy is first masked by y > 0.
 *   training:  dx = invstd·w/N · (N·g − Σ g − xhat·Σ g·xhat);  eval: dx = g·w·invstd
 *   dWeight = Σ g·xhat,  dBias = Σ g   (each written in full; null when not needed)
 */
export const batchNormBackward = kernel('batchNormBackward', {
  x: input('f32', { len: 'B * C * L' }),
  dy: input('f32', { len: 'B * C * L' }),
  y: optionalInput('f32', { len: 'B * C * L' }),
  weight: optionalInput('f32', { len: 'C' }),
  mean: input('f32', { len: 'C' }),
  invstd: input('f32', { len: 'C' }),
  dx: output('f32', { len: 'B * C * L' }),
  dWeight: optionalOutput('f32', { len: 'C' }),
  dBias: optionalOutput('f32', { len: 'C' }),
  B: shape(), C: shape(), L: shape(),
  training: option(),
});

/**
 * Max over windows rows [oh·sH − pH, +kh) × cols [ow·sW − pW, +kw), clipped to the plane, for each of
 * `planes` planes of H×W; argmax is the index inside the plane of the first maximum (a NaN wins).
 */
export const maxPoolForward = kernel('maxPoolForward', {
  x: input('f32', { len: 'planes * H * W' }),
  y: output('f32', { len: 'planes * Ho * Wo' }),
  argmax: output('i32', { len: 'planes * Ho * Wo' }),
  planes: shape(), H: shape(), W: shape(), Ho: shape(), Wo: shape(), kh: shape(), kw: shape(),
  strideH: scalar('int', { min: 1, max: 2 ** 20 }), strideW: scalar('int', { min: 1, max: 2 ** 20 }),
  padH: scalar('int', { min: 0, max: 2 ** 20 }), padW: scalar('int', { min: 0, max: 2 ** 20 }),
}, {
  checks: [
    { ok: 'kh >= 1 && kw >= 1 && 2 * padH <= kh && 2 * padW <= kw', message: 'kernel sizes must be ≥ 1 and padding at most half the kernel' },
    { ok: '(Ho - 1) * strideH < H + padH && (Wo - 1) * strideW < W + padW', message: 'every window must start inside the input or its left/top padding' },
  ],
});

/** dx = 0, then dx[plane, argmax] += dy for every output cell. */
export const maxPoolBackward = kernel('maxPoolBackward', {
  dy: input('f32', { len: 'planes * Ho * Wo' }),
  argmax: input('i32', { len: 'planes * Ho * Wo', values: { min: '0', max: 'H * W' } }),
  dx: output('f32', { len: 'planes * H * W' }),
  planes: shape(), H: shape(), W: shape(), Ho: shape(), Wo: shape(),
});

/** y[r, i] = x[r, i] · gate[r] for each of `rows` (= B·C) runs of L values: squeeze-and-excitation's rescaling. */
export const channelScaleForward = kernel('channelScaleForward', {
  x: input('f32', { len: 'rows * L' }),
  gate: input('f32', { len: 'rows' }),
  y: output('f32', { len: 'rows * L' }),
  rows: shape(), L: shape(),
});

/** Gradients of channelScaleForward: dx[r, i] = dy[r, i] · gate[r], dGate[r] = Σ_i dy[r, i] · x[r, i] (each null when not needed). */
export const channelScaleBackward = kernel('channelScaleBackward', {
  x: input('f32', { len: 'rows * L' }),
  gate: input('f32', { len: 'rows' }),
  dy: input('f32', { len: 'rows * L' }),
  dx: optionalOutput('f32', { len: 'rows * L' }),
  dGate: optionalOutput('f32', { len: 'rows' }),
  rows: shape(), L: shape(),
});

/**
 * CBAM's inference forward (src/nn/cbam.ts) and the max pooling after it in one kernel, per image:
 *   Mc[c]  = σ(mlp(mean_hw x[c]) + mlp(max_hw x[c])),  mlp(d) = fc2W·relu(fc1W·d + fc1B) + fc2B
 *   xc     = x · Mc[c]
 *   Ms[p]  = σ(Σ_{m, i, j} spatialW[m, i, j] · maps[m, p + (i − ks/2, j − ks/2)]),  maps = [mean_c xc, max_c xc] (zero padded)
 *   y      = maxpool_{pool×pool, stride pool}(xc · Ms)      (pool 1: no pooling; Ho = ⌊H / pool⌋)
 *   mean[b, c] = the average of y[b, c] over its Ho·Wo positions, when asked (the head's global pooling)
 * fc1W (R, C), fc2W (C, R), spatialW (2, ks, ks); the biases may be null.
 */
export const cbamPoolForward = kernel('cbamPoolForward', {
  x: input('f32', { len: 'B * C * H * W' }),
  fc1W: input('f32', { len: 'R * C' }),
  fc1B: optionalInput('f32', { len: 'R' }),
  fc2W: input('f32', { len: 'C * R' }),
  fc2B: optionalInput('f32', { len: 'C' }),
  spatialW: input('f32', { len: '2 * ks * ks' }),
  y: output('f32', { len: 'B * C * Ho * Wo' }),
  mean: optionalOutput('f32', { len: 'B * C' }),
  B: shape(), C: shape(), H: shape(), W: shape(), R: shape(), ks: shape(), pool: shape(), Ho: shape(), Wo: shape(),
}, {
  checks: [
    { ok: 'ks % 2 == 1 && pool >= 1', message: 'the spatial kernel side ks must be odd and pool ≥ 1' },
    { ok: 'Ho == H / pool && Wo == W / pool && Ho >= 1 && Wo >= 1', message: 'Ho must equal ⌊H / pool⌋ ≥ 1 and Wo ⌊W / pool⌋ ≥ 1' },
  ],
});
