// Checkpoint directories: atomic and crash-recoverable saves, strict loading, optimizer state round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync, readFileSync, existsSync, mkdirSync, renameSync, cpSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor/tensor.js';
import { saveCheckpoint, loadCheckpoint, loadOptimizerState, readModelConfig, recoverCheckpoint } from '../../src/io/checkpoint.js';
import { AdamW } from '../../src/train/optim/index.js';
import { CheckpointError } from '../../src/errors.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'heed-ckpt-'));
const w = () => new Tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], true);

test('save then load returns the same weights, config, files and optimizer state', async () => {
  const dir = join(tmp(), 'model');
  const p = w();
  const opt = new AdamW([['layer.weight', p]], { lr: 0.1 });
  p.grad = new Tensor(Float32Array.from([1, 1, 1, 1, 1, 1]), [2, 3]);
  opt.step();
  await saveCheckpoint(dir, {
    task: 'toy', runId: 'r1', config: { dModel: 3 }, weights: { 'layer.weight': p },
    files: { vocab: { name: 'toy.vocab.json', json: { tokens: ['a'] } } }, optimizer: opt.stateDict(), trainerState: { step: 1 },
  });
  const c = await loadCheckpoint(dir, 'toy');
  assert.deepEqual(c.config, { dModel: 3 });
  assert.deepEqual([...c.weights['layer.weight'].data], [...p.data]);
  assert.ok(c.files.vocab.endsWith('toy.vocab.json'));
  const o = await loadOptimizerState(dir);
  assert.deepEqual(o.steps, { 'layer.weight': 1 });
  assert.deepEqual([...o.buffers['layer.weight.expAvg'].data], [...opt.stateDict().buffers['layer.weight.expAvg'].data]);
  assert.equal(readModelConfig(dir).runId, 'r1');
});

test('saving over a checkpoint replaces it whole and leaves no temporary directories', async () => {
  const parent = tmp();
  const dir = join(parent, 'model');
  await saveCheckpoint(dir, { task: 'toy', runId: 'a', config: {}, weights: { x: w() }, trainerState: { step: 1 } });
  await saveCheckpoint(dir, { task: 'toy', runId: 'a', config: { v: 2 }, weights: { x: w() } });
  assert.deepEqual(readdirSync(parent), ['model']);
  assert.ok(!existsSync(join(dir, 'trainer_state.json')), 'files of the old checkpoint are gone');
  assert.deepEqual((await loadCheckpoint(dir)).config, { v: 2 });
});

test('a corrupt config.json, a wrong format and a missing directory are CheckpointErrors naming the file', async () => {
  const dir = join(tmp(), 'model');
  await saveCheckpoint(dir, { task: 'toy', runId: 'a', config: {}, weights: { x: w() } });
  writeFileSync(join(dir, 'config.json'), '{"format": "heed.model", "version": 1, "task"');
  await assert.rejects(() => loadCheckpoint(dir), (e: Error) => e instanceof CheckpointError && e.message.includes('config.json') && /not valid JSON/.test(e.message));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ format: 'other', version: 1 }));
  await assert.rejects(() => loadCheckpoint(dir), /format is "other", expected "heed.model"/);
  await assert.rejects(() => loadCheckpoint(join(dir, 'nope')), /is not a model directory/);
  assert.ok(readFileSync(join(dir, 'model.safetensors')).length > 8);
});

// ---------------------------------------------------------------------------------------------
// Crash safety: a save SIGKILLed at each point of its swap leaves a directory resume can use.

/** Saves value `v` into dir in a child process killed at `killPoint`; returns its exit signal. */
function saveInChild(dir: string, v: number, killPoint: 'write' | 'complete' | 'aside' | 'none'): string | null {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'crash-save.ts'), dir, String(v), killPoint], { encoding: 'utf8', timeout: 60_000 });
  if (killPoint === 'none') assert.equal(r.status, 0, r.stderr);
  return r.signal;
}

const valueOf = async (dir: string) => (await loadCheckpoint(dir)).config.value;

for (const [killPoint, expected, what] of [
  ['write', 1, 'while writing the new copy: the old copy stays'],
  ['complete', 2, 'after the new copy is complete: the new copy is promoted'],
  ['aside', 2, 'between the two renames (no last/ left): the new copy is promoted'],
] as const) {
  test(`a save killed ${what}, and the next save cleans up`, async () => {
    const parent = tmp();
    const dir = join(parent, 'last');
    saveInChild(dir, 1, 'none');
    assert.equal(saveInChild(dir, 2, killPoint), 'SIGKILL');
    assert.ok(readdirSync(parent).some((n) => n.startsWith('.last.')), 'the killed save left a staging directory');
    if (killPoint === 'aside') assert.ok(!existsSync(dir), 'no last/ between the renames');
    await recoverCheckpoint(dir);
    assert.equal(await valueOf(dir), expected);
    assert.deepEqual(readdirSync(parent), ['last'], 'recovery removed every staging directory');
    // A crash again, then a plain save: it recovers first and leaves only its own copy.
    assert.equal(saveInChild(dir, 3, killPoint), 'SIGKILL');
    await saveCheckpoint(dir, { task: 'toy', runId: 'crash', config: { value: 4 }, weights: { w: w() } });
    assert.equal(await valueOf(dir), 4);
    assert.deepEqual(readdirSync(parent), ['last']);
  });
}

test('heed 0.1 leftovers (.last.tmp-*.old beside a complete .last.tmp-*) are recovered', async () => {
  const parent = tmp();
  const dir = join(parent, 'last');
  await saveCheckpoint(dir, { task: 'toy', runId: 'a', config: { value: 1 }, weights: { x: w() } });
  const dead = spawnSync('true').pid; // a process id that no longer runs
  const stage = join(parent, `.last.tmp-${dead}-0a1b2c3d`);
  cpSync(dir, stage, { recursive: true });
  writeFileSync(join(stage, 'config.json'), readFileSync(join(dir, 'config.json'), 'utf8').replace('"value": 1', '"value": 2'));
  renameSync(dir, `${stage}.old`);
  assert.equal(await recoverCheckpoint(dir), stage);
  assert.equal(await valueOf(dir), 2);
  assert.deepEqual(readdirSync(parent), ['last']);
});

test('recovery leaves the staging directories of another running process alone', async () => {
  const parent = tmp();
  const dir = join(parent, 'last');
  await saveCheckpoint(dir, { task: 'toy', runId: 'a', config: { value: 1 }, weights: { x: w() } });
  const live = join(parent, `.last.tmp-${process.ppid}-0a1b2c3d`); // the test runner: alive
  mkdirSync(live);
  await recoverCheckpoint(dir);
  assert.ok(existsSync(live));
});
