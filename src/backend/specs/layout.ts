/** Specs of the data-movement kernels (reference: ../js/layout.ts, ../js/dropout.ts, native: native/layout.cpp). */
import { kernel, input, output, scalar, intList, derived } from '../spec.js';

/** out = x permuted: out's dim d is x's dim perm[d]. Any typed array on the reference; float32 natively. */
export const permute = kernel('permute', {
  x: input('numeric', { len: 'prod(shape)' }),
  out: output('numeric', { len: 'prod(shape)' }),
  shape: intList(),
  perm: intList(),
  nd: derived('size(shape)'),
}, {
  checks: [{ ok: 'size(perm) == size(shape) && isPerm(perm)', message: 'perm must be a permutation of 0..nd−1, one entry per dim of shape' }],
});

/** out[i] = x[i] / (1 − p) where element i is kept (a pure function of seed and i), else 0. */
export const dropout = kernel('dropout', {
  x: input('f32', { len: 'len(out)' }),
  out: output('f32'),
  p: scalar('double', { min: 0, max: 1 }),
  seed: scalar('int', { min: 0, max: 2 ** 32 - 1 }),
  n: derived('len(out)'),
});
