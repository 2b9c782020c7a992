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
