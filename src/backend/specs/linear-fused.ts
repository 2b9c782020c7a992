/**
 * Specs of the training-path fused Linear kernels (reference: ../js/linear-fused.ts, native:
 * native/gemm.cpp's epilogue and native/linear_fused.cpp). A Transformer block's
 *   residual + dropout(act(x · Wᵀ + b))
 * is one GEMM whose epilogue applies the bias, the activation, the dropout mask and the residual
 * while the output tile is in cache, instead of four kernels that each read and write the output.
 */
import { kernel, input, optionalInput, output, shape, scalar, derived } from '../spec.js';

/**
 * y (rows, outF) = residual + dropout_p(act(x (rows, inF) · w (outF, inF)ᵀ + bias)), act 0 none or 1 relu.
 * Element i = r·outF + c is kept iff lowbias32(i ^ lowbias32(seed)) ≥ p·2³² (the dropout kernel's
 * mask, so the backward re-applies it from the seed); kept values are scaled by 1/(1 − p).
 */
export const linearFused = kernel('linearFused', {
  x: input('f32', { len: 'rows * inF' }),
  w: input('f32', { len: 'outF * inF' }),
  y: output('f32', { len: 'rows * outF' }),
  rows: shape(), outF: shape(), inF: shape(),
  bias: optionalInput('f32', { len: 'outF' }),
  activation: scalar('int', { min: 0, max: 1, doc: '0 none, 1 relu' }),
  p: scalar('double', { min: 0, max: 1, maxExclusive: true }),
  seed: scalar('int', { min: 0, max: 2 ** 32 - 1 }),
  residual: optionalInput('f32', { len: 'rows * outF' }),
});

/**
 * The gradient through dropout_p(relu(z)) from its output y: dz = dy · scale where y > 0, else 0.
 * y > 0 exactly where the element was kept and z > 0, so neither z nor the mask is stored.
 */
export const reluDropoutBackward = kernel('reluDropoutBackward', {
  y: input('f32', { len: 'len(dz)' }),
  dy: input('f32', { len: 'len(dz)' }),
  dz: output('f32'),
  scale: scalar('float', { min: 0 }),
  n: derived('len(dz)'),
});

/**
 * y = dropout_p(gelu(z)) (the erf form), with the dropout kernel's hashed mask: the forward of the
 * taped GELU FFN, whose backward needs the pre-activation z, so the GEMM writes z and this pass
 * writes y (z kept).
 */
export const geluDropout = kernel('geluDropout', {
  z: input('f32', { len: 'len(y)' }),
  y: output('f32'),
  p: scalar('double', { min: 0, max: 1, maxExclusive: true }),
  seed: scalar('int', { min: 0, max: 2 ** 32 - 1 }),
  n: derived('len(y)'),
});

/** dz = dy · gelu'(z) / (1 − p) where geluDropout kept the element (the mask re-hashed from the seed), else 0. */
export const geluDropoutBackward = kernel('geluDropoutBackward', {
  z: input('f32', { len: 'len(dz)' }),
  dy: input('f32', { len: 'len(dz)' }),
  dz: output('f32'),
  p: scalar('double', { min: 0, max: 1, maxExclusive: true }),
  seed: scalar('int', { min: 0, max: 2 ** 32 - 1 }),
  n: derived('len(dz)'),
});

/**
 * The output gradient of linearDropout(act 'none', p > 0) and its bias gradient in one pass:
 * dz (rows, cols) = the dropout kernel's backward of dy (dy / (1 − p) where the mask from seed keeps
 * element r·cols + c, else 0) and dbias (cols) = Σ_rows dz, summed in float64 in row order as reduceAxis
 * (with several threads, per-thread float64 sums added in row order). dz is then read only by the GEMMs.
 */
export const dropoutBackwardBias = kernel('dropoutBackwardBias', {
  dy: input('f32', { len: 'rows * cols' }),
  dz: output('f32', { len: 'rows * cols' }),
  dbias: output('f32', { len: 'cols' }),
  rows: shape(), cols: shape(),
  p: scalar('double', { min: 0, max: 1, maxExclusive: true }),
  seed: scalar('int', { min: 0, max: 2 ** 32 - 1 }),
});
