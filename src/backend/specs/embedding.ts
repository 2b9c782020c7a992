/** Specs of the embedding lookup and its scatter-add gradient (reference: ../js/embedding.ts, native: native/embedding.cpp). */
import { kernel, input, output, shape, scalar, derived } from '../spec.js';

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
