/**
 * Start-up errors cross the worker boundary with their class: a model that fails to load in
 * a worker rejects `server.ready` with the same typed heed error the loader threw, and
 * `heed serve` prints it as one line and exits non-zero (no stack trace, no hang).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from '../../src/serve/server.js';
import { rebuildWorkerError, workerErrorInfo } from '../../src/serve/errors.js';
import { ConfigError, HeedError, ShapeError } from '../../src/errors.js';
import { API_KEY, TOY_LOADER } from './helpers.js';

test('a worker error is rebuilt with its class, code and message', () => {
  const shape = rebuildWorkerError(workerErrorInfo(new ShapeError('matmul: bad')));
  assert.ok(shape instanceof ShapeError);
  assert.equal((shape as ShapeError).code, 'HEED_SHAPE');
  assert.equal(shape.message, 'matmul: bad');

  // A heed error class this side does not know keeps its name and code on a HeedError.
  const future = rebuildWorkerError({ name: 'QuotaError', code: 'HEED_QUOTA', message: 'over quota' });
  assert.ok(future instanceof HeedError);
  assert.equal(future.name, 'QuotaError');
  assert.equal((future as HeedError).code, 'HEED_QUOTA');

  // A Node error keeps its errno code, and is not a HeedError.
  const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
  const rebuilt = rebuildWorkerError(workerErrorInfo(enoent));
  assert.ok(!(rebuilt instanceof HeedError));
  assert.equal((rebuilt as NodeJS.ErrnoException).code, 'ENOENT');
  assert.equal(workerErrorInfo('thrown string').message, 'thrown string');
});

test('a model that fails to load rejects server.ready with the loader\'s typed error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-startup-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ task: 'not-toy' }));
  const server = createServer({
    models: [{ name: 'bad', dir }], loader: TOY_LOADER, apiKeys: [API_KEY], logger: false,
    config: { port: 0, workers: 1 },
  });
  try {
    await assert.rejects(server.ready, (e: unknown) => {
      assert.ok(e instanceof ConfigError, `a ConfigError, received ${String(e)}`);
      assert.equal(e.code, 'HEED_CONFIG');
      assert.match(e.message, /task must be 'toy-g2p', received "not-toy"/);
      return true;
    });
  } finally {
    await server.close();
  }
});

test('heed serve with a broken model directory prints one line and exits 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-startup-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ task: 'g2p' }));
  const mainUrl = new URL('../../src/cli/main.ts', import.meta.url).href;
  const script = `import { main } from ${JSON.stringify(mainUrl)}; process.exitCode = await main(['serve', ${JSON.stringify(dir)}, '--port', '0', '--workers', '1']);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, HEED_QUIET: '1', HEED_API_KEYS: API_KEY }, stdio: ['ignore', 'pipe', 'pipe'],
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise((r) => child.once('exit', r));
  clearTimeout(timer);
  assert.equal(code, 1, out);
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 1, `one line, received:\n${out}`);
  assert.match(lines[0], /^heed serve: CheckpointError: .*config\.json/);
});
