/**
 * Normalization layers: LayerNorm (Ba et al. 2016) and RMSNorm (Zhang & Sennrich 2019),
 * over the trailing normalizedShape dims, as torch.nn.LayerNorm / torch.nn.RMSNorm.
 *
 * Letters: N any leading dims, D the normalized dims.
 */
import { Tensor } from '../tensor/tensor.js';
import { ones, zeros } from '../tensor/creation.js';
import { layerNorm, rmsNorm } from '../ops/norm.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

export interface LayerNormOptions {
  /** Added to the variance (default 1e-5, PyTorch's). */
  eps?: number;
  /** Learn a weight and bias (default true). */
  elementwiseAffine?: boolean;
  /** Learn a bias (default true; false as in some GPT variants). */
  bias?: boolean;
}

export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = options.eps ?? 1e-5;
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? new Parameter(ones(this.normalizedShape)) : null; // (D)
    this.bias = affine && (options.bias ?? true) ? new Parameter(zeros(this.normalizedShape)) : null; // (D)
  }

  /** x (N…, D) → (N…, D). */
  override forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps); // (N…, D)
  }
}

export interface RMSNormOptions {
  /** Added to mean(x²) (default 1e-6). */
  eps?: number;
  elementwiseAffine?: boolean;
}

export class RMSNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  weight: Parameter | null;

  constructor(normalizedShape: number | readonly number[], options: RMSNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = options.eps ?? 1e-6;
    this.weight = options.elementwiseAffine ?? true ? new Parameter(ones(this.normalizedShape)) : null; // (D)
  }

  /** x (N…, D) → (N…, D). */
  override forward(x: Tensor): Tensor {
    return rmsNorm(x, this.normalizedShape, this.weight, this.eps); // (N…, D)
  }
}
