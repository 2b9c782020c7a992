/**
 * The tensor storage pool (src/tensor/storage-pool.ts) and the training-step scope
 * (src/train/step-memory.ts): a pooled step gives bit-identical losses and weights to an unpooled
 * one over several steps (dropout on, AdamW); after warm-up a step allocates (almost) no new
 * storage; what a module keeps survives the step; and the check mode poisons what the liveness
 * rule released, so a tensor kept outside the model is caught.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { models } from '../../src/index.ts';
import { crossEntropy, reshape } from '../../src/ops/index.ts';
import { stepScope } from '../../src/train/step-memory.ts';
import { setPoolMode, storageStats, clearStoragePool } from '../../src/tensor/storage-pool.ts';
import { mul } from '../../src/ops/elementwise.ts';

const B = 4, S = 7, T = 6, SRC = 13, TGT = 11;

function batch(): { src: h.Tensor; tgtIn: h.Tensor; tgtOut: h.Tensor } {
  const g = new h.Generator(42);
  const ids = (n: number, v: number) => Int32Array.from({ length: n }, () => 1 + Math.floor(g.uniform() * (v - 1)));
  return { src: new h.Tensor(ids(B * S, SRC), [B, S]), tgtIn: new h.Tensor(ids(B * T, TGT), [B, T]), tgtOut: new h.Tensor(ids(B * T, TGT), [B * T]) };
}

/** A small G2P-like seq2seq (dropout on) and a step as the Trainer runs it, inside a storage scope. */
function setup() {
  h.manualSeed(0);
  const model = new models.Seq2SeqTransformer({
    srcVocabSize: SRC, tgtVocabSize: TGT, dModel: 32, numHeads: 4, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 64, dropout: 0.1, maxLen: 16,
  });
  model.train();
  const opt = new h.optim.AdamW(model, { lr: 1e-2 });
  const b = batch();
  const step = (): number => {
    const scope = stepScope(model, opt);
    opt.zeroGrad();
    const loss = crossEntropy(reshape(model.call(b.src, b.tgtIn), [-1, TGT]), b.tgtOut, { ignoreIndex: 0, labelSmoothing: 0.1 });
    loss.backward();
    opt.step();
    const v = loss.item();
    scope.close();
    return v;
  };
  return { model, step };
}

function run(mode: 'on' | 'off', steps: number) {
  const prev = setPoolMode(mode);
  try {
    clearStoragePool();
    const { model, step } = setup();
    const losses: number[] = [];
    const newBytes: number[] = [];
    for (let i = 0; i < steps; i++) {
      const before = storageStats().bytes;
      losses.push(step());
      newBytes.push(storageStats().bytes - before);
    }
    return { losses, newBytes, weights: model.namedParameters().map(([, p]) => Float32Array.from(p.data as Float32Array)) };
  } finally {
    setPoolMode(prev);
  }
}

test('a pooled training step gives bit-identical losses and weights to an unpooled one, step after step', () => {
  const pooled = run('on', 6), plain = run('off', 6);
  assert.deepEqual(pooled.losses, plain.losses);
  assert.ok(pooled.losses[5] < pooled.losses[0], 'the model trains');
  pooled.weights.forEach((w, i) => assert.deepEqual(w, plain.weights[i]));
});

test('after warm-up a pooled step allocates no new tensor storage; an unpooled one allocates its whole working set', () => {
  const pooled = run('on', 6), plain = run('off', 6);
  const working = plain.newBytes[5];
  assert.ok(working > 300_000, `an unpooled step allocates ${working} bytes`); // ~437 KB since attention reads heads in place (no permute copies)
  for (let i = 2; i < 6; i++) assert.ok(pooled.newBytes[i] < 16_384, `pooled step ${i} allocated ${pooled.newBytes[i]} new bytes (unpooled: ${working})`);
});

test('what the model keeps survives the step; a tensor kept outside it is released (the check mode poisons it)', () => {
  const prev = setPoolMode('check');
  try {
    const { model, step } = setup();
    step();
    const x = h.randn([3, 5], { requiresGrad: true });
    let inModule!: h.Tensor, outside!: h.Tensor;
    const scope = stepScope(model);
    inModule = mul(x, 2); // kept on a module field: live
    outside = mul(x, 3); // kept only by this test: the rule cannot see it
    (model as unknown as { kept: h.Tensor }).kept = inModule;
    scope.close();
    assert.ok(Array.from(inModule.data).every(Number.isFinite), 'a tensor held by the model is never released');
    assert.ok(Array.from(outside.data).every(Number.isNaN), 'a tensor held outside the model is released: do not keep one across a scope');
    assert.ok(model.namedParameters().every(([, p]) => Array.from(p.data).every(Number.isFinite)), 'parameters are live');
    assert.ok(model.namedParameters().some(([, p]) => p.grad !== null && Array.from(p.grad.data).every(Number.isFinite)), 'gradients are live until the next zeroGrad');
  } finally {
    setPoolMode(prev);
  }
});
