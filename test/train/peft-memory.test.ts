/**
 * What a LoRA step allocates (issue 12: a LoRA run must peak below full fine-tuning). Measured with
 * the tensor storage counters (src/tensor/storage-pool.ts): a frozen weight gets no gradient buffer;
 * the fused LoRA forward keeps one output and the (N, r) intermediate, nothing of the base's size;
 * the word-table LoRA never makes a vocab-sized buffer in its forward, nor a vocab × d one at all;
 * the fused ops compute what the composed ops compute (dropout included); and the optimizer's state
 * is exactly two moments per trainable value. Through the CLI (heed train tag --init-from, in process):
 * at every step of a --peft lora or --freeze encoder run no frozen weight has a gradient buffer or
 * optimizer state; a LoRA run's checkpoints are written from the tensors' own memory (no copy of the
 * weights or of the optimizer state) and never hold a base weight; and the loaded pretrained
 * checkpoint's copy of the base is released once the model holds its own.
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
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Trainer } from '../../src/train/trainer.ts';
import { saveCheckpoint } from '../../src/io/checkpoint.ts';
import { Vocab } from '../../src/data/vocab.ts';
import { FINETUNE_DEFAULTS, loadPretrained, prepareFinetune } from '../../src/tasks/finetune.ts';
import { TRAIN_DEFAULTS } from '../../src/tasks/common.ts';
import { heed } from '../tasks/run-cli.ts';
import { maxDiff } from '../tensors.ts';
import { classProbabilities } from '../../src/tasks/classify.ts';

/** Bytes of tensor storage handed out (new or from the pool) while fn runs. */
function bytesDuring(fn: () => void): number {
  const a = storageStats();
  fn();
  const b = storageStats();
  return b.bytes - a.bytes + (b.reusedBytes - a.reusedBytes);
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

// ---------------------------------------------------------------------------------------------
// Whole runs through the CLI (heed train tag --init-from ..., in process): what a frozen weight
// costs, step by step, and what a checkpoint writes.

const cliRoot = mkdtempSync(join(tmpdir(), 'heed-peft-mem-'));
const CLI_SIZES = { dModel: 16, numHeads: 2, numLayers: 2, dimFeedforward: 32, maxLen: 12, dropout: 0 };
const conllFile = join(cliRoot, 'train.conll');
writeFileSync(conllFile, Array.from({ length: 40 }, (_, i) => [`${['Alice', 'Bob', 'Carol'][i % 3]}\tB-PER`, 'flew\tO', 'to\tO', `${['Paris', 'Oslo'][i % 2]}\tB-LOC`, `on\tO`, `day${i}\tO`, ''].join('\n')).join('\n'));

/** A saved MaskedLM directory, as heed pretrain mlm writes one. */
async function mlmDir(name: string): Promise<string> {
  const dir = join(cliRoot, name);
  const vocab = Vocab.fromTokens(['alice', 'bob', 'carol', 'flew', 'to', 'paris', 'oslo', '<mask>']);
  h.manualSeed(2);
  const mlm = new models.MaskedLM({ vocabSize: vocab.size, ...CLI_SIZES });
  await saveCheckpoint(dir, { task: 'mlm', runId: 'r', config: { model: mlm.toConfig() }, weights: mlm.stateDict(), files: { vocab: { name: 'words.vocab.json', json: vocab.toJSON() } } });
  return dir;
}

type AnyTrainer = Trainer<unknown> & { task: { model: { namedParameters(): [string, h.Tensor][] }; optimizer: h.optim.AdamW } };
const stateOf = (opt: h.optim.AdamW) => (opt as unknown as { state: Map<h.Tensor, { buffers: Record<string, Float32Array> }> }).state;

/**
 * Runs `heed train tag` in this process with `inspect` called around every optimizer step of the
 * Trainer the CLI builds (before: the step's gradients are set; after: the optimizer's state is),
 * and `fitting` told when the Trainer's run (its steps, evaluations and checkpoints) starts and ends.
 */
async function trainWithSpy(args: string[], inspect: (when: 'before' | 'after', t: AnyTrainer) => void, fitting?: (on: boolean) => void): Promise<void> {
  const fit = Trainer.prototype.fit;
  Trainer.prototype.fit = async function (this: AnyTrainer) {
    const opt = this.task.optimizer;
    const step = opt.step;
    opt.step = () => {
      inspect('before', this);
      step.call(opt);
      inspect('after', this);
    };
    fitting?.(true);
    try {
      return await fit.call(this);
    } finally {
      fitting?.(false);
    }
  } as typeof fit;
  try {
    const r = await heed('train', 'tag', '--train', conllFile, '--max-steps', '3', '--batch-size', '8', '--warmup-steps', '1', ...(args.includes('--eval-every') ? [] : ['--eval-every', '0']), '--char-buckets', '64', '--progress', 'none', ...args);
    assert.equal(r.code, 0, r.out);
  } finally {
    Trainer.prototype.fit = fit;
  }
}

for (const [how, flags] of [['--peft lora', ['--peft', 'lora']], ['--freeze encoder', ['--freeze', 'encoder']]] as const) {
  test(`heed train --init-from ${how}: at every step no frozen weight has a gradient buffer or optimizer state, and the saved state is two moments per trained value`, async () => {
    const out = join(cliRoot, `run-${flags[1]}`);
    let steps = 0, frozen = 0, trainedValues = 0;
    await trainWithSpy(['--init-from', await mlmDir(`mlm-${flags[1]}`), ...flags, '--out', out], (when, t) => {
      const state = stateOf(t.task.optimizer);
      const params = t.task.model.namedParameters();
      frozen = params.filter(([, p]) => !p.requiresGrad).length;
      for (const [n, p] of params) {
        if (p.requiresGrad) continue;
        assert.equal(p.grad, null, `step ${steps + 1}: frozen ${n} has a gradient buffer`);
        assert.ok(!state.has(p), `step ${steps + 1}: frozen ${n} has optimizer state`);
      }
      if (when === 'after') {
        steps++;
        trainedValues = params.filter(([, p]) => p.requiresGrad).reduce((s, [, p]) => s + p.size, 0);
        const stateValues = [...state.values()].reduce((s, st) => s + Object.values(st.buffers).reduce((a, b) => a + b.length, 0), 0);
        assert.equal(stateValues, 2 * trainedValues, 'AdamW keeps expAvg and expAvgSq of the trained values only');
      }
    });
    assert.equal(steps, 3);
    assert.ok(frozen > 0 && trainedValues > 0);
    const saved = await h.readSafetensors(join(out, 'last', 'optimizer.safetensors'));
    const savedValues = Object.values(saved.tensors).reduce((s, t) => s + t.data.length, 0);
    assert.equal(savedValues, 2 * trainedValues, 'optimizer.safetensors: two moments per trained value, none for a frozen weight');
  });
}

test('checkpointing a LoRA run writes every tensor from its own memory (no copy of the weights or of the optimizer state) and never writes a base weight', async () => {
  const { open } = await import('node:fs/promises');
  const probe = await open(join(cliRoot, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { write: (...a: unknown[]) => Promise<unknown> };
  await probe.close();
  const write = proto.write;
  const chunks: Uint8Array[] = [];
  let fitting = false; // the Trainer's checkpoints only (after it, the PEFT export rewrites the adapter under peft's names)
  proto.write = function (this: unknown, ...a: unknown[]) {
    if (fitting && a[0] instanceof Uint8Array) chunks.push(a[0]);
    return write.apply(this, a);
  };
  const own = new Map<ArrayBufferLike, string>(); // buffer → what holds it, recorded at each step
  const frozenBuffers = new Set<ArrayBufferLike>();
  let baseBytes = 0;
  try {
    await trainWithSpy(['--init-from', await mlmDir('mlm-ckpt'), '--peft', 'lora', '--eval-every', '1', '--out', join(cliRoot, 'run-ckpt')], (_, t) => {
      baseBytes = 0;
      for (const [n, p] of t.task.model.namedParameters()) {
        own.set(p.data.buffer, n);
        if (!p.requiresGrad) (frozenBuffers.add(p.data.buffer), (baseBytes += p.data.byteLength));
      }
      for (const st of stateOf(t.task.optimizer).values()) for (const b of Object.values(st.buffers)) own.set(b.buffer, 'optimizer state');
    }, (on) => (fitting = on));
  } finally {
    proto.write = write;
  }
  const header = (c: Uint8Array) => c.byteLength >= 9 && c[8] === 0x7b; // 8-byte length, then '{'
  const data = chunks.filter((c) => !header(c));
  assert.ok(data.length > 0, 'the run wrote tensors (a best model and last/ after each evaluation)');
  for (const c of data) {
    assert.ok(own.has(c.buffer), `a ${c.byteLength}-byte chunk was written from a copy, not from a parameter or an optimizer moment`);
    assert.ok(!frozenBuffers.has(c.buffer), `a frozen base weight (${own.get(c.buffer)}) was written into a LoRA checkpoint`);
  }
  assert.ok(baseBytes > 0, 'the run had frozen base weights');
});

test('fine-tuning from a pretrained directory does not keep the checkpoint\'s copy of the base weights beside the model\'s', async () => {
  const pre = await loadPretrained(await mlmDir('mlm-drop'));
  const want = Object.fromEntries(Object.entries(pre.checkpoint.weights).map(([k, t]) => [k, Array.from(t.data)]));
  const model = new models.EncoderClassifier({ vocabSize: pre.vocab.size, numClasses: 2, ...CLI_SIZES, pooling: 'mean' });
  prepareFinetune('spam', model, { ...FINETUNE_DEFAULTS, ...TRAIN_DEFAULTS, initFrom: pre.dir, peft: 'lora' } as never, pre, ['head'], () => undefined);
  assert.deepEqual(Object.keys(pre.checkpoint.weights), [], 'the loaded checkpoint\'s weights are released once copied in');
  const sd = model.stateDict();
  for (const [k, v] of Object.entries(want)) if (k.startsWith('backbone.')) assert.deepEqual(Array.from(sd[k].data), v, `${k} holds the pretrained value`);
});

test('a training run\'s validation pass (reuseBuffers) gives the same probabilities and, once warm, allocates no new tensor storage, a short last batch included', () => {
  h.manualSeed(8);
  const model = new models.EncoderClassifier({ vocabSize: 50, numClasses: 3, dModel: 16, numHeads: 2, numLayers: 2, dimFeedforward: 32, maxLen: 10, dropout: 0.1, pooling: 'mean' });
  const n = 21, T = 7; // 21 = 2 batches of 8 and a short one of 5
  const ids = Int32Array.from({ length: n * T }, (_, i) => 4 + ((i * 13) % 46));
  const data = { labels: new Int32Array(n), inputs: (idx: Int32Array) => ({ x: new h.Tensor(Int32Array.from([...idx].flatMap((i) => [...ids.subarray(i * T, (i + 1) * T)])), [idx.length, T]), tokens: idx.length * T }) };
  const plain = classProbabilities(model as never, data, 8);
  classProbabilities(model as never, data, 8, true); // warm: the pool now holds one batch's buffers
  const before = storageStats();
  const pooled = classProbabilities(model as never, data, 8, true);
  const after = storageStats();
  assert.deepEqual(Array.from(pooled), Array.from(plain), 'the filled-up last batch changes no probability of its real rows');
  assert.equal(after.bytes - before.bytes, 0, 'every buffer of the pass came from the pool');
  assert.ok(after.reusedBytes > before.reusedBytes);
});
