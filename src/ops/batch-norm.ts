/**
 * batchNorm (Ioffe & Szegedy 2015), as torch.nn.functional.batch_norm: normalizes each channel
 * (dim 1) over the batch and every position after it.
 *
 *   training:  y = (x − mean_B) / sqrt(var_B + eps) · weight + bias     (var_B biased, over N = B·L values)
 *              running ← (1 − momentum)·running + momentum·stat          (runningVar takes the unbiased var_B·N/(N−1))
 *   eval:      y = (x − runningMean) / sqrt(runningVar + eps) · weight + bias
 *
 * batchNorm runs one TypeScript loop per channel and has a closed-form backward;
 * batchNormReference composes the same math from primitives (mean, variance, sub, div, …) and is
 * the definition batchNorm must equal (test/ops/batch-norm.test.ts, and both are gradchecked).
 * The running statistics are updated in place, outside the graph, and get no gradient.
 *
 * Letters: B batch, C channels, L the positions after the channel dim (1, L, or H·W), N = B·L.
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/node.js';
import { noGrad } from '../autograd/mode.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { requireFloat, floatTensor } from './util.js';
import { add, mul, sub, div, sqrt } from './elementwise.js';
import { mean, variance } from './reduce.js';
import { reshape } from './shape.js';

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Use (and update) the batch statistics (true) or the running ones (false, the default as PyTorch's functional form). */
  training?: boolean;
  /** Weight of the new batch statistic in the running average (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

interface Checked { C: number; N: number; L: number; training: boolean; momentum: number; eps: number }

function check(op: string, x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, o: BatchNormOptions): Checked {
  requireFloat(x, op, 'input');
  if (x.ndim < 2) throw new ShapeError(`${op}: input has shape ${fmtShape(x.shape)}, expected (B, C, …) with the channels on dim 1.`);
  const C = x.shape[1], training = o.training ?? false;
  for (const [name, t] of [['runningMean', runningMean], ['runningVar', runningVar], ['weight', o.weight], ['bias', o.bias]] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== C)) throw new ShapeError(`${op}: ${name} has shape ${fmtShape(t.shape)}, expected [${C}] (one value per channel of input ${fmtShape(x.shape)}).`);
  }
  const N = C === 0 ? 0 : x.size / C;
  if (training && N <= 1) throw new ValueError(`${op}: expected more than 1 value per channel when training, received input of shape ${fmtShape(x.shape)}. Fix: use a batch larger than 1, or call eval() to use the running statistics.`);
  if (!training && (!runningMean || !runningVar)) throw new ValueError(`${op}: training is false but runningMean or runningVar is null; expected both. Fix: pass the running statistics, or training: true to normalize with the batch statistics.`);
  return { C, N, L: N / x.shape[0], training, momentum: o.momentum ?? 0.1, eps: o.eps ?? 1e-5 };
}

/** running ← (1 − momentum)·running + momentum·stat, with the unbiased batch variance, as PyTorch. */
function updateRunning(runningMean: Tensor | null, runningVar: Tensor | null, mu: ArrayLike<number>, biasedVar: ArrayLike<number>, c: Checked): void {
  for (let ch = 0; ch < c.C; ch++) {
    if (runningMean) runningMean.data[ch] = (1 - c.momentum) * runningMean.data[ch] + c.momentum * mu[ch];
    if (runningVar) runningVar.data[ch] = (1 - c.momentum) * runningVar.data[ch] + c.momentum * biasedVar[ch] * (c.N / (c.N - 1));
  }
}

