// The benches, tools and scripts are TypeScript run by tsx, which strips types without checking
// them; `npm run build` checks only src/. This checks them all (tsconfig.check.json), so a
// changed kernel signature or API breaks a test here, not a benchmark run weeks later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('src, bench, tools and scripts type-check (tsc -p tsconfig.check.json)', { timeout: 300_000 }, () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.check.json'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc found errors:\n${(r.stdout + r.stderr).slice(0, 4000)}`);
});
