/**
 * The bad-request corpus: malformed bodies, deep nesting, huge arrays, wrong types, bad auth
 * and names that are Object.prototype properties. Every case must be answered 4xx with a JSON
 * error `{ error: { code, message } }` whose message is short and carries no stack trace —
 * never a 500, never a crash — and the server must answer a good request afterwards.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startToyServer, toyModelDir, auth, API_KEY, ADMIN_KEY } from './helpers.js';
import type { HeedServer } from '../../src/serve/server.js';
import { MAX_JSON_DEPTH, jsonDepth } from '../../src/serve/body.js';
import { fmtShape } from '../../src/errors.js';

let server: HeedServer;
before(async () => {
  server = await startToyServer([{ name: 'toy', dir: toyModelDir('toy') }], { rateLimit: 10_000, rateBurst: 10_000 });
});
after(async () => server?.close());

interface Case {
  name: string;
  method?: 'GET' | 'POST';
  url?: string;
  headers?: Record<string, string>;
  /** Raw body text (sent as application/json unless headers say otherwise). */
  body?: string | Buffer;
  /** Expected status; any 4xx when omitted. */
  status?: number;
}

const json = { ...auth, 'content-type': 'application/json' };
const nestedList = (n: number) => '['.repeat(n) + ']'.repeat(n);
const nestedObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const PREDICT = '/v1/models/toy/predict';

const CASES: Case[] = [
  // Malformed bodies.
  { name: 'truncated JSON', body: '{"inputs": [', status: 400 },
  { name: 'trailing garbage', body: '{"input": "a"} x', status: 400 },
  { name: 'empty body with a JSON content type', body: '', status: 400 },
  { name: 'JSON null', body: 'null', status: 400 },
  { name: 'JSON string', body: '"hello"', status: 400 },
  { name: 'JSON number', body: '42', status: 400 },
  { name: 'JSON list', body: '["hello"]', status: 400 },
  { name: 'invalid UTF-8', body: Buffer.from([0x7b, 0x22, 0x69, 0x6e, 0x70, 0x75, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
  { name: 'text/plain', headers: { ...auth, 'content-type': 'text/plain' }, body: 'hello', status: 415 },
  { name: 'form encoding', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'input=hello', status: 415 },
  { name: 'body over bodyLimit', body: JSON.stringify({ inputs: ['a'.repeat(2 << 20)] }), status: 413 },
  // Deep nesting: each would overflow a recursive JSON.stringify or structured clone.
  { name: '10k-level list in inputs', body: `{"inputs": ${nestedList(10_000)}}`, status: 400 },
  { name: '10k-level list as one input', body: `{"inputs": [${nestedList(10_000)}]}`, status: 400 },
  { name: '10k-level object as input', body: `{"input": ${nestedObject(10_000)}}`, status: 400 },
  { name: '10k-level nBest', body: `{"input": "a", "nBest": ${nestedList(10_000)}}`, status: 400 },
  { name: '10k-level attention', body: `{"input": "a", "attention": ${nestedObject(10_000)}}`, status: 400 },
  { name: '10k-level unknown field', body: `{"input": "a", "x": ${nestedList(10_000)}}`, status: 400 },
  { name: `nesting one past the limit (${MAX_JSON_DEPTH + 1})`, body: `{"inputs": [${nestedList(MAX_JSON_DEPTH - 1)}]}`, status: 400 },
  { name: '10k-level admin reload body', url: '/v1/admin/reload', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: `{"model": ${nestedList(10_000)}}`, status: 400 },
  // Huge arrays and strings.
  { name: '200k inputs', body: JSON.stringify({ inputs: Array.from({ length: 200_000 }, () => 1) }), status: 413 },
  { name: '200k-entry nBest', body: JSON.stringify({ input: 'a', nBest: Array.from({ length: 200_000 }, () => 1) }), status: 400 },
  { name: '500k-character nBest', body: JSON.stringify({ input: 'a', nBest: 'x'.repeat(500_000) }), status: 400 },
  { name: '100k-character field name', body: `{"input": "a", "${'k'.repeat(100_000)}": 1}`, status: 400 },
  { name: '50k unknown fields', body: JSON.stringify(Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`f${i}`, i]))), status: 400 },
  { name: 'input of 200k numbers', body: JSON.stringify({ input: Array.from({ length: 200_000 }, () => 0) }), status: 422 },
  // Wrong types.
  { name: 'inputs is a string', body: '{"inputs": "hello"}', status: 400 },
  { name: 'inputs is an object', body: '{"inputs": {"0": "hello"}}', status: 400 },
  { name: 'inputs is empty', body: '{"inputs": []}', status: 422 },
  { name: 'input is null', body: '{"input": null}', status: 422 },
  { name: 'input is a number', body: '{"input": 7}', status: 422 },
  { name: 'input is an object', body: '{"input": {"word": "hello"}}', status: 422 },
  { name: 'input has a bad character', body: '{"input": "h\\u0000llo"}', status: 422 },
  { name: 'both input and inputs', body: '{"input": "a", "inputs": ["b"]}', status: 400 },
  { name: 'neither input nor inputs', body: '{"nBest": 2}', status: 400 },
  { name: 'nBest is a string', body: '{"input": "a", "nBest": "3"}', status: 400 },
  { name: 'nBest is fractional', body: '{"input": "a", "nBest": 1.5}', status: 400 },
  { name: 'nBest is huge', body: '{"input": "a", "nBest": 1e309}', status: 400 },
  { name: 'nBest is negative', body: '{"input": "a", "nBest": -1}', status: 400 },
  { name: 'attention is a string', body: '{"input": "a", "attention": "yes"}', status: 400 },
  { name: 'admin reload model is a number', url: '/v1/admin/reload', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: '{"model": 3}', status: 400 },
  // Bad auth.
  { name: 'no Authorization header', headers: { 'content-type': 'application/json' }, body: '{"input": "a"}', status: 401 },
  { name: 'empty Bearer', headers: { authorization: 'Bearer ', 'content-type': 'application/json' }, body: '{"input": "a"}', status: 401 },
  { name: 'Basic auth', headers: { authorization: `Basic ${Buffer.from(`u:${API_KEY}`).toString('base64')}`, 'content-type': 'application/json' }, body: '{"input": "a"}', status: 401 },
  { name: 'wrong key', headers: { authorization: 'Bearer wrong-key-0123456789abcdef', 'content-type': 'application/json' }, body: '{"input": "a"}', status: 401 },
  { name: '7 KB key', headers: { authorization: `Bearer ${'k'.repeat(7000)}`, 'content-type': 'application/json' }, body: '{"input": "a"}', status: 401 },
  { name: 'API key on an admin route', url: '/v1/admin/reload', headers: json, body: '{}', status: 401 },
  { name: 'admin key as an API key', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: '{"input": "a"}', status: 401 },
  // Names that are Object.prototype properties.
  ...['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'].flatMap((name): Case[] => [
    { name: `model named ${name}`, url: `/v1/models/${name}/predict`, body: '{"input": "a"}', status: 404 },
    { name: `training curves of ${name}`, method: 'GET', url: `/v1/models/${name}/training`, headers: auth, status: 404 },
    { name: `admin reload of ${name}`, url: '/v1/admin/reload', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: name }), status: 404 },
  ]),
  { name: 'a __proto__ field', body: '{"input": "a", "__proto__": {"nBest": 3}}', status: 400 },
  { name: 'a constructor.prototype field', body: '{"input": "a", "constructor": {"prototype": {"x": 1}}}', status: 400 },
  { name: 'a constructor field', body: '{"input": "a", "constructor": 1}', status: 400 },
  { name: 'a toString field', body: '{"input": "a", "toString": 1}', status: 400 },
];