/**
 * Args:
 *   x: (B, C, …) — (B, C), (B, C, L) or (B, C, H, W).
 *   runningMean, runningVar: (C) or null; updated in place when training.
 * Returns: (B, C, …), the same shape as x.
 */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, options: BatchNormOptions = {}): Tensor {
  const c = check('batchNorm', x, runningMean, runningVar, options);
  const { C, N, L } = c, B = x.shape[0], w = options.weight ?? null, b = options.bias ?? null;
  const xd = x.data;
  const mu = new Float64Array(C), invstd = new Float64Array(C);
  if (c.training) {
    const v = new Float64Array(C);
    for (let ch = 0; ch < C; ch++) {
      let s = 0;
      for (let n = 0; n < B; n++) { const o = (n * C + ch) * L; for (let i = 0; i < L; i++) s += xd[o + i]; }
      const m = s / N;
      let ss = 0;
      for (let n = 0; n < B; n++) { const o = (n * C + ch) * L; for (let i = 0; i < L; i++) { const d = xd[o + i] - m; ss += d * d; } }
      mu[ch] = m;
      v[ch] = ss / N;
      invstd[ch] = 1 / Math.sqrt(v[ch] + c.eps);
    }
    updateRunning(runningMean, runningVar, mu, v, c);
  } else {
    for (let ch = 0; ch < C; ch++) {
      mu[ch] = runningMean!.data[ch];
      invstd[ch] = 1 / Math.sqrt(runningVar!.data[ch] + c.eps);
    }
  }
  const y = floatTensor(x.dtype === 'float64' || w?.dtype === 'float64' ? 'float64' : 'float32', x.shape), yd = y.data;
  for (let n = 0; n < B; n++) for (let ch = 0; ch < C; ch++) {
    const o = (n * C + ch) * L, scale = invstd[ch] * (w ? w.data[ch] : 1), shift = (b ? b.data[ch] : 0) - mu[ch] * scale;
    for (let i = 0; i < L; i++) yd[o + i] = xd[o + i] * scale + shift;
  }
  const inputs = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
  return record(y, 'batchNorm', inputs, (g) => {
    // xhat = (x − mean)·invstd, y = xhat·w + b:
    //   dw = Σ g·xhat,  db = Σ g
    //   training (mean and var depend on x):  dx = invstd·w/N · (N·g − Σ g − xhat·Σ g·xhat)
    //   eval (running statistics are constants): dx = g·w·invstd
    const gd = g.data, sg = new Float64Array(C), sgx = new Float64Array(C);
    for (let n = 0; n < B; n++) for (let ch = 0; ch < C; ch++) {
      const o = (n * C + ch) * L, m = mu[ch], is = invstd[ch];
      let a = 0, q = 0;
      for (let i = 0; i < L; i++) { a += gd[o + i]; q += gd[o + i] * (xd[o + i] - m) * is; }
      sg[ch] += a;
      sgx[ch] += q;
    }
    const dx = floatTensor(g.dtype, x.shape), dxd = dx.data;
    for (let n = 0; n < B; n++) for (let ch = 0; ch < C; ch++) {
      const o = (n * C + ch) * L, m = mu[ch], is = invstd[ch], k = is * (w ? w.data[ch] : 1);
      if (c.training) {
        const mg = sg[ch] / N, mgx = sgx[ch] / N;
        for (let i = 0; i < L; i++) dxd[o + i] = k * (gd[o + i] - mg - (xd[o + i] - m) * is * mgx);
      } else {
        for (let i = 0; i < L; i++) dxd[o + i] = k * gd[o + i];
      }
    }
    const out: Tensor[] = [dx];
    if (w) { const dw = floatTensor(w.dtype, w.shape); dw.data.set(sgx); out.push(dw); }
    if (b) { const db = floatTensor(b.dtype, b.shape); db.data.set(sg); out.push(db); }
    return out;
  });
}

/** batchNorm composed from primitives: the definition the fused loops must equal. Same arguments. */
export function batchNormReference(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, options: BatchNormOptions = {}): Tensor {
  const c = check('batchNormReference', x, runningMean, runningVar, options);
  const bshape = x.shape.map((s, i) => (i === 1 ? s : 1)); // (1, C, 1…)
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  let mu: Tensor, v: Tensor;
  if (c.training) {
    mu = mean(x, dims, { keepDim: true }); // (1, C, 1…)
    v = variance(x, dims, { keepDim: true, correction: 0 }); // (1, C, 1…)
    const m = mu, vv = v;
    noGrad(() => updateRunning(runningMean, runningVar, m.data, vv.data, c));
  } else {
    mu = reshape(runningMean!, bshape); // (1, C, 1…)
    v = reshape(runningVar!, bshape); // (1, C, 1…)
  }
  let y = div(sub(x, mu), sqrt(add(v, c.eps))); // (B, C, …)
  if (options.weight) y = mul(y, reshape(options.weight, bshape));
  if (options.bias) y = add(y, reshape(options.bias, bshape));
  return y;
}
