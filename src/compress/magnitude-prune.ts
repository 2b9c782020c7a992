/**
 * Unstructured magnitude pruning (Han et al. 2015; torch.nn.utils.prune.l1_unstructured and
 * global_unstructured): the weights of smallest |w| are set to zero and kept at zero by a mask.
 *
 *   const mask = magnitudePrune(model, { sparsity: 0.5 });                 // global, every Linear weight
 *   magnitudePrune(model, { sparsity: 0.3, scope: 'layer', modules: 'encoder.*' });
 *   const pruner = new GradualPruning(model, { sparsity: 0.8, startStep: 0, endStep: 1000 });
 *   trainerTask.afterStep = (step) => pruner.step(step);                  // during fine-tuning
 *
 * Exactness: exactly round(sparsity · n) weights are zeroed (n = the weights in scope, or each
 * layer's with scope 'layer'); ties at the threshold magnitude are broken by position, so the
 * count is exact even when many weights share a value (zeros already present count as pruned).
 *
 * Gradual pruning follows Zhu & Gupta 2017 ("To prune, or not to prune"): the target sparsity
 * rises on a cubic schedule s_t = s_f · (1 − (1 − (t − t0)/(t1 − t0))³) from t0 to t1, the mask is
 * recomputed every `every` steps, and between recomputations it is re-applied after each optimizer
 * step, so pruned weights stay zero while the others keep training.
 */
import { Module, toRegExp, type NamePattern } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import type { Parameter } from '../nn/parameter.js';
import { ValueError } from '../errors.js';
import { markWeightsChanged } from '../nn/weights-version.js';

export interface MagnitudePruneOptions {
  /** Fraction of the weights in scope to zero, in [0, 1]. */
  sparsity: number;
  /** 'global' (default): one threshold over every selected weight; 'layer': the fraction in each layer. */
  scope?: 'global' | 'layer';
  /** Which Linear layers, by dotted name (glob, RegExp or a list); default every Linear. Biases are never pruned. */
  modules?: NamePattern | readonly NamePattern[];
}

/** The zero pattern of a pruning: 1 keeps a weight, 0 prunes it, one mask per weight tensor. */
export class PruningMask {
  constructor(readonly entries: readonly { name: string; weight: Parameter; keep: Uint8Array }[]) {}

  /** Zeroes the pruned weights again (after an optimizer step moved them). */
  apply(): void {
    for (const { weight, keep } of this.entries) {
      const w = weight.data;
      for (let i = 0; i < keep.length; i++) if (keep[i] === 0) w[i] = 0;
    }
    markWeightsChanged();
  }

  /** Pruned weights over all weights in scope. */
  get sparsity(): number {
    let zero = 0, all = 0;
    for (const { keep } of this.entries) {
      all += keep.length;
      for (let i = 0; i < keep.length; i++) zero += 1 - keep[i];
    }
    return all === 0 ? 0 : zero / all;
  }
}

/** The Linear weights selected by `modules`, by dotted name of the layer. */
function selectedWeights(model: Module, modules: MagnitudePruneOptions['modules']): { name: string; weight: Parameter }[] {
  const patterns = (Array.isArray(modules) ? modules : [modules ?? '*']) as NamePattern[];
  const res = patterns.map(toRegExp);
  const linears = model.namedModules().filter((e): e is [string, Linear] => e[1] instanceof Linear);
  const chosen = linears.filter(([n]) => res.some((re) => re.test(n)));
  if (chosen.length === 0) {
    throw new ValueError(`magnitudePrune: modules ${patterns.map(String).join(', ')} match no Linear layer of ${model.constructor.name}` +
      (linears.length > 0 ? `; its Linear layers are named like ${linears.slice(0, 4).map(([n]) => `'${n}'`).join(', ')}.` : ' (it has none).'));
  }
  const seen = new Set<Parameter>();
  return chosen.filter(([, l]) => !seen.has(l.weight) && seen.add(l.weight)).map(([name, l]) => ({ name: `${name}.weight`, weight: l.weight }));
}

/**
 * Keep-masks zeroing exactly round(sparsity · n) of the weights of smallest magnitude, over the
 * given weights taken together. Ties at the threshold go to the earlier position.
 */
