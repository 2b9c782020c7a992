/**
 * Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019), with torch.optim semantics:
 *
 *   Adam:   g ← g + λ·p                      (L2 penalty folded into the gradient)
 *   AdamW:  p ← p·(1 − lr·λ)                 (decoupled decay, applied before the update)
 *   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 *
 * AdamW on float32 parameters and gradients runs every such parameter of a step in ONE call of the
 * multi-tensor kernel `adamwStepMulti` (native: split over the pool by total element count), each
 * with its group's hyper-parameters and its own step count, the same bits as one `adamwStep` call
 * per parameter; a float64 gradient (gradcheck) or Adam's L2 penalty runs the loop below.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { k } from '../../backend/registry.js';
import { ADAMW_HYPER } from '../../backend/js/optim.js';
import { Optimizer, type ParamsInput, requireNumber } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

const NO_GRAD = new Float32Array(0);

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
  // The step's queued float32 AdamW updates (reused between steps: no allocation once warm).
  private readonly qParams: Float32Array[] = [];
  private readonly qGrads: Float32Array[] = [];
  private readonly qM: Float32Array[] = [];
  private readonly qV: Float32Array[] = [];
  /** Per queued tensor: lr, beta1, beta2, eps, weightDecay, step (adamwStepMulti's layout); exactly 6 per tensor. */
  private hyper = new Float64Array(0);
  private queued = 0;

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
      const i = this.queued++;
      this.qParams[i] = x;
      this.qGrads[i] = grad;
      this.qM[i] = m;
      this.qV[i] = v;
      if (this.hyper.length < (i + 1) * ADAMW_HYPER) {
        const grown = new Float64Array(Math.max(2 * this.hyper.length, (i + 1) * ADAMW_HYPER));
        grown.set(this.hyper);
        this.hyper = grown;
      }
      const o = i * ADAMW_HYPER, hy = this.hyper;
      hy[o] = h.lr; hy[o + 1] = h.beta1; hy[o + 2] = h.beta2; hy[o + 3] = h.eps; hy[o + 4] = h.weightDecay; hy[o + 5] = st.step;
      return;
    }
    adamUpdate(x, grad, m, v, h, st.step, this.decoupled);
  }

  protected override flushUpdates(): void {
    const n = this.queued;
    if (n === 0) return;
    this.queued = 0;
    // The lists hold exactly this step's tensors (the same count every step once warm: no new arrays).
    if (this.qParams.length !== n) for (const q of [this.qParams, this.qGrads, this.qM, this.qV]) q.length = n;
    if (this.hyper.length !== n * ADAMW_HYPER) this.hyper = this.hyper.slice(0, n * ADAMW_HYPER);
    try {
      k.adamwStepMulti({ params: this.qParams, grads: this.qGrads, m: this.qM, v: this.qV, hyper: this.hyper });
    } finally {
      this.qGrads.fill(NO_GRAD); // drop this step's gradients (autograd's buffers) until the next step
    }
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
