/**
 * Pruning: magnitude pruning zeroes exactly the target fraction (globally or per layer, ties
 * included) and gradual pruning follows the cubic schedule through a Trainer's afterStep hook;
 * removing attention heads for real computes exactly what masking them computes, with smaller
 * projections; head importance is computed from gradients; bad plans are clear errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { nn, models } from '../../src/index.ts';

function zeros(t: h.Tensor): number {
  let z = 0;
  for (let i = 0; i < t.size; i++) if (t.data[i] === 0) z++;
  return z;
}

function mlp(): nn.Sequential {
  h.manualSeed(1);
  return new nn.Sequential(new nn.Linear(13, 29), new nn.Linear(29, 7));
}

test('global magnitude pruning zeroes exactly round(s·n) weights, the smallest ones, and no biases', () => {
  for (const s of [0, 0.1, 0.37, 0.5, 0.9, 1]) {
    const m = mlp();
    const [a, b] = [m.get(0) as nn.Linear, m.get(1) as nn.Linear];
    const mags = [...a.weight.data, ...b.weight.data].map(Math.abs).sort((x, y) => x - y);
    const mask = h.magnitudePrune(m, { sparsity: s });
    const n = a.weight.size + b.weight.size;
    const k = Math.round(s * n);
    assert.equal(zeros(a.weight) + zeros(b.weight), k, `sparsity ${s}`);
    assert.equal(mask.sparsity, k / n);
    if (k > 0 && k < n) {
      const kept = [...a.weight.data, ...b.weight.data].filter((v) => v !== 0).map(Math.abs);
      assert.ok(Math.min(...kept) >= mags[k - 1], 'every kept weight is at least as large as every pruned one');
    }
    assert.equal(zeros(a.bias!), 0);
  }
});

test('per-layer pruning hits the target in every layer, and ties at the threshold still give the exact count', () => {
  const m = mlp();
  const a = m.get(0) as nn.Linear;
  a.weight.data.fill(0.5); // all tied
  h.magnitudePrune(m, { sparsity: 0.3, scope: 'layer' });
  for (const l of [m.get(0), m.get(1)] as nn.Linear[]) assert.equal(zeros(l.weight), Math.round(0.3 * l.weight.size));
  assert.throws(() => h.magnitudePrune(m, { sparsity: 1.5 }), (e: Error) => e instanceof h.ValueError && /sparsity=1.5/.test(e.message));
  assert.throws(() => h.magnitudePrune(m, { sparsity: 0.5, modules: 'nope.*' }), (e: Error) => e instanceof h.ValueError && /match no Linear/.test(e.message));
});

test('gradual pruning follows the cubic schedule and keeps pruned weights at zero while training', async () => {
  const m = mlp();
  const pruner = new h.GradualPruning(m, { sparsity: 0.8, startStep: 0, endStep: 10, every: 2 });
  assert.equal(pruner.sparsityAt(0), 0);
  assert.ok(Math.abs(pruner.sparsityAt(5) - 0.8 * (1 - 0.5 ** 3)) < 1e-12);
  assert.equal(pruner.sparsityAt(10), 0.8);
  const opt = new h.optim.SGD(m.parameters(), { lr: 0.1 });
  const x = h.randn([8, 13]);
  const total = (m.get(0) as nn.Linear).weight.size + (m.get(1) as nn.Linear).weight.size;
  for (let t = 1; t <= 12; t++) {
    opt.zeroGrad();
    h.mean(h.mul(m.call(x), m.call(x))).backward();
    opt.step();
    pruner.step(t); // what TrainerTask.afterStep calls
    const z = zeros((m.get(0) as nn.Linear).weight) + zeros((m.get(1) as nn.Linear).weight);
    if (t % 2 === 0 || t >= 10) assert.equal(z, Math.round(pruner.sparsityAt(Math.min(t - (t % 2), 10)) * total), `step ${t}`);
  }
  assert.equal(pruner.sparsity, Math.round(0.8 * total) / total);
});

function encoder(): models.EncoderClassifier {
  h.manualSeed(4);
  return new models.EncoderClassifier({ vocabSize: 50, numClasses: 3, dModel: 32, numHeads: 4, numLayers: 2, dimFeedforward: 64, dropout: 0, maxLen: 16 }).eval();
}

test('removing heads for real equals masking them, and shrinks the projections', () => {
  const model = encoder();
  const x = h.randint(1, 50, [2, 9], { dtype: 'int32' });
  const attn = h.attentionLayers(model);
  const plan = { [attn[0][0]]: [1, 3], [attn[1][0]]: [0] };
  const masks: Record<string, number[]> = { [attn[0][0]]: [1, 0, 1, 0], [attn[1][0]]: [0, 1, 1, 1] };
  for (const [name, m] of attn) m.headMask = new h.Tensor(Float32Array.from(masks[name]), [4]);
  const masked = h.noGrad(() => model.call(x));
  for (const [, m] of attn) m.headMask = null;
  const params = model.numParameters();
  assert.equal(h.pruneHeads(model, plan), 3);
  const pruned = h.noGrad(() => model.call(x));
  for (let i = 0; i < masked.size; i++) assert.ok(Math.abs(pruned.data[i] - masked.data[i]) < 1e-5, `logit ${i}: ${pruned.data[i]} vs ${masked.data[i]}`);
  assert.equal(attn[0][1].numHeads, 2);
  assert.deepEqual(attn[0][1].qProj.weight.shape, [16, 32]);
  assert.deepEqual(attn[0][1].outProj.weight.shape, [32, 16]);
  assert.equal(model.numParameters(), params - 3 * (4 * 8 * 32 + 3 * 8));
  assert.deepEqual(h.prunedHeadsOf(model), { [attn[0][0]]: [1, 3], [attn[1][0]]: [0] });
  // pruning again is relative to the remaining heads; the record keeps original indices
  h.pruneHeads(model, { [attn[0][0]]: [0] });
  assert.deepEqual(h.prunedHeadsOf(model)[attn[0][0]], [0, 1, 3]);
});

test('pruning more heads than a layer has, or an unknown layer or index, is a ValueError and changes nothing', () => {
  const model = encoder();
  const name = h.attentionLayers(model)[0][0];
  const before = model.numParameters();
  assert.throws(() => h.pruneHeads(model, { [name]: [0, 1, 2, 3] }), (e: Error) => e instanceof h.ValueError && /which has 4; at least one head must stay/.test(e.message));
  assert.throws(() => h.pruneHeads(model, { [name]: [4] }), (e: Error) => e instanceof h.ValueError && /head 4 .* out of range/.test(e.message));
  assert.throws(() => h.pruneHeads(model, { [name]: [0], 'backbone.nope': [0] }), (e: Error) => e instanceof h.ValueError && /not an attention layer/.test(e.message));
  assert.equal(model.numParameters(), before);
  h.quantizeDynamic(model);
  assert.throws(() => h.pruneHeads(model, { [name]: [0] }), (e: Error) => e instanceof h.ValueError && /prune heads first, then quantize/.test(e.message));
  assert.throws(() => h.headsToPrune({ a: [1, 2] }, 1), (e: Error) => e instanceof h.ValueError && /fraction=1/.test(e.message));
});

test('head importance is |∂L/∂gate| averaged over batches and normalized per layer; the plan takes the lowest globally', () => {
  const model = encoder();
  const x = h.randint(1, 50, [4, 9], { dtype: 'int32' });
  const y = h.tensor([0, 1, 2, 1], { dtype: 'int32' });
  const scores = h.headImportance(model, [0, 1], () => h.crossEntropy(model.call(x), y));
  assert.ok(model.parameters().every((p) => p.grad === null), 'parameter gradients are cleared after scoring');
  assert.ok(h.attentionLayers(model).every(([, m]) => m.headMask === null), 'the gates are removed');
  const names = h.attentionLayers(model).map(([n]) => n);
  assert.deepEqual(Object.keys(scores), names);
  for (const s of Object.values(scores)) assert.ok(Math.abs(Math.hypot(...s) - 1) < 1e-9);
  // the raw score of one head, by hand: gate the head, take the gradient
  const m = h.attentionLayers(model)[0][1];
  const gate = new h.Tensor(new Float32Array(4).fill(1), [4]);
  gate.requiresGrad = true;
  m.headMask = gate;
  h.crossEntropy(model.call(x), y).backward();
  const raw = Array.from(gate.grad!.data, Math.abs);
  m.headMask = null;
  const norm = Math.hypot(...raw);
  raw.forEach((r, i) => assert.ok(Math.abs(r / norm - scores[names[0]][i]) < 1e-5));
  const plan = h.headsToPrune(scores, 0.5);
  const flat = names.flatMap((n) => Array.from(scores[n], (v, i) => ({ n, i, v }))).sort((a, b) => a.v - b.v);
  const removed = Object.entries(plan).flatMap(([n, hs]) => hs.map((i) => `${n}:${i}`));
  assert.equal(removed.length, 4);
  assert.deepEqual(removed.sort(), flat.slice(0, 4).map((e) => `${e.n}:${e.i}`).sort());
});

test('headMagnitudeImportance (data-free) ranks a head whose output columns are zero last, and refuses a model without attention', () => {
  h.manualSeed(21);
  const clf = new models.EncoderClassifier({ vocabSize: 9, numClasses: 2, dModel: 8, numHeads: 4, numLayers: 1, dimFeedforward: 16 });
  const attn = clf.backbone.encoder.layers.get(0).selfAttn;
  const out = attn.outProj!.weight.data as Float32Array, hd = 2;
  for (let e = 0; e < 8; e++) for (let c = 2 * hd; c < 3 * hd; c++) out[e * 8 + c] = 0; // head 2 writes nothing
  const scores = h.headMagnitudeImportance(clf)['backbone.encoder.layers.0.selfAttn'];
  assert.equal(scores[2], 0);
  assert.ok([0, 1, 3].every((k) => scores[k] > 0));
  assert.ok(Math.abs(Math.hypot(...scores) - 1) < 1e-9, 'normalized per layer');
  assert.deepEqual(h.headsToPrune({ layer: scores }, 0.25), { layer: [2] });
  assert.throws(() => h.headMagnitudeImportance(new nn.Linear(2, 2)), (e: Error) => e instanceof h.ValueError && /no MultiheadAttention/.test(e.message));
});
