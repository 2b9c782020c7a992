/**
 * `heed serve` over real HTTP on 127.0.0.1: concurrency and batching without cross-talk,
 * the bounded queue (503), per-request timeouts (504), graceful shutdown and hot reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startToyServer, toyModelDir, auth, ADMIN_KEY } from './helpers.js';
import { loadPredictor } from './toy-predictor.js';
import { ROUTES } from '../../src/serve/routes.js';

const WORDS = ['apple', 'banana', 'cherry', 'dog', 'elephant', 'fig', 'grape', 'house', 'island', 'jungle', 'kite', 'lemon',
  'mango', 'night', 'orange', 'pear', 'queen', 'river', 'stone', 'tiger', 'umbrella', 'violet', 'water', 'xylophone', 'yellow', 'zebra'];

async function post(url: string, body: unknown, headers: Record<string, string> = auth): Promise<{ status: number; headers: Headers; body: any }> {
  const r = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

test('many concurrent requests are batched and each gets exactly its own answers', async () => {
  const dir = toyModelDir('toy', { seed: 3 });
  const reference = loadPredictor(dir);
  const server = await startToyServer([{ name: 'toy', dir }], { maxBatchSize: 8, maxBatchDelayMs: 10, rateBurst: 1000, rateLimit: 1000 });
  try {
    const base = await server.listen();
    const requests = Array.from({ length: 60 }, (_, i) => {
      const words = i % 3 === 0 ? [WORDS[i % WORDS.length], WORDS[(i + 5) % WORDS.length]] : [WORDS[i % WORDS.length]];
      return { words, attention: i % 4 === 0 };
    });
    const responses = await Promise.all(requests.map((r) => post(`${base}/v1/models/toy/predict`, { inputs: r.words, attention: r.attention })));
    responses.forEach((res, i) => {
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const expected = reference.predict(requests[i].words, { attention: requests[i].attention });
      assert.deepEqual(res.body.predictions.map((p: { input: string }) => p.input), requests[i].words);
      assert.deepEqual(res.body.predictions.map((p: { output: unknown }) => p.output), expected.map((p) => p.output));
      assert.equal(res.body.predictions[0].attention !== undefined, requests[i].attention);
    });
    const metrics = await (await fetch(`${base}${ROUTES.metrics}`)).text();
    const sum = Number(/heed_batch_size_sum\{model="toy"\} (\d+)/.exec(metrics)?.[1]);
    const count = Number(/heed_batch_size_count\{model="toy"\} (\d+)/.exec(metrics)?.[1]);
    assert.equal(sum, 80, 'every input ran exactly once');
    assert.ok(count < 60, `requests were batched: ${count} forward passes for 60 requests`);
  } finally {
    await server.close();
  }
});

test('a full queue answers 503 with Retry-After; the queued requests still succeed', async () => {
  const server = await startToyServer([{ name: 'slow', dir: toyModelDir('slow', { delayMs: 400 }) }], { maxBatchSize: 1, maxQueue: 2, maxItems: 2, maxBatchDelayMs: 0 });
  try {
    const base = await server.listen();
    const responses = await Promise.all(Array.from({ length: 6 }, () => post(`${base}/v1/models/slow/predict`, { input: 'word' })));
    const codes = responses.map((r) => r.status).sort();
    assert.ok(codes.includes(503), `some requests were refused: ${codes}`);
    assert.ok(codes.filter((c) => c === 200).length >= 3, `the admitted ones ran: ${codes}`);
    assert.deepEqual([...new Set(codes)], [200, 503]);
    for (const r of responses.filter((x) => x.status === 503)) {
      assert.equal(r.headers.get('retry-after'), '1');
      assert.equal(r.body.error.code, 'overloaded');
    }
  } finally {
    await server.close();
  }
});

test('a request that takes longer than timeoutMs gets 504', async () => {
  const server = await startToyServer([{ name: 'slow', dir: toyModelDir('slow', { delayMs: 400 }) }], { timeoutMs: 100, maxBatchSize: 1 });
  try {
    const base = await server.listen();
    const r = await post(`${base}/v1/models/slow/predict`, { input: 'word' });
    assert.equal(r.status, 504);
    assert.equal(r.body.error.code, 'timeout');
  } finally {
    await server.close();
  }
});

test('shutdown stops accepting and drains in-flight requests, which all succeed', async () => {
  const server = await startToyServer([{ name: 'slow', dir: toyModelDir('slow', { delayMs: 150 }) }], { maxBatchSize: 1, maxBatchDelayMs: 0 });
  const base = await server.listen();
  const inFlight = Promise.all(['one', 'two', 'three'].map((w) => post(`${base}/v1/models/slow/predict`, { input: w })));
  while (server.scheduler.pendingRequests < 3) await new Promise((r) => setTimeout(r, 5));
  const closed = server.close();
  assert.equal((await server.app.inject({ url: ROUTES.ready })).statusCode, 503, 'not ready while draining');
  const responses = await inFlight;
  assert.deepEqual(responses.map((r) => r.status), [200, 200, 200]);
  assert.deepEqual(responses.map((r) => r.body.predictions[0].input), ['one', 'two', 'three']);
  await closed;
  await assert.rejects(fetch(`${base}${ROUTES.health}`), 'the port is closed after shutdown');
});

test('hot reload swaps the model with no failed request', async () => {
  const dir = toyModelDir('toy', { seed: 1 });
  const server = await startToyServer([{ name: 'toy', dir }], { rateBurst: 10000, rateLimit: 10000, maxBatchSize: 4 });
  try {
    const base = await server.listen();
    const before = loadPredictor(dir).predict(['reload'])[0].output;
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, seed: 2 }));
    const after = loadPredictor(dir).predict(['reload'])[0].output;
    assert.notDeepEqual(before, after, 'the two seeds give different answers');

    let stop = false;
    const statuses: number[] = [];
    const outputs: string[] = [];
    const client = async () => {
      while (!stop) {
        const r = await post(`${base}/v1/models/toy/predict`, { input: 'reload' });
        statuses.push(r.status);
        outputs.push(JSON.stringify(r.body.predictions?.[0]?.output));
      }
    };
    const clients = [client(), client(), client(), client()];
    await new Promise((r) => setTimeout(r, 150));
    const reload = await post(`${base}${ROUTES.reload}`, { model: 'toy' }, { authorization: `Bearer ${ADMIN_KEY}` });
    assert.equal(reload.status, 200);
    const second = server.reload('toy'); // a second reload (the SIGHUP path) while requests run
    await new Promise((r) => setTimeout(r, 300));
    await second;
    stop = true;
    await Promise.all(clients);
    assert.ok(statuses.length > 8, `requests ran during the reload: ${statuses.length}`);
    assert.deepEqual([...new Set(statuses)], [200]);
    assert.equal(outputs[0], JSON.stringify(before));
    assert.equal(outputs[outputs.length - 1], JSON.stringify(after));
    assert.ok(outputs.every((o) => o === JSON.stringify(before) || o === JSON.stringify(after)));
  } finally {
    await server.close();
  }
});

test('a model that fails to reload keeps the old version serving', async () => {
  const dir = toyModelDir('toy', { seed: 1 });
  const server = await startToyServer([{ name: 'toy', dir }]);
  try {
    writeFileSync(join(dir, 'config.json'), '{ not json');
    const r = await server.app.inject({ method: 'POST', url: ROUTES.reload, headers: { authorization: `Bearer ${ADMIN_KEY}` }, payload: {} });
    assert.equal(r.statusCode, 500);
    assert.equal(r.json().error.code, 'reload_failed');
    assert.match(r.json().error.message, /previous version keeps serving/);
    const ok = await server.app.inject({ method: 'POST', url: '/v1/models/toy/predict', headers: auth, payload: { input: 'still' } });
    assert.equal(ok.statusCode, 200);
  } finally {
    await server.close();
  }
});

/**
 * Posts `input` to the toy model until a replacement worker answers (200). A new worker compiles the
 * sources under tsx before it loads the model, which on a busy machine outlasts the request timeout:
 * meanwhile requests must time out (504), never fail. Gives up after two minutes.
 */
