// The heed CLI end to end (in-process main()): train → predict → eval on a tiny G2P model, and every
// bad input: a clear one-line error, a non-zero exit code, and nothing overwritten.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, cpSync, existsSync, rmSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { runCli } from './run-cli.js';
import { serializeSafetensors, parseSafetensors } from '../../src/io/safetensors.js';
import { G2P_TASK } from '../../src/tasks/g2p.js';
import { loadPredictor } from '../../src/tasks/index.js';
import { CheckpointError, ValueError } from '../../src/errors.js';

const run = runCli;

const root = mkdtempSync(join(tmpdir(), 'heed-cli-'));
const model = join(root, 'g2p');
const TINY = ['--d-model', '16', '--num-heads', '2', '--num-encoder-layers', '1', '--num-decoder-layers', '1', '--dim-feedforward', '32',
  '--max-steps', '3', '--eval-words', '10', '--eval-every', '0', '--warmup-steps', '1', '--max-tokens', '300', '--progress', 'none'];

/** A copy of the trained model directory to damage. */
function copy(name: string): string {
  const d = join(root, name);
  cpSync(model, d, { recursive: true });
  return d;
}

before(async () => {
  const r = await run('train', 'g2p', ...TINY, '--out', model);
  assert.equal(r.code, 0, r.err);
});

test('heed train writes a model directory that predict and eval load', async () => {
  for (const f of ['config.json', 'model.safetensors', 'graphemes.vocab.json', 'phonemes.vocab.json', 'metrics.jsonl', 'last/optimizer.safetensors', 'last/trainer_state.json']) {
    assert.ok(existsSync(join(model, f)), f);
  }
  const p = await run('predict', model, 'hello', 'World');
  assert.equal(p.code, 0, p.err);
  assert.deepEqual(p.out.split('\n').map((l) => l.split('\t')[0]), ['hello', 'World']);
  const e = await run('eval', model, '--limit', '20', '--split', 'valid');
  assert.equal(e.code, 0, e.err);
  assert.match(e.out, /WER [\d.]+%\s+PER [\d.]+%/);
  const j = await run('predict', model, 'cat', '--n-best', '2', '--json', '--attention');
  const pred = JSON.parse(j.out);
  assert.equal(pred.alternatives.length, 2);
  assert.ok(pred.attention.some((m: { kind: string }) => m.kind === 'cross'));
});

test('heed eval and predict take a comma-separated checkpoint ensemble; an empty entry is a ConfigError', async () => {
  const e = await run('eval', `${model},${model}`, '--limit', '10', '--split', 'valid');
  assert.equal(e.code, 0, e.err);
  assert.match(e.out, /ensemble of 2 models/);
  const bad = await run('eval', `${model},,${model}`);
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /empty directory name/);
  const p = await run('predict', `${model},${model}`, 'cat', '--n-best', '2');
  assert.notEqual(p.code, 0);
  assert.match(p.err, /beam search over an ensemble is not implemented/);
});

test('--resume continues the saved run', async () => {
  const r = await run('train', 'g2p', '--out', model, '--resume', '--max-steps', '5', '--progress', 'none');
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(readFileSync(join(model, 'last', 'trainer_state.json'), 'utf8')).step, 5);
});

test('--out holding a different model is refused without --overwrite, and left untouched', async () => {
  const before = readFileSync(join(model, 'model.safetensors'));
  const r = await run('train', 'g2p', ...TINY, '--out', model);
  assert.equal(r.code, 1);
  assert.match(r.err, /already holds a 'g2p' model.*--overwrite/);
  assert.equal(r.err.split('\n').length, 1);
  assert.deepEqual(readFileSync(join(model, 'model.safetensors')), before);
});

test('unknown config keys and type errors are rejected with the valid keys', async () => {
  const u = await run('train', 'g2p', '--d-modle', '3');
  assert.equal(u.code, 1);
  assert.match(u.err, /unknown flag --d-modle\. Valid flags: .*--d-model/);
  const t = await run('train', 'g2p', '--lr', 'fast');
  assert.match(t.err, /--lr \(config key 'lr'\) must be a number, received 'fast'/);
  const e = await run('train', 'g2p', '--schedule', 'zigzag');
  assert.match(e.err, /must be one of constant, linear, cosine, inverseSqrt, step/);
  const cfg = join(root, 'bad.json');
  writeFileSync(cfg, JSON.stringify({ dModel: 16, colour: 'red' }));
  const f = await run('train', 'g2p', '--config', cfg, '--out', join(root, 'never'));
  assert.match(f.err, /unknown config key 'colour'\. Valid keys: .*dModel/);
  const ty = await run('train', 'g2p', '--config', (writeFileSync(cfg, '{"dModel": "big"}'), cfg), '--out', join(root, 'never'));
  assert.match(ty.err, /'dModel' is "big", expected a number/);
  assert.ok(!existsSync(join(root, 'never')));
  assert.equal((await run('train', 'nosuchtask')).code, 1);
});

