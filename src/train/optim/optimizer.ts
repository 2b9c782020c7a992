/**
 * Optimizer: the base class of SGD, Adam and AdamW (PyTorch's torch.optim.Optimizer, in camelCase).
 *
 * An optimizer holds parameter groups. Each group is a list of (name, tensor) pairs plus its own
 * hyper-parameters (lr, weightDecay, ...); per-parameter state (momentum buffers, Adam moments)
 * lives in `state`, keyed by the parameter tensor. `step()` reads each parameter's `.grad`
 * and updates its storage in place; `zeroGrad()` clears the gradients.
 *
 * Default grouping (`paramGroups`): weight decay applies to matrices only. Biases, norm
 * weights and embeddings (by name) and every tensor with fewer than 2 dims go to a group
 * with weightDecay 0 — the usual Transformer recipe (BERT, nanoGPT).
 *
 * State dicts: `stateDict()` returns plain Float32Arrays keyed `<paramName>.<buffer>` plus the
 * JSON-able group hyper-parameters and step counts, which src/io/checkpoint.ts stores as
 * optimizer.safetensors.
 */
import { Tensor } from '../../tensor/tensor.js';
import { CheckpointError, ValueError } from '../../errors.js';
import { markWeightsChanged } from '../../nn/weights-version.js';
import type { OptimizerStateDict } from '../../io/optimizer-state.js';

/** Something that owns named parameters (an nn.Module). */
export interface HasNamedParameters {
  namedParameters(): [string, Tensor][];
}

export type NamedParams = readonly (readonly [string, Tensor])[];

export interface ParamGroup<H> {
  params: [string, Tensor][];
  hyper: H;
}

export type ParamsInput = HasNamedParameters | NamedParams | readonly Tensor[] | readonly { params: NamedParams | readonly Tensor[]; [k: string]: unknown }[];

/** Whether a parameter is exempt from weight decay by default: biases, norms, embeddings, 1-D tensors. */
export function isNoDecay(name: string, t: Tensor): boolean {
  const n = name.toLowerCase();
  return t.ndim < 2 || /(^|\.)bias$/.test(n) || /norm|(^|\.)ln[_\d]*(\.|$)/.test(n) || /emb/.test(n);
}

/**
 * Splits named parameters into a decay group and a no-decay group (frozen ones are dropped).
 *
 *   new AdamW(paramGroups(model, 0.01), { lr: 1e-3 })
 */
export function paramGroups(params: HasNamedParameters | NamedParams, weightDecay: number): { params: NamedParams; weightDecay: number }[] {
  const named = 'namedParameters' in params ? params.namedParameters() : params;
  const decay: [string, Tensor][] = [];
  const noDecay: [string, Tensor][] = [];
  for (const [name, t] of named) {
    if (!t.requiresGrad) continue;
    (isNoDecay(name, t) ? noDecay : decay).push([name, t]);
  }
  const groups = [{ params: decay, weightDecay }, { params: noDecay, weightDecay: 0 }];
  return groups.filter((g) => g.params.length > 0);
}

function toNamed(list: NamedParams | readonly Tensor[], offset: number): [string, Tensor][] {
  return list.map((p, i) => (p instanceof Tensor ? [p.name ?? String(offset + i), p] : [p[0], p[1]]) as [string, Tensor]);
}

export type { OptimizerStateDict };

export abstract class Optimizer<H extends Record<string, number | boolean>> {
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Per-parameter buffers, e.g. { expAvg, expAvgSq } or { momentumBuffer }. */
  protected readonly state = new Map<Tensor, { step: number; buffers: Record<string, Float32Array> }>();

  constructor(params: ParamsInput, defaults: H, readonly name: string) {
    const groups: { params: NamedParams | readonly Tensor[]; [k: string]: unknown }[] =
      'namedParameters' in params
        ? [{ params: (params as HasNamedParameters).namedParameters().filter(([, t]) => t.requiresGrad) }]
        : (params as readonly unknown[]).length > 0 && typeof (params as readonly unknown[])[0] === 'object' && !((params as readonly unknown[])[0] instanceof Tensor) && !Array.isArray((params as readonly unknown[])[0])
          ? (params as { params: NamedParams | readonly Tensor[] }[])
          : [{ params: params as NamedParams | readonly Tensor[] }];
    let offset = 0;
    const seen = new Set<Tensor>();
    for (const g of groups) {
      const named = toNamed(g.params, offset);
      offset += named.length;
      for (const [n, t] of named) {
        if (seen.has(t)) throw new ValueError(`${name}: parameter '${n}' appears in more than one group; each parameter must be in exactly one.`);
        seen.add(t);
      }
      const hyper = { ...defaults } as Record<string, number | boolean>;
      for (const [k, v] of Object.entries(g)) {
        if (k === 'params') continue;
        if (!(k in defaults)) throw new ValueError(`${name}: unknown group option '${k}'. Valid options: ${Object.keys(defaults).join(', ')}.`);
        hyper[k] = v as number | boolean;
      }
      this.validate(hyper as H);
      this.paramGroups.push({ params: named, hyper: hyper as H });
    }
    if (seen.size === 0) throw new ValueError(`${name}: received no parameters to optimize. Fix: pass model (or model.namedParameters()) with at least one trainable parameter.`);
  }

