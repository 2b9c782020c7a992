/** Specs of the embedding lookup and its scatter-add gradient (reference: ../js/embedding.ts, native: native/embedding.cpp). */
import { kernel, input, optionalInput, output, shape, scalar, derived } from '../spec.js';

/** out[i, :] = weight[indices[i], :]. */
export const embeddingForward = kernel('embeddingForward', {
  weight: input('f32'),
  indices: input('i32', { values: { min: '0', max: 'dim == 0 ? 0 : len(weight) / dim', what: 'weight rows' } }),
  out: output('f32', { len: 'len(indices) * dim' }),
  dim: shape(),
  count: derived('len(indices)'),
}, { checks: [
  { ok: 'dim > 0 || len(weight) + len(out) == 0', message: 'dim = 0 but weight or out is not empty' },
  { ok: 'dim == 0 || len(weight) % dim == 0', message: "weight's length must be a multiple of dim" },
] });

/** dWeight[indices[i], :] += dOut[i, :], skipping indices equal to paddingIdx (−1 for none). */
export const embeddingBackward = kernel('embeddingBackward', {
  dOut: input('f32', { len: 'len(indices) * dim' }),
  indices: input('i32', { values: { min: '0', max: 'dim == 0 ? 0 : len(dWeight) / dim', except: 'paddingIdx', what: 'weight rows' } }),
  dWeight: output('f32'),
  dim: shape(),
  paddingIdx: scalar('int', { min: -(2 ** 31), max: 2 ** 31 - 1 }),
  count: derived('len(indices)'),
}, { checks: [
  { ok: 'dim > 0 || len(dWeight) + len(dOut) == 0', message: 'dim = 0 but dWeight or dOut is not empty' },
  { ok: 'dim == 0 || len(dWeight) % dim == 0', message: "dWeight's length must be a multiple of dim" },
] });

/**
 * The embedding path of a Transformer's input in one pass (ops/embed-positions.ts):
 *   out[i, c] = dropout_p(weight[indices[i], c] · scale + positions[offset + i mod seqLen, c])
 * with the dropout kernel's mask (element i·dim + c of a call seeded with seed) and scale 1/(1 − p).
 * positions is null for none. The same float32 operations in the same order as the composed
 * embedding, mul, add and dropout kernels.
 */
export const embedPositionsForward = kernel('embedPositionsForward', {
  weight: input('f32'),
  indices: input('i32', { values: { min: '0', max: 'dim == 0 ? 0 : len(weight) / dim', what: 'weight rows' } }),
  positions: optionalInput('f32', { minLen: '(offset + seqLen) * dim' }),
  out: output('f32', { len: 'len(indices) * dim' }),
  dim: shape(),
  seqLen: shape(),
  offset: shape(),
  scale: scalar('float'),
  p: scalar('double', { min: 0, max: 1, maxExclusive: true }),
  seed: scalar('int', { min: 0, max: 2 ** 32 - 1 }),
  count: derived('len(indices)'),
}, { checks: [
  { ok: 'dim > 0 || len(weight) + len(out) == 0', message: 'dim = 0 but weight or out is not empty' },
  { ok: 'dim == 0 || len(weight) % dim == 0', message: "weight's length must be a multiple of dim" },
  { ok: 'seqLen > 0', message: 'seqLen must be positive' },
  { ok: 'len(indices) % seqLen == 0', message: "indices' length must be a multiple of seqLen (rows of seqLen positions)" },
] });

/**
 * embedPositionsForward's weight gradient: dWeight[indices[i], c] += dropout_p(dOut[i, c]) · scale (the same
 * mask), skipping indices equal to paddingIdx (−1 for none). The positions are fixed: no gradient.
 */
export const embedPositionsBackward = kernel('embedPositionsBackward', {
  dOut: input('f32', { len: 'len(indices) * dim' }),
  indices: input('i32', { values: { min: '0', max: 'dim == 0 ? 0 : len(dWeight) / dim', except: 'paddingIdx', what: 'weight rows' } }),
  dWeight: output('f32'),
  dim: shape(),
  paddingIdx: scalar('int', { min: -(2 ** 31), max: 2 ** 31 - 1 }),
  scale: scalar('float'),
  p: scalar('double', { min: 0, max: 1, maxExclusive: true }),
  seed: scalar('int', { min: 0, max: 2 ** 32 - 1 }),
  count: derived('len(indices)'),
}, { checks: [
  { ok: 'dim > 0 || len(dWeight) + len(dOut) == 0', message: 'dim = 0 but dWeight or dOut is not empty' },
  { ok: 'dim == 0 || len(dWeight) % dim == 0', message: "dWeight's length must be a multiple of dim" },
] });
