// heed demo, shortened (--seconds 3 --test-words 10): the full story in one command, and its --out safety.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.js';

const run = runCli;

test('heed demo trains, reports WER/PER, pronounces real and made-up words, saves the model; reruns replace only a demo', async () => {
  const root = mkdtempSync(join(tmpdir(), 'heed-demo-'));
  const out = join(root, 'demo');
  const r = await run('demo', '--seconds', '3', '--test-words', '10', '--out', out, '--progress', 'none');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /g2p test: 10 of \d+ words/);
  assert.match(r.out, /WER [\d.]+%\s+PER [\d.]+%/);
  assert.match(r.out, /blorptastic .*\(made-up word\)/);
  assert.match(r.out, new RegExp(`Model saved to ${out}`));
  const again = await run('demo', '--seconds', '2', '--test-words', '5', '--out', out, '--progress', 'none');
  assert.equal(again.code, 0, again.err);
  // a directory holding another (non-demo) model is refused
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  cfg.runId = 'someone-else';
  writeFileSync(join(out, 'config.json'), JSON.stringify(cfg));
  const refused = await run('demo', '--seconds', '2', '--out', out);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /already holds a 'g2p' model from run someone-else; refusing to replace it/);
  const foreign = join(root, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'thesis.tex'), 'x');
  assert.equal((await run('demo', '--out', foreign, '--overwrite')).code, 1);
  assert.equal(readFileSync(join(foreign, 'thesis.tex'), 'utf8'), 'x');
});
