/**
 * ONNX exporters for attention and Transformer blocks, mirroring nn/attention/multihead.ts and
 * nn/transformer.ts in eval mode:
 *
 *   MultiheadAttention   q, k, v projections → (B, H, ·, hd) heads → softmax(q·kᵀ·scale, masked) · v → outProj
 *                        with optional past keys/values (concatenated before attending: the KV cache as
 *                        graph inputs and outputs) or precomputed keys/values (a static cross-attention cache)
 *   encoder layer        pre-norm x + sa(norm1(x)); x + ff(norm2(x))   or post-norm norm1(x + sa(x)); …
 *   decoder layer        the same with cross-attention between, norm1/norm2/norm3
 *
 * Masks follow heed's rule (true = may attend) as one bool value broadcastable to (B, H, L, S):
 * positions not allowed get −∞ before the softmax (Where), exactly as ops/attention-mask.ts adds −∞.
 * Helpers build the two kinds the models need from the batch: key padding (B, S) and causal (L, S)
 * with the new queries after the past keys (bottom-right, as with a KV cache).
 *
 * Letters: B batch, L queries, S keys, P past keys, E = D embed dim, H heads, hd head dim.
 */
import type { OnnxGraph } from '../../io/onnx/graph.js';
import type { Module } from '../../nn/module.js';
import { MultiheadAttention } from '../../nn/attention/multihead.js';
import { TransformerEncoder, TransformerEncoderLayer, TransformerDecoderLayer } from '../../nn/transformer.js';
import { LayerNorm } from '../../nn/norm.js';
import { expectModule, unsupported, linearOnnx, layerNormOnnx, activationOnnx, dropoutOnnx } from './layers.js';
import { rotaryOnnx, alibiOnnx, queryKeyPositions } from './positions.js';

/** Keys and values in heads layout, each (B, Hkv, S, hd) (Hkv = H unless grouped-query attention). */
export interface KeyValue {
  key: string;
  value: string;
}

export interface AttentionOnnxOptions {
  /** bool, true = may attend, broadcastable to (B, H, L, S); null = all allowed. */
  allowed: string | null;
  /** Keys/values of earlier positions (B, H, P, hd), put before the new ones. */
  past?: KeyValue;
  /** Keys/values already projected (a static cross-attention cache); the key/value inputs are then unused. */
  precomputed?: KeyValue;
  /**
   * Self-attention positions, needed for RoPE or ALiBi: the position of the first new query (a (1)
   * int64 value, the past length; null = 0) and the model's maxLen (RoPE tables).
   */
  positions?: { offset: string | null; maxLen: number };
}

/**
 * The module checks shared by every attention exporter: plain MHA (GQA included), batch first;
 * RoPE and ALiBi only where the caller gives the positions (self-attention of a causal model).
 */
function checkAttention(m: Module, path: string, positions = false): MultiheadAttention {
  const a = expectModule(m, MultiheadAttention, path);
  if (!a.batchFirst) unsupported(path, 'MultiheadAttention', 'batchFirst=false');
  if (a.rotary && !positions) unsupported(path, 'MultiheadAttention', 'rotary position embeddings (RoPE) outside a causal self-attention');
  if (a.alibi && !positions) unsupported(path, 'MultiheadAttention', 'ALiBi biases outside a causal self-attention');
  return a;
}

/** x (B, T, E) → (B, H, T, hd). */
function splitHeads(g: OnnxGraph, x: string, H: number, hd: number): string {
  return g.node('Transpose', [g.node('Reshape', [x, g.int64([0, 0, H, hd])])], { perm: { ints: [0, 2, 1, 3] } });
}

/**
 * Grouped-query attention: each of the Hkv key/value heads serves H / Hkv consecutive query heads,
 * as ops/attention.ts repeatKvHeads. t (B, Hkv, S, hd) → (B, H, S, hd).
 */
function repeatKvHeadsOnnx(g: OnnxGraph, t: string, H: number, Hkv: number, hd: number): string {
  if (H === Hkv) return t;
  const grouped = g.node('Expand', [g.node('Unsqueeze', [t, g.int64([2])]), g.int64([1, 1, H / Hkv, 1, 1])]); // (B, Hkv, H/Hkv, S, hd)
  return g.node('Reshape', [grouped, g.int64([0, H, -1, hd])]); // (B, H, S, hd)
}

/** The projected keys and values of `source` (B, S, E) → each (B, Hkv, S, hd). Used for a cross-attention cache too. */
export function keyValueOnnx(g: OnnxGraph, m: Module, path: string, source: string): KeyValue {
  return projectKeyValue(g, checkAttention(m, path), path, source);
}

function projectKeyValue(g: OnnxGraph, a: MultiheadAttention, path: string, source: string): KeyValue {
  const k = linearOnnx(g, a.kProj, `${path}.kProj`, source); // (B, S, Hkv·hd)
  const v = linearOnnx(g, a.vProj, `${path}.vProj`, source); // (B, S, Hkv·hd)
  return g.scoped(path, () => ({ key: splitHeads(g, k, a.numKvHeads, a.headDim), value: splitHeads(g, v, a.numKvHeads, a.headDim) })); // (B, Hkv, S, hd)
}