test('empty input and characters outside the vocabulary are ValueErrors naming them', async () => {
  const r = await run('predict', model, 'caf\u00e9!');
  assert.equal(r.code, 1);
  assert.match(r.err, /ValueError: g2p: input "café!" contains character\(s\) "é", "!" outside the model's alphabet/);
  const e = await run('predict', model, '  ');
  assert.match(e.err, /empty word/);
  const p = await loadPredictor(model);
  assert.throws(() => p.validateInput(''), ValueError);
  assert.throws(() => p.validateInput(42), /must be a word/);
});

test('a truncated or missing weights file is a CheckpointError naming the file', async () => {
  const d = copy('truncated');
  truncateSync(join(d, 'model.safetensors'), statSync(join(d, 'model.safetensors')).size - 10);
  const r = await run('predict', d, 'hello');
  assert.equal(r.code, 1);
  assert.match(r.err, /CheckpointError: .*truncated.*model\.safetensors|model\.safetensors.*truncated/);
  rmSync(join(d, 'model.safetensors'));
  assert.match((await run('eval', d)).err, /model\.safetensors: missing/);
  const m = copy('noconfig');
  rmSync(join(m, 'config.json'));
  assert.match((await run('predict', m, 'hi')).err, /config\.json: missing\. .* is not a heed model directory/);
  const v = copy('novocab');
  rmSync(join(v, 'phonemes.vocab.json'));
  assert.match((await run('predict', v, 'hi')).err, /phonemes\.vocab\.json: missing \(config\.json names it as the 'tgtVocab' file\)/);
});

test('wrong dtype and a config that does not match the weights are rejected', async () => {
  // F16/BF16 (weight-only storage) and I8 (quantized layers) load; an integer dtype for a float weight does not.
  const d = copy('i32');
  const st = parseSafetensors(readFileSync(join(d, 'model.safetensors')));
  const i32: Record<string, { dtype: 'I32'; shape: number[]; data: Int32Array }> = {};
  for (const [k, t] of Object.entries(st.tensors)) i32[k] = { dtype: 'I32', shape: t.shape, data: new Int32Array(t.data.length) };
  writeFileSync(join(d, 'model.safetensors'), serializeSafetensors(i32));
  assert.match((await run('predict', d, 'hi')).err, /has dtype I32, expected F32, F16 or BF16 \(float weights\) or I8/);
  const c = copy('mismatch');
  const cfg = JSON.parse(readFileSync(join(c, 'config.json'), 'utf8'));
  cfg.config.model.dimFeedforward = 64;
  writeFileSync(join(c, 'config.json'), JSON.stringify(cfg));
  const r = await run('predict', c, 'hi');
  assert.equal(r.code, 1);
  assert.match(r.err, /model\.safetensors does not match .*config\.json.*shape/);
});

test('a model directory used with the wrong task is refused', async () => {
  const d = copy('wrongtask');
  const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
  cfg.task = 'digits';
  writeFileSync(join(d, 'config.json'), JSON.stringify(cfg));
  writeFileSync(join(d, 'last', 'config.json'), JSON.stringify(cfg));
  await assert.rejects(() => G2P_TASK.loadPredictor(d), (e: Error) => e instanceof CheckpointError && /this is a 'digits' model, expected a 'g2p' model/.test(e.message));
  const r = await run('train', 'g2p', '--out', d, '--resume');
  assert.equal(r.code, 1);
  assert.match(r.err, /holds a 'digits' run, not 'g2p'/);
});

test('the real process: predict reads stdin one input per line; errors exit 1 with one line and no stack trace', () => {
  const bin = new URL('../../bin/heed.js', import.meta.url).pathname;
  const env = { ...process.env, HEED_QUIET: '1' };
  const ok = spawnSync(process.execPath, [bin, 'predict', model], { input: 'hello\n\nworld\n', env, encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(ok.stdout.trim().split('\n').map((l) => l.split('\t')[0]), ['hello', 'world']);
  const bad = spawnSync(process.execPath, [bin, 'predict', join(root, 'nope'), 'x'], { env, encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
});

test('the real process: a real SIGINT mid-training saves <out>/last and exits 130 within a step or two', async () => {
  const bin = new URL('../../bin/heed.js', import.meta.url).pathname;
  const out = join(root, 'sigint');
  const args = [bin, 'train', 'g2p', ...TINY.filter((a, i) => a !== '--max-steps' && TINY[i - 1] !== '--max-steps' && a !== '--progress' && TINY[i - 1] !== '--progress'),
    '--max-steps', '1000000', '--progress', 'plain', '--log-every', '1', '--out', out];
  const child = spawn(process.execPath, args, { env: { ...process.env, HEED_QUIET: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let sentAt = 0;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!sentAt && /step 5\b/.test(stdout)) {
      sentAt = Date.now();
      child.kill('SIGINT'); // a real signal, delivered by the OS, not process.emit
    }
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000); // never leave a training process behind
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(guard);
  assert.ok(sentAt > 0, `training never reached step 5: ${stdout.slice(-300)}`);
  assert.equal(code, 130);
  assert.ok(Date.now() - sentAt < 20_000, `exit took ${Date.now() - sentAt} ms after SIGINT`);
  assert.ok(existsSync(join(out, 'last', 'model.safetensors')), 'the interrupted run left no checkpoint');
});