async function untilReplacementAnswers(base: string, input: string): Promise<{ status: number; body: any }> {
  let next = { status: 0, body: null as any };
  const t0 = performance.now();
  while (performance.now() - t0 < 120_000) {
    next = await post(`${base}/v1/models/toy/predict`, { input });
    if (next.status === 200) break;
    assert.equal(next.status, 504, 'while the replacement loads, requests time out rather than fail');
  }
  assert.equal(next.status, 200);
  return next;
}

test('a worker that dies fails only its batch (500, no details) and is replaced with the models loaded', async () => {
  const server = await startToyServer([{ name: 'toy', dir: toyModelDir('toy', { crashWord: 'crash' }) }], { maxBatchSize: 1 });
  try {
    const base = await server.listen();
    const crashed = await post(`${base}/v1/models/toy/predict`, { input: 'crash' });
    assert.equal(crashed.status, 500);
    assert.deepEqual(crashed.body, { error: { code: 'internal', message: 'internal error' } });
    const next = await untilReplacementAnswers(base, 'fine');
    assert.equal(next.body.predictions[0].input, 'fine');
  } finally {
    await server.close();
  }
});

test('a stuck forward pass is stopped: its worker is terminated (504) and replaced, and other requests are served', async () => {
  const dir = toyModelDir('toy', { blockWord: 'stuck' });
  const server = await startToyServer([{ name: 'toy', dir }], { timeoutMs: 1500, maxBatchSize: 1, workers: 1 });
  try {
    const base = await server.listen();
    const stuck = await post(`${base}/v1/models/toy/predict`, { input: 'stuck' });
    assert.equal(stuck.status, 504);
    assert.equal(stuck.body.error.code, 'timeout');
    // The only worker blocks for ten minutes; a replacement must answer well before that.
    const next = await untilReplacementAnswers(base, 'fine');
    assert.deepEqual(next.body.predictions[0].output, loadPredictor(dir).predict(['fine'])[0].output);
    // And the replacement is not poisoned: another stuck request is stopped the same way.
    assert.equal((await post(`${base}/v1/models/toy/predict`, { input: 'stuck' })).status, 504);
  } finally {
    await server.close();
  }
});

