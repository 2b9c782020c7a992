// Flags map one-to-one onto config keys: --kebab-case or --camelCase, typed by the schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, kebab, camel } from '../../src/cli/args.js';
import { ConfigError } from '../../src/errors.js';

const schema = { dModel: 'number', normFirst: 'boolean', schedule: ['cosine', 'linear'], name: 'string' } as const;
const flags = { out: 'string', overwrite: 'boolean' } as const;

test('kebab-case and camelCase flags set the same config key, typed by the schema', () => {
  const a = parseArgs(['--d-model', '64', '--norm-first', '--schedule=linear', '--out', 'runs/x', 'pos'], schema as never, flags, 't');
  assert.deepEqual(a.config, { dModel: 64, normFirst: true, schedule: 'linear' });
  assert.deepEqual(a.flags, { out: 'runs/x' });
  assert.deepEqual(a.positional, ['pos']);
  const b = parseArgs(['--dModel', '64', '--no-norm-first', '--overwrite'], schema as never, flags, 't');
  assert.deepEqual(b.config, { dModel: 64, normFirst: false });
  assert.equal(b.flags.overwrite, true);
  assert.equal(kebab('numEncoderLayers'), 'num-encoder-layers');
  assert.equal(camel('num-encoder-layers'), 'numEncoderLayers');
});

test('unknown flags, wrong types and missing values are ConfigErrors that list the valid flags', () => {
  assert.throws(() => parseArgs(['--dmodel', '3'], schema as never, flags, 't'), (e: Error) => e instanceof ConfigError && /Valid flags: --out, --overwrite, --d-model/.test(e.message));
  assert.throws(() => parseArgs(['--d-model', '1e'], schema as never, flags, 't'), /must be a number, received '1e'/);
  assert.throws(() => parseArgs(['--schedule', 'zig'], schema as never, flags, 't'), /one of cosine, linear/);
  assert.throws(() => parseArgs(['--d-model'], schema as never, flags, 't'), /needs a value/);
  assert.throws(() => parseArgs(['--norm-first=maybe'], schema as never, flags, 't'), /is a boolean/);
});
