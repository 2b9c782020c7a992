// Trainer: resume determinism, early stopping, NaN handling, adversarial training, run-directory safety.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, Linear, Embedding, Dropout } from '../../src/nn/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { manualSeed, Generator } from '../../src/tensor/rng.js';
import { crossEntropy, mean, mul, relu } from '../../src/ops/index.js';
import { BatchIterator } from '../../src/data/batching.js';
import { AdamW, LRScheduler, paramGroups } from '../../src/train/optim/index.js';
import { Trainer, type TrainerOptions } from '../../src/train/trainer.js';
import { prepareOutDir, loadCheckpoint, saveCheckpoint } from '../../src/io/checkpoint.js';
import { CheckpointError, NumericalError } from '../../src/errors.js';

class Tiny extends Module {
  emb = new Embedding(10, 8);
  drop = new Dropout(tinyDropout);
  fc = new Linear(8, 3);
  forward(x: Tensor): Tensor {
    return this.fc.call(this.drop.call(relu(mean(this.emb.call(x), 1)))); // (B, 3)
  }
}

let tinyDropout = 0.2;
const N = 40;
const gen = new Generator(123);
const X = Int32Array.from({ length: N * 4 }, () => gen.randint(10));
const Y = Int32Array.from({ length: N }, (_, i) => X[i * 4] % 3);

function setup(out: string, o: Partial<TrainerOptions> = {}, opts: { nanAt?: number; sigintAt?: number; evaluate?: () => Record<string, number>; batchSize?: number; shuffle?: boolean } = {}) {
  manualSeed(1);
  const model = new Tiny();
  const optimizer = new AdamW(paramGroups(model, 0.01), { lr: 0.01 });
  const scheduler = new LRScheduler(optimizer, { kind: 'cosine', warmupSteps: 2, totalSteps: 12 });
  const batches = new BatchIterator(new Int32Array(N).fill(4), { batchSize: opts.batchSize ?? 8, seed: 5, shuffle: opts.shuffle ?? true });
  let calls = 0;
  const trainer = new Trainer<{ x: Tensor; y: Tensor }>({
    model, optimizer, scheduler, batches,
    makeBatch: (idx) => ({
      x: new Tensor(Int32Array.from([...idx].flatMap((i) => [...X.subarray(i * 4, i * 4 + 4)])), [idx.length, 4]),
      y: new Tensor(Int32Array.from(idx, (i) => Y[i]), [idx.length]),
    }),
    augment: (b, rng) => ({ ...b, x: new Tensor(Int32Array.from(b.x.data, (v) => (rng.uniform() < 0.1 ? (v + 1) % 10 : v)), b.x.shape) }),
    loss: (b) => {
      calls++;
      if (calls === opts.sigintAt) process.emit('SIGINT');
      const loss = crossEntropy(model.call(b.x), b.y);
      return { loss: opts.nanAt !== undefined && calls >= opts.nanAt ? mul(loss, NaN) : loss, tokens: b.y.size };
    },
    evaluate: opts.evaluate,
    checkpoint: () => ({ task: 'tiny', config: { d: 8 } }),
    embeddingModules: () => [model.emb],
  }, { out, runId: 'run-1', maxSteps: 12, progress: 'none', logEvery: 1, ...o });
  return { model, trainer };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'heed-trainer-'));