test('a worker that frees up takes every input queued meanwhile as one batch (up to maxBatchSize)', async () => {
  // One worker busy for 1.5 s with a lone request; 40 more arrive meanwhile. They wait in the
  // queue (no idle worker) and run as one batch when it frees up.
  const server = await startToyServer([{ name: 'slow', dir: toyModelDir('slow', { delayMs: 1500 }) }],
    { workers: 1, maxBatchSize: 64, maxBatchDelayMs: 1000, rateBurst: 1000, rateLimit: 1000 });
  try {
    const base = await server.listen();
    const first = post(`${base}/v1/models/slow/predict`, { input: 'apple' });
    await new Promise((r) => setTimeout(r, 200)); // the lone request is running
    const rest = await Promise.all(Array.from({ length: 40 }, (_, i) => post(`${base}/v1/models/slow/predict`, { input: WORDS[i % WORDS.length] })));
    assert.equal((await first).status, 200);
    rest.forEach((r, i) => assert.deepEqual([r.status, r.body.predictions[0].input], [200, WORDS[i % WORDS.length]]));
    const metrics = await (await fetch(`${base}${ROUTES.metrics}`)).text();
    assert.equal(Number(/heed_batch_size_count\{model="slow"\} (\d+)/.exec(metrics)?.[1]), 2, 'two forward passes: the lone request, then the 40 queued');
    assert.equal(Number(/heed_batch_size_sum\{model="slow"\} (\d+)/.exec(metrics)?.[1]), 41);
  } finally {
    await server.close();
  }
});
