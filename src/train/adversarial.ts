/**
 * Adversarial training on embeddings (Goodfellow et al. 2015 FGSM; Madry et al. 2018 PGD;
 * Miyato et al. 2017 for text: perturb the embedding output, not the discrete tokens).
 *
 * One training micro-step with adversarial training:
 *   1. clean pass: loss L(x), backward; the embedding outputs e keep their gradient ∂L/∂e;
 *   2. δ = ε · sign(∂L/∂e)                                         (FGSM, steps = 1)
 *      PGD (steps > 1): δ ← clip_ε(δ + α · sign(∂L(e + δ)/∂e)) for steps − 1 more passes,
 *      whose parameter gradients are discarded;
 *   3. adversarial pass: loss L(e + δ), backward.
 * The parameter gradient is (1 − w)·∇L(x) + w·∇L(e + δ) with w = `weight` (default 0.5).
 *
 * The perturbation enters through a forward hook on each embedding module (Module.call runs
 * hooks), so models need no changes. Outputs are matched to perturbations by call order.
 */
import { Tensor } from '../tensor/tensor.js';
import { add, mul } from '../ops/elementwise.js';
import { backward } from '../autograd/engine.js';
import { ValueError } from '../errors.js';

/** Adversarial training settings (FGSM when steps = 1, PGD otherwise). */
export interface AdversarialOptions {
  /** Size of the perturbation (L∞ ball radius). */
  epsilon: number;
  /** 1 = FGSM; more = PGD with that many gradient-sign steps. Default 1. */
  steps?: number;
  /** PGD step size. Default epsilon / steps · 2.5 (Madry et al.'s heuristic), capped at epsilon. */
  alpha?: number;
  /** Weight of the adversarial loss. Default 0.5. */
  weight?: number;
}

/** An embedding module whose output can be perturbed: any nn.Module. */
export interface HookableModule {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  registerForwardHook(fn: (m: any, args: unknown[], out: unknown) => unknown): { remove(): void };
}

/**
 * Perturbs the outputs of the given embedding modules during `step` (see the file header).
 * The Trainer builds one from its `adversarial` option; use it directly in a custom loop:
 *
 *   const adv = new AdversarialEmbedding([model.embed], { epsilon: 0.01 });
 *   const loss = adv.step(() => lossOf(batch), 1, params);   // clean + adversarial passes
 *   adv.remove();                                            // detach the hooks
 */
export class AdversarialEmbedding {
  private readonly handles: { remove(): void }[] = [];
  private mode: 'off' | 'capture' | 'perturb' = 'off';
  private captured: Tensor[] = [];
  private deltas: Float32Array[] = [];
  private readonly eps: number;
  private readonly steps: number;
  private readonly alpha: number;
  private readonly weight: number;

  constructor(modules: HookableModule[], o: AdversarialOptions) {
    if (!(o.epsilon > 0)) throw new ValueError(`adversarial: epsilon=${o.epsilon}, expected a positive number.`);
    this.eps = o.epsilon;
    this.steps = o.steps ?? 1;
    if (!Number.isInteger(this.steps) || this.steps < 1) throw new ValueError(`adversarial: steps=${this.steps}, expected a positive integer.`);
    this.alpha = o.alpha ?? Math.min(this.eps, (2.5 * this.eps) / this.steps);
    this.weight = o.weight ?? 0.5;
    if (!(this.weight > 0 && this.weight <= 1)) throw new ValueError(`adversarial: weight=${this.weight}, expected a value in (0, 1].`);
    if (modules.length === 0) throw new ValueError('adversarial: the model exposes no embedding modules to perturb.');
    for (const m of modules) this.handles.push(m.registerForwardHook((_m, _a, out) => this.hook(out)));
  }

  private hook(out: unknown): unknown {
    if (this.mode === 'off' || !(out instanceof Tensor)) return undefined;
    const i = this.captured.length;
    let e = out;
    if (this.mode === 'perturb') {
      const d = this.deltas[i];
      if (d === undefined || d.length !== out.size) return undefined;
      e = add(out, new Tensor(d, out.shape));
    }
    if (e.requiresGrad) e.retainGrad();
    this.captured.push(e);
    return e;
  }

  private pass(mode: 'capture' | 'perturb', lossOf: () => Tensor, scale: number): number {
    this.mode = mode;
    this.captured = [];
    try {
      const loss = lossOf();
      const v = loss.item();
      if (Number.isFinite(v)) backward(mul(loss, scale));
      return v;
    } finally {
      this.mode = 'off';
    }
  }

  /** Runs the clean and adversarial passes (gradients accumulate into params); returns the clean loss. */
  step(lossOf: () => Tensor, scale: number, params: Tensor[]): number {
    const clean = this.pass('capture', lossOf, scale * (1 - this.weight) || 1e-30);
    if (!Number.isFinite(clean)) return clean;
    this.deltas = this.captured.map((e) => signTimes(e.grad, this.eps, e.size));
    for (let s = 1; s < this.steps; s++) {
      const saved = params.map((p) => p.grad);
      for (const p of params) p.grad = null;
      this.pass('perturb', lossOf, 1);
      this.captured.forEach((e, i) => {
        const g = e.grad?.data;
        const d = this.deltas[i];
        if (!g || !d) return;
        for (let j = 0; j < d.length; j++) d[j] = Math.max(-this.eps, Math.min(this.eps, d[j] + this.alpha * Math.sign(g[j])));
      });
      params.forEach((p, i) => (p.grad = saved[i]));
    }
    this.pass('perturb', lossOf, scale * this.weight);
    return clean;
  }

  remove(): void {
    for (const h of this.handles) h.remove();
  }
}

function signTimes(g: Tensor | null, eps: number, n: number): Float32Array {
  const d = new Float32Array(n);
  if (g === null) return d;
  for (let i = 0; i < n; i++) d[i] = eps * Math.sign(g.data[i]);
  return d;
}
