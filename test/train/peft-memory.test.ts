/**
 * What a LoRA step allocates (issue 12: a LoRA run must peak below full fine-tuning). Measured with
 * the tensor storage counters (src/tensor/storage-pool.ts): a frozen weight gets no gradient buffer;
 * the fused LoRA forward keeps one output and the (N, r) intermediate, nothing of the base's size;
 * the word-table LoRA never makes a vocab-sized buffer in its forward, nor a vocab × d one at all;
 * the fused ops compute what the composed ops compute (dropout included); and the optimizer's state
 * is exactly two moments per trainable value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { models, nn, peft } from '../../src/index.ts';
import { backward } from '../../src/autograd/engine.ts';
import { storageStats } from '../../src/tensor/storage-pool.ts';
import { LoraLinear } from '../../src/train/peft/lora.ts';
import { LoraEmbedding } from '../../src/train/peft/lora-embedding.ts';
import { add, mul } from '../../src/ops/elementwise.ts';
import { embedding } from '../../src/ops/indexing.ts';
import { linear, matmul } from '../../src/ops/matmul.ts';
import { dropout } from '../../src/ops/dropout.ts';
import { transpose } from '../../src/ops/shape.ts';

/** Bytes of tensor storage handed out (new or from the pool) while fn runs. */
function bytesDuring(fn: () => void): number {
  const a = storageStats();
  fn();
  const b = storageStats();
  return b.bytes - a.bytes + (b.reusedBytes - a.reusedBytes);
}

function maxDiff(a: h.Tensor, b: h.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  let d = 0;
  for (let i = 0; i < a.size; i++) d = Math.max(d, Math.abs(a.data[i] - b.data[i]));
  return d;
}

function randomize(t: h.Tensor, seed: number): void {
  const g = new h.Generator(seed);
  for (let i = 0; i < t.size; i++) t.data[i] = (g.uniform() - 0.5) * 0.5;
}

test('a LoraLinear step allocates no gradient for its frozen weight, and its forward keeps only the output and the (N, r) intermediate', () => {
  h.manualSeed(1);
  const I = 512, O = 512, N = 4, r = 8;
  const lora = new LoraLinear(new nn.Linear(I, O), { r, alpha: 16, dropout: 0 });
  randomize(lora.loraB.weight, 2);
  const x = h.randn([N, I], { requiresGrad: true });
  let y!: h.Tensor;
  const forwardBytes = bytesDuring(() => (y = lora.forward(x)));
  assert.equal(forwardBytes, 4 * (N * O + N * r), 'forward: the (N, O) output and h (N, r), nothing else');
  const backwardBytes = bytesDuring(() => backward(y.sum()));
  assert.equal(lora.weight.grad, null);
  assert.equal(lora.bias!.grad, null);
  assert.ok(lora.loraA.weight.grad !== null && lora.loraB.weight.grad !== null);
  // dx (N, I), dA (r, I), dB (O, r) and small temporaries: a dW (O, I) = 1 MB would not fit
  assert.ok(backwardBytes < (O * I * 4) / 4, `backward allocated ${backwardBytes} bytes; a frozen weight's gradient is ${O * I * 4}`);
});

test('the fused LoraLinear equals the composed ops, dropout included (same seed, same mask)', () => {
  h.manualSeed(5);
  const lora = new LoraLinear(new nn.Linear(24, 20), { r: 4, alpha: 8, dropout: 0.3 });
  randomize(lora.loraB.weight, 3);
  lora.train();
  const x0 = h.randn([2, 3, 24]);
  const run = (fused: boolean) => {
    const x = x0.detach();
    x.requiresGrad = true;
    lora.loraA.weight.grad = lora.loraB.weight.grad = null;
    h.manualSeed(9);
    const y = fused
      ? lora.forward(x)
      : add(linear(x, lora.weight, lora.bias), linear(linear(dropout(x, 0.3), lora.loraA.weight), mul(lora.loraB.weight, lora.scaling)));
    backward(mul(y, y).sum());
    return { y, gx: x.grad!, ga: lora.loraA.weight.grad!, gb: lora.loraB.weight.grad! };
  };
  const f = run(true), c = run(false);
  assert.ok(maxDiff(f.y, c.y) < 1e-5);
  assert.ok(maxDiff(f.gx, c.gx) < 1e-4);
  assert.ok(maxDiff(f.ga, c.ga) < 1e-4);
  assert.ok(maxDiff(f.gb, c.gb) < 1e-4);
  let zeros = 0; // the mask really dropped something: the test exercises dropout
  for (let i = 0; i < f.ga.size; i++) if (f.ga.data[i] === 0) zeros++;
  assert.ok(maxDiff(f.y, linear(x0, lora.weight, lora.bias)) > 1e-3 && zeros < f.ga.size);
});