function smallestMasks(weights: readonly { weight: Parameter }[], sparsity: number): Uint8Array[] {
  const n = weights.reduce((s, { weight }) => s + weight.size, 0);
  const k = Math.round(sparsity * n);
  const masks = weights.map(({ weight }) => new Uint8Array(weight.size).fill(1));
  if (k === 0) return masks;
  const mags = new Float32Array(n);
  let off = 0;
  for (const { weight } of weights) {
    for (let i = 0; i < weight.size; i++) mags[off + i] = Math.abs(weight.data[i]);
    off += weight.size;
  }
  const threshold = Float32Array.from(mags).sort()[k - 1]; // the k-th smallest magnitude
  let below = 0;
  for (let i = 0; i < n; i++) if (mags[i] < threshold) below++;
  let atThreshold = k - below; // how many weights equal to the threshold are pruned too
  off = 0;
  weights.forEach(({ weight }, l) => {
    for (let i = 0; i < weight.size; i++) {
      const m = mags[off + i];
      if (m < threshold || (m === threshold && atThreshold-- > 0)) masks[l][i] = 0;
    }
    off += weight.size;
  });
  return masks;
}

/**
 * Zeroes the smallest-magnitude weights of the model's Linear layers, in place.
 *
 * Args:
 *   model: any Module holding Linear layers (float weights; prune before quantizing).
 *   options: sparsity, scope ('global' | 'layer'), modules.
 * Returns: the mask; call mask.apply() after optimizer steps to keep the pruned weights at zero.
 */
export function magnitudePrune(model: Module, options: MagnitudePruneOptions): PruningMask {
  const s = options.sparsity;
  if (!(typeof s === 'number' && s >= 0 && s <= 1)) throw new ValueError(`magnitudePrune: sparsity=${s}, expected a fraction of the weights in [0, 1].`);
  const scope = options.scope ?? 'global';
  if (scope !== 'global' && scope !== 'layer') throw new ValueError(`magnitudePrune: scope='${String(scope)}', expected 'global' or 'layer'.`);
  const weights = selectedWeights(model, options.modules);
  const masks = scope === 'global' ? smallestMasks(weights, s) : weights.map((w) => smallestMasks([w], s)[0]);
  const mask = new PruningMask(weights.map((w, i) => ({ ...w, keep: masks[i] })));
  mask.apply();
  return mask;
}

export interface GradualPruningOptions extends MagnitudePruneOptions {
  /** Step at which pruning starts (sparsity 0 before). Default 0. */
  startStep?: number;
  /** Step at which the final sparsity is reached. */
  endStep: number;
  /** Recompute the mask every this many steps (default 1/10 of the pruning span, at least 1). */
  every?: number;
}

/** Gradual magnitude pruning on Zhu & Gupta's cubic schedule; call step(t) after every optimizer step. */
export class GradualPruning {
  private mask: PruningMask | null = null;
  private readonly start: number;
  private readonly end: number;
  private readonly every: number;

  constructor(private readonly model: Module, private readonly options: GradualPruningOptions) {
    this.start = options.startStep ?? 0;
    this.end = options.endStep;
    if (!(Number.isInteger(this.start) && Number.isInteger(this.end) && this.end > this.start && this.start >= 0)) {
      throw new ValueError(`GradualPruning: startStep=${this.start}, endStep=${this.end}; expected integers with 0 ≤ startStep < endStep.`);
    }
    this.every = options.every ?? Math.max(1, Math.floor((this.end - this.start) / 10));
    if (!(Number.isInteger(this.every) && this.every >= 1)) throw new ValueError(`GradualPruning: every=${this.every}, expected a positive integer.`);
    selectedWeights(model, options.modules); // fail now, not at the first step
  }

  /** Target sparsity at step t: 0 before startStep, the cubic ramp, then options.sparsity. */
  sparsityAt(t: number): number {
    if (t <= this.start) return 0;
    const f = Math.min(1, (t - this.start) / (this.end - this.start));
    return this.options.sparsity * (1 - (1 - f) ** 3);
  }

  /** After optimizer step t: recompute the mask on schedule points (and at endStep), else re-apply it. */
  step(t: number): void {
    if (t > this.start && (t >= this.end ? this.mask === null || t === this.end : (t - this.start) % this.every === 0)) {
      this.mask = magnitudePrune(this.model, { ...this.options, sparsity: this.sparsityAt(t) });
    } else {
      this.mask?.apply();
    }
  }

  /** Sparsity of the current mask (0 before the first pruning). */
  get sparsity(): number {
    return this.mask?.sparsity ?? 0;
  }
}
