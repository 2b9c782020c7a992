/**
 * Gradient clipping by global L2 norm (torch.nn.utils.clip_grad_norm_):
 *
 *   total = √(Σ_p ‖∇p‖²);   if total > maxNorm: ∇p ← ∇p · maxNorm / (total + 1e-6)
 *
 * Returns the total norm before clipping (Infinity or NaN when a gradient is non-finite,
 * which the Trainer turns into a NumericalError).
 *
 * The Trainer calls this on every step, over every trained value (3.7 M at the G2P default), on
 * the main thread between backward and the optimizer: so both passes run as kernels
 * (`sumSquares`, `scaleInPlace`: native and split over the thread pool when the addon is
 * loaded), not as TypeScript loops: the norm alone was 4.6 ms of serial JavaScript per G2P step
 * (BENCHMARKS.md, "The training step's serial JavaScript"). Each tensor's sum of squares is taken in float64 in a fixed order
 * (src/backend/js/optim.ts), and the tensors' sums are added in float64 in parameter order. When every
 * gradient is float32 (the Trainer's case) each pass is ONE multi-tensor call over the list of
 * gradients (`sumSquaresMulti`, `scaleInPlaceMulti`: one pool job, split by elements) with the same
 * bits as a call per tensor.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { ValueError } from '../../errors.js';
import { k } from '../../backend/registry.js';
import { sumSquaresResult } from '../../backend/js/optim.js';

/** The 8 bytes sumSquares writes its float64 result into (reused: one call at a time, on one thread). */
const sumOut = new Float32Array(2);

/** Σ g² of one gradient in float64 (a float64 gradient, as gradcheck makes, is summed here in order). */
function sumOfSquares(g: Tensor['data']): number {
  if (g instanceof Float32Array) {
    k.sumSquares({ x: g, out: sumOut });
    return sumSquaresResult(sumOut);
  }
  let sq = 0;
  for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  return sq;
}

/** The gradients of `params` that exist, and whether every one is a Float32Array. */
function gradients(params: Iterable<Tensor>): { grads: Tensor['data'][]; allF32: boolean } {
  const grads: Tensor['data'][] = [];
  let allF32 = true;
  for (const p of params) {
    const g = p.grad?.data;
    if (!g) continue;
    grads.push(g);
    if (!(g instanceof Float32Array)) allF32 = false;
  }
  return { grads, allF32 };
}

function normOf({ grads, allF32 }: { grads: Tensor['data'][]; allF32: boolean }): number {
  if (allF32) {
    k.sumSquaresMulti({ xs: grads as Float32Array[], out: sumOut });
    return Math.sqrt(sumSquaresResult(sumOut));
  }
  let sq = 0;
  for (const g of grads) sq += sumOfSquares(g);
  return Math.sqrt(sq);
}

export function gradNorm(params: Iterable<Tensor>): number {
  return normOf(gradients(params));
}

export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new ValueError(`clipGradNorm: maxNorm=${maxNorm}, expected a positive number.`);
  const gs = gradients(params);
  const total = normOf(gs);
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    if (gs.allF32) {
      k.scaleInPlaceMulti({ xs: gs.grads as Float32Array[], alpha: coef });
    } else {
      for (const g of gs.grads) {
        if (g instanceof Float32Array) k.scaleInPlace({ x: g, alpha: coef });
        else for (let i = 0; i < g.length; i++) g[i] *= coef;
      }
    }
  }
  return total;
}