test('a LoraEmbedding forward allocates no vocab-sized buffer, and its step none of vocab × d', () => {
  h.manualSeed(2);
  const V = 20000, D = 64, r = 1;
  const e = new LoraEmbedding(new nn.Embedding(V, D, { paddingIdx: 0 }), { r, alpha: 1 });
  randomize(e.loraEmbeddingA, 4);
  const ids = new h.Tensor(Int32Array.from([5, 17, 0, 19999, 5, 300]), [2, 3]);
  let y!: h.Tensor;
  const forwardBytes = bytesDuring(() => (y = e.forward(ids)));
  assert.ok(forwardBytes < V * 4, `forward allocated ${forwardBytes} bytes; a (V, r) copy of A is ${V * r * 4}`);
  const stepBytes = bytesDuring(() => backward(y.sum()));
  assert.equal(e.weight.grad, null);
  assert.ok(stepBytes < (V * D * 4) / 8, `backward allocated ${stepBytes} bytes; a (V, D) buffer is ${V * D * 4}`);
  // The gradient of A lands in the ids' columns only; the padding id (0) gets none.
  const ga = e.loraEmbeddingA.grad!.data;
  assert.equal(ga[0], 0);
  assert.ok(ga[5] !== 0 && ga[19999] !== 0);
  assert.equal(ga[6], 0);
});

test('the fused LoraEmbedding equals the composed ops (gather Aᵀ, matmul, add)', () => {
  h.manualSeed(6);
  const e = new LoraEmbedding(new nn.Embedding(30, 8, { paddingIdx: 1 }), { r: 2, alpha: 4 });
  randomize(e.loraEmbeddingA, 7);
  const ids = new h.Tensor(Int32Array.from([3, 1, 29, 3, 7, 0]), [2, 3]);
  const run = (fused: boolean) => {
    e.loraEmbeddingA.grad = e.loraEmbeddingB.grad = null;
    const y = fused
      ? e.forward(ids)
      : add(embedding(ids, e.weight, { paddingIdx: 1 }), matmul(embedding(ids, transpose(e.loraEmbeddingA, 0, 1), { paddingIdx: 1 }), mul(transpose(e.loraEmbeddingB, 0, 1), e.scaling)));
    backward(mul(y, y).sum());
    return { y, ga: e.loraEmbeddingA.grad!, gb: e.loraEmbeddingB.grad! };
  };
  const f = run(true), c = run(false);
  assert.ok(maxDiff(f.y, c.y) < 1e-5);
  assert.ok(maxDiff(f.ga, c.ga) < 1e-4);
  assert.ok(maxDiff(f.gb, c.gb) < 1e-4);
});

test('a LoRA model\'s optimizer state is two moments per trainable value, and no frozen parameter gets a gradient', () => {
  h.manualSeed(3);
  const m = new models.EncoderClassifier({ vocabSize: 500, numClasses: 2, dModel: 32, numHeads: 2, numLayers: 2, dimFeedforward: 64, maxLen: 16, dropout: 0.1, pooling: 'mean' });
  const p = peft.getPeftModel(m, {
    peftType: 'LORA', r: 4, loraAlpha: 8, loraDropout: 0.1, targetModules: ['qProj', 'vProj', 'tokEmbed'], modulesToSave: ['head'],
    rankPattern: { tokEmbed: 1 }, alphaPattern: { tokEmbed: 1 },
  });
  m.train();
  const opt = new h.optim.AdamW(h.optim.paramGroups(m, 0.01), { lr: 1e-3 });
  const ids = new h.Tensor(Int32Array.from({ length: 24 }, (_, i) => (i * 37) % 500), [2, 12]);
  for (let s = 0; s < 2; s++) {
    opt.zeroGrad();
    backward(h.crossEntropy(m.call(ids), new h.Tensor(Int32Array.from([0, 1]), [2])));
    for (const [n, t] of m.namedParameters()) if (!t.requiresGrad) assert.equal(t.grad, null, `frozen ${n} got a gradient`);
    opt.step();
  }
  const trainable = p.trainableShare().trainable;
  const stateValues = Object.values(opt.stateDict().buffers).reduce((s, b) => s + b.data.length, 0);
  assert.equal(stateValues, 2 * trainable, 'AdamW keeps expAvg and expAvgSq for trainable values only');
  assert.ok(trainable < m.numParameters() / 10);
});
