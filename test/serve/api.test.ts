/**
 * The HTTP contract of `heed serve`, through fastify.inject: auth, limits, error shapes,
 * routes, OpenAPI and metrics. The model is the toy attention model (./toy-predictor.ts)
 * running in a real worker thread.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { startToyServer, toyModelDir, auth, API_KEY, ADMIN_KEY } from './helpers.js';
import { ROUTES, openApiPath } from '../../src/serve/routes.js';
import { METRIC_NAMES } from '../../src/serve/metrics.js';
import type { HeedServer } from '../../src/serve/server.js';
import { KeyStore, TokenBuckets } from '../../src/serve/auth.js';
import { DEFAULT_SERVE_CONFIG, parseModelSpecs, resolveServeConfig } from '../../src/serve/config.js';
import { ConfigError } from '../../src/errors.js';
import { availableParallelism } from 'node:os';
import { parseServeArgs } from '../../src/cli/serve.js';

let server: HeedServer;
const logLines: string[] = [];

before(async () => {
  const logStream = new Writable({ write(chunk, _enc, cb) { logLines.push(String(chunk)); cb(); } });
  server = await startToyServer([{ name: 'toy', dir: toyModelDir('toy') }], { maxItems: 4, maxInputChars: 30, bodyLimit: 2048, rateLimit: 1000, rateBurst: 1000 },
    { logger: { level: 'info', stream: logStream } });
});
after(async () => server.close());

const predict = (payload: unknown, headers: Record<string, string> = auth, model = 'toy') =>
  server.app.inject({ method: 'POST', url: `/v1/models/${model}/predict`, headers, payload: payload as string });

test('a request without an API key gets 401 with a Bearer challenge', async () => {
  const r = await predict({ input: 'hello' }, {});
  assert.equal(r.statusCode, 401);
  assert.match(r.headers['www-authenticate'] as string, /^Bearer/);
  assert.equal(r.json().error.code, 'unauthorized');
});

test('a wrong API key gets 401, the right one 200', async () => {
  assert.equal((await predict({ input: 'hello' }, { authorization: 'Bearer wrong-key-0123456789abcdef' })).statusCode, 401);
  assert.equal((await predict({ input: 'hello' }, { authorization: 'Basic abc' })).statusCode, 401);
  const ok = await predict({ input: 'hello' });
  assert.equal(ok.statusCode, 200);
  const body = ok.json();
  assert.equal(body.model, 'toy');
  assert.equal(body.predictions.length, 1);
  assert.equal(body.predictions[0].input, 'hello');
  assert.equal(body.predictions[0].output.length, 5);
});

test('predict answers one prediction per input, in order, with attention maps when asked', async () => {
  const r = await predict({ inputs: ['cat', 'house'], attention: true, nBest: 2 });
  assert.equal(r.statusCode, 200);
  const [a, b] = r.json().predictions;
  assert.equal(a.input, 'cat');
  assert.equal(b.input, 'house');
  assert.equal(a.attention.length, 2);
  const map = b.attention[0];
  assert.deepEqual(map.queryTokens, ['h', 'o', 'u', 's', 'e']);
  assert.equal(map.weights.length, 4); // heads
  for (const row of map.weights[0]) assert.ok(Math.abs(row.reduce((s: number, w: number) => s + w, 0) - 1) < 1e-5);
  const plain = (await predict({ inputs: ['cat'] })).json().predictions[0];
  assert.equal(plain.attention, undefined);
  assert.deepEqual(plain.output, a.output);
});

test('an unknown model is 404 and names the served ones', async () => {
  const r = await predict({ input: 'hello' }, auth, 'nope');
  assert.equal(r.statusCode, 404);
  assert.match(r.json().error.message, /toy/);
});

test('malformed JSON is 400, a non-JSON content type 415, a bad body shape 400', async () => {
  const bad = await server.app.inject({ method: 'POST', url: '/v1/models/toy/predict', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"inputs": [' });
  assert.equal(bad.statusCode, 400);
  assert.ok(!bad.body.includes('    at '), 'no stack trace');
  const text = await server.app.inject({ method: 'POST', url: '/v1/models/toy/predict', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'hello' });
  assert.equal(text.statusCode, 415);
  assert.equal((await predict({ inputs: 'hello' })).statusCode, 400);
  assert.equal((await predict({ input: 'a', inputs: ['b'] })).statusCode, 400);
  assert.equal((await predict({ input: 'a', beam: 3 })).statusCode, 400);
  assert.equal((await predict({ input: 'a', nBest: 0 })).statusCode, 400);
  assert.equal((await predict(['hello'])).statusCode, 400);
});

test('limits: body too large 413, too many inputs 413, input too long 422, invalid input 422', async () => {
  const big = await predict({ inputs: ['x'.repeat(5000)] });
  assert.equal(big.statusCode, 413);
  const many = await predict({ inputs: ['a', 'b', 'c', 'd', 'e'] });
  assert.equal(many.statusCode, 413);
  assert.match(many.json().error.message, /at most 4/);
  const long = await predict({ input: 'x'.repeat(31) });
  assert.equal(long.statusCode, 422);
  assert.match(long.json().error.message, /at most 30/);
  const invalid = await predict({ input: 'h3llo' });
  assert.equal(invalid.statusCode, 422);
  assert.match(invalid.json().error.message, /not a letter/);
  assert.equal((await predict({ inputs: [] })).statusCode, 422);
});

test('an invalid input fails only its own request when batched with valid ones', async () => {
  const [good, bad] = await Promise.all([predict({ input: 'tree' }), predict({ input: '42' })]);
  assert.equal(good.statusCode, 200);
  assert.equal(bad.statusCode, 422);
});

test('GET /v1/models lists each model with task and config', async () => {
  const r = await server.app.inject({ url: ROUTES.models, headers: auth });
  assert.equal(r.statusCode, 200);
  const [m] = r.json().models;
  assert.equal(m.name, 'toy');
  assert.equal(m.task, 'toy-g2p');
  assert.equal(m.config.nHeads, 4);
  assert.equal(m.dir, undefined, 'server paths are not exposed');
  assert.equal((await server.app.inject({ url: ROUTES.models })).statusCode, 401);
});

test('health, readiness and unknown routes', async () => {
  assert.equal((await server.app.inject({ url: ROUTES.health })).statusCode, 200);
  const ready = await server.app.inject({ url: ROUTES.ready });
  assert.equal(ready.statusCode, 200);
  assert.deepEqual(ready.json().models, ['toy']);
  assert.equal((await server.app.inject({ url: '/v2/nothing' })).statusCode, 404);
});

test('the OpenAPI document lists every registered route and method', async () => {
  const doc = (await server.app.inject({ url: ROUTES.openapi })).json();
  assert.equal(doc.openapi.slice(0, 2), '3.');
  for (const path of Object.values(ROUTES)) assert.ok(doc.paths[openApiPath(path)], `${path} documented`);
  assert.ok(doc.paths[openApiPath(ROUTES.predict)].post);
  assert.ok(doc.paths[openApiPath(ROUTES.reload)].post);
  for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(methods)) {
      const url = path.replace(/\{(\w+)\}/g, ':$1');
      assert.ok(server.app.hasRoute({ method: method.toUpperCase() as 'GET', url }), `${method} ${url} is registered`);
    }
  }
});

test('metrics expose request counts, latency, queue depth, batch size, inference time and event-loop lag', async () => {
  await predict({ inputs: ['metric', 'words'] });
  const r = await server.app.inject({ url: ROUTES.metrics });
  assert.equal(r.statusCode, 200);
  for (const name of Object.values(METRIC_NAMES)) assert.ok(r.body.includes(`# TYPE ${name} `), `${name} exported`);
  assert.match(r.body, /heed_http_requests_total\{model="toy",route="\/v1\/models\/:name\/predict",status="200"\} \d+/);
  assert.match(r.body, /heed_batch_size_count\{model="toy"\} \d+/);
  assert.match(r.body, /heed_queue_depth\{model="toy"\} 0/);
});

test('admin reload needs the admin key, not an API key', async () => {
  assert.equal((await server.app.inject({ method: 'POST', url: ROUTES.reload, headers: auth, payload: {} })).statusCode, 401);
  const r = await server.app.inject({ method: 'POST', url: ROUTES.reload, headers: { authorization: `Bearer ${ADMIN_KEY}` }, payload: { model: 'toy' } });
  assert.equal(r.statusCode, 200);
  assert.equal(r.json().reloaded[0].name, 'toy');
  const unknown = await server.app.inject({ method: 'POST', url: ROUTES.reload, headers: { authorization: `Bearer ${ADMIN_KEY}` }, payload: { model: 'other' } });
  assert.equal(unknown.statusCode, 404);
});

test('logs never contain an API key, not even one sent in the query string (logs show the path only)', async () => {
  await predict({ input: 'hello' });
  await predict({ input: 'hello' }, { authorization: 'Bearer leaked-wrong-key-0123456789' });
  await server.app.inject({ method: 'POST', url: `/v1/models/toy/predict?api_key=${API_KEY}`, headers: auth, payload: { input: 'hello' } });
  await server.app.inject({ method: 'GET', url: '/no-such-route?token=query-secret-0123456789' });
  const logs = logLines.join('');
  assert.ok(logs.length > 0, 'the server logged');
  assert.ok(!logs.includes(API_KEY));
  assert.ok(!logs.includes('leaked-wrong-key'));
  assert.ok(!logs.includes('query-secret'), 'query strings are not logged');
  assert.ok(!logs.includes('api_key'));
  assert.match(logs, /"url":"\/v1\/models\/toy\/predict"/, 'the path is still logged');
});

test('rate limit: a key over its bucket gets 429 with Retry-After', async () => {
  const s = await startToyServer([{ name: 'toy', dir: toyModelDir('toy') }], { rateLimit: 0.01, rateBurst: 2 });
  try {
    const codes = [];
    for (let i = 0; i < 4; i++) {
      const r = await s.app.inject({ url: ROUTES.models, headers: auth });
      codes.push(r.statusCode);
      if (r.statusCode === 429) assert.ok(Number(r.headers['retry-after']) >= 1);
    }
    assert.deepEqual(codes, [200, 200, 429, 429]);
  } finally {
    await s.close();
  }
});

test('the server refuses to start without keys unless told --insecure-no-auth', async () => {
  const { createServer } = await import('../../src/serve/server.js');
  assert.throws(() => createServer({ models: [{ name: 'x', dir: '/nonexistent' }], logger: false }), /no API keys/);
  assert.throws(() => new KeyStore(['short']), /at least 16/);
});

test('key store, token bucket and config parsing', () => {
  const keys = new KeyStore(['k'.repeat(20), 'j'.repeat(20)]);
  assert.equal(keys.verify('k'.repeat(20))?.length, 12);
  assert.equal(keys.verify('k'.repeat(19)), null);
  let now = 0;
  const b = new TokenBuckets(2, 2, () => now);
  assert.equal(b.take('a'), 0);
  assert.equal(b.take('a'), 0);
  assert.equal(b.take('a'), 1);
  now = 500;
  assert.equal(b.take('a'), 0);
  assert.deepEqual(parseModelSpecs(['/tmp/runs/g2p', 'other=/tmp/x']).map((s) => s.name), ['g2p', 'other']);
  assert.throws(() => parseModelSpecs(['/a/g2p', '/b/g2p']), /two models/);
  assert.deepEqual(parseModelSpecs(['ens=/r/a,/r/b']), [{ name: 'ens', dir: '/r/a', members: ['/r/a', '/r/b'] }]);
  assert.throws(() => parseModelSpecs(['/r/a,/r/b']), /needs a name/);
  assert.throws(() => parseModelSpecs(['ens=/r/a,,/r/b']), /empty directory name/);
  assert.throws(() => resolveServeConfig({ maxBatch: 3 } as never), /Valid options/);
  assert.throws(() => resolveServeConfig({ workers: 0 }), /positive/);
  assert.throws(() => resolveServeConfig({ maxQueue: 8, maxItems: 64 }), /maxQueue/);
  // Counts of threads, inputs and requests are whole numbers: 2.5 workers is a typo, not a config.
  for (const key of ['workers', 'threadsPerWorker', 'maxBatchSize', 'maxItems', 'maxQueue'] as const) {
    assert.throws(() => resolveServeConfig({ [key]: 2.5 }), (e: unknown) => e instanceof ConfigError && new RegExp(`'${key}' must be a whole number, received 2\\.5`).test((e as Error).message), key);
  }
});

test('the default config: one inference worker per core but one (at least 1), batches of up to 64 inputs', () => {
  assert.equal(DEFAULT_SERVE_CONFIG.workers, Math.max(1, availableParallelism() - 1));
  assert.equal(DEFAULT_SERVE_CONFIG.threadsPerWorker, 1);
  assert.equal(DEFAULT_SERVE_CONFIG.maxBatchSize, 64);
  assert.ok(DEFAULT_SERVE_CONFIG.maxQueue >= DEFAULT_SERVE_CONFIG.maxBatchSize, 'a full batch fits in the queue');
  assert.deepEqual(resolveServeConfig({}), { ...DEFAULT_SERVE_CONFIG });
});

test('heed serve flags map one-to-one onto ServeConfig keys', () => {
  const p = parseServeArgs(['runs/a', '--max-batch-size', '8', '--port=9000', '--no-ui', '--insecure-no-auth', 'b=runs/b', '--api-key-file', 'keys.txt']);
  assert.deepEqual(p.positional, ['runs/a', 'b=runs/b']);
  assert.deepEqual(p.config, { maxBatchSize: 8, port: 9000, ui: false, insecureNoAuth: true });
  assert.equal(p.apiKeyFile, 'keys.txt');
  assert.throws(() => parseServeArgs(['--max-batch', '8']), /unknown option --max-batch\. Valid options: .*--max-batch-size/);
  assert.throws(() => parseServeArgs(['--port', 'abc']), /must be a number/);
  assert.throws(() => parseServeArgs(['--timeout-ms']), /needs a value/);
  assert.throws(() => parseServeArgs(['--no-port']), /not a switch/);
});
