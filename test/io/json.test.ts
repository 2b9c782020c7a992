// JSON from files: duplicate keys are rejected at any depth, and error quotes stay short however
// long or deep the value is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findDuplicateKey, parseUntrustedJson, preview, quoteName } from '../../src/io/json.js';
import { CheckpointError } from '../../src/errors.js';

test('findDuplicateKey finds a repeated key at the top level and nested, and ignores arrays and string values', () => {
  assert.equal(findDuplicateKey('{"a": 1, "b": [1, 1], "c": {"a": "a"}}'), null);
  assert.deepEqual(findDuplicateKey('{"w": 1, "x": 2, "w": 3}'), { key: 'w', path: '' });
  assert.deepEqual(findDuplicateKey('{"t": {"dtype": "F32", "dtype": "F16"}}'), { key: 'dtype', path: '.t' });
  assert.deepEqual(findDuplicateKey('[{"a": 1}, {"a": 2, "a": 3}]'), { key: 'a', path: '[]' });
  assert.equal(findDuplicateKey('{"a\\"b": 1, "a\\\\": {"k": "{\\"a\\"b\\": 2}"}}'), null, 'escaped quotes and braces inside strings');
  assert.deepEqual(findDuplicateKey('{"\\u0061": 1, "a": 2}'), { key: 'a', path: '' }, 'keys compare after unescaping');
});

test('parseUntrustedJson rejects invalid JSON and duplicate keys with a CheckpointError naming the source', () => {
  assert.deepEqual(parseUntrustedJson('{"a": [1]}', 'x.json', 'config'), { a: [1] });
  assert.throws(() => parseUntrustedJson('{"a": ', 'x.json', 'config'), (e: Error) => e instanceof CheckpointError && /^x\.json: the config is not valid JSON/.test(e.message));
  assert.throws(() => parseUntrustedJson('{"a": 1, "a": 2}', 'x.json', 'config'), /x\.json: the config holds the key 'a' twice/);
});

test('preview is bounded for long strings, long arrays, wide objects and 100k-deep nesting', () => {
  assert.equal(preview([2, 3]), '[2, 3]');
  assert.equal(preview({ a: 'b' }), '{"a": "b"}');
  assert.ok(preview(new Array(200_000).fill(1)).length < 120);
  assert.match(preview(new Array(200_000).fill(1)), /… \(200000 entries\)$/);
  assert.ok(preview('x'.repeat(1e6)).length < 120);
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.ok(preview(deep).length <= 100, 'no stack overflow, short');
  assert.equal(quoteName('a'.repeat(200)).length < 120, true);
});