/**
 * query (B, L, E), source (B, S, E) → { output (B, L, E), key/value (B, H, P + S, hd) }: the keys and
 * values attended to, which a decoder returns as its present cache.
 */
export function attentionOnnx(g: OnnxGraph, m: Module, path: string, query: string, source: string, o: AttentionOnnxOptions): KeyValue & { output: string } {
  const a = checkAttention(m, path, o.positions !== undefined);
  const H = a.numHeads, hd = a.headDim, pos = o.positions;
  let q: string, kv: KeyValue;
  if (a.inProj !== null) {
    // packedQkv (GPT-2's c_attn): one projection, rows q | k | v, split after the MatMul.
    if (query !== source || o.precomputed) unsupported(path, 'MultiheadAttention', 'a packed q/k/v projection outside self-attention');
    const kvOut = a.numKvHeads * hd;
    const [qp, kp, vp] = g.scoped(path, () => g.nodeN('Split', [linearOnnx(g, a.inProj, `${path}.inProj`, query), g.int64([a.embedDim, kvOut, kvOut])], 3, { axis: { i: -1 } })); // (B, L, E), (B, L, Hkv·hd) ×2
    q = g.scoped(path, () => splitHeads(g, qp, H, hd)); // (B, H, L, hd)
    kv = g.scoped(path, () => ({ key: splitHeads(g, kp, a.numKvHeads, hd), value: splitHeads(g, vp, a.numKvHeads, hd) })); // (B, Hkv, L, hd)
  } else {
    q = g.scoped(path, () => splitHeads(g, linearOnnx(g, a.qProj, `${path}.qProj`, query), H, hd)); // (B, H, L, hd)
    kv = o.precomputed ?? projectKeyValue(g, a, path, source); // (B, Hkv, S, hd)
  }
  return g.scoped(path, () => {
    if (a.rotary && pos) {
      q = rotaryOnnx(g, a.rotary, q, pos.offset, pos.maxLen); // (B, H, L, hd)
      kv = { key: rotaryOnnx(g, a.rotary, kv.key, pos.offset, pos.maxLen), value: kv.value }; // (B, Hkv, S, hd)
    }
    if (o.past) {
      kv = { key: g.node('Concat', [o.past.key, kv.key], { axis: { i: 2 } }), value: g.node('Concat', [o.past.value, kv.value], { axis: { i: 2 } }) }; // (B, H, P + S, hd)
    }
    const Hkv = a.numKvHeads;
    const kt = g.node('Transpose', [repeatKvHeadsOnnx(g, kv.key, H, Hkv, hd)], { perm: { ints: [0, 1, 3, 2] } }); // (B, H, hd, S)
    let scores = g.node('Mul', [g.node('MatMul', [q, kt]), g.float(1 / Math.sqrt(hd))]); // (B, H, L, S)
    if (a.alibi && pos) scores = alibiOnnx(g, a.alibi.data as Float32Array, scores, query, pos.offset); // (B, H, L, S)
    if (o.allowed !== null) scores = g.node('Where', [o.allowed, scores, g.float(-Infinity)]); // (B, H, L, S)
    const y = g.node('MatMul', [g.node('Softmax', [scores], { axis: { i: -1 } }), repeatKvHeadsOnnx(g, kv.value, H, Hkv, hd)]); // (B, H, L, hd)
    const merged = g.node('Reshape', [g.node('Transpose', [y], { perm: { ints: [0, 2, 1, 3] } }), g.int64([0, 0, H * hd])]); // (B, L, H·hd): E, or fewer after head pruning
    return { output: linearOnnx(g, a.outProj, `${path}.outProj`, merged), ...kv }; // (B, L, E)
  });
}

/** (B, S) bool true = padding (PyTorch's convention) → (B, 1, 1, S) bool true = may attend. */
export function keyPaddingAllowed(g: OnnxGraph, padding: string): string {
  return g.node('Unsqueeze', [g.node('Not', [padding]), g.int64([1, 2])]); // (B, 1, 1, S)
}

/**
 * Causal mask for `queries` (…, L, ·) after `past` earlier keys: query i (position past + i)
 * may see keys j ≤ past + i. `past` is a (1) int64 value or null (none). Returns (L, P + L) bool.
 */
export function causalAllowed(g: OnnxGraph, queries: string, past: string | null): string {
  const { rows, cols } = queryKeyPositions(g, queries, past);
  return g.node('LessOrEqual', [cols, rows]); // (L, P + L)
}

/** Two masks AND-ed (either may be null = all allowed). */
export function andMasks(g: OnnxGraph, a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return g.node('And', [a, b]);
}

