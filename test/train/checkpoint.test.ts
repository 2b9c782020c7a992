// Checkpoint directories: atomic saves, strict loading, optimizer state round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor/tensor.js';
import { saveCheckpoint, loadCheckpoint, loadOptimizerState, readModelConfig } from '../../src/io/checkpoint.js';
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
