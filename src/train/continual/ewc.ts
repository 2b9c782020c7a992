/**
 * Elastic weight consolidation (Kirkpatrick et al. 2017), online form (Schwarz et al. 2018,
 * "Progress & Compress"): after each task the diagonal Fisher information F of the parameters is
 * estimated and folded into a running one, F ← γ·F + F_task, and the parameters θ* are
 * remembered. Training on later tasks adds the penalty
 *
 *   (λ / 2) · Σ_i F_i · (θ_i − θ*_i)²
 *
 * which lets unimportant weights move and holds important ones.
 *
 * The Fisher is the empirical one: the mean over samples of the squared gradient of each
 * sample's negative log-likelihood at its true label, one backward pass per sample (the
 * per-sample square matters: squaring a batch gradient underestimates F).
 *
 *   const ewc = new OnlineEWC(model.namedParameters(), { lambda: 100 });
 *   ewc.consolidate(200, (i) => crossEntropy(model.call(x_i), y_i));   // after task t
 *   loss = add(taskLoss, ewc.penalty());                               // while training task t+1
 */
import { Tensor } from '../../tensor/tensor.js';
import { add, mul, sub, sum } from '../../ops/index.js'; // the barrel: it installs Tensor.backward()
import { scalar } from '../../tensor/creation.js';
import type { Parameter } from '../../nn/parameter.js';
import { ConfigError } from '../../errors.js';

export interface EWCOptions {
  /** Penalty strength λ. */
  lambda: number;
  /** Decay γ of the running Fisher (1 = plain sum over tasks, as EWC with one penalty per task). */
  gamma?: number;
}

export class OnlineEWC {
  readonly lambda: number;
  readonly gamma: number;
  /** Running diagonal Fisher and anchor θ*, per parameter name; empty before the first consolidate. */
  readonly fisher = new Map<string, Float32Array>();
  readonly anchor = new Map<string, Tensor>();
  private readonly params: [string, Parameter][];

  constructor(params: Iterable<[string, Parameter]>, options: EWCOptions) {
    this.params = [...params];
    this.lambda = options.lambda;
    this.gamma = options.gamma ?? 1;
    if (!(this.lambda >= 0) || !(this.gamma >= 0 && this.gamma <= 1)) {
      throw new ConfigError(`OnlineEWC: lambda=${this.lambda}, gamma=${this.gamma}; expected lambda ≥ 0 and 0 ≤ gamma ≤ 1.`);
    }
  }

  /**
   * Estimates the Fisher on `samples` samples (sampleLoss(i) is sample i's negative
   * log-likelihood, a scalar), folds it into the running Fisher and anchors the current
   * parameters. Leaves every .grad cleared.
   */
  consolidate(samples: number, sampleLoss: (i: number) => Tensor): void {
    if (!Number.isInteger(samples) || samples <= 0) throw new ConfigError(`OnlineEWC.consolidate: samples=${samples}; expected a positive integer.`);
    const task = new Map(this.params.map(([n, p]) => [n, new Float32Array(p.size)]));
    for (let i = 0; i < samples; i++) {
      for (const [, p] of this.params) p.grad = null;
      sampleLoss(i).backward();
      for (const [n, p] of this.params) {
        if (!p.grad) continue;
        const f = task.get(n)!, g = p.grad.data;
        for (let j = 0; j < f.length; j++) f[j] += (g[j] * g[j]) / samples;
      }
    }
    for (const [n, p] of this.params) {
      p.grad = null;
      const old = this.fisher.get(n), f = task.get(n)!;
      if (old) for (let j = 0; j < f.length; j++) f[j] += this.gamma * old[j];
      this.fisher.set(n, f);
      this.anchor.set(n, new Tensor(Float32Array.from(p.data as Float32Array), p.shape));
    }
  }

  /** (λ/2) Σ F (θ − θ*)², a differentiable scalar; 0 before the first consolidate. */
  penalty(): Tensor {
    let total: Tensor = scalar(0);
    if (this.anchor.size === 0 || this.lambda === 0) return total;
    for (const [n, p] of this.params) {
      const a = this.anchor.get(n), f = this.fisher.get(n);
      if (!a || !f) continue;
      const d = sub(p, a);
      total = add(total, sum(mul(mul(d, d), new Tensor(f, p.shape))));
    }
    return mul(total, this.lambda / 2);
  }
}
