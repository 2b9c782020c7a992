/**
 * dropout: zeroes each element with probability p and scales the rest by 1/(1 − p)
 * (inverted dropout, as torch). Identity when not training or p = 0. Seeded by the
 * global generator (manualSeed) or the one passed in: one draw per call seeds a
 * counter-based hash, so a call costs one generator step whatever the tensor size.
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/node.js';
import { defaultGenerator, type Generator } from '../tensor/rng.js';
import { ValueError } from '../errors.js';
import { k } from '../backend/registry.js';
import { requireFloat, emptyFloatTensor, f32 } from './util.js';

export interface DropoutOptions {
  training?: boolean;
  generator?: Generator;
}

export function dropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  requireFloat(x, 'dropout', 'input');
  if (!(p >= 0 && p <= 1)) throw new ValueError(`dropout: p=${p}, expected a probability in [0, 1].`);
  if (!(options.training ?? true) || p === 0) return x;
  const g = options.generator ?? defaultGenerator;
  // One generator draw seeds a counter-based hash over the elements (the same hash the fused
  // attention kernel uses); the backward pass re-applies the same mask from the seed.
  const seed = g.nextU32();
  const out = emptyFloatTensor(x.dtype, x.shape);
  k.dropout({ x: f32(x), out: f32(out), p, seed });
  // d out / dx = scale where kept, 0 where dropped: the same kernel on the gradient
  return record(out, 'dropout', [x], (grad) => {
    const gx = emptyFloatTensor(grad.dtype, x.shape);
    k.dropout({ x: f32(grad), out: f32(gx), p, seed });
    return [gx];
  });
}
