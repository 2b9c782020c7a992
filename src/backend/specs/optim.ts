/** Spec of the fused AdamW step (reference: ../js/optim.ts, native: native/optim.cpp). */
import { kernel, input, output, scalar, derived } from '../spec.js';

/** param, m and v are updated in place. */
export const adamwStep = kernel('adamwStep', {
  param: output('f32'),
  grad: input('f32', { len: 'len(param)' }),
  m: output('f32', { len: 'len(param)' }),
  v: output('f32', { len: 'len(param)' }),
  n: derived('len(param)'),
  lr: scalar('float', { finite: true }),
  beta1: scalar('float', { finite: true }),
  beta2: scalar('float', { finite: true }),
  eps: scalar('float', { finite: true }),
  weightDecay: scalar('float', { finite: true }),
  step: scalar('int', { min: 1, max: 2 ** 53, doc: 'counts from 1' }),
});

/**
 * Σ x[i]² in float64, written as the 8 bytes of a float64 (little-endian) into `out`, two float32
 * slots read back with a DataView: the global gradient norm of clipping (src/train/optim/clip.ts)
 * sums in float64, as the TypeScript loop it replaces did. The order of the sum is fixed (blocks
 * of SUMSQ_BLOCK values, 16 interleaved lanes per block, lanes then blocks added in order), so
 * the result is bit-identical between the reference and native at any thread count.
 */
export const sumSquares = kernel('sumSquares', {
  x: input('f32'),
  out: output('f32', { len: '2', doc: 'the float64 sum as 8 bytes' }),
  n: derived('len(x)'),
}, { referenceBelow: { arg: 'x', elements: 1024 } });

/** x[i] ← x[i] · alpha, the product taken in float64 then rounded (as `x[i] *= alpha` on a Float32Array). */
export const scaleInPlace = kernel('scaleInPlace', {
  x: output('f32'),
  n: derived('len(x)'),
  alpha: scalar('double', { finite: true }),
}, { referenceBelow: { arg: 'x', elements: 1024 } });
