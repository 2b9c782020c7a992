/**
 * dropout: zeroes each element with probability p and scales the rest by 1/(1 − p)
 * (inverted dropout, as torch). Identity when not training or p = 0. Seeded by the
 * global generator (manualSeed) or the one passed in.
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/node.js';
import { defaultGenerator, type Generator } from '../tensor/rng.js';
import { ValueError } from '../errors.js';
import { requireFloat, floatTensor } from './util.js';
import { mul } from './elementwise.js';

export interface DropoutOptions {
  training?: boolean;
  generator?: Generator;
}

export function dropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  requireFloat(x, 'dropout', 'input');
  if (!(p >= 0 && p <= 1)) throw new ValueError(`dropout: p=${p}, expected a probability in [0, 1].`);
  if (!(options.training ?? true) || p === 0) return x;
  const g = options.generator ?? defaultGenerator;
  const mask = floatTensor(x.dtype, x.shape);
  const scale = p === 1 ? 0 : 1 / (1 - p);
  for (let i = 0; i < mask.size; i++) mask.data[i] = g.uniform() >= p ? scale : 0;
  const out = mul(x, mask);
  return record(out.detach(), 'dropout', [x], (grad) => [mul(grad, mask)]);
}
