/** Spec of the fused AdamW step (reference: ../js/optim.ts, native: native/optim.cpp). */
import { kernel, input, output, scalar, derived, inputList, outputList } from '../spec.js';

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

/**
 * The AdamW step of every parameter in one call (torch's multi-tensor `foreach`/`fused` AdamW):
 * params[i], m[i] and v[i] updated in place from grads[i] exactly as `adamwStep` does, with
 * tensor i's hyper-parameters at hyper[6i .. 6i+6) = lr, beta1, beta2, eps, weightDecay, step
 * (float64; the kernel rounds them as adamwStep's scalars are rounded, so each tensor's result is
 * adamwStep's bit for bit). Natively the work is split over the pool by the total element count,
 * not per tensor: small tensors share a task, a large one spans several. The hyper-parameters
 * are not checked here (the optimizer validates them): non-finite ones give NaN as they would in
 * the reference.
 */
export const adamwStepMulti = kernel('adamwStepMulti', {
  params: outputList('f32'),
  grads: inputList('f32', { sameLengths: 'params' }),
  m: outputList('f32', { sameLengths: 'params' }),
  v: outputList('f32', { sameLengths: 'params' }),
  hyper: input('f64', { len: '6 * size(params)', doc: 'per tensor: lr, beta1, beta2, eps, weightDecay, step' }),
});

/**
 * Σ over the entries of Σ x[i]², in float64, as 8 bytes into `out` (as sumSquares): each entry's
 * sum in sumSquares' fixed order, the entries' sums added in list order starting from 0, so the
 * result equals the loop `s = 0; for (x of xs) s += sumSquares(x)` bit for bit at any thread count.
 * Natively the blocks of every entry are one pool job.
 */
export const sumSquaresMulti = kernel('sumSquaresMulti', {
  xs: inputList('f32'),
  out: output('f32', { len: '2', doc: 'the float64 sum as 8 bytes' }),
});

/** x[i] ← x[i] · alpha over every entry of xs (as scaleInPlace), split over the pool by the total element count. */
export const scaleInPlaceMulti = kernel('scaleInPlaceMulti', {
  xs: outputList('f32'),
  alpha: scalar('double', { finite: true }),
});
