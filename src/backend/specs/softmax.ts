/** Specs of softmax / logSoftmax over one axis, x viewed as (outer, size, inner) (reference: ../js/softmax.ts, native: native/softmax.cpp). */
import { kernel, input, output, shape, option } from '../spec.js';

export const softmaxForward = kernel('softmaxForward', {
  x: input('f32', { len: 'outer * size * inner' }),
  y: output('f32', { len: 'outer * size * inner' }),
  outer: shape(), size: shape(), inner: shape(),
  log: option('logSoftmax instead of softmax'),
});

export const softmaxBackward = kernel('softmaxBackward', {
  y: input('f32', { len: 'outer * size * inner' }),
  dy: input('f32', { len: 'outer * size * inner' }),
  dx: output('f32', { len: 'outer * size * inner' }),
  outer: shape(), size: shape(), inner: shape(),
  log: option('logSoftmax instead of softmax'),
});