test('resume continues the same loss curve: 12 steps == 6 steps, save, resume, 6 steps (1e-6)', async () => {
  const full = await setup(tmp()).trainer.fit();
  const out = tmp();
  const first = await setup(out, { maxSteps: 6 }).trainer.fit();
  const { trainer } = setup(out);
  await trainer.resume();
  const second = await trainer.fit();
  const curve = [...first.losses, ...second.losses];
  assert.equal(curve.length, 12);
  curve.forEach((l, i) => assert.ok(Math.abs(l - full.losses[i]) < 1e-6, `step ${i + 1}: ${l} vs ${full.losses[i]}`));
  const steps = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'step');
  assert.deepEqual(steps.map((r) => r.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const ckpt = await loadCheckpoint(out, 'tiny');
  assert.deepEqual(Object.keys(ckpt.weights).sort(), ['emb.weight', 'fc.bias', 'fc.weight']);
});

test('early stopping: no improvement for `patience` evaluations stops and keeps the best checkpoint', async () => {
  const out = tmp();
  const values = [0.5, 0.4, 0.45, 0.41, 0.3];
  let i = 0;
  const { trainer } = setup(out, { evalEvery: 2, patience: 2, metric: 'err', metricMode: 'min' }, { evaluate: () => ({ err: values[i++] }) });
  const r = await trainer.fit();
  assert.equal(r.stoppedBy, 'earlyStopping');
  assert.equal(r.best, 0.4);
  assert.equal(r.bestStep, 4);
  assert.equal(r.step, 8);
  assert.ok(existsSync(join(out, 'model.safetensors')) && existsSync(join(out, 'last', 'optimizer.safetensors')));
});

test('a NaN loss stops with NumericalError and keeps the last good checkpoint', async () => {
  const out = tmp();
  const { trainer } = setup(out, { saveEvery: 2 }, { nanAt: 6 });
  await assert.rejects(() => trainer.fit(), (e: Error) => e instanceof NumericalError && /loss became NaN at step 6/.test(e.message) && e.message.includes('last'));
  const st = JSON.parse(readFileSync(join(out, 'last', 'trainer_state.json'), 'utf8'));
  assert.equal(st.step, 4);
});

test('adversarial training (FGSM and PGD) on embedding outputs trains and changes the gradients', async () => {
  const plain = await setup(tmp()).trainer.fit();
  const fgsm = await setup(tmp(), { adversarial: { epsilon: 0.1 } }).trainer.fit();
  const pgd = await setup(tmp(), { adversarial: { epsilon: 0.1, steps: 3 } }).trainer.fit();
  assert.equal(fgsm.losses[0], plain.losses[0]); // the reported loss is the clean one
  assert.notEqual(fgsm.losses[3], plain.losses[3]);
  assert.ok(pgd.losses.every(Number.isFinite));
});

test('--out holding a different model is refused unless overwrite; foreign directories are never cleared', async () => {
  const out = tmp();
  await saveCheckpoint(out, { task: 'tiny', runId: 'other', config: {}, weights: { w: new Tensor(new Float32Array(2), [2]) } });
  await assert.rejects(() => prepareOutDir(out, { runId: 'mine' }), (e: Error) => e instanceof CheckpointError && /already holds a 'tiny' model/.test(e.message));
  assert.ok(existsSync(join(out, 'model.safetensors')));
  await prepareOutDir(out, { runId: 'mine', overwrite: true });
  assert.ok(!existsSync(join(out, 'model.safetensors')));
  // a PEFT run's directory (its adapter in peft's layout beside the model) is heed's own: --overwrite clears it
  const peftRun = tmp();
  await saveCheckpoint(peftRun, { task: 'spam', runId: 'lora', config: {}, weights: { w: new Tensor(new Float32Array(2), [2]) } });
  writeFileSync(join(peftRun, 'adapter_config.json'), '{}');
  writeFileSync(join(peftRun, 'adapter_model.safetensors'), '');
  await prepareOutDir(peftRun, { runId: 'again', overwrite: true });
  assert.ok(!existsSync(join(peftRun, 'adapter_config.json')));
  const foreign = tmp();
  mkdirSync(join(foreign, 'src'));
  writeFileSync(join(foreign, 'notes.txt'), 'x');
  await assert.rejects(() => prepareOutDir(foreign, { overwrite: true }), /never deletes files/);
  assert.ok(existsSync(join(foreign, 'notes.txt')));
});

test('SIGINT finishes the step, saves <out>/last and returns cleanly', async () => {
  const out = tmp();
  const r = await setup(out, {}, { sigintAt: 3 }).trainer.fit();
  assert.equal(r.stoppedBy, 'interrupt');
  assert.equal(r.step, 3);
  assert.equal(JSON.parse(readFileSync(join(out, 'last', 'trainer_state.json'), 'utf8')).step, 3);
  assert.equal(process.listenerCount('SIGINT'), 0);
});

test('gradient accumulation: 2 micro-batches of 4 give the same steps as batches of 8', async () => {
  tinyDropout = 0;
  try {
    const whole = await setup(tmp(), { maxSteps: 4 }, { shuffle: false }).trainer.fit();
    const accum = await setup(tmp(), { maxSteps: 4, gradAccum: 2 }, { shuffle: false, batchSize: 4 }).trainer.fit();
    whole.losses.forEach((l, i) => assert.ok(Math.abs(l - accum.losses[i]) < 1e-5, `step ${i + 1}: ${l} vs ${accum.losses[i]}`));
  } finally {
    tinyDropout = 0.2;
  }
});
