/**
 * Linear: y = x·Wᵀ + b (torch.nn.Linear). Weight (out, in), as PyTorch, so checkpoints copy.
 *
 * Letters: N any leading dims, I inFeatures, O outFeatures.
 */
import { Tensor } from '../tensor/tensor.js';
import { empty } from '../tensor/tensor.js';
import { linear } from '../ops/matmul.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import { uniform } from './init.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';

export interface LinearOptions {
  /** Add a learned bias (default true). */
  bias?: boolean;
}

export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  /**
   * Args:
   *   inFeatures: size of the last input dim.
   *   outFeatures: size of the last output dim.
   *   options.bias: add a bias (default true).
   * Init as PyTorch: kaiming_uniform(a=√5) ⇒ weight and bias ~ U(−1/√in, 1/√in).
   */
  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    checkPositiveInt('Linear', 'inFeatures', inFeatures);
    checkPositiveInt('Linear', 'outFeatures', outFeatures);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = new Parameter(uniform(empty([outFeatures, inFeatures]), -bound, bound)); // (O, I)
    this.bias = options.bias ?? true ? new Parameter(uniform(empty([outFeatures]), -bound, bound)) : null; // (O)
  }

  /**
   * Args:
   *   x: (N…, I) float.
   * Returns: (N…, O).
   */
  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    return linear(x, this.weight, this.bias); // (N…, O)
  }

  /** Throws a ShapeError unless x's last dim is inFeatures. */
  checkInput(x: Tensor): void {
    if (x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new ShapeError(`Linear: input has shape ${fmtShape(x.shape)}, expected last dim ${this.inFeatures} (inFeatures). Fix: check the layer sizes or reshape the input.`);
    }
  }
}

/** Throws a ConfigError unless v is a positive integer. */
export function checkPositiveInt(op: string, arg: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new ConfigError(`${op}: ${arg}=${v}, expected a positive integer.`);
}
