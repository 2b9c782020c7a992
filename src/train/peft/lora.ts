/**
 * LoraLinear: a Linear with a trainable low-rank update beside its frozen weight (LoRA, Hu et al.
 * 2021; HF peft's tuners/lora/layer.py):
 *
 *   y = x·Wᵀ + b + scaling · B(A(dropout(x)))        A (r, I), B (O, r), scaling = alpha / r
 *
 * B starts at zero, so a fresh LoraLinear computes exactly its base Linear. A starts as PyTorch's
 * Linear (kaiming_uniform, a = √5), as peft's default init.
 *
 * The wrapper holds the base layer's own `weight` and `bias` Parameters (the same objects, frozen
 * here), so their dotted names do not change: `qProj.weight` stays `qProj.weight`, and the adapter
 * adds `qProj.loraA.weight` and `qProj.loraB.weight`. A full state dict of a LoRA model therefore
 * holds the base model's keys unchanged, and src/train/peft/checkpoint.ts maps the adapter keys to
 * peft's `lora_A` / `lora_B` names.
 *
 * merge() folds the update into the weight (W += scaling·B·A) for inference at the base layer's
 * speed; unmerge() takes it out again. Only mergeAndUnload (peft-model.ts) changes a base weight.
 *
 * Letters: N any leading dims, I inFeatures, O outFeatures, r rank.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { mul } from '../../ops/elementwise.js';
import { linear, matmul } from '../../ops/matmul.js';
import { noGrad } from '../../autograd/mode.js';
import { Module } from '../../nn/module.js';
import { Linear } from '../../nn/linear.js';
import { Dropout } from '../../nn/dropout.js';
import type { Parameter } from '../../nn/parameter.js';
import { ConfigError, ShapeError, ValueError, fmtShape } from '../../errors.js';
import { loraLinear } from './lora-ops.js';
import { markWeightsChanged } from '../../nn/weights-version.js';

export interface LoraOptions {
  /** Rank r of the update. */
  r: number;
  /** The update is scaled by alpha / r (peft's lora_alpha). */
  alpha: number;
  /** Dropout on the adapter's input (peft's lora_dropout). */
  dropout: number;
}

export class LoraLinear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly r: number;
  readonly alpha: number;
  readonly scaling: number;
  /** The base layer's weight (O, I): the same Parameter, frozen. */
  weight: Parameter;
  /** The base layer's bias (O), frozen, or null. */
  bias: Parameter | null;
  loraDropout: Dropout;
  loraA: Linear;
  loraB: Linear;
  /** Whether scaling·B·A is folded into weight. */
  private _merged = false;

  /**
   * Args:
   *   base: the Linear to adapt; its parameters are frozen and shared, never copied.
   *   options: r, alpha, dropout.
   */
  constructor(base: Linear, options: LoraOptions) {
    super();
    const { r, alpha, dropout } = options;
    if (!Number.isInteger(r) || r <= 0) throw new ConfigError(`LoraLinear: r=${r}, expected a positive integer rank.`);
    if (r > Math.min(base.inFeatures, base.outFeatures)) {
      throw new ConfigError(`LoraLinear: r=${r} is larger than min(inFeatures, outFeatures) = ${Math.min(base.inFeatures, base.outFeatures)} of a ${base.inFeatures}→${base.outFeatures} Linear; such an update is not low-rank. Fix: lower r.`);
    }
    if (!(alpha > 0) || !Number.isFinite(alpha)) throw new ConfigError(`LoraLinear: alpha=${alpha}, expected a positive number (peft's lora_alpha; scaling = alpha / r).`);
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.r = r;
    this.alpha = alpha;
    this.scaling = alpha / r;
    this.weight = base.weight;
    this.bias = base.bias;
    this.weight.requiresGrad = false;
    if (this.bias) this.bias.requiresGrad = false;
    this.loraDropout = new Dropout(dropout);
    this.loraA = new Linear(base.inFeatures, r, { bias: false }); // (r, I), kaiming-uniform
    this.loraB = new Linear(r, base.outFeatures, { bias: false }); // (O, r)
    this.loraB.weight.data.fill(0); // B = 0: the update starts at zero
    if (base.weight.dtype === 'float64') {
      this.loraA.to('float64');
      this.loraB.to('float64');
    }
  }

  get merged(): boolean {
    return this._merged;
  }

  /** x (N…, I) → (N…, O). */
  override forward(x: Tensor): Tensor {
    if (x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new ShapeError(`LoraLinear: input has shape ${fmtShape(x.shape)}, expected last dim ${this.inFeatures} (inFeatures).`);
    }
    if (this._merged) return linear(x, this.weight, this.bias); // (N…, O)
    // One fused op (lora-ops.ts): the update is accumulated into the base output, and only
    // h = drop(x)·Aᵀ (N…, r) is kept for backward, so LoRA adds almost no activation memory.
    return loraLinear(x, this.weight, this.bias, this.loraA.weight, this.loraB.weight, {
      scaling: this.scaling, dropoutP: this.loraDropout.p, training: this.training && this.loraDropout.training,
    }); // (N…, O)
  }

  /** scaling · B·A, the (O, I) update. */
  deltaWeight(): Tensor {
    return noGrad(() => mul(matmul(this.loraB.weight, this.loraA.weight), this.scaling)); // (O, r)·(r, I) = (O, I)
  }

  /** Folds the update into the weight: W += scaling·B·A. Forward then costs what the base layer costs. */
  merge(): void {
    if (this._merged) throw new ValueError('LoraLinear.merge: the update is already merged. Fix: call unmerge() first.');
    addInPlace(this.weight, this.deltaWeight(), 1);
    markWeightsChanged();
    this._merged = true;
  }

  /** Takes the update back out of the weight: W −= scaling·B·A. */
  unmerge(): void {
    if (!this._merged) throw new ValueError('LoraLinear.unmerge: the update is not merged.');
    addInPlace(this.weight, this.deltaWeight(), -1);
    markWeightsChanged();
    this._merged = false;
  }

  /** A plain Linear holding this layer's weight and bias (merge first to keep the update). */
  toLinear(): Linear {
    const lin = new Linear(this.inFeatures, this.outFeatures, { bias: this.bias !== null });
    lin.weight = this.weight; // the same Parameters: nothing is copied
    lin.bias = this.bias;
    lin.training = this.training;
    return lin;
  }
}

/** p += sign · d, in place on p's storage (merge / unmerge of a LoRA update; no autograd). */
export function addInPlace(p: Tensor, d: Tensor, sign: number): void {
  const a = p.data, b = d.data;
  for (let i = 0; i < a.length; i++) a[i] += sign * b[i];
}

