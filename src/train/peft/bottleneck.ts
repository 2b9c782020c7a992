/**
 * Bottleneck adapters (Houlsby et al. 2019, "Parameter-Efficient Transfer Learning for NLP"): a
 * small residual MLP applied to the output of a frozen sublayer,
 *
 *   h ← h + up(act(down(h)))        down (D → m), up (m → D), m ≪ D
 *
 * with `up` zero at init, so an adapted model starts as exactly its base. Houlsby places one after
 * the attention output projection and one after the feed-forward block of every layer (heed:
 * targets `*.selfAttn.outProj` and `*.linear2`); Pfeiffer et al. 2020 keep only the second.
 *
 * The adapter is attached to its target instead of wrapping it: `attachBottleneck(target)`
 * registers it as the target's submodule `adapter` and adds a forward hook that applies it to the
 * target's output. The base's dotted names do not change (`linear2.weight` stays), and the adapter's
 * weights are `linear2.adapter.down.weight`, `...up.weight`. Hooks run under `call()`, which every
 * heed layer uses for its children.
 *
 * Letters: N any leading dims, D the target's output size, m the bottleneck size.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { add, gelu } from '../../ops/elementwise.js';
import { Module, type HookHandle } from '../../nn/module.js';
import { Linear } from '../../nn/linear.js';
import { ConfigError, ShapeError, fmtShape } from '../../errors.js';

export class BottleneckAdapter extends Module {
  readonly dim: number;
  readonly size: number;
  down: Linear;
  up: Linear;

  /**
   * Args:
   *   dim: D, the size of the output it adapts.
   *   size: m, the bottleneck width.
   */
  constructor(dim: number, size: number) {
    super();
    if (!Number.isInteger(size) || size <= 0) throw new ConfigError(`BottleneckAdapter: size=${size}, expected a positive integer bottleneck width.`);
    this.dim = dim;
    this.size = size;
    this.down = new Linear(dim, size); // (m, D)
    this.up = new Linear(size, dim); // (D, m)
    this.up.weight.data.fill(0); // a zero residual at init: the adapted model equals its base
    this.up.bias!.data.fill(0);
  }

  /** h (N…, D) → h + up(gelu(down(h))) (N…, D). */
  override forward(h: Tensor): Tensor {
    if (h.shape[h.ndim - 1] !== this.dim) throw new ShapeError(`BottleneckAdapter: input has shape ${fmtShape(h.shape)}, expected last dim ${this.dim}.`);
    return add(h, this.up.call(gelu(this.down.call(h)))); // (N…, D)
  }
}

/** The output size of a module an adapter can follow (a Linear's outFeatures), or null. */
export function outputSize(m: Module): number | null {
  const out = (m as unknown as { outFeatures?: unknown }).outFeatures;
  return typeof out === 'number' ? out : null;
}

const HOOKS = new WeakMap<Module, HookHandle>();

/** Registers a BottleneckAdapter as `target.adapter` and applies it to every output of target.call(). */
export function attachBottleneck(target: Module, size: number, name: string): BottleneckAdapter {
  const D = outputSize(target);
  if (D === null) throw new ConfigError(`bottleneck adapter: module '${name}' (${target.constructor.name}) has no outFeatures, so the adapter's size is unknown. Fix: target Linear layers (e.g. '*.linear2', '*.selfAttn.outProj').`);
  if ((target as unknown as { adapter?: unknown }).adapter !== undefined) throw new ConfigError(`bottleneck adapter: module '${name}' already has an adapter.`);
  const adapter = target.registerModule('adapter', new BottleneckAdapter(D, size));
  HOOKS.set(target, target.registerForwardHook((_m, _args, out) => adapter.call(out as Tensor)));
  return adapter;
}

/** Removes target's adapter and its hook (the base computes as before it was attached). */
export function detachBottleneck(target: Module): void {
  HOOKS.get(target)?.remove();
  HOOKS.delete(target);
  delete (target as unknown as { adapter?: unknown }).adapter;
}
