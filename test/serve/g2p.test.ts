/**
 * End to end with the real G2P task: `heed train g2p` (a tiny config, a few steps) writes a
 * model directory; `heed serve`'s server loads it through src/tasks loadPredictor in a worker
 * thread and answers exactly what the in-process Predictor answers, with its attention maps
 * and its training curves.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { loadPredictor } from '../../src/tasks/index.js';
import { createServer, type HeedServer } from '../../src/serve/server.js';
import { API_KEY } from './helpers.js';

const dir = join(mkdtempSync(join(tmpdir(), 'heed-serve-g2p-')), 'g2p');
const TINY = ['--d-model', '16', '--num-heads', '2', '--num-encoder-layers', '1', '--num-decoder-layers', '1', '--dim-feedforward', '32',
  '--max-steps', '4', '--eval-words', '10', '--eval-every', '0', '--warmup-steps', '1', '--max-tokens', '300', '--log-every', '1', '--progress', 'none'];
let server: HeedServer;
const auth = { authorization: `Bearer ${API_KEY}` };

before(async () => {
  const log = console.log;
  console.log = () => undefined;
  try {
    assert.equal(await main(['train', 'g2p', ...TINY, '--out', dir]), 0);
  } finally {
    console.log = log;
  }
  server = createServer({ models: [{ name: 'g2p', dir }], apiKeys: [API_KEY], logger: false, config: { port: 0, workers: 1, maxBatchSize: 8 } });
  await server.ready;
});
after(async () => server?.close());

test('a trained G2P model is served with the same answers as the in-process predictor', async () => {
  const words = ['hello', 'world', 'attention'];
  const local = (await loadPredictor(dir)).predict(words, { nBest: 2 });
  const r = await server.app.inject({ method: 'POST', url: '/v1/models/g2p/predict', headers: auth, payload: { inputs: words, nBest: 2 } });
  assert.equal(r.statusCode, 200, r.body);
  const { model, predictions } = r.json();
  assert.equal(model, 'g2p');
  assert.deepEqual(predictions.map((p: { output: unknown }) => p.output), local.map((p) => p.output));
  assert.equal(predictions[0].alternatives.length, 2);
});

test('a served G2P prediction carries self and cross attention maps of heads × queries × keys', async () => {
  const r = await server.app.inject({ method: 'POST', url: '/v1/models/g2p/predict', headers: auth, payload: { input: 'cat', attention: true } });
  assert.equal(r.statusCode, 200, r.body);
  const maps = r.json().predictions[0].attention as { kind: string; queryTokens: string[]; keyTokens: string[]; weights: number[][][] }[];
  assert.ok(maps.some((m) => m.kind === 'cross'));
  for (const m of maps) {
    assert.equal(m.weights.length, 2, 'two heads');
    assert.equal(m.weights[0].length, m.queryTokens.length);
    assert.equal(m.weights[0][0].length, m.keyTokens.length);
  }
});

test('invalid G2P input is 422 with the task message; training curves come from metrics.jsonl', async () => {
  const bad = await server.app.inject({ method: 'POST', url: '/v1/models/g2p/predict', headers: auth, payload: { input: 42 } });
  assert.equal(bad.statusCode, 422, bad.body);
  const models = (await server.app.inject({ url: '/v1/models', headers: auth })).json().models;
  assert.equal(models[0].task, 'g2p');
  const curves = (await server.app.inject({ url: '/v1/models/g2p/training', headers: auth })).json();
  assert.ok(curves.steps.step.length >= 1, JSON.stringify(curves).slice(0, 300));
  assert.equal(curves.steps.step.length, curves.steps.loss.length);
});
