#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's built-in test runner (TypeScript through tsx),
// then prints a summary that lists every skipped test with its reason.
// Usage: npm test [-- <path filter>...]   (HEED_TEST_DIR=<dir> runs the *.test.ts under another directory;
// test/ci/run-tests.test.ts uses it to check the rules below on a throw-away suite)
//
// Skips: a test may skip only for a reason outside the project's control (the optional spam
// corpus devDependency not installed, no chromium on a machine without apt-get, the native
// addon not built on a machine without a compiler). Under CI=true the project's own install
// provides all of these (.ci/run installs chromium, npm install builds the addon and installs
// the devDependencies), so any skip or todo fails the run, unless HEED_ALLOW_SKIP names a
// word of its reason (comma-separated, e.g. HEED_ALLOW_SKIP=chromium, which .ci/run sets only
// on a machine without apt-get).
import { readdirSync, statSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const filters = process.argv.slice(2);
const inCI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false' && process.env.CI !== '0';
const allowedSkips = (process.env.HEED_ALLOW_SKIP ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'fixtures') out.push(...walk(p)); }
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const testDir = process.env.HEED_TEST_DIR ? resolve(process.env.HEED_TEST_DIR) : join(root, 'test');
const files = walk(testDir)
  .map((p) => relative(root, p))
  .filter((p) => filters.length === 0 || filters.some((f) => p.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files matched ' + JSON.stringify(filters));
  process.exit(1);
}

// Two reporters: `spec` for people, ours (one JSON line per test) for the summary below.
const work = mkdtempSync(join(tmpdir(), 'heed-test-run-'));
const recordsFile = join(work, 'records.jsonl');
const reporter = pathToFileURL(join(root, 'scripts', 'test-reporter.mjs')).href;
const r = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=2',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  `--test-reporter=${reporter}`, `--test-reporter-destination=${recordsFile}`,
  ...files,
], { cwd: root, stdio: 'inherit', env: { ...process.env, HEED_QUIET: '1' } });

if (!existsSync(recordsFile)) {
  console.error('run-tests: the test runner wrote no results (see above).');
  process.exit(r.status || 1);
}
const records = readFileSync(recordsFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
rmSync(work, { recursive: true, force: true });

const count = (outcome) => records.filter((t) => t.outcome === outcome && !t.suite).length;
const skipped = records.filter((t) => t.outcome === 'skip' || t.outcome === 'todo');
const where = (t) => `${t.file ? relative(root, t.file) : '?'} › ${t.name}${t.suite ? ' (a suite: none of its tests ran)' : ''}`;

console.log(`\nrun-tests: ${files.length} files; ${count('pass')} passed, ${count('fail')} failed, ` +
  `${skipped.length} skipped or todo${skipped.length > 0 ? ':' : '.'}`);
// Grouped by reason: one missing thing usually skips many tests.
const byReason = new Map();
for (const t of skipped) {
  const key = `${t.outcome === 'todo' ? 'todo' : 'skipped'}: ${t.reason}`;
  byReason.set(key, [...(byReason.get(key) ?? []), t]);
}
for (const [reason, tests] of byReason) {
  console.log(`  ${tests.length} ${reason}`);
  for (const t of tests) console.log(`      ${where(t)}`);
}

let status = r.status ?? 1;
if (inCI) {
  const forbidden = skipped.filter((t) => !allowedSkips.some((w) => (t.reason ?? '').includes(w)));
  if (forbidden.length > 0) {
    console.error(`run-tests: ${forbidden.length} test(s) did not run under CI=true. In CI the project's install provides ` +
      'everything the tests need (the native addon, chromium, the devDependencies), so a skip means that install failed. ' +
      'Fix the install, or set HEED_ALLOW_SKIP to a word of the reason when it is truly outside the project (see scripts/run-tests.mjs).');
    if (status === 0) status = 1;
  }
}
process.exit(status);
