/**
 * Names that are Object.prototype properties (`constructor`, `toString`, `__proto__`, ...)
 * coming from the command line or a file never find built-in members: each is an unknown
 * name with a one-line typed error. (The HTTP side — model names in URLs and fields in
 * bodies — is in ./bad-requests.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { parseArgs } from '../../src/cli/args.js';
import { parseServeArgs } from '../../src/cli/serve.js';
import { resolveServeConfig } from '../../src/serve/config.js';
import { getTask, hasTask, taskOf } from '../../src/tasks/index.js';
import { CheckpointError, ConfigError } from '../../src/errors.js';

const PROTO_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];

async function captureStderr(run: () => Promise<number>): Promise<{ code: number; err: string }> {
  const error = console.error;
  const log = console.log;
  let err = '';
  console.error = (...a: unknown[]) => { err += a.join(' ') + '\n'; };
  console.log = () => undefined;
  try {
    return { code: await run(), err };
  } finally {
    console.error = error;
    console.log = log;
  }
}

test('heed <proto name> is an unknown command (exit 2), not a crash', async () => {
  for (const name of PROTO_NAMES) {
    const { code, err } = await captureStderr(() => main([name]));
    assert.equal(code, 2, name);
    assert.match(err, new RegExp(`unknown command '${name}'`));
  }
});

test('heed train <proto name> is an unknown task: one ConfigError line, exit 1', async () => {
  for (const name of PROTO_NAMES) {
    assert.equal(hasTask(name), false, name);
    assert.throws(() => getTask(name), ConfigError);
    const { code, err } = await captureStderr(() => main(['train', name]));
    assert.equal(code, 1, name);
    assert.equal(err.trim().split('\n').length, 1, err);
    assert.match(err, /ConfigError: .*unknown task/);
  }
  assert.equal(hasTask('g2p'), true);
});

test('a config.json naming a proto task is a CheckpointError', () => {
  for (const name of PROTO_NAMES) {
    const dir = mkdtempSync(join(tmpdir(), 'heed-proto-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ format: 'heed.model', version: 1, task: name, config: {}, files: {} }));
    assert.throws(() => taskOf(dir), (e: unknown) => e instanceof CheckpointError && e.message.includes(`task '${name}' is not known`));
  }
});

test('flags named after proto properties are unknown flags', () => {
  const schema = { dModel: 'number' } as const;
  for (const name of PROTO_NAMES) {
    assert.throws(() => parseArgs([`--${name}`, '1'], schema as never, { out: 'string' }, 'heed train g2p'), (e: unknown) => e instanceof ConfigError && /unknown flag/.test(e.message));
    assert.throws(() => parseServeArgs([`--${name}`, 'x']), (e: unknown) => e instanceof ConfigError && /unknown option/.test(e.message));
    assert.throws(() => resolveServeConfig(JSON.parse(`{"${name}": 1}`) as never), (e: unknown) => e instanceof ConfigError && /unknown option/.test(e.message));
  }
});
