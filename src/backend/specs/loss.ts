/** Specs of fused cross-entropy over class logits (reference: ../js/crossentropy.ts, native: native/crossentropy.cpp). */
import { kernel, input, output, shape, scalar } from '../spec.js';

const targetValues = { min: '0', max: 'classes', except: 'ignoreIndex', what: 'classes, or ignoreIndex' };
const checks = [{ ok: 'rows == 0 || classes >= 1', message: 'classes must be at least 1 when rows > 0' }];

export const crossEntropyForward = kernel('crossEntropyForward', {
  logits: input('f32', { len: 'rows * classes' }),
  targets: input('i32', { len: 'rows', values: targetValues }),
  losses: output('f32', { len: 'rows' }),
  lse: output('f32', { len: 'rows' }),
  rows: shape(), classes: shape(),
  ignoreIndex: scalar('int'),
  labelSmoothing: scalar('float'),
}, { checks });

export const crossEntropyBackward = kernel('crossEntropyBackward', {
  logits: input('f32', { len: 'rows * classes' }),
  targets: input('i32', { len: 'rows', values: targetValues }),
  lse: input('f32', { len: 'rows' }),
  dLoss: input('f32', { len: 'rows' }),
  dLogits: output('f32', { len: 'rows * classes' }),
  rows: shape(), classes: shape(),
  ignoreIndex: scalar('int'),
  labelSmoothing: scalar('float'),
}, { checks });
