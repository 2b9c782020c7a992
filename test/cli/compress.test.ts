// heed compress end to end (in-process main()) on a small digits model: int8 and fp16 copies load
// and predict like the original, the input is never overwritten, and bad flags are typed errors.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.js';
import * as h from '../../src/index.ts';
import { models } from '../../src/index.ts';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import { loadPredictor } from '../../src/tasks/index.js';
import { DIGITS_TASK } from '../../src/tasks/digits.js';

const run = runCli;

const root = mkdtempSync(join(tmpdir(), 'heed-cli-compress-'));
const model = join(root, 'digits');
const image = Array.from({ length: 64 }, (_, i) => (i * 7) % 17);

before(async () => {
  h.manualSeed(3);
  const vit = new models.ViT({ numClasses: 10, dModel: 32, numHeads: 4, numLayers: 2, dimFeedforward: 64 });
  await saveCheckpoint(model, { task: 'digits', runId: 'r1', config: { ...DIGITS_TASK.spec.defaults, model: vit.toConfig() }, weights: vit.stateDict() });
});

test('heed compress --quantize int8 writes a smaller model that predicts like the original and keeps the input', async () => {
  const before = readFileSync(join(model, 'model.safetensors'));
  const r = await run('compress', model, '--quantize', 'int8', '--out', join(root, 'int8'), '--json');
  assert.equal(r.code, 0, r.err);
  const res = JSON.parse(r.out);
  assert.ok(res.bytesAfter < 0.5 * res.bytesBefore, r.out);
  assert.ok(res.quantizedModules > 0);
  assert.deepEqual(readFileSync(join(model, 'model.safetensors')), before, 'the input is untouched');
  const [a, b] = await Promise.all([loadPredictor(model), loadPredictor(join(root, 'int8'))]);
  const pa = a.predict([image])[0], pb = b.predict([image])[0];
  assert.equal(pb.output, pa.output);
  const sa = pa.alternatives!.find((x) => x.output === pa.output)!.score, sb = pb.alternatives!.find((x) => x.output === pa.output)!.score;
  assert.ok(Math.abs(sa - sb) < 0.02, `${sa} vs ${sb}`);
  // fp16 storage on top of int8, from the fp32 model
  const f = await run('compress', model, '--quantize', 'int8', '--weights', 'fp16', '--out', join(root, 'int8-fp16'), '--json');
  assert.equal(f.code, 0, f.err);
  assert.ok(JSON.parse(f.out).bytesAfter < res.bytesAfter);
  assert.equal(JSON.parse(readFileSync(join(root, 'int8-fp16', 'config.json'), 'utf8')).compression.weightsDtype, 'float16');
  assert.equal((await loadPredictor(join(root, 'int8-fp16'))).predict([image])[0].output, pa.output);
});

test('heed compress refuses bad flags, an existing --out, the input as --out, and quantizing twice, writing nothing', async () => {
  const cases: [string[], RegExp][] = [
    [['compress', model, '--quantize', 'int4', '--out', join(root, 'x1')], /ConfigError: .*--quantize 'int4', expected int8/],
    [['compress', model, '--weights', 'fp8', '--out', join(root, 'x2')], /ConfigError: .*--weights 'fp8', expected fp32, fp16 or bf16/],
    [['compress', model, '--sparsity', '1.5', '--out', join(root, 'x3')], /ConfigError: .*--sparsity '1.5'/],
    [['compress', model, '--quantize', 'int8'], /ConfigError: .*--out <new-dir> is required/],
    [['compress', model, '--out', join(root, 'x4')], /ConfigError: .*nothing to do/],
    [['compress', model, '--quantize', 'int8', '--out', model], /ConfigError: .*is the input directory/],
    [['compress', model, '--quantize', 'int8', '--bits', '4', '--out', join(root, 'x5')], /ConfigError: .*unknown flag --bits/],
    [['compress', join(root, 'missing'), '--quantize', 'int8', '--out', join(root, 'x6')], /CheckpointError: .*not a model directory/],
    [['compress', join(root, 'int8'), '--quantize', 'int8', '--out', join(root, 'x7')], /ConfigError: .*already quantized/],
  ];
  for (const [argv, re] of cases) {
    const r = await run(...argv);
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.err, re);
  }
  for (const x of ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7']) assert.ok(!existsSync(join(root, x)), `${x} was not created`);
  const taken = join(root, 'taken');
  mkdirSync(taken);
  writeFileSync(join(taken, 'notes.txt'), 'mine');
  const r = await run('compress', model, '--quantize', 'int8', '--out', taken);
  assert.equal(r.code, 1);
  assert.match(r.err, /CheckpointError: .*already exists and is not empty; heed compress never overwrites/);
  assert.deepEqual(readdirSync(taken), ['notes.txt']);
  assert.equal(readFileSync(join(taken, 'notes.txt'), 'utf8'), 'mine');
});

test('heed compress --sparsity prunes the Linear weights and records the sparsity', async () => {
  const r = await run('compress', model, '--sparsity', '0.5', '--out', join(root, 'sparse'));
  assert.equal(r.code, 0, r.err);
  const cfg = JSON.parse(readFileSync(join(root, 'sparse', 'config.json'), 'utf8'));
  assert.ok(Math.abs(cfg.compression.sparsity - 0.5) < 1e-3);
  assert.ok(statSync(join(root, 'sparse', 'model.safetensors')).size > 0);
  const p = await loadPredictor(join(root, 'sparse'));
  assert.equal(typeof p.predict([image])[0].output, 'string');
});
