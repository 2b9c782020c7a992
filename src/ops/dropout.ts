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
import { lowbias32 } from '../backend/js/dropout-hash.js';
import { requireFloat, floatTensor } from './util.js';

export interface DropoutOptions {
  training?: boolean;
  generator?: Generator;
}

export function dropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  requireFloat(x, 'dropout', 'input');
  if (!(p >= 0 && p <= 1)) throw new ValueError(`dropout: p=${p}, expected a probability in [0, 1].`);
  if (!(options.training ?? true) || p === 0) return x;
  const g = options.generator ?? defaultGenerator;
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const keep = new Uint8Array(x.size);
  const out = floatTensor(x.dtype, x.shape);
  const xd = x.data, od = out.data;
  // One generator draw seeds a counter-based hash over the elements (the same hash the fused
  // attention kernel uses): element i is kept iff lowbias32(i ^ lowbias32(seed)) / 2³² ≥ p.
  const threshold = p * 4294967296;
  const mixed = lowbias32(g.nextU32());
  for (let i = 0; i < keep.length; i++) {
    if (lowbias32(i ^ mixed) >= threshold) { keep[i] = 1; od[i] = xd[i] * scale; }
  }
  // d out / dx = scale where kept, 0 where dropped
  return record(out, 'dropout', [x], (grad) => {
    const gx = floatTensor(grad.dtype, x.shape);
    const gd = grad.data, gxd = gx.data;
    for (let i = 0; i < keep.length; i++) if (keep[i]) gxd[i] = gd[i] * scale;
    return [gx];
  });
}
