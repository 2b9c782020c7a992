// The g2p task: predictor contract (validation, n-best, attention maps), ensembles, evaluation.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { G2P_TASK, loadG2PPredictor, type G2PPredictor } from '../../src/tasks/g2p.js';
import { TASKS, loadPredictor } from '../../src/tasks/index.js';
import { resolveTaskConfig } from '../../src/tasks/common.js';
import { ConfigError, ValueError } from '../../src/errors.js';

const dir = join(mkdtempSync(join(tmpdir(), 'heed-g2p-')), 'model');
let p: G2PPredictor;

before(async () => {
  const config = resolveTaskConfig(G2P_TASK.spec, { dModel: 16, numHeads: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 32, maxSteps: 4, warmupSteps: 1, evalEvery: 0, evalWords: 8, maxTokens: 300 });
  await G2P_TASK.train(config as never, { out: dir, runId: 'test', progress: 'none', print: () => {} });
  p = await loadG2PPredictor(dir);
});

test('TASKS lists g2p with a schema whose every key has a default', () => {
  const spec = TASKS.g2p.spec;
  for (const k of Object.keys(spec.schema)) assert.notEqual((spec.defaults as unknown as Record<string, unknown>)[k], undefined, k);
  assert.throws(() => resolveTaskConfig(spec, { maxSteps: 0 }), ConfigError);
  assert.throws(() => resolveTaskConfig(spec, { dropout: 2 }), /'dropout' is 2/);
});

test('predict returns phoneme strings; n-best alternatives come sorted by score', () => {
  const [a, b] = p.predict(['Hello', 'cat'], { nBest: 3 });
  assert.equal(a.input, 'Hello');
  assert.equal(typeof a.output, 'string');
  assert.equal(b.alternatives!.length, 3);
  const scores = b.alternatives!.map((x) => x.score);
  assert.deepEqual(scores, [...scores].sort((x, y) => y - x));
});

test('attention maps: encoder self, decoder self and cross, rows summing to 1, labelled with letters and phonemes', () => {
  const [r] = p.predict(['cat'], { attention: true });
  const maps = r.attention!;
  const cross = maps.find((m) => m.kind === 'cross')!;
  assert.deepEqual(cross.keyTokens, ['c', 'a', 't']);
  assert.equal(cross.queryTokens.at(-1), '<eos>');
  assert.equal(cross.weights[0].length, cross.queryTokens.length);
  for (const row of cross.weights[0]) assert.ok(Math.abs(row.reduce((s, x) => s + x, 0) - 1) < 1e-4);
  const enc = maps.find((m) => m.name.startsWith('encoder'))!;
  assert.deepEqual(enc.queryTokens, ['c', 'a', 't']);
});

test('a checkpoint ensemble of one model twice predicts what the model predicts', async () => {
  const e = await loadPredictor([dir, dir]);
  const words = ['hello', 'world', 'xylophone'];
  assert.deepEqual(e.predict(words).map((x) => x.output), p.predict(words).map((x) => x.output));
});

test('a g2p ensemble evaluates greedily and refuses beam search with a ConfigError', async () => {
  const one = await G2P_TASK.evaluate(dir, { split: 'valid', limit: 12 });
  const twice = await G2P_TASK.evaluate([dir, dir], { split: 'valid', limit: 12 });
  assert.equal(twice.metrics.wer, one.metrics.wer);
  assert.match(twice.report, /ensemble of 2 models/);
  await assert.rejects(() => G2P_TASK.evaluate([dir, dir], { split: 'valid', limit: 4, beamSize: 3 }), (e: Error) => e instanceof ConfigError && /beam search over an ensemble is not implemented/.test(e.message));
  // a request for n-best is an input error (ValueError, HTTP 422 when served)
  const e = await loadPredictor([dir, dir]);
  assert.throws(() => e.predict(['cat'], { nBest: 2 }), (err: Error) => err instanceof ValueError && /n-best 2/.test(err.message));
  const maps = e.predict(['cat'], { attention: true })[0].attention!;
  assert.ok(maps.some((m) => m.name.startsWith('member0.')) && maps.some((m) => m.name.startsWith('member1.')));
});

test('input validation: non-strings, empty words, unknown characters, too long', () => {
  assert.throws(() => p.validateInput(null), ValueError);
  assert.throws(() => p.validateInput(''), /empty word/);
  assert.throws(() => p.predict(['ok', 'n\u00f6']), /"ö"/);
  assert.throws(() => p.validateInput('a'.repeat(60)), /more than the 48/);
});

test('evaluate reports WER and PER on a split', async () => {
  const r = await G2P_TASK.evaluate(dir, { split: 'valid', limit: 12 });
  assert.equal(r.metrics.words, 12);
  assert.ok(r.metrics.wer >= 0 && r.metrics.wer <= 1 && r.metrics.per >= 0);
  await assert.rejects(() => G2P_TASK.evaluate(dir, { split: 'dev' }), /split 'dev'/);
});
