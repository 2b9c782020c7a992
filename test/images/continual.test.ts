// heed.continual: reservoir sampling, online EWC, the LwF soft-target loss, the summary metrics,
// and the continual task's task-order validation and a short run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReservoirBuffer, OnlineEWC, softTargetLoss, continualMetrics, asymmetricCrossEntropy } from '../../src/train/continual/index.js';
import { CONTINUAL_TASK, parseTaskOrder } from '../../src/tasks/continual.js';
import { FASHION_DEBIAN_DIR } from '../../src/data/fashion-mnist.js';
import { resolveTaskConfig } from '../../src/tasks/common.js';
import { loadPredictor } from '../../src/tasks/index.js';
import { Linear } from '../../src/nn/linear.js';
import { Parameter } from '../../src/nn/parameter.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Generator, manualSeed } from '../../src/tensor/rng.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { crossEntropy, sum, mul } from '../../src/ops/index.js';
import { ConfigError, ShapeError, ValueError } from '../../src/errors.js';

test('ReservoirBuffer keeps each offered item with probability capacity / n', () => {
  const counts = new Float64Array(100);
  for (let trial = 0; trial < 2000; trial++) {
    const b = new ReservoirBuffer<number>(10, new Generator(trial));
    for (let i = 0; i < 100; i++) b.add(i);
    assert.equal(b.size, 10);
    for (const i of b.contents()) counts[i]++;
  }
  // each item is kept in 10% of trials: 200 ± 4σ (σ = √(2000·0.1·0.9) ≈ 13.4)
  for (let i = 0; i < 100; i++) assert.ok(Math.abs(counts[i] - 200) < 54, `item ${i} kept ${counts[i]} times`);
  const empty = new ReservoirBuffer<number>(0);
  empty.add(1);
  assert.deepEqual([empty.size, empty.sample(3).length], [0, 0]);
  assert.throws(() => new ReservoirBuffer(-1), ConfigError);
});

test('OnlineEWC: Fisher is the mean squared per-sample gradient; the penalty is (λ/2)ΣF(θ−θ*)² and differentiable', () => {
  const w = new Parameter(new Tensor(Float32Array.from([0.5, -1]), [2]));
  const xs = [[1, 2], [3, -1]];
  // loss_i = (w·x_i)² / 2 → grad_i = (w·x_i)·x_i
  const ewc = new OnlineEWC([['w', w]], { lambda: 4, gamma: 0.5 });
  assert.equal(ewc.penalty().item(), 0);
  const lossOf = (i: number) => mul(sum(mul(w, new Tensor(Float32Array.from(xs[i]), [2]))), sum(mul(w, new Tensor(Float32Array.from(xs[i]), [2])))).mul(0.5);
  ewc.consolidate(2, lossOf);
  const g = xs.map(([a, b]) => { const d = 0.5 * a - b; return [d * a, d * b]; });
  const F = [0, 1].map((j) => (g[0][j] ** 2 + g[1][j] ** 2) / 2);
  assert.deepEqual([...ewc.fisher.get('w')!].map((v) => +v.toFixed(4)), F.map((v) => +v.toFixed(4)));
  assert.equal(w.grad, null, 'consolidate leaves no gradient behind');
  w.data[0] += 0.1; w.data[1] -= 0.2;
  const expected = (4 / 2) * (F[0] * 0.01 + F[1] * 0.04);
  const p = ewc.penalty();
  assert.ok(Math.abs(p.item() - expected) < 1e-4, `${p.item()} vs ${expected}`);
  p.backward();
  assert.ok(Math.abs(w.grad!.data[0] - 4 * F[0] * 0.1) < 1e-4);
  // online: a second task adds its Fisher to γ·F
  ewc.consolidate(2, lossOf);
  assert.ok(ewc.fisher.get('w')![0] > F[0] * 0.5);
  assert.throws(() => new OnlineEWC([], { lambda: -1 }), ConfigError);
});

