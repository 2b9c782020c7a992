/**
 * Gradient clipping by global L2 norm (torch.nn.utils.clip_grad_norm_):
 *
 *   total = √(Σ_p ‖∇p‖²);   if total > maxNorm: ∇p ← ∇p · maxNorm / (total + 1e-6)
 *
 * Returns the total norm before clipping (Infinity or NaN when a gradient is non-finite,
 * which the Trainer turns into a NumericalError).
 */
import type { Tensor } from '../../tensor/tensor.js';
import { ValueError } from '../../errors.js';

export function gradNorm(params: Iterable<Tensor>): number {
  let sq = 0;
  for (const p of params) {
    const g = p.grad?.data;
    if (!g) continue;
    for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  }
  return Math.sqrt(sq);
}

export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new ValueError(`clipGradNorm: maxNorm=${maxNorm}, expected a positive number.`);
  const list = [...params];
  const total = gradNorm(list);
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (const p of list) {
      const g = p.grad?.data;
      if (!g) continue;
      for (let i = 0; i < g.length; i++) g[i] *= coef;
    }
  }
  return total;
}