  /** Checks the hyper-parameters of one group. */
  protected abstract validate(h: H): void;

  /**
   * Updates one parameter from its gradient, or queues it for `flushUpdates` (an optimizer that
   * updates every parameter in one multi-tensor kernel call).
   */
  protected abstract update(p: Tensor, grad: Float32Array | Float64Array, h: H, st: { step: number; buffers: Record<string, Float32Array> }): void;

  /** Learning rate of the first group (all groups when set). */
  get lr(): number {
    return this.paramGroups[0].hyper.lr as number;
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    // Indexed loops: this runs once per parameter per step (90 at the G2P size), and for-of with a
    // destructured pair allocates wherever it is not optimized.
    for (let gi = 0; gi < this.paramGroups.length; gi++) {
      const g = this.paramGroups[gi];
      for (let i = 0; i < g.params.length; i++) {
        const p = g.params[i][1];
        if (p.grad === null) continue;
        let st = this.state.get(p);
        if (st === undefined) {
          st = { step: 0, buffers: {} };
          this.state.set(p, st);
        }
        st.step++;
        this.update(p, p.grad.data as Float32Array | Float64Array, g.hyper, st);
      }
    }
    this.flushUpdates();
    markWeightsChanged(); // the parameters changed in place
  }

  /** Runs the updates `update` queued during this step (none by default). */
  protected flushUpdates(): void {}

  /** Clears every parameter's gradient (sets it to null, as PyTorch's set_to_none=True). */
  zeroGrad(): void {
    for (let gi = 0; gi < this.paramGroups.length; gi++) {
      const params = this.paramGroups[gi].params;
      for (let i = 0; i < params.length; i++) params[i][1].grad = null;
    }
  }

  /** Every optimized (name, tensor) pair. */
  namedParameters(): [string, Tensor][] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /**
   * The state as plain arrays. `copy: false` gives views of the live buffers instead of copies, for
   * a caller that only reads them before the next step (the Trainer's checkpoint writer): a copy
   * would hold the whole state twice, two values per trained weight, while the file is written.
   */
  stateDict(options: { copy?: boolean } = {}): OptimizerStateDict {
    const copy = options.copy ?? true;
    const buffers: OptimizerStateDict['buffers'] = {};
    const steps: Record<string, number> = {};
    for (const g of this.paramGroups) {
      for (const [n, p] of g.params) {
        const st = this.state.get(p);
        if (st === undefined) continue;
        steps[n] = st.step;
        for (const [b, data] of Object.entries(st.buffers)) buffers[`${n}.${b}`] = { shape: [...p.shape], data: copy ? data.slice() : data };
      }
    }
    return {
      paramGroups: this.paramGroups.map((g) => ({ hyper: { ...g.hyper }, params: g.params.map(([n]) => n) })),
      buffers,
      steps,
    };
  }

  /** Restores state saved by stateDict(); groups and parameter names must match. */
  loadStateDict(sd: OptimizerStateDict, source = 'optimizer state'): void {
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new CheckpointError(`${this.name}.loadStateDict: ${source} has ${sd.paramGroups.length} parameter groups, this optimizer has ${this.paramGroups.length}. Fix: resume with the same model and optimizer settings.`);
    }
    sd.paramGroups.forEach((sg, i) => {
      const g = this.paramGroups[i];
      const names = g.params.map(([n]) => n);
      if (sg.params.join('\n') !== names.join('\n')) {
        const missing = names.filter((n) => !sg.params.includes(n)).slice(0, 5);
        throw new CheckpointError(`${this.name}.loadStateDict: ${source} group ${i} holds parameters [${sg.params.slice(0, 5).join(', ')}${sg.params.length > 5 ? ', ...' : ''}] but this optimizer's group ${i} holds [${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}]${missing.length ? ` (not in the saved state: ${missing.join(', ')})` : ''}. Fix: resume with the same model architecture.`);
      }
    });
    this.state.clear();
    sd.paramGroups.forEach((sg, i) => {
      const g = this.paramGroups[i];
      Object.assign(g.hyper, sg.hyper);
      for (const [n, p] of g.params) {
        if (!(n in sd.steps)) continue;
        const buffers: Record<string, Float32Array> = {};
        for (const key of Object.keys(sd.buffers)) {
          if (!key.startsWith(n + '.')) continue;
          const b = key.slice(n.length + 1);
          if (b.includes('.')) continue;
          const saved = sd.buffers[key];
          if (saved.data.length !== p.size) {
            throw new CheckpointError(`${this.name}.loadStateDict: ${source} buffer '${key}' has ${saved.data.length} values, parameter '${n}' has shape [${p.shape.join(', ')}] (${p.size}). Fix: resume with the same model architecture.`);
          }
          buffers[b] = Float32Array.from(saved.data);
        }
        this.state.set(p, { step: sd.steps[n], buffers });
      }
    });
  }
}

export function requireNumber(opt: string, name: string, v: unknown, min: number, max = Infinity, minInclusive = true): void {
  const ok = typeof v === 'number' && Number.isFinite(v) && (minInclusive ? v >= min : v > min) && v <= max;
  if (!ok) throw new ValueError(`${opt}: ${name}=${String(v)}, expected a number ${minInclusive ? '≥' : '>'} ${min}${max < Infinity ? ` and ≤ ${max}` : ''}.`);
}
