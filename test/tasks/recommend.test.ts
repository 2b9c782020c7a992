/**
 * The recommend task end to end on a small synthetic MovieTweetings-format data set: train a few
 * steps (ID-only and with title/genre fusion), evaluate, predict top-k with titles, serve; an
 * item never seen in training is skipped and counted, never a crash.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { main } from '../../src/cli/main.js';
import { RECOMMEND_TASK } from '../../src/tasks/recommend.js';
import type { RecommendPrediction } from '../../src/tasks/recommend-predictor.js';
import { evaluate, loadPredictor } from '../../src/tasks/index.js';
import { resolveTaskConfig } from '../../src/tasks/common.js';
import { createServer, type HeedServer } from '../../src/serve/server.js';
import { SASRec, padHistories } from '../../src/models/sasrec.js';
import { manualSeed } from '../../src/tensor/rng.js';
import { noGrad } from '../../src/autograd/mode.js';
import { ConfigError, ValueError } from '../../src/errors.js';
import { API_KEY } from '../serve/helpers.js';

const root = mkdtempSync(join(tmpdir(), 'heed-recommend-'));
const dataDir = join(root, 'data');
const GENRES = ['Drama', 'Comedy', 'Action', 'Horror'];

/** 40 users × 8 ratings over 20 movies (ids 0000101..0000120): each user walks the catalogue from a start. */
function writeData(): void {
  mkdirSync(dataDir, { recursive: true });
  const ratings: string[] = [];
  for (let u = 1; u <= 40; u++) for (let k = 0; k < 8; k++) ratings.push(`${u}::${String(101 + ((u + 2 * k) % 20)).padStart(7, '0')}::7::${1000 * u + k}`);
  const movies = Array.from({ length: 20 }, (_, i) => `${String(101 + i).padStart(7, '0')}::Film ${['Red', 'Blue', 'Green'][i % 3]} Number ${i} (${2000 + (i % 4)})::${GENRES[i % 4]}${i % 2 ? `|${GENRES[(i + 1) % 4]}` : ''}`);
  writeFileSync(join(dataDir, 'movietweetings-100k.ratings.dat.gz'), gzipSync(ratings.join('\n')));
  writeFileSync(join(dataDir, 'movietweetings-100k.movies.dat.gz'), gzipSync(movies.join('\n')));
}

const TINY = { dataDir, dModel: 16, numHeads: 2, numLayers: 1, dimFeedforward: 16, maxLen: 6, batchSize: 8, maxSteps: 3, evalEvery: 0, warmupSteps: 1, logEvery: 1 };
const quiet = { progress: 'none' as const, print: () => {} };
const idDir = join(root, 'sasrec');
const fusionDir = join(root, 'fusion');
let server: HeedServer;

before(async () => {
  writeData();
  await RECOMMEND_TASK.train(TINY, { out: idDir, runId: 'a', ...quiet });
  await RECOMMEND_TASK.train({ ...TINY, fusion: 'attention', titleLayers: 1, titleMaxLen: 5 }, { out: fusionDir, runId: 'b', ...quiet });
  server = createServer({ models: [{ name: 'rec', dir: fusionDir }], apiKeys: [API_KEY], logger: false, config: { port: 0, workers: 1 } });
  await server.ready;
});
after(async () => server?.close());

test('a trained model is evaluated under both protocols, overall and on cold users', async () => {
  const r = await evaluate(idDir, { split: 'test' });
  assert.equal(r.metrics.users, 40);
  for (const k of ['hr10', 'ndcg10', 'fullHr10', 'fullNdcg10', 'coldHr10']) assert.ok(r.metrics[k] >= 0 && r.metrics[k] <= 1, k);
  assert.ok(r.metrics.ndcg10 <= r.metrics.hr10 && r.metrics.fullNdcg10 <= r.metrics.fullHr10);
  assert.ok(r.metrics.coldUsers >= 0 && r.metrics.coldUsers <= 40);
  assert.match(r.report, /cold \(< 10 train interactions\)/);
  await assert.rejects(evaluate(idDir, { split: 'train' }), ValueError);
});

test('predict returns the top k items with titles, never items from the history', async () => {
  for (const dir of [idDir, fusionDir]) {
    const p = await loadPredictor(dir);
    const [r] = p.predict(['0000101 0000103,0000105'], { nBest: 5 }) as RecommendPrediction[];
    assert.equal(r.recommendations.length, 5);
    assert.equal(r.alternatives!.length, 5);
    assert.match(String(r.output), /^Film \w+ Number \d+ \(200\d\)$/);
    assert.ok(r.recommendations.every((x) => !['0000101', '0000103', '0000105'].includes(x.id)));
    assert.ok(r.recommendations.every((x, i) => i === 0 || x.score <= r.recommendations[i - 1].score));
    assert.deepEqual(r.skipped, []);
    assert.equal(r.fallback, undefined);
    const [a] = p.predict(['0000101 0000103'], { nBest: 2, attention: true });
    assert.equal(a.attention!.length, 1, 'one self-attention map per SASRec block (the item fusion is not per history)');
    assert.deepEqual(a.attention![0].queryTokens, ['Film Red Number 0 (2000)', 'Film Green Number 2 (2002)']);
  }
});

