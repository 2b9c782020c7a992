// digits and spam tasks: train a few steps, then the Predictor contract and input validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIGITS_TASK, parseImage, shiftImages } from '../../src/tasks/digits.js';
import { SPAM_TASK, dropWords, mailWords, tokenize, topWords } from '../../src/tasks/spam.js';
import { resolveTaskConfig } from '../../src/tasks/common.js';
import { evaluate, loadPredictor } from '../../src/tasks/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Generator } from '../../src/tensor/rng.js';
import { CheckpointError, ValueError } from '../../src/errors.js';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'heed-cls-')), 'model');
const quiet = { progress: 'none' as const, print: () => {} };

test('digits: trains, predicts a label with class probabilities and attention maps, validates images', async () => {
  const dir = tmp();
  const c = resolveTaskConfig(DIGITS_TASK.spec, { dModel: 16, numLayers: 1, dimFeedforward: 32, maxSteps: 3, evalEvery: 0, warmupSteps: 1 });
  await DIGITS_TASK.train(c as never, { out: dir, runId: 't', ...quiet });
  const p = await loadPredictor(dir);
  assert.equal(p.task, 'digits');
  const img = Array.from({ length: 64 }, (_, i) => i % 17);
  const [r] = p.predict([img.join(','), ], { attention: true });
  assert.ok(/^[0-9]$/.test(String(r.output)));
  assert.equal(r.alternatives!.length, 10);
  assert.ok(Math.abs(r.alternatives!.reduce((s, a) => s + a.score, 0) - 1) < 1e-5);
  assert.equal(r.attention![0].queryTokens.length, 17);
  assert.throws(() => p.validateInput(''), /empty input/);
  assert.throws(() => p.validateInput([1, 2, 3]), /has 3 values, expected 64/);
  assert.throws(() => p.validateInput(img.map((v, i) => (i === 5 ? 99 : v))), /value 5 is 99/);
  assert.equal(parseImage(img)[16], 16 / 16);
  const e = await DIGITS_TASK.evaluate(dir, { split: 'test' });
  assert.equal(e.metrics.examples, 180);
});

test('a checkpoint ensemble averages its members\' class probabilities, in predict and in evaluate', async () => {
  const dirs = [tmp(), tmp()];
  for (const [seed, dir] of dirs.entries()) {
    const c = resolveTaskConfig(DIGITS_TASK.spec, { seed, dModel: 16, numLayers: 1, dimFeedforward: 32, maxSteps: 3, evalEvery: 0, warmupSteps: 1 });
    await DIGITS_TASK.train(c as never, { out: dir, runId: `t${seed}`, ...quiet });
  }
  const [a, b, e] = await Promise.all([loadPredictor(dirs[0]), loadPredictor(dirs[1]), loadPredictor(dirs)]);
  const img = Array.from({ length: 64 }, (_, i) => (i * 7) % 17);
  const probs = (p: typeof a) => Object.fromEntries(p.predict([img])[0].alternatives!.map((x) => [String(x.output), x.score]));
  const [pa, pb, pe] = [probs(a), probs(b), probs(e)];
  assert.notDeepEqual(pa, pb); // two different models, so the average is a real test
  for (const label of Object.keys(pa)) assert.ok(Math.abs(pe[label] - (pa[label] + pb[label]) / 2) < 1e-6, label);
  const names = e.predict([img], { attention: true })[0].attention!.map((m) => m.name);
  assert.ok(names.some((n) => n.startsWith('member0.')) && names.some((n) => n.startsWith('member1.')), names.join(' '));
  // evaluate: a model twice scores as the model; a real ensemble says what it is
  const one = await evaluate(dirs[0], { split: 'valid' });
  const twice = await evaluate([dirs[0], dirs[0]], { split: 'valid' });
  assert.equal(twice.metrics.accuracy, one.metrics.accuracy);
  const both = await evaluate(dirs, { split: 'test', limit: 50 });
  assert.equal(both.metrics.examples, 50);
  assert.match(both.report, /ensemble of 2 models/);
});

test('a checkpoint ensemble of models of different tasks is refused, naming both', async () => {
  const digits = tmp();
  const c = resolveTaskConfig(DIGITS_TASK.spec, { dModel: 16, numLayers: 1, dimFeedforward: 32, maxSteps: 1, evalEvery: 0, warmupSteps: 1 });
  await DIGITS_TASK.train(c as never, { out: digits, runId: 't', ...quiet });
  const other = tmp();
  mkdirSync(other);
  writeFileSync(join(other, 'config.json'), JSON.stringify({ format: 'heed.model', version: 1, task: 'g2p', config: {}, files: {} }));
  await assert.rejects(() => loadPredictor([digits, other]), (err: Error) => err instanceof CheckpointError && /is a 'g2p' model/.test(err.message) && /'digits' model/.test(err.message));
  await assert.rejects(() => evaluate([], { split: 'test' }), CheckpointError);
});

test('digit shifts move pixels and keep the shape', () => {
  const x = new Tensor(Float32Array.from({ length: 64 }, (_, i) => (i === 27 ? 1 : 0)), [1, 1, 8, 8]);
  const y = shiftImages(x, 1, new Generator(3));
  assert.deepEqual(y.shape, [1, 1, 8, 8]);
  assert.equal([...y.data].reduce((s, v) => s + v, 0), 1);
});