test('softTargetLoss: T²·KL on a hand-worked case, zero when student = teacher, a gradcheck, and class selection', () => {
  const s = new Tensor(Float64Array.from([Math.log(1), Math.log(3)]), [1, 2]);
  const t = new Tensor(Float64Array.from([Math.log(1), Math.log(1)]), [1, 2]);
  // T = 1: p_t = (.5, .5), p_s = (.25, .75): KL = .5 ln(.5/.25) + .5 ln(.5/.75)
  const kl = 0.5 * Math.log(2) + 0.5 * Math.log(0.5 / 0.75);
  assert.ok(Math.abs(softTargetLoss(s, t, { temperature: 1 }).item() - kl) < 1e-9);
  assert.ok(Math.abs(softTargetLoss(s, s, { temperature: 3 }).item()) < 1e-12);
  manualSeed(3);
  const teacher = new Tensor(Float64Array.from({ length: 12 }, (_, i) => Math.sin(i)), [3, 4]);
  const student = new Tensor(Float64Array.from({ length: 12 }, (_, i) => Math.cos(i)), [3, 4], { requiresGrad: true });
  const gc = gradcheck((x) => softTargetLoss(x, teacher, { temperature: 2, classes: [0, 2, 3] }), [student]);
  assert.ok(gc.ok, JSON.stringify(gc));
  assert.throws(() => softTargetLoss(student, new Tensor(new Float64Array(4), [1, 4])), /must both be \(B, C\) of one shape/);
});

test('asymmetricCrossEntropy (ER-ACE): incoming rows over their classes, replayed rows over all seen; each part a mean', () => {
  // row 0, 1 incoming (classes 2, 3); rows 2 replayed (seen 0..3)
  const z = [[5, 1, 2, 0], [0, 0, 1, 3], [1, 2, 0, 0.5]];
  const labels = Int32Array.from([2, 3, 0]);
  const logits = new Tensor(Float64Array.from(z.flat()), [3, 4], { requiresGrad: true });
  const ce = (row: number[], cls: number[], y: number) => Math.log(cls.reduce((a, c) => a + Math.exp(row[c]), 0)) - row[y];
  const expected = (ce(z[0], [2, 3], 2) + ce(z[1], [2, 3], 3)) / 2 + ce(z[2], [0, 1, 2, 3], 0);
  const loss = asymmetricCrossEntropy(logits, labels, { incoming: 2, incomingClasses: [2, 3], seenClasses: [0, 1, 2, 3] });
  assert.ok(Math.abs(loss.item() - expected) < 1e-9, `${loss.item()} vs ${expected}`);
  loss.backward();
  const g = logits.grad!.data;
  assert.deepEqual([g[0], g[1], g[4], g[5]], [0, 0, 0, 0], 'new data never pushes the old classes\' logits');
  assert.ok(g[8 + 1] > 0, 'a replayed row pushes down the other seen classes');
  // the default incoming classes are those among the incoming labels
  assert.ok(Math.abs(asymmetricCrossEntropy(new Tensor(Float64Array.from(z.flat()), [3, 4]), labels, { incoming: 2 }).item() - expected) < 1e-9);
  const gc = gradcheck((x) => asymmetricCrossEntropy(x, labels, { incoming: 2, seenClasses: [0, 1, 2, 3] }), [new Tensor(Float64Array.from(z.flat()), [3, 4], { requiresGrad: true })]);
  assert.ok(gc.ok, JSON.stringify(gc));
  assert.throws(() => asymmetricCrossEntropy(logits, labels, { incoming: 2, incomingClasses: [3] }), (e: Error) => e instanceof ValueError && /row 0 has label 2, which is not among its allowed classes \[3\]/.test(e.message));
  assert.throws(() => asymmetricCrossEntropy(logits, labels, { incoming: 4 }), /incoming=4, expected an integer in \[0, B = 3\]/);
  assert.throws(() => asymmetricCrossEntropy(logits, Int32Array.from([0, 1]), { incoming: 1 }), ShapeError);
  assert.throws(() => asymmetricCrossEntropy(logits, Int32Array.from([0, 1, 9]), { incoming: 1 }), /label 9 is outside/);
});

