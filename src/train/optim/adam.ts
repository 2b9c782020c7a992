/**
 * Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019), with torch.optim semantics:
 *
 *   Adam:   g ← g + λ·p                      (L2 penalty folded into the gradient)
 *   AdamW:  p ← p·(1 − lr·λ)                 (decoupled decay, applied before the update)
 *   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 *
 * AdamW on float32 runs the fused `adamwStep` kernel (native when the backend has it); otherwise the loop below.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { k } from '../../backend/registry.js';
import { Optimizer, type ParamsInput, requireNumber } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

type AdamHyper = Required<AdamOptions> & Record<string, number | boolean>;

/** The update of one parameter; `decoupled` selects AdamW. */
export function adamUpdate(x: Float32Array, grad: Float32Array | Float64Array, m: Float32Array, v: Float32Array,
  h: Required<AdamOptions>, step: number, decoupled: boolean): void {
  const { lr, beta1, beta2, eps, weightDecay } = h;
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  const stepSize = lr / bc1;
  const decay = decoupled ? 1 - lr * weightDecay : 1;
  const l2 = decoupled ? 0 : weightDecay;
  for (let i = 0; i < x.length; i++) {
    const g = grad[i] + l2 * x[i];
    const mi = (m[i] = beta1 * m[i] + (1 - beta1) * g);
    const vi = (v[i] = beta2 * v[i] + (1 - beta2) * g * g);
    x[i] = x[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
  }
}

class AdamBase extends Optimizer<AdamHyper> {
  constructor(params: ParamsInput, options: AdamOptions, name: string, defaultDecay: number, private readonly decoupled: boolean) {
    super(params, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: defaultDecay, ...options } as AdamHyper, name);
  }

  protected validate(h: AdamHyper): void {
    requireNumber(this.name, 'lr', h.lr, 0);
    requireNumber(this.name, 'beta1', h.beta1, 0, 1);
    requireNumber(this.name, 'beta2', h.beta2, 0, 1);
    requireNumber(this.name, 'eps', h.eps, 0);
    requireNumber(this.name, 'weightDecay', h.weightDecay, 0);
  }

  protected update(p: Tensor, grad: Float32Array | Float64Array, h: AdamHyper, st: { step: number; buffers: Record<string, Float32Array> }): void {
    const x = p.data as Float32Array;
    const m = (st.buffers.expAvg ??= new Float32Array(x.length));
    const v = (st.buffers.expAvgSq ??= new Float32Array(x.length));
    if (this.decoupled && x instanceof Float32Array && grad instanceof Float32Array) {
      k.adamwStep({ param: x, grad, m, v, lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.weightDecay, step: st.step });
      return;
    }
    adamUpdate(x, grad, m, v, h, st.step, this.decoupled);
  }
}

/** Adam with L2 weight decay added to the gradient (torch.optim.Adam); weightDecay defaults to 0. */
export class Adam extends AdamBase {
  constructor(params: ParamsInput, options: AdamOptions) {
    super(params, options, 'Adam', 0, false);
  }
}

/** Adam with decoupled weight decay (torch.optim.AdamW); weightDecay defaults to 0.01 as in PyTorch. */
export class AdamW extends AdamBase {
  constructor(params: ParamsInput, options: AdamOptions) {
    super(params, options, 'AdamW', 0.01, true);
  }
}
