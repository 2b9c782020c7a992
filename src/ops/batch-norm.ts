/**
 * batchNorm (Ioffe & Szegedy 2015), as torch.nn.functional.batch_norm: normalizes each channel
 * (dim 1) over the batch and every position after it.
 *
 *   training:  y = (x − mean_B) / sqrt(var_B + eps) · weight + bias     (var_B biased, over N = B·L values)
 *              running ← (1 − momentum)·running + momentum·stat          (runningVar takes the unbiased var_B·N/(N−1))
 *   eval:      y = (x − runningMean) / sqrt(runningVar + eps) · weight + bias
 *
 * batchNorm runs as one kernel pair (batchNormForward / batchNormBackward, native where the addon
 * loaded; specs: ../backend/specs/cnn.ts) with a closed-form backward, and optionally the ReLU
 * that usually follows it fused in (options.relu);
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
import { requireFloat, floatTensor, emptyFloatTensor, f32 } from './util.js';
import { k } from '../backend/registry.js';
import { add, mul, sub, div, sqrt, relu as reluOp } from './elementwise.js';
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
  /** Apply a ReLU to the output, fused into the same pass (default false): relu(batchNorm(x)). */
  relu?: boolean;
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
  const { C, L } = c, B = x.shape[0], w = options.weight ?? null, b = options.bias ?? null, relu = options.relu ?? false;
  const dtype = x.dtype === 'float64' || w?.dtype === 'float64' ? 'float64' : 'float32';
  const mean = floatTensor(dtype, [C]), invstd = floatTensor(dtype, [C]); // (C) each
  if (!c.training) {
    for (let ch = 0; ch < C; ch++) {
      mean.data[ch] = runningMean!.data[ch];
      invstd.data[ch] = 1 / Math.sqrt(runningVar!.data[ch] + c.eps);
    }
  }
  const y = emptyFloatTensor(dtype, x.shape);
  const dims = { B, C, L };
  k.batchNormForward({
    x: f32(x), weight: w ? f32(w) : null, bias: b ? f32(b) : null, y: f32(y), mean: f32(mean), invstd: f32(invstd), ...dims,
    eps: c.eps, training: c.training, relu,
  });
  if (c.training) {
    // the biased batch variance, back from invstd = 1/√(var + eps)
    const v = Array.from(invstd.data, (is) => Math.max(0, 1 / (is * is) - c.eps));
    updateRunning(runningMean, runningVar, mean.data, v, c);
  }
  const inputs = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
  return record(y, relu ? 'batchNormRelu' : 'batchNorm', inputs, (g) => {
    // xhat = (x − mean)·invstd, y = act(xhat·w + b), g = dy masked by y > 0 under the ReLU:
    //   dw = Σ g·xhat,  db = Σ g
    //   training (mean and var depend on x):  dx = invstd·w/N · (N·g − Σ g − xhat·Σ g·xhat)
    //   eval (running statistics are constants): dx = g·w·invstd
    const dx = emptyFloatTensor(g.dtype, x.shape);
    const dw = w ? emptyFloatTensor(w.dtype, w.shape) : null, db = b ? emptyFloatTensor(b.dtype, b.shape) : null;
    k.batchNormBackward({
      x: f32(x), dy: f32(g), y: relu ? f32(y) : null, weight: w ? f32(w) : null, mean: f32(mean), invstd: f32(invstd),
      dx: f32(dx), dWeight: dw ? f32(dw) : null, dBias: db ? f32(db) : null, ...dims, training: c.training,
    });
    return [dx, ...(dw ? [dw] : []), ...(db ? [db] : [])];
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
  return options.relu ? reluOp(y) : y;
}
