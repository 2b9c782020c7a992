/**
 * Specs of the elementwise kernels (reference: ../js/elementwise.ts, native: native/elementwise.cpp).
 * Op codes are BinaryOp / UnaryOp of the reference. Calls on fewer than SMALL_ELEMENTWISE
 * elements run on the reference: bench/dispatch measured add of 64 floats at 0.71 µs native
 * vs 0.44 µs js, the cost of crossing into the addon.
 */
import { kernel, input, output, scalar, intList, derived } from '../spec.js';

const SMALL_ELEMENTWISE = 256;

/** out[i] = a[i] (op) b[i]. */
export const binarySame = kernel('binarySame', {
  op: scalar('int', { min: 0, max: 6 }),
  a: input('f32', { len: 'len(out)' }),
  b: input('f32', { len: 'len(out)' }),
  out: output('f32'),
  n: derived('len(out)'),
}, { referenceBelow: { arg: 'out', elements: SMALL_ELEMENTWISE } });

/** out[idx] = a[idx · aStrides] (op) b[idx · bStrides] over every multi-index of outShape. */
export const binaryBroadcast = kernel('binaryBroadcast', {
  op: scalar('int', { min: 0, max: 6 }),
  a: input('f32', { minLen: 'prod(outShape) == 0 ? 0 : 1 + extent(outShape, aStrides)' }),
  aStrides: intList(),
  b: input('f32', { minLen: 'prod(outShape) == 0 ? 0 : 1 + extent(outShape, bStrides)' }),
  bStrides: intList(),
  out: output('f32', { len: 'prod(outShape)' }),
  outShape: intList(),
  nd: derived('size(outShape)'),
}, {
  checks: [{ ok: 'size(aStrides) == size(outShape) && size(bStrides) == size(outShape)', message: 'aStrides and bStrides need one entry per dim of outShape' }],
});

/** out[i] = f(x[i]). */
export const unary = kernel('unary', {
  op: scalar('int', { min: 0, max: 10 }),
  x: input('f32', { len: 'len(out)' }),
  out: output('f32'),
  n: derived('len(out)'),
}, { referenceBelow: { arg: 'out', elements: SMALL_ELEMENTWISE } });

/** dx[i] = dy[i] · f'(x[i]); x is read by log, relu, gelu, geluTanh, silu, abs (op 2, ≥ 6), y by exp, sqrt, tanh, sigmoid (1, 3, 4, 5). */
export const unaryBackward = kernel('unaryBackward', {
  op: scalar('int', { min: 0, max: 10 }),
  x: input('f32', { len: 'op == 2 || op >= 6 ? len(dx) : len(x)' }),
  y: input('f32', { len: 'op == 1 || op == 3 || op == 4 || op == 5 ? len(dx) : len(y)' }),
  dy: input('f32', { len: 'len(dx)' }),
  dx: output('f32'),
  n: derived('len(dx)'),
}, { referenceBelow: { arg: 'dx', elements: SMALL_ELEMENTWISE } });
