/**
 * AttentionRecorder: collects the attention weights of every attention module
 * during one forward pass, for the viz page and `predict --attention`.
 *
 *   const rec = new AttentionRecorder(model);
 *   const logits = rec.record(() => model.forward(src, tgt));
 *   rec.toAttentionMaps(0, tgtTokens, srcTokens);   // AttentionMap[]
 *
 * Attention modules call reportAttention(this, weights, kind) when a recorder is
 * active; they compute weights only then, so recording costs nothing otherwise.
 *
 * Letters: B batch, H heads, L queries, S keys.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../module.js';

export interface RecordedAttention {
  /** Module path, e.g. 'decoder.layers.1.crossAttn'. */
  name: string;
  kind: 'self' | 'cross';
  /** The first integer in the path (layers.N), else 0. */
  layer: number;
  /** (B, H, L, S) float weights, detached. */
  weights: Tensor;
}

/** One attention map: the weights of one attention module for one input (what predict, serve and viz show). */
export interface AttentionMap {
  /** Module path, e.g. 'decoder.layers.1.crossAttn'. */
  name: string;
  /** 'self' (tokens × same tokens) or 'cross' (target × source). */
  kind: 'self' | 'cross';
  layer: number;
  /** Row labels (queries) and column labels (keys), as the user reads them. */
  queryTokens: string[];
  keyTokens: string[];
  /** (heads, queries, keys), each row summing to 1 over the allowed keys. */
  weights: number[][][];
}

let active: AttentionRecorder | null = null;

/** True when a recorder is collecting; attention modules then compute their weights. */
export function isRecording(): boolean {
  return active !== null;
}

/** Called by attention modules with their (B, H, L, S) weights. */
export function reportAttention(module: Module, weights: Tensor, kind: 'self' | 'cross'): void {
  if (active) active.add(module, weights, kind);
}

export class AttentionRecorder {
  readonly records: RecordedAttention[] = [];
  private names = new Map<Module, string>();

  /** Args: model: the root module, whose namedModules() give the recorded names. */
  constructor(model: Module) {
    for (const [n, m] of model.namedModules()) this.names.set(m, n);
  }

  /** Runs fn with this recorder active (one at a time) and returns fn's result. */
  record<T>(fn: () => T): T {
    const prev = active;
    active = this;
    try {
      return fn();
    } finally {
      active = prev;
    }
  }

  add(module: Module, weights: Tensor, kind: 'self' | 'cross'): void {
    const name = this.names.get(module) ?? module.constructor.name;
    const m = /(?:^|\.)(\d+)(?:\.|$)/.exec(name);
    this.records.push({ name, kind, layer: m ? Number(m[1]) : 0, weights: weights.detach() });
  }

  /**
   * The records for batch row b as AttentionMaps: weights (heads, queries, keys).
   * With a KV cache each step records one query row; steps of the same module are
   * concatenated along queries.
   */
  toAttentionMaps(b: number, queryTokens: string[] = [], keyTokens: string[] = []): AttentionMap[] {
    const byName = new Map<string, AttentionMap>();
    const out: AttentionMap[] = [];
    for (const r of this.records) {
      const [, H, L, S] = r.weights.shape;
      let map = byName.get(r.name);
      if (!map) {
        map = { name: r.name, kind: r.kind, layer: r.layer, queryTokens, keyTokens, weights: Array.from({ length: H }, () => []) };
        byName.set(r.name, map);
        out.push(map);
      }
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < L; i++) {
          const base = ((b * H + h) * L + i) * S;
          map.weights[h].push(Array.from(r.weights.data.subarray(base, base + S) as ArrayLike<number>));
        }
      }
    }
    return out;
  }
}
