/**
 * Structured attention-head pruning (Michel, Levy & Neubig 2019, "Are Sixteen Heads Really Better
 * than One?"): score every head by how much the loss depends on it, remove the least important
 * ones for real (the q/k/v/out projections shrink, so the model runs faster and its checkpoint is
 * smaller), then fine-tune.
 *
 * Importance of head h: put a gate ξ_h = 1 on its output and average |∂L/∂ξ_h| over batches,
 *   I_h = E_x |∂L(x)/∂ξ_h|,
 * which is the first-order estimate of the loss change when the head is removed. Scores are
 * normalized per layer by their L2 norm (as the paper's code and Hugging Face's bertology script
 * do), so layers compare on one scale when heads are ranked globally.
 *
 *   const scores = headImportance(model, batches, (b) => crossEntropy(model.call(b.x), b.y));
 *   const plan = headsToPrune(scores, 0.5);         // half of all heads, fewest-important first
 *   pruneHeads(model, plan);                        // { 'encoder.layers.0.selfAttn': [1, 3], ... }
 *
 * A pruned model is rebuilt from its checkpoint by replaying the plan (config.json's
 * compression.prunedHeads, by original head index) before loading its weights.
 */
import { Tensor } from '../tensor/tensor.js';
import { backward } from '../autograd/engine.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { MultiheadAttention } from '../nn/attention/multihead.js';
import { ValueError } from '../errors.js';

/** Heads to remove, by dotted module name of the attention layer: indices among its current heads. */
export type HeadPruningPlan = Record<string, number[]>;

/** Every MultiheadAttention of the model with its dotted name, in module order. */
export function attentionLayers(model: Module): [string, MultiheadAttention][] {
  return model.namedModules().filter((e): e is [string, MultiheadAttention] => e[1] instanceof MultiheadAttention);
}

/**
 * Gradient-based head importance (Michel et al. 2019), normalized per layer.
 *
 * Args:
 *   model: holds MultiheadAttention layers; put in eval mode (no dropout) while scoring.
 *   batches: the data to score on (validation batches, not test).
 *   loss: the task loss of one batch, a scalar with a graph back to the model.
 * Returns: layer name → importance of each current head (H), L2-normalized within the layer.
 * The model's parameter gradients are cleared afterwards, and its training mode restored.
 */
export function headImportance<B>(model: Module, batches: Iterable<B>, loss: (batch: B) => Tensor): Record<string, Float64Array> {
  const layers = attentionLayers(model);
  if (layers.length === 0) throw new ValueError(`headImportance: ${model.constructor.name} has no MultiheadAttention layer to score.`);
  const wasTraining = model.training;
  model.eval();
  const totals = layers.map(([, m]) => new Float64Array(m.numHeads));
  let n = 0;
  try {
    for (const batch of batches) {
      for (const [, m] of layers) {
        const gate = new Tensor(new Float32Array(m.numHeads).fill(1), [m.numHeads]); // (H)
        gate.requiresGrad = true;
        m.headMask = gate;
      }
      backward(loss(batch));
      layers.forEach(([name, m], l) => {
        const g = m.headMask!.grad;
        if (g === null) throw new ValueError(`headImportance: the loss does not depend on '${name}' (no gradient reached its heads). Fix: score with a loss computed from the model's output.`);
        for (let h = 0; h < m.numHeads; h++) totals[l][h] += Math.abs(g.data[h]);
      });
      model.zeroGrad();
      n++;
    }
  } finally {
    for (const [, m] of layers) m.headMask = null;
    model.zeroGrad();
    model.train(wasTraining);
  }
  if (n === 0) throw new ValueError('headImportance: received no batches. Fix: pass at least one batch of validation data.');
  const out: Record<string, Float64Array> = {};
  layers.forEach(([name], l) => {
    const s = totals[l].map((v) => v / n);
    const norm = Math.sqrt(s.reduce((a, v) => a + v * v, 0)) || 1;
    out[name] = s.map((v) => v / norm);
  });
  return out;
}

/**
 * A data-free head importance, for pruning without a dataset (heed compress --prune-heads): the
 * size of what head h can add to the output, ‖W_o[:, h]‖_F · ‖W_v[h, :]‖_F (its value rows times
 * its output-projection columns), normalized per layer like headImportance. It is a weight
 * magnitude proxy, cruder than Michel et al.'s gradient score; fine-tune after pruning with it.
 *
 * Returns: layer name → score per current head. Throws ValueError when the model has no
 *   MultiheadAttention, or a layer packs q/k/v (packedQkv) or is already quantized.
 */
