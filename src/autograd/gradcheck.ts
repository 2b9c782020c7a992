/**
 * Central-difference gradient check, as torch.autograd.gradcheck.
 *
 * For each input that requires grad, perturbs every element by ±eps, evaluates
 * Σ(f(x) · w) for a fixed random weighting w of the output, and compares the
 * numeric derivative with the analytic gradient from backward. Run it on float64
 * inputs (which use the reference kernels) to keep rounding out of the comparison.
 *
 * An input that requires grad but gets no gradient from backward fails the check
 * (listed in `missingGrad`), even where the numeric derivative is zero: a missing
 * gradient is a bug in the op's backward, never a silent zero (tinygrad's rule).
 */
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from './mode.js';
import { backward } from './engine.js';
import { Generator } from '../tensor/rng.js';
import { alloc } from '../tensor/dtype.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  maxAbsError: number;
  /** First mismatch, for the failure message. */
  worst?: { input: number; index: number; analytic: number; numeric: number };
  /** Indices of inputs that require grad but got no gradient (x.grad null after backward). */
  missingGrad: number[];
}

export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  const eps = options.eps ?? 1e-6, atol = options.atol ?? 1e-5, rtol = options.rtol ?? 1e-3;
  const out0 = noGrad(() => fn(...inputs));
  const g = new Generator(options.seed ?? 1234);
  const w = alloc(out0.dtype, out0.size);
  for (let i = 0; i < w.length; i++) w[i] = g.uniform() * 2 - 1;
  const wT = new Tensor(w, out0.shape);
  const scalarOf = (t: Tensor): number => {
    let s = 0;
    for (let i = 0; i < t.size; i++) s += t.data[i] * w[i];
    return s;
  };

  for (const x of inputs) x.grad = null;
  const out = fn(...inputs);
  backward(out, wT);

  let maxAbs = 0;
  let worst: GradcheckResult['worst'];
  let ok = true;
  const missingGrad: number[] = [];
  inputs.forEach((x, xi) => {
    if (!x.requiresGrad) return;
    if (x.grad === null) {
      missingGrad.push(xi);
      ok = false;
      return;
    }
    const analytic = x.grad.data;
    for (let i = 0; i < x.size; i++) {
      const orig = x.data[i];
      x.data[i] = orig + eps;
      const fp = noGrad(() => scalarOf(fn(...inputs)));
      x.data[i] = orig - eps;
      const fm = noGrad(() => scalarOf(fn(...inputs)));
      x.data[i] = orig;
      const numeric = (fp - fm) / (2 * eps);
      const a = analytic[i];
      const err = Math.abs(a - numeric);
      if (err > maxAbs) maxAbs = err;
      if (err > atol + rtol * Math.abs(numeric)) {
        if (ok) worst = { input: xi, index: i, analytic: a, numeric };
        ok = false;
      }
    }
  });
  return { ok, maxAbsError: maxAbs, missingGrad, ...(worst ? { worst } : {}) };
}
