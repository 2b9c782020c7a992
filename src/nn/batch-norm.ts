/**
 * BatchNorm1d and BatchNorm2d (Ioffe & Szegedy 2015), as torch.nn.BatchNorm1d / BatchNorm2d.
 *
 * In training mode (Module.train()) each channel is normalized with the batch's statistics and
 * the running statistics move towards them; in eval mode (Module.eval()) the running statistics
 * are used, so a prediction does not depend on the rest of its batch.
 *
 * State dict, PyTorch's names in camelCase:
 *   weight, bias (C)                        learned affine (affine: true)
 *   runningMean, runningVar (C)             buffers (trackRunningStats: true); runningVar is unbiased
 *   numBatchesTracked ()                    int32 buffer (int64 in PyTorch), counts training batches
 *
 * Letters: B batch, C numFeatures, L length, H W height and width.
 */
import { Tensor } from '../tensor/tensor.js';
import { ones, zeros } from '../tensor/creation.js';
import { batchNorm } from '../ops/batch-norm.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import { checkPositiveInt } from './linear.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';

export interface BatchNormOptions {
  /** Added to the variance (default 1e-5, PyTorch's). */
  eps?: number;
  /** Weight of each new batch in the running statistics (default 0.1); null keeps a cumulative (equal-weight) average, as PyTorch. */
  momentum?: number | null;
  /** Learn a per-channel weight and bias (default true). */
  affine?: boolean;
  /** Keep running statistics for eval (default true); false normalizes with batch statistics in both modes. */
  trackRunningStats?: boolean;
  /** Apply a ReLU to the output in the same pass (default false; not a PyTorch option: BatchNorm then ReLU, fused). */
  relu?: boolean;
}

/** The shared implementation; the subclasses differ only in the input ranks they accept. */
abstract class BatchNormBase extends Module {
  readonly eps: number;
  readonly momentum: number | null;
  readonly trackRunningStats: boolean;
  readonly relu: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  runningMean: Tensor | null = null;
  runningVar: Tensor | null = null;
  numBatchesTracked: Tensor | null = null;

  constructor(readonly numFeatures: number, options: BatchNormOptions = {}) {
    super();
    const name = this.constructor.name;
    checkPositiveInt(name, 'numFeatures', numFeatures);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (!(this.eps > 0) || (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1))) {
      throw new ConfigError(`${name}: eps=${this.eps}, momentum=${this.momentum}; expected eps > 0 and momentum in [0, 1] or null (cumulative average).`);
    }
    this.trackRunningStats = options.trackRunningStats ?? true;
    this.relu = options.relu ?? false;
    const affine = options.affine ?? true;
    this.weight = affine ? new Parameter(ones([numFeatures])) : null; // (C)
    this.bias = affine ? new Parameter(zeros([numFeatures])) : null; // (C)
    if (this.trackRunningStats) {
      this.registerBuffer('runningMean', zeros([numFeatures])); // (C)
      this.registerBuffer('runningVar', ones([numFeatures])); // (C)
      this.registerBuffer('numBatchesTracked', zeros([], { dtype: 'int32' })); // ()
    }
  }

  protected abstract checkRank(x: Tensor): void;

  /** Sets the running statistics back to mean 0, variance 1 and the batch count to 0. */
  resetRunningStats(): void {
    this.runningMean?.data.fill(0);
    this.runningVar?.data.fill(1);
    this.numBatchesTracked?.data.fill(0);
  }

  /** x (B, C, …) → (B, C, …). */
  override forward(x: Tensor): Tensor {
    this.checkRank(x);
    if (x.shape[1] !== this.numFeatures) {
      throw new ShapeError(`${this.constructor.name}: input has ${x.shape[1]} channels (shape ${fmtShape(x.shape)}), expected numFeatures = ${this.numFeatures} on dim 1.`);
    }
    const useBatchStats = this.training || !this.trackRunningStats;
    let momentum = this.momentum ?? 0;
    if (this.training && this.numBatchesTracked) {
      this.numBatchesTracked.data[0] += 1;
      // momentum null: the running statistic is the plain average of every batch so far
      if (this.momentum === null) momentum = 1 / this.numBatchesTracked.data[0];
    }
    const update = this.training && this.trackRunningStats;
    return batchNorm(x, update || !useBatchStats ? this.runningMean : null, update || !useBatchStats ? this.runningVar : null, {
      weight: this.weight, bias: this.bias, training: useBatchStats, momentum, eps: this.eps, relu: this.relu,
    }); // (B, C, …)
  }
}

/** Batch normalization of (B, C) or (B, C, L) input, per channel C. */
export class BatchNorm1d extends BatchNormBase {
  protected checkRank(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) throw new ShapeError(`BatchNorm1d: input has shape ${fmtShape(x.shape)}, expected (B, C) or (B, C, L). Fix: use BatchNorm2d for (B, C, H, W).`);
  }
}

/** Batch normalization of (B, C, H, W) input, per channel C. */
export class BatchNorm2d extends BatchNormBase {
  protected checkRank(x: Tensor): void {
    if (x.ndim !== 4) throw new ShapeError(`BatchNorm2d: input has shape ${fmtShape(x.shape)}, expected (B, C, H, W). Fix: use BatchNorm1d for (B, C) or (B, C, L).`);
  }
}