export function headMagnitudeImportance(model: Module): Record<string, Float64Array> {
  const layers = attentionLayers(model);
  if (layers.length === 0) throw new ValueError(`headMagnitudeImportance: ${model.constructor.name} has no MultiheadAttention layer, so it has no attention heads to prune.`);
  const out: Record<string, Float64Array> = {};
  for (const [name, m] of layers) {
    if (!(m.vProj instanceof Linear) || !(m.outProj instanceof Linear)) {
      throw new ValueError(`headMagnitudeImportance: '${name}' has ${m.vProj === null ? 'a packed q/k/v projection (packedQkv)' : 'quantized projections'}; only float, separate projections can be pruned by head. Fix: prune before quantizing, and build attention without packedQkv.`);
    }
    const H = m.numHeads, hd = m.headDim, E = m.outProj.weight.shape[0], I = m.vProj.weight.shape[1];
    const v = m.vProj.weight.data, o = m.outProj.weight.data, kvGroup = H / m.numKvHeads;
    const s = new Float64Array(H);
    for (let h = 0; h < H; h++) {
      let vv = 0, oo = 0;
      const kv = Math.floor(h / kvGroup); // grouped-query attention: the value head this query head reads
      for (let r = kv * hd; r < (kv + 1) * hd; r++) for (let i = 0; i < I; i++) vv += v[r * I + i] ** 2;
      for (let e = 0; e < E; e++) for (let c = h * hd; c < (h + 1) * hd; c++) oo += o[e * (H * hd) + c] ** 2;
      s[h] = Math.sqrt(vv * oo);
    }
    const norm = Math.sqrt(s.reduce((a, x) => a + x * x, 0)) || 1;
    out[name] = s.map((x) => x / norm);
  }
  return out;
}

/**
 * The `fraction` of all heads with the lowest importance, ranked globally, keeping at least one
 * head in every layer (ties go to the lower layer and head index, so the plan is deterministic).
 *
 * Args:
 *   importance: from headImportance (layer → score per head).
 *   fraction: of all heads to remove, in [0, 1); rounded to the nearest whole head.
 * Returns: the plan for pruneHeads.
 */
export function headsToPrune(importance: Record<string, ArrayLike<number>>, fraction: number): HeadPruningPlan {
  if (!(fraction >= 0 && fraction < 1)) throw new ValueError(`headsToPrune: fraction=${fraction}, expected a fraction of the heads in [0, 1).`);
  const entries = Object.entries(importance);
  const all = entries.flatMap(([name, s], l) => Array.from(s, (v, h) => ({ name, l, h, v })));
  const target = Math.round(fraction * all.length);
  const left = new Map(entries.map(([name, s]) => [name, s.length]));
  const plan: HeadPruningPlan = {};
  all.sort((a, b) => a.v - b.v || a.l - b.l || a.h - b.h);
  let removed = 0;
  for (const e of all) {
    if (removed === target) break;
    if (left.get(e.name)! <= 1) continue; // the last head of a layer stays
    left.set(e.name, left.get(e.name)! - 1);
    (plan[e.name] ??= []).push(e.h);
    removed++;
  }
  for (const heads of Object.values(plan)) heads.sort((a, b) => a - b);
  return plan;
}

/**
 * Removes heads for real (MultiheadAttention.pruneHeads on each named layer).
 *
 * Args:
 *   model: the model; its attention projections must still be float Linears (prune before quantizing).
 *   plan: layer name → indices among that layer's current heads.
 * Returns: the number of heads removed.
 * Throws: ValueError naming the layer for an unknown name, an index out of range, or every head of
 *   a layer; the model is left unchanged when any entry of the plan is invalid.
 */
export function pruneHeads(model: Module, plan: HeadPruningPlan): number {
  const layers = new Map(attentionLayers(model));
  const checked: [MultiheadAttention, number[]][] = [];
  for (const [name, heads] of Object.entries(plan)) {
    const m = layers.get(name);
    if (m === undefined) {
      throw new ValueError(`pruneHeads: '${name}' is not an attention layer of ${model.constructor.name}. Its attention layers are ${[...layers.keys()].slice(0, 6).map((n) => `'${n}'`).join(', ')}${layers.size > 6 ? ', …' : ''}.`);
    }
    const unique = [...new Set(heads)];
    const bad = unique.find((h) => !Number.isInteger(h) || h < 0 || h >= m.numHeads);
    if (bad !== undefined) throw new ValueError(`pruneHeads: head ${bad} of '${name}' is out of range; the layer has ${m.numHeads} heads (0..${m.numHeads - 1}).`);
    if (unique.length >= m.numHeads) {
      throw new ValueError(`pruneHeads: asked to remove ${unique.length} heads of '${name}', which has ${m.numHeads}; at least one head must stay. Fix: remove at most ${m.numHeads - 1} heads from this layer.`);
    }
    if (m.inProj !== null) throw new ValueError(`pruneHeads: '${name}' packs q/k/v into one inProj (packedQkv); pruning its heads is not implemented.`);
    if (![m.qProj, m.kProj, m.vProj, m.outProj].every((p) => p instanceof Linear)) {
      throw new ValueError(`pruneHeads: '${name}' is quantized; heads can only be removed from float projections. Fix: prune heads first, then quantize.`);
    }
    checked.push([m, unique]);
  }
  let removed = 0;
  for (const [m, heads] of checked) {
    m.pruneHeads(heads);
    removed += heads.length;
  }
  return removed;
}

/** The heads removed so far, by original index (as built), per attention layer: the record a checkpoint keeps. */
export function prunedHeadsOf(model: Module): HeadPruningPlan {
  const out: HeadPruningPlan = {};
  for (const [name, m] of attentionLayers(model)) {
    const original = m.embedDim / m.headDim;
    const kept = new Set(m.headIds);
    const gone = Array.from({ length: original }, (_, h) => h).filter((h) => !kept.has(h));
    if (gone.length > 0) out[name] = gone;
  }
  return out;
}
