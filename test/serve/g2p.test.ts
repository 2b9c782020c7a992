/**
 * End to end with the real G2P task: `heed train g2p` (a tiny config, a few steps) writes a
 * model directory; `heed serve`'s server loads it through src/tasks loadPredictor in a worker
 * thread and answers exactly what the in-process Predictor answers, with its attention maps
 * and its training curves.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { loadPredictor } from '../../src/tasks/index.js';
import { createServer, type HeedServer } from '../../src/serve/server.js';
import { parseModelSpecs } from '../../src/serve/config.js';
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
  server = createServer({ models: [{ name: 'g2p', dir }, ...parseModelSpecs([`ens=${dir},${dir}`])], apiKeys: [API_KEY], logger: false, config: { port: 0, workers: 1, maxBatchSize: 8 } });
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

test('a checkpoint ensemble (name=dir1,dir2) is served; a model twice answers as the model', async () => {
  const words = ['hello', 'attention'];
  const local = (await loadPredictor(dir)).predict(words);
  const r = await server.app.inject({ method: 'POST', url: '/v1/models/ens/predict', headers: auth, payload: { inputs: words } });
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(r.json().predictions.map((p: { output: unknown }) => p.output), local.map((p) => p.output));
  const nBest = await server.app.inject({ method: 'POST', url: '/v1/models/ens/predict', headers: auth, payload: { input: 'cat', nBest: 2 } });
  assert.equal(nBest.statusCode, 422, nBest.body);
  assert.match(nBest.body, /beam search over an ensemble is not implemented/);
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

test('heed serve as a process: refuses to start without keys, SIGHUP reloads, SIGTERM drains and exits 0', async () => {
  const bin = fileURLToPath(new URL('../../bin/heed.js', import.meta.url));
  const env = { ...process.env, HEED_QUIET: '1', HEED_API_KEYS: '' };
  const noKeys = spawn(process.execPath, [bin, 'serve', dir, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let noKeysErr = '';
  noKeys.stderr.on('data', (d) => { noKeysErr += d; });
  assert.equal(await new Promise((r) => noKeys.once('exit', r)), 1);
  assert.match(noKeysErr, /no API keys/);

  const child = spawn(process.execPath, [bin, 'serve', `g2p=${dir}`, '--port', '0', '--workers', '1'],
    { env: { ...env, HEED_API_KEYS: API_KEY }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 1200 && !re.test(log); i++) await new Promise((r) => setTimeout(r, 50));
    const m = re.exec(log);
    assert.ok(m, `log shows ${re}: ${log.slice(-500)}`);
    return m;
  };
  const base = (await waitFor(/ready at (http:\/\/127\.0\.0\.1:\d+)/))[1];
  child.kill('SIGHUP');
  await waitFor(/reload done/);
  const inFlight = Promise.all(['one', 'two', 'three', 'four'].map((w) => fetch(`${base}/v1/models/g2p/predict`, {
    method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ inputs: Array.from({ length: 16 }, (_, i) => `${w}${'abcdefghijklmnop'[i]}`), nBest: 4 }),
  }).then((r) => r.status)));
  // SIGTERM once the server has received all four (each takes a while: 16 words, beam of 4).
  for (let i = 0; i < 1200 && (log.match(/"url":"\/v1\/models\/g2p\/predict".*"incoming request"/g) ?? []).length < 4; i++) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.once('exit', r));
  assert.deepEqual(await inFlight, [200, 200, 200, 200]);
  assert.equal(code, 0, log.slice(-1500));
  assert.ok(!log.includes(API_KEY), 'the key never reaches the logs');
});
