/**
 * batchNorm (Ioffe & Szegedy 2015), as torch.nn.functional.batch_norm: normalizes each channel
 * (dim 1) over the batch and every spatial position.
 *
 *   training:  y = (x − mean_B) / sqrt(var_B + eps) · weight + bias     (var_B biased, over N = B·L values)
 *              running ← (1 − momentum)·running + momentum·stat          (runningVar takes the unbiased var_B·N/(N−1))
 *   eval:      y = (x − runningMean) / sqrt(runningVar + eps) · weight + bias
 *
 * Composed from differentiable primitives (mean, variance, sub, div, ...), so its gradient is
 * autograd's; the running statistics are updated in place, outside the graph.
 *
 * Letters: B batch, C channels, L the positions after the channel dim (none, L, or H·W).
 */
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/mode.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { requireFloat } from './util.js';
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

/**
 * Args:
 *   x: (B, C, …) — (B, C), (B, C, L) or (B, C, H, W).
 *   runningMean, runningVar: (C) or null; updated in place when training.
 * Returns: (B, C, …), the same shape as x.
 */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, options: BatchNormOptions = {}): Tensor {
  requireFloat(x, 'batchNorm', 'input');
  if (x.ndim < 2) throw new ShapeError(`batchNorm: input has shape ${fmtShape(x.shape)}, expected (B, C, …) with the channels on dim 1.`);
  const C = x.shape[1], training = options.training ?? false, momentum = options.momentum ?? 0.1, eps = options.eps ?? 1e-5;
  for (const [name, t] of [['runningMean', runningMean], ['runningVar', runningVar], ['weight', options.weight], ['bias', options.bias]] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== C)) throw new ShapeError(`batchNorm: ${name} has shape ${fmtShape(t.shape)}, expected [${C}] (one value per channel of input ${fmtShape(x.shape)}).`);
  }
  const bshape = x.shape.map((s, i) => (i === 1 ? s : 1)); // (1, C, 1…)
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  let mu: Tensor, v: Tensor;
  if (training) {
    const n = x.size / C;
    if (n <= 1) throw new ValueError(`batchNorm: expected more than 1 value per channel when training, received input of shape ${fmtShape(x.shape)}. Fix: use a batch larger than 1, or call eval() to use the running statistics.`);
    mu = mean(x, dims, { keepDim: true }); // (1, C, 1…)
    v = variance(x, dims, { keepDim: true, correction: 0 }); // (1, C, 1…)
    noGrad(() => {
      // running var is unbiased (N / (N − 1)), the normalization biased: both as PyTorch
      if (runningMean) for (let c = 0; c < C; c++) runningMean.data[c] = (1 - momentum) * runningMean.data[c] + momentum * mu.data[c];
      if (runningVar) for (let c = 0; c < C; c++) runningVar.data[c] = (1 - momentum) * runningVar.data[c] + momentum * v.data[c] * (n / (n - 1));
    });
  } else {
    if (!runningMean || !runningVar) throw new ValueError('batchNorm: training is false but runningMean or runningVar is null; expected both. Fix: pass the running statistics, or training: true to normalize with the batch statistics.');
    mu = reshape(runningMean, bshape); // (1, C, 1…)
    v = reshape(runningVar, bshape); // (1, C, 1…)
  }
  let y = div(sub(x, mu), sqrt(add(v, eps))); // (B, C, …)
  if (options.weight) y = mul(y, reshape(options.weight, bshape));
  if (options.bias) y = add(y, reshape(options.bias, bshape));
  return y;
}
