/**
 * Reference dropout kernel: out[i] = x[i] · scale where element i is kept, else 0, with
 * scale = 1/(1 − p) (0 when p = 1). Element i of a call seeded with `seed` is kept iff
 *   lowbias32(i ^ lowbias32(seed)) ≥ p · 2³²        (see ./dropout-hash.ts),
 * so the mask is a pure function of (seed, i): the backward pass applies the same call to
 * the gradient instead of storing the mask.
 */
import type { Params } from '../table.js';
import { lowbias32 } from './dropout-hash.js';

export function dropout({ x, out, p, seed }: Params<'dropout'>): void {
  const scale = p >= 1 ? 0 : Math.fround(1 / (1 - p)); // a float32 scale, as the native kernel and PyTorch use
  const threshold = p * 4294967296;
  const mixed = lowbias32(seed);
  for (let i = 0; i < out.length; i++) out[i] = lowbias32(i ^ mixed) >= threshold ? x[i] * scale : 0;
}
