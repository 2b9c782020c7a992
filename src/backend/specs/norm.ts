/** Specs of layerNorm and rmsNorm over rows of `cols` elements (reference: ../js/norm.ts, native: native/norm.cpp). */
import { kernel, input, optionalInput, output, optionalOutput, shape, scalar } from '../spec.js';

export const layerNormForward = kernel('layerNormForward', {
  x: input('f32', { len: 'rows * cols' }),
  weight: optionalInput('f32', { len: 'cols' }),
  bias: optionalInput('f32', { len: 'cols' }),
  y: output('f32', { len: 'rows * cols' }),
  mean: output('f32', { len: 'rows' }),
  rstd: output('f32', { len: 'rows' }),
  rows: shape(), cols: shape(),
  eps: scalar('float'),
});

/** layerNormBackward's arrays, shared with layerNormBackwardDropout (which adds dz and its sums before the dims). */
const layerNormBackwardArrays = {
  x: input('f32', { len: 'rows * cols' }),
  weight: optionalInput('f32', { len: 'cols' }),
  mean: input('f32', { len: 'rows' }),
  rstd: input('f32', { len: 'rows' }),
  dy: input('f32', { len: 'rows * cols' }),
  /** Added to dy (a post-norm residual's gradient at the norm's output), or null. */
  dyAdd: optionalInput('f32', { len: 'rows * cols' }),
  dx: output('f32', { len: 'rows * cols' }),
  /** Added to dx (a pre-norm residual's gradient at the norm's input), or null. */
  dxAdd: optionalInput('f32', { len: 'rows * cols' }),
  dweight: optionalOutput('f32', { len: 'cols' }),
  dbias: optionalOutput('f32', { len: 'cols' }),
};

export const layerNormBackward = kernel('layerNormBackward', {
  ...layerNormBackwardArrays,
  rows: shape(), cols: shape(),
});

/**
 * layerNormBackward, and in the same pass the dropout backward of the op that produced x
 * (ops/residual-grad.ts DropoutGrad): dz = dx · 1/(1 − p) where the dropout kernel's mask (element
 * r·cols + c of a call seeded with seed) kept the element, else 0. dx is written as well (the
 * residual's gradient). (The producer's bias gradient is summed off its dW GEMM's packing of dz,
 * linearBackwardFused, not here.)
 */
export const layerNormBackwardDropout = kernel('layerNormBackwardDropout', {
  ...layerNormBackwardArrays,
  dz: output('f32', { len: 'rows * cols' }),
  rows: shape(), cols: shape(),
  p: scalar('double', { min: 0, max: 1, maxExclusive: true }),
  seed: scalar('int', { min: 0, max: 2 ** 32 - 1 }),
});

export const rmsNormForward = kernel('rmsNormForward', {
  x: input('f32', { len: 'rows * cols' }),
  weight: optionalInput('f32', { len: 'cols' }),
  y: output('f32', { len: 'rows * cols' }),
  rstd: output('f32', { len: 'rows' }),
  rows: shape(), cols: shape(),
  eps: scalar('float'),
});

export const rmsNormBackward = kernel('rmsNormBackward', {
  x: input('f32', { len: 'rows * cols' }),
  weight: optionalInput('f32', { len: 'cols' }),
  rstd: input('f32', { len: 'rows' }),
  dy: input('f32', { len: 'rows * cols' }),
  dx: output('f32', { len: 'rows * cols' }),
  dweight: optionalOutput('f32', { len: 'cols' }),
  rows: shape(), cols: shape(),
});
