/**
 * CI cannot be green by skipping: `npm test` (scripts/run-tests.mjs) lists every skipped test with
 * its reason, and under CI=true fails on any skip not allowed by HEED_ALLOW_SKIP; .ci/run keeps
 * the README's two commands and requires the native addon.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Runs scripts/run-tests.mjs on a throw-away suite: one passing test and two skipped ones. */
function runSuite(env: Record<string, string>): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'heed-run-tests-'));
  try {
    writeFileSync(join(dir, 'probe.test.ts'), [
      `import { test, describe, it } from 'node:test';`,
      `test('a passing test', () => {});`,
      `test('needs a browser', { skip: 'chromium is not installed at /usr/bin/chromium' }, () => {});`,
      `describe('corpus', { skip: 'npm install some-dataset to run' }, () => { it('loads', () => {}); });`,
    ].join('\n'));
    const base = { ...process.env };
    delete base.CI;
    delete base.HEED_ALLOW_SKIP;
    delete base.NODE_TEST_CONTEXT; // set by the outer node --test; the inner run would refuse to start
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'run-tests.mjs')], {
      cwd: root, env: { ...base, HEED_TEST_DIR: dir, ...env }, encoding: 'utf8',
    });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('npm test lists every skipped test with its reason, and passes outside CI', () => {
  const r = runSuite({});
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /1 passed, 0 failed, 2 skipped/);
  assert.match(r.out, /1 skipped: chromium is not installed at \/usr\/bin\/chromium\n\s+.*probe\.test\.ts › needs a browser/);
  assert.match(r.out, /1 skipped: npm install some-dataset to run\n\s+.*probe\.test\.ts › corpus \(a suite: none of its tests ran\)/);
});

test('under CI=true any skip fails npm test, unless HEED_ALLOW_SKIP names a word of every reason', () => {
  const ci = runSuite({ CI: 'true' });
  assert.equal(ci.status, 1, ci.out);
  assert.match(ci.out, /2 test\(s\) did not run under CI=true/);
  const oneAllowed = runSuite({ CI: 'true', HEED_ALLOW_SKIP: 'chromium' });
  assert.equal(oneAllowed.status, 1, oneAllowed.out);
  assert.match(oneAllowed.out, /1 test\(s\) did not run under CI=true/);
  const allAllowed = runSuite({ CI: 'true', HEED_ALLOW_SKIP: 'chromium,some-dataset' });
  assert.equal(allAllowed.status, 0, allAllowed.out);
});

test('.ci/run runs the README commands, requires the native addon and a Debian chromium', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
  assert.match(readme, /```sh\nnpm install && npx heed demo\nnpm test\n```/, 'the README states the two commands CI runs');
  const lines = ci.split('\n').map((l) => l.trim());
  const at = (cmd: string): number => {
    const i = lines.indexOf(cmd);
    assert.ok(i >= 0, `.ci/run does not run '${cmd}'`);
    return i;
  };
  assert.ok(at('npm install') < at('npx heed demo') && at('npx heed demo') < at('npm test'), 'in the README order');
  assert.ok(at('export CI=true') < at('npm install') && at('export HEED_REQUIRE_NATIVE=1') < at('npm install'));
  assert.match(ci, /case "\$version" in\s+\*"backend native"\*\) ;;\s+\*\) echo [^\n]*\n\s+exit 1/, 'a js fallback after npm install fails CI');
  assert.match(ci, /apt-get install -y -qq chromium[^\n]*\n[\s\S]*?exit 1/, 'a failed chromium install on Debian fails CI');
});
