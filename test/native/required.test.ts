/**
 * The native addon is part of the product, not an optional extra: under HEED_REQUIRE_NATIVE=1
 * (exported by .ci/run) a missing or unloadable addon fails here, with the loader's reason,
 * instead of every native test quietly skipping. Without it the addon may be missing (no C++
 * compiler on this machine), but then heed must say why and run on the TypeScript kernels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nativeRequired, nativeRequiredMessage } from '../requirements.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const probe = `import { backendInfo } from './src/index.ts'; console.log(JSON.stringify(backendInfo()));`;

/** backendInfo() of a fresh process with the default backend choice (HEED_BACKEND unset). */
function defaultBackend(): { backend: string; nativeAvailable: boolean; nativeError?: string } {
  const env = { ...process.env, HEED_QUIET: '1' };
  delete env.HEED_BACKEND;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: root, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('the native addon loads and is the default backend, or heed says why not (required under HEED_REQUIRE_NATIVE=1)', () => {
  const info = defaultBackend();
  if (nativeRequired) assert.ok(info.nativeAvailable, nativeRequiredMessage());
  if (info.nativeAvailable) {
    assert.equal(info.backend, 'native', 'the addon loaded, so the default backend must be native');
  } else {
    assert.equal(info.backend, 'js');
    assert.match(info.nativeError ?? '', /\S/, 'a missing addon must come with the reason');
  }
});