test('an item never seen in training is skipped and counted; a history of only unknown items gets the popular items', async () => {
  const p = await loadPredictor(idDir);
  const [known] = p.predict(['0000101 0000103'], { nBest: 3 }) as RecommendPrediction[];
  const [mixed, unknown] = p.predict([['tt0000101', '9999999', '103', '0000999'], '8888888'], { nBest: 3 }) as RecommendPrediction[];
  assert.deepEqual(mixed.skipped, ['9999999', '0000999']);
  assert.deepEqual(mixed.recommendations.map((r) => r.id), known.recommendations.map((r) => r.id), 'unknown ids change nothing; tt-prefixed and unpadded ids are the same items');
  assert.deepEqual(unknown.skipped, ['8888888']);
  assert.equal(unknown.fallback, 'popularity');
  assert.equal(unknown.recommendations.length, 3);
  assert.throws(() => p.validateInput(''), /empty history/);
  assert.throws(() => p.validateInput(['0000101', 'The Matrix']), /expected an IMDb id/);
  assert.throws(() => p.validateInput({ items: [] }), ValueError);
});

test('the served model answers as the in-process predictor, with skipped items counted', async () => {
  const local = (await loadPredictor(fusionDir)).predict(['0000101 0000102 1234567'], { nBest: 4 }) as RecommendPrediction[];
  const auth = { authorization: `Bearer ${API_KEY}` };
  const r = await server.app.inject({ method: 'POST', url: '/v1/models/rec/predict', headers: auth, payload: { inputs: ['0000101 0000102 1234567'], nBest: 4 } });
  assert.equal(r.statusCode, 200, r.body);
  const [served] = r.json().predictions as RecommendPrediction[];
  assert.deepEqual(served.recommendations.map((x) => x.id), local[0].recommendations.map((x) => x.id));
  assert.deepEqual(served.skipped, ['1234567']);
  const bad = await server.app.inject({ method: 'POST', url: '/v1/models/rec/predict', headers: auth, payload: { input: 42 } });
  assert.equal(bad.statusCode, 422, bad.body);
});

test('the CLI trains and predicts with titles; a missing data directory is a one-line error', async () => {
  const lines: string[] = [];
  const log = console.log;
  const err = console.error;
  console.log = (s: unknown) => lines.push(String(s));
  console.error = (s: unknown) => lines.push(String(s));
  try {
    const out = join(root, 'cli');
    assert.equal(await main(['train', 'recommend', '--data-dir', dataDir, '--d-model', '16', '--num-layers', '1', '--dim-feedforward', '16', '--max-len', '6',
      '--max-steps', '2', '--eval-every', '0', '--warmup-steps', '1', '--progress', 'none', '--out', out]), 0);
    lines.length = 0;
    assert.equal(await main(['predict', out, '0000101 0000102', '--n-best', '3']), 0);
    assert.match(lines[0], /^0000101 0000102\tFilm /);
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.notEqual(await main(['train', 'recommend', '--data-dir', join(root, 'nowhere'), '--out', join(root, 'x')]), 0);
    assert.ok(lines.some((l) => /not found/.test(l)), lines.join('\n'));
  } finally {
    console.log = log;
    console.error = err;
  }
  assert.throws(() => resolveTaskConfig(RECOMMEND_TASK.spec, { objective: 'hinge' }), ConfigError);
});

test('SASRec is causal: the hidden state at t does not change when later items change', () => {
  manualSeed(0);
  const m = new SASRec({ numItems: 20, maxLen: 8, dModel: 16, numHeads: 2, numLayers: 2, dimFeedforward: 16, dropout: 0 });
  m.eval();
  const a = padHistories([[1, 2, 3, 4, 5]], 8), b = padHistories([[1, 2, 3, 9, 17]], 8);
  const ha = noGrad(() => m.forward(a.ids, a.lengths)).data, hb = noGrad(() => m.forward(b.ids, b.lengths)).data;
  for (let i = 0; i < 3 * 16; i++) assert.ok(Math.abs(ha[i] - hb[i]) < 1e-6, `position ${Math.floor(i / 16)}`);
  assert.ok(Array.from(ha.subarray(3 * 16, 4 * 16)).some((v, i) => Math.abs(v - hb[3 * 16 + i]) > 1e-4), 'position 3 sees its own item');
});
