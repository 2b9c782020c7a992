/** The registry picks the native backend by default when the addon is built, and HEED_BACKEND=js forces js. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { native } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const probe = `import { backendInfo } from './src/backend/registry.ts'; console.log(JSON.stringify(backendInfo()));`;

function info(env: Record<string, string>): { backend: string; isa: string; threads: number; overridden: string[] } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
    cwd: root, env: { ...process.env, HEED_QUIET: '1', ...env }, encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('native is the default backend when the addon is built', (t) => {
  if (!native(t)) return;
  const env: Record<string, string> = { HEED_BACKEND: '' };
  const i = info(env);
  assert.equal(i.backend, 'native');
  assert.ok(['avx512', 'avx2', 'generic'].includes(i.isa), i.isa);
  assert.ok(i.overridden.includes('sgemm') && i.overridden.includes('attentionForward'));
});

test('HEED_BACKEND=js forces the TypeScript kernels', () => {
  const i = info({ HEED_BACKEND: 'js' });
  assert.equal(i.backend, 'js');
  assert.equal(i.isa, 'none');
  assert.deepEqual(i.overridden, []);
});

test('HEED_NUM_THREADS sizes the native pool and HEED_ISA=generic selects the portable kernels', (t) => {
  if (!native(t)) return;
  const i = info({ HEED_BACKEND: 'native', HEED_NUM_THREADS: '1', HEED_ISA: 'generic' });
  assert.equal(i.threads, 1);
  assert.equal(i.isa, 'generic');
});