test('continualMetrics on a hand-worked accuracy matrix', () => {
  const R = [[0.9, 0, 0], [0.6, 0.8, 0], [0.3, 0.7, 0.95]];
  const m = continualMetrics(R);
  assert.deepEqual(m.averageAccuracy.map((v) => +v.toFixed(4)), [0.9, 0.7, +((0.3 + 0.7 + 0.95) / 3).toFixed(4)]);
  assert.ok(Math.abs(m.backwardTransfer - ((0.3 - 0.9) + (0.7 - 0.8)) / 2) < 1e-12);
  assert.ok(Math.abs(m.forgetting - ((0.9 - 0.3) + (0.8 - 0.7)) / 2) < 1e-12);
  assert.throws(() => continualMetrics([[1, 2]]), ValueError);
});

test('taskOrder: parsed, and an unknown or repeated class is a clear error', () => {
  assert.deepEqual(parseTaskOrder('0,1; 2,3'), [[0, 1], [2, 3]]);
  assert.throws(() => parseTaskOrder('0,1;2,11'), (e: Error) => e instanceof ConfigError && /task 2 names class '11', which is unknown; expected class ids 0\.\.9/.test(e.message));
  assert.throws(() => parseTaskOrder('0,1;1,2'), /class 1 twice/);
  assert.throws(() => parseTaskOrder(' ; '), /names no task/);
  assert.throws(() => parseTaskOrder('0,,1'), /unknown/);
});

const haveData = existsSync(join(FASHION_DEBIAN_DIR, 'train-images-idx3-ubyte.gz')) || process.env.HEED_FASHION_MNIST_DIR !== undefined;
const dataSkip = haveData || process.env.CI === 'true' ? false : 'Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)';

test('continual task: replay runs two tasks, saves its accuracy matrix, predicts and evaluates', { skip: dataSkip }, async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'heed-cl-')), 'model');
  const c = resolveTaskConfig(CONTINUAL_TASK.spec, { taskOrder: '0,1;7,9', method: 'replay', bufferSize: 20, width: 4, trainLimit: 64, batchSize: 8, maxSteps: 2, warmupSteps: 1 });
  const r = await CONTINUAL_TASK.train(c as never, { out, runId: 't', progress: 'none', print: () => {} });
  assert.equal(r.steps, 4);
  const res = JSON.parse(readFileSync(join(out, 'continual_results.json'), 'utf8'));
  assert.equal(res.accuracy.length, 2);
  assert.equal(res.accuracy[0][1], -1, 'task 2 is not scored before it is trained');
  assert.equal(res.bufferExamples, 20);
  const p = await loadPredictor(out);
  const [pred] = p.predict([Array.from({ length: 784 }, () => 0)]);
  assert.equal(pred.alternatives!.length, 10);
  const e = await CONTINUAL_TASK.evaluate(out, { split: 'valid', limit: 20 });
  assert.ok(e.metrics.averageAccuracy >= 0 && e.metrics.averageAccuracy <= 1);
  assert.match(e.report, /task 2 \[7,9\]/);
});

test('continual task: ace (ER-ACE) trains two class-incremental tasks with its buffer', { skip: dataSkip }, async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'heed-cl-')), 'model');
  const c = resolveTaskConfig(CONTINUAL_TASK.spec, { taskOrder: '0,1;7,9', method: 'ace', bufferSize: 20, width: 4, trainLimit: 64, batchSize: 8, maxSteps: 2, warmupSteps: 1 });
  const r = await CONTINUAL_TASK.train(c as never, { out, runId: 't', progress: 'none', print: () => {} });
  assert.equal(r.steps, 4);
  const res = JSON.parse(readFileSync(join(out, 'continual_results.json'), 'utf8'));
  assert.equal(res.method, 'ace');
  assert.equal(res.bufferExamples, 20);
  assert.ok(res.accuracy[1].every((a: number) => a >= 0 && a <= 1));
});
