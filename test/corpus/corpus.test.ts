// The malformed-checkpoint corpus (cases.ts) through `heed predict`, `heed eval`, the library's
// loadPredictor and `heed serve` start-up. Every case must end in one typed one-line error and a
// non-zero exit, within seconds, with bounded memory: nothing crashes, hangs or allocates what a
// file tells it to. A good model directory runs through the same harness as a control.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { CASES, SERVE_CASES, buildCorpus } from './cases.js';
import type { CaseResult } from './run-cases.js';

const root = mkdtempSync(join(tmpdir(), 'heed-corpus-'));
const base = join(root, 'base');
const CONTROL = 'control: the undamaged model';
let dirs = new Map<string, string>();

/** No single error line may be longer: errors quote files in bounded pieces. */
const MAX_ERROR_CHARS = 1500;
/** A case that takes longer is a hang (a good tiny model loads in well under a second). */
const MAX_CASE_MS = 20_000;
/** Peak resident memory of a child running every case: a case allocating what config.json asks would pass it. */
const MAX_RSS_MB = 1200;

before(async () => {
  const log = console.log;
  console.log = () => undefined;
  try {
    const code = await main(['train', 'g2p', '--d-model', '16', '--num-heads', '2', '--num-encoder-layers', '1', '--num-decoder-layers', '1',
      '--dim-feedforward', '32', '--max-steps', '2', '--eval-words', '10', '--eval-every', '0', '--warmup-steps', '1', '--max-tokens', '300',
      '--progress', 'none', '--out', base]);
    assert.equal(code, 0);
  } finally {
    console.log = log;
  }
  dirs = buildCorpus(base, root);
  dirs.set(CONTROL, base);
});

after(() => rmSync(root, { recursive: true, force: true }));

/** Runs every case through one surface in a child process; kills it after `timeoutMs`. */
async function runSurface(surface: 'predict' | 'eval' | 'library', timeoutMs: number): Promise<{ results: Map<string, CaseResult>; hung: string | null; maxRssMB: number }> {
  const casesFile = join(root, `${surface}.cases.json`);
  writeFileSync(casesFile, JSON.stringify([...dirs].map(([name, dir]) => ({ name, dir }))));
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./run-cases.ts', import.meta.url)), surface, casesFile],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HEED_QUIET: '1' } });
  let out = '';
  let stderr = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearTimeout(timer);
  const results = new Map<string, CaseResult>();
  let started: string | null = null;
  let maxRssMB = -1;
  for (const line of out.split('\n').filter((l) => l !== '')) {
    const j = JSON.parse(line);
    if (j.start !== undefined) started = j.start;
    else if (j.maxRssMB !== undefined) maxRssMB = j.maxRssMB;
    else {
      results.set(j.name, j);
      started = null;
    }
  }
  assert.ok(code === 0 || started !== null, `the ${surface} runner exited with ${code} outside any case: ${stderr.slice(-2000)}`);
  return { results, hung: started, maxRssMB };
}

for (const surface of ['predict', 'eval', 'library'] as const) {
  describe(`malformed checkpoints through ${surface === 'library' ? 'loadPredictor' : `heed ${surface}`}`, () => {
    let run: Awaited<ReturnType<typeof runSurface>>;
    before(async () => {
      run = await runSurface(surface, 300_000);
    });

    test(`no case hangs or crashes the process, and peak memory stays under ${MAX_RSS_MB} MB`, () => {
      assert.equal(run.hung, null, `case '${run.hung}' hung or killed the process`);
      assert.ok(run.maxRssMB > 0 && run.maxRssMB < MAX_RSS_MB, `peak RSS ${run.maxRssMB} MB`);
    });

    test('the undamaged model loads (the harness can tell success from failure)', () => {
      const r = run.results.get(CONTROL);
      assert.ok(r, 'control ran');
      assert.equal(r.crash, null);
      assert.equal(r.code, 0, r.err);
    });

    for (const c of CASES) {
      test(c.name, () => {
        const r = run.results.get(c.name);
        assert.ok(r, `case did not finish (${run.hung === c.name ? 'it hung' : 'an earlier case stopped the run'})`);
        assert.equal(r.crash, null, `an untyped error escaped: ${r.crash?.slice(0, 2000)}`);
        assert.notEqual(r.code, 0, 'a malformed checkpoint must not load');
        assert.equal(r.err.split('\n').length, 1, `one line, received:\n${r.err.slice(0, 2000)}`);
        const prefix = surface === 'library' ? '' : `heed ${surface}: `;
        assert.match(r.err, new RegExp(`^${prefix}(Checkpoint|Config)Error: `), r.err.slice(0, 500));
        assert.ok(r.err.length <= MAX_ERROR_CHARS, `error is ${r.err.length} characters: ${r.err.slice(0, 300)}…`);
        assert.ok(r.ms < MAX_CASE_MS, `took ${r.ms} ms`);
      });
    }
  });
}

describe('malformed checkpoints through heed serve start-up', { concurrency: 3 }, () => {
  const bin = fileURLToPath(new URL('../../bin/heed.js', import.meta.url));
  for (const name of SERVE_CASES) {
    test(name, async () => {
      const dir = dirs.get(name);
      assert.ok(dir !== undefined, `'${name}' is a corpus case`);
      const child = spawn(process.execPath, [bin, 'serve', `m=${dir}`, '--port', '0', '--workers', '1'],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HEED_QUIET: '1', HEED_API_KEYS: 'corpus-test-key-0123456789abcdef' } });
      let stderr = '';
      child.stderr.on('data', (d) => { stderr += d; });
      child.stdout.resume();
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.once('exit', (c, s) => r([c, s])));
      clearTimeout(timer);
      assert.equal(signal, null, `heed serve did not exit within 60 s on '${name}' (killed); stderr: ${stderr.slice(0, 500)}`);
      assert.notEqual(code, 0);
      const lines = stderr.split('\n').filter((l) => l.trim() !== '');
      assert.equal(lines.length, 1, `one line, received:\n${stderr.slice(0, 2000)}`);
      assert.match(lines[0], /(Checkpoint|Config)Error: /);
      assert.ok(lines[0].length <= MAX_ERROR_CHARS);
    });
  }
});

test('heed train --resume after a save was killed between its renames resumes from the newest complete copy', async () => {
  const run = join(root, 'resume');
  cpSync(base, run, { recursive: true });
  // The state a kill between `last → .last.old-*` and `.last.new-* → last` leaves: no last/.
  const dead = spawnSync('true').pid;
  renameSync(join(run, 'last'), join(run, `.last.old-${dead}-0a0a0a0a`));
  cpSync(join(run, `.last.old-${dead}-0a0a0a0a`), join(run, `.last.new-${dead}-0b0b0b0b`), { recursive: true });
  const log = console.log;
  console.log = () => undefined;
  try {
    assert.equal(await main(['train', 'g2p', '--out', run, '--resume', '--max-steps', '3', '--progress', 'none']), 0);
  } finally {
    console.log = log;
  }
  assert.equal(JSON.parse(readFileSync(join(run, 'last', 'trainer_state.json'), 'utf8')).step, 3);
  assert.deepEqual(readdirSync(run).filter((n) => n.startsWith('.last')), [], 'the staging copies are gone');
});
