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

export const layerNormBackward = kernel('layerNormBackward', {
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
  rows: shape(), cols: shape(),
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
