/** Specs of the reductions over one axis, x viewed as (outer, size, inner) (reference: ../js/reduce.ts, native: native/layout.cpp). */
import { kernel, input, output, shape, scalar } from '../spec.js';

/** out (outer, inner) = sum / max / min over the axis (op 0, 1, 2: ReduceOp). */
export const reduceAxis = kernel('reduceAxis', {
  op: scalar('int', { min: 0, max: 2 }),
  x: input('f32', { len: 'outer * size * inner' }),
  out: output('f32', { len: 'outer * inner' }),
  outer: shape(), size: shape(), inner: shape(),
});

/** Index of the first maximum along the axis (reference only). */
export const argmaxAxis = kernel('argmaxAxis', {
  x: input('f32', { len: 'outer * size * inner' }),
  out: output('i32', { len: 'outer * inner' }),
  outer: shape(), size: shape(), inner: shape(),
}, { referenceOnly: true });