/** A Transformer layer's feed-forward block: last(linear2(dropout(act(linear1(h))))), h (B, T, D) → (B, T, D). */
function layerFeedForwardOnnx(g: OnnxGraph, l: TransformerEncoderLayer | TransformerDecoderLayer, path: string, h: string, last: 'dropout2' | 'dropout3'): string {
  const a = g.scoped(path, () => activationOnnx(g, l.activation, linearOnnx(g, l.linear1, `${path}.linear1`, h))); // (B, T, F)
  const y = linearOnnx(g, l.linear2, `${path}.linear2`, dropoutOnnx(l.dropout, `${path}.dropout`, a)); // (B, T, D)
  return dropoutOnnx((l as unknown as Record<string, Module>)[last], `${path}.${last}`, y); // (B, T, D)
}

/** One TransformerEncoderLayer: x (B, T, D) → (B, T, D). */
export function encoderLayerOnnx(g: OnnxGraph, m: Module, path: string, x: string, allowed: string | null): string {
  const l = expectModule(m, TransformerEncoderLayer, path);
  const sa = (h: string): string => dropoutOnnx(l.dropout1, `${path}.dropout1`, attentionOnnx(g, l.selfAttn, `${path}.selfAttn`, h, h, { allowed }).output);
  const ff = (h: string): string => layerFeedForwardOnnx(g, l, path, h, 'dropout2');
  const add = (p: string, q: string): string => g.scoped(path, () => g.node('Add', [p, q]));
  if (l.normFirst) {
    x = add(x, sa(layerNormOnnx(g, l.norm1, `${path}.norm1`, x))); // (B, T, D)
    return add(x, ff(layerNormOnnx(g, l.norm2, `${path}.norm2`, x))); // (B, T, D)
  }
  x = layerNormOnnx(g, l.norm1, `${path}.norm1`, add(x, sa(x))); // (B, T, D)
  return layerNormOnnx(g, l.norm2, `${path}.norm2`, add(x, ff(x))); // (B, T, D)
}

/** A TransformerEncoder stack (and its final norm): x (B, T, D) → (B, T, D). */
export function encoderOnnx(g: OnnxGraph, m: Module, path: string, x: string, allowed: string | null): string {
  const enc = expectModule(m, TransformerEncoder, path);
  enc.layers.toArray().forEach((layer, i) => { x = encoderLayerOnnx(g, layer, `${path}.layers.${i}`, x, allowed); }); // (B, T, D)
  return enc.norm ? layerNormOnnx(g, enc.norm as LayerNorm, `${path}.norm`, x) : x; // (B, T, D)
}

export interface DecoderLayerOnnxOptions {
  /** Self-attention mask over (new, past + new) target positions. */
  selfAllowed: string | null;
  /** Cross-attention mask over the memory, (B, 1, 1, S). */
  memoryAllowed: string | null;
  /** Self-attention keys/values of the earlier target positions (none: a full, uncached pass). */
  past?: KeyValue;
  /** Cross-attention keys/values of the memory (the encoder graph computes them once). */
  cross: KeyValue;
}

/** One TransformerDecoderLayer step: x (B, T, D) → { output (B, T, D), present self keys/values (B, H, P + T, hd) }. */
export function decoderLayerOnnx(g: OnnxGraph, m: Module, path: string, x: string, o: DecoderLayerOnnxOptions): KeyValue & { output: string } {
  const l = expectModule(m, TransformerDecoderLayer, path);
  let present: KeyValue | null = null;
  const sa = (h: string): string => {
    const r = attentionOnnx(g, l.selfAttn, `${path}.selfAttn`, h, h, { allowed: o.selfAllowed, past: o.past });
    present = { key: r.key, value: r.value };
    return dropoutOnnx(l.dropout1, `${path}.dropout1`, r.output);
  };
  const ca = (h: string): string => dropoutOnnx(l.dropout2, `${path}.dropout2`, attentionOnnx(g, l.crossAttn, `${path}.crossAttn`, h, h, { allowed: o.memoryAllowed, precomputed: o.cross }).output);
  const ff = (h: string): string => layerFeedForwardOnnx(g, l, path, h, 'dropout3');
  const add = (p: string, q: string): string => g.scoped(path, () => g.node('Add', [p, q]));
  if (l.normFirst) {
    x = add(x, sa(layerNormOnnx(g, l.norm1, `${path}.norm1`, x))); // (B, T, D)
    x = add(x, ca(layerNormOnnx(g, l.norm2, `${path}.norm2`, x))); // (B, T, D)
    x = add(x, ff(layerNormOnnx(g, l.norm3, `${path}.norm3`, x))); // (B, T, D)
  } else {
    x = layerNormOnnx(g, l.norm1, `${path}.norm1`, add(x, sa(x))); // (B, T, D)
    x = layerNormOnnx(g, l.norm2, `${path}.norm2`, add(x, ca(x))); // (B, T, D)
    x = layerNormOnnx(g, l.norm3, `${path}.norm3`, add(x, ff(x))); // (B, T, D)
  }
  return { output: x, ...(present as unknown as KeyValue) };
}