for (const c of CASES) {
  test(`bad request: ${c.name} → ${c.status ?? '4xx'} with a short JSON error`, async () => {
    const r = await server.app.inject({
      method: c.method ?? 'POST', url: c.url ?? PREDICT, headers: c.headers ?? json,
      ...(c.body === undefined ? {} : { payload: c.body }),
    });
    if (c.status !== undefined) assert.equal(r.statusCode, c.status, r.body.slice(0, 300));
    assert.ok(r.statusCode >= 400 && r.statusCode < 500, `4xx, received ${r.statusCode}: ${r.body.slice(0, 300)}`);
    const err = r.json().error;
    assert.equal(typeof err.code, 'string');
    assert.equal(typeof err.message, 'string');
    assert.ok(err.message.length > 0 && err.message.length <= 600, `a bounded message, received ${err.message.length} characters`);
    assert.ok(!r.body.includes('    at '), 'no stack trace');
  });
}

test('after the whole corpus the server is healthy and answers a good request', async () => {
  assert.equal((await server.app.inject({ url: '/healthz' })).statusCode, 200);
  const r = await server.app.inject({ method: 'POST', url: PREDICT, headers: json, payload: '{"inputs": ["hello", "world"]}' });
  assert.equal(r.statusCode, 200);
  assert.equal(r.json().predictions.length, 2);
  assert.equal(({} as Record<string, unknown>).nBest, undefined, 'no prototype was polluted');
});

test('jsonDepth counts nesting without recursion and stops early', () => {
  assert.equal(jsonDepth('a'), 0);
  assert.equal(jsonDepth({ a: [1, [2]] }), 3);
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.equal(jsonDepth(deep), MAX_JSON_DEPTH + 1);
});

test('fmtShape prints a huge shape as a bounded line', () => {
  assert.equal(fmtShape([2, 4, 7]), '[2, 4, 7]');
  const huge = fmtShape(Array.from({ length: 200_000 }, (_, i) => i % 10));
  assert.ok(huge.length < 100, huge);
  assert.match(huge, /^\[0, 1, 2, 3, 4, 5, …, 7, 8, 9\] \(200000 dims\)$/);
});