test('spam: long mails keep their head, or their head and tail', () => {
  const text = 'w0 w1 w2 w3 w4 w5 w6 w7 w8 w9';
  assert.deepEqual(mailWords(text, 6, 'head'), ['w0', 'w1', 'w2', 'w3', 'w4']);
  assert.deepEqual(mailWords(text, 6, 'headTail'), ['w0', 'w1', 'w2', 'w8', 'w9']); // 5 = 3 first + 2 last
  assert.deepEqual(mailWords('a b', 6, 'headTail'), ['a', 'b']);
});

test('spam: tokenizer, top-K vocabulary, training, and empty input rejected', async () => {
  assert.deepEqual(tokenize("Don't WIN $$$ now!"), ["don't", 'win', '$', '$', '$', 'now', '!']);
  assert.deepEqual(topWords(['a b b c', 'b c d'], 2), ['b', 'c']);
  const dir = tmp();
  const c = resolveTaskConfig(SPAM_TASK.spec, { dModel: 16, numLayers: 1, dimFeedforward: 32, maxSteps: 2, evalEvery: 0, warmupSteps: 1, vocabSize: 500, maxLen: 32 });
  await SPAM_TASK.train(c as never, { out: dir, runId: 't', ...quiet });
  const p = await loadPredictor(dir);
  const [r] = p.predict(['Subject: cheap meds, buy now!!!']);
  assert.ok(r.output === 'ham' || r.output === 'spam');
  // a raw message is parsed as the training mails were: content headers, subject, decoded body
  const raw = 'From: Deals <d@example.biz>\nTo: x@example.org\nSubject: cheap meds\nContent-Type: text/html\n\n<p>buy <b>now</b>!!!</p>';
  const parsed = 'from: Deals <d@example.biz>\ncontent-type: text/html\ncheap meds\nbuy now !!!';
  assert.deepEqual(p.predict([raw])[0].alternatives, p.predict([parsed])[0].alternatives);
  assert.notDeepEqual(p.predict([raw])[0].alternatives, p.predict(['cheap meds buy now !!!'])[0].alternatives);
  assert.throws(() => p.validateInput('   '), ValueError);
  assert.throws(() => p.validateInput('--- ...'), /holds no words/);
});

test('spam: word dropout turns words (never padding or specials) into <unk> at about the rate asked', () => {
  const ids = Int32Array.from({ length: 20000 }, (_, i) => (i % 10 === 0 ? 0 : 4 + (i % 97)));
  const x = new Tensor(ids, [100, 200]);
  const y = dropWords(x, 0.2, new Generator(5));
  assert.deepEqual(y.shape, [100, 200]);
  let dropped = 0, words = 0;
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] === 0) { assert.equal(y.data[i], 0); continue; }
    words++;
    if (y.data[i] === 3) dropped++;
    else assert.equal(y.data[i], ids[i]);
  }
  assert.ok(Math.abs(dropped / words - 0.2) < 0.02, `dropped ${dropped / words}`);
  assert.deepEqual(dropWords(x, 0.2, new Generator(5)).data, y.data); // the generator decides
  assert.equal(x.data[1], ids[1]); // the input is not changed
});

test('spam: bad values for the truncation, headers and wordDropout keys are ConfigErrors naming what is allowed', async () => {
  assert.throws(() => resolveTaskConfig(SPAM_TASK.spec, { truncation: 'middle' }), (e: Error) => e.name === 'ConfigError' && /truncation/.test(e.message) && /headTail/.test(e.message));
  assert.throws(() => resolveTaskConfig(SPAM_TASK.spec, { headers: 'yes' }), (e: Error) => e.name === 'ConfigError' && /headers/.test(e.message) && /boolean/.test(e.message));
  await assert.rejects(() => SPAM_TASK.train({ ...resolveTaskConfig(SPAM_TASK.spec, {}), wordDropout: 1 }, { out: tmp(), runId: 't', ...quiet }), (e: Error) => e.name === 'ConfigError' && /'wordDropout' is 1/.test(e.message));
});

test('the package entry exports loadPredictor and evaluate, and evaluate refuses a split it does not know', async () => {
  const heed = await import('../../src/index.js');
  assert.equal(typeof heed.loadPredictor, 'function');
  assert.equal(typeof heed.evaluate, 'function');
  const dir = tmp();
  const c = resolveTaskConfig(DIGITS_TASK.spec, { dModel: 16, numLayers: 1, dimFeedforward: 32, maxSteps: 1, evalEvery: 0, warmupSteps: 1 });
  await DIGITS_TASK.train(c as never, { out: dir, runId: 't', ...quiet });
  await assert.rejects(() => heed.evaluate(dir, { split: 'dev' }), (e: Error) => e instanceof ValueError && /split 'dev'/.test(e.message));
});

test('an ensemble member with another class count is refused with a CheckpointError, not averaged out of line', async () => {
  const { scoreClassifier } = await import('../../src/tasks/classify.js');
  const threeClasses = { eval() {}, forward: (x: Tensor) => new Tensor(new Float32Array(x.shape[0] * 3), [x.shape[0], 3]) };
  const data = { labels: Int32Array.from([0, 1]), inputs: (idx: Int32Array) => ({ x: new Tensor(new Float32Array(idx.length), [idx.length, 1]), tokens: idx.length }) };
  assert.throws(() => scoreClassifier([{ model: threeClasses as never, data }], ['ham', 'spam']), (e: Error) => e instanceof CheckpointError && /predicts 3 classes, expected 2/.test(e.message));
});

