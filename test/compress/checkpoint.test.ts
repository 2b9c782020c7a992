/**
 * Compressed checkpoints: a quantized model saves as safetensors (I8 weights + F32 scales) and
 * reloads through the task loader computing the same outputs bit for bit; fp16/bf16 weight storage
 * halves the file and reloads within the format's rounding; a head-pruned model reloads smaller
 * and equal; config.json's compression record is validated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from '../../src/index.ts';
import { models } from '../../src/index.ts';
import { saveCheckpoint, loadCheckpoint, type WeightsDtype } from '../../src/io/checkpoint.ts';
import { buildCheckpointModel } from '../../src/tasks/common.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';

const root = mkdtempSync(join(tmpdir(), 'heed-compress-ck-'));

function smallVit(): models.ViT {
  h.manualSeed(11);
  return new models.ViT({ numClasses: 10, dModel: 32, numHeads: 4, numLayers: 2, dimFeedforward: 64 }).eval();
}

async function save(name: string, model: models.ViT, weightsDtype?: WeightsDtype): Promise<string> {
  const dir = join(root, name);
  await saveCheckpoint(dir, { task: 'digits', runId: 'r1', config: { model: model.toConfig() }, weights: model.stateDict(), weightsDtype, compression: h.compressionOf(model) });
  return dir;
}

async function reload(dir: string): Promise<models.ViT> {
  return buildCheckpointModel(await loadCheckpoint(dir, 'digits'), 'ViT', (c) => models.ViT.fromConfig(c));
}

const images = () => { h.manualSeed(5); return h.randn([3, 1, 8, 8]); };

test('a quantized model saves int8 weights with F32 scales and reloads with outputs equal bit for bit', async () => {
  const model = smallVit();
  const res = h.quantizeDynamic(model);
  const x = images();
  const before = h.noGrad(() => model.call(x));
  const dir = await save('int8', model);
  const st = await readSafetensors(join(dir, 'model.safetensors'));
  const q = res.modules[0];
  assert.equal(st.tensors[`${q}.weight`].dtype, 'I8');
  assert.equal(st.tensors[`${q}.weightScale`].dtype, 'F32');
  assert.equal(st.tensors[`${q}.bias`].dtype, 'F32');
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.deepEqual(cfg.compression.quantized.modules, res.modules);
  const again = await reload(dir);
  assert.ok(again.namedModules().some(([, m]) => m instanceof h.nn.QuantizedLinear));
  const after = h.noGrad(() => again.call(x));
  assert.deepEqual(Array.from(after.data), Array.from(before.data));
  // and smaller than the fp32 file
  const fp32 = await save('fp32-for-int8', smallVit());
  assert.ok(statSync(join(dir, 'model.safetensors')).size < 0.5 * statSync(join(fp32, 'model.safetensors')).size);
});

for (const [dtype, tol, code] of [['float16', 2e-3, 'F16'], ['bfloat16', 2e-2, 'BF16']] as const) {
  test(`${dtype} weight storage halves the file and reloads within ${dtype}'s rounding`, async () => {
    const model = smallVit();
    const x = images();
    const before = h.noGrad(() => model.call(x));
    const full = await save(`${dtype}-full`, model);
    const half = await save(dtype, model, dtype);
    const st = await readSafetensors(join(half, 'model.safetensors'));
    assert.ok(Object.values(st.tensors).every((t) => t.dtype === code));
    const ratio = statSync(join(half, 'model.safetensors')).size / statSync(join(full, 'model.safetensors')).size;
    assert.ok(ratio > 0.49 && ratio < 0.55, `size ratio ${ratio} (data halves; the JSON header does not)`);
    const again = await reload(half);
    for (const [n, p] of again.namedParameters()) assert.equal(p.dtype, 'float32', n);
    const after = h.noGrad(() => again.call(x));
    let err = 0, scale = 0;
    for (let i = 0; i < before.size; i++) { err = Math.max(err, Math.abs(after.data[i] - before.data[i])); scale = Math.max(scale, Math.abs(before.data[i])); }
    assert.ok(err > 0 && err / scale < tol, `relative max error ${err / scale}`);
  });
}

test('float16 storage refuses a weight beyond its range instead of writing Infinity', async () => {
  const model = smallVit();
  model.head.weight.data[0] = 1e5;
  await assert.rejects(save('overflow', model, 'float16'), (e: Error) => e instanceof h.ValueError && /beyond float16's range.*bfloat16/.test(e.message));
});

test('a head-pruned model saves smaller projections and reloads equal', async () => {
  const model = smallVit();
  h.pruneHeads(model, { 'encoder.layers.0.selfAttn': [0, 2], 'encoder.layers.1.selfAttn': [3] });
  const x = images();
  const before = h.noGrad(() => model.call(x));
  const dir = await save('pruned', model);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.deepEqual(cfg.compression.prunedHeads, { 'encoder.layers.0.selfAttn': [0, 2], 'encoder.layers.1.selfAttn': [3] });
  const again = await reload(dir);
  assert.deepEqual((await loadCheckpoint(dir)).weights['encoder.layers.0.selfAttn.qProj.weight'].shape, [16, 32]);
  assert.deepEqual(Array.from(h.noGrad(() => again.call(x)).data), Array.from(before.data));
});

test('a compression record naming a missing layer, or malformed, is a CheckpointError', async () => {
  const model = smallVit();
  h.quantizeDynamic(model);
  const dir = await save('bad-record', model);
  const path = join(dir, 'config.json');
  const cfg = JSON.parse(readFileSync(path, 'utf8'));
  cfg.compression.prunedHeads = { 'encoder.layers.9.selfAttn': [0] };
  writeFileSync(path, JSON.stringify(cfg));
  await assert.rejects(reload(dir), (e: Error) => e instanceof h.CheckpointError && /compression record does not fit config.model.*not an attention layer/.test(e.message));
  cfg.compression = { quantized: { dtype: 'int4', scheme: 'dynamic', modules: [] } };
  writeFileSync(path, JSON.stringify(cfg));
  await assert.rejects(reload(dir), (e: Error) => e instanceof h.CheckpointError && /compression.quantized/.test(e.message));
  cfg.compression = { sparsity: 0.5, extra: 1 };
  writeFileSync(path, JSON.stringify(cfg));
  await assert.rejects(reload(dir), (e: Error) => e instanceof h.CheckpointError && /unknown key/.test(e.message));
});

test('an int8 checkpoint loaded into an fp32 model is a CheckpointError, not silent truncation', async () => {
  const q = smallVit();
  h.quantizeDynamic(q);
  const fp32 = smallVit();
  assert.throws(() => fp32.loadStateDict(q.stateDict()), (e: Error) => e instanceof h.CheckpointError);
  const lin = new h.nn.Linear(4, 3);
  const ql = h.nn.QuantizedLinear.fromLinear(lin);
  const sd = ql.stateDict();
  assert.throws(() => ql.loadStateDict({ ...sd, weight: h.randn([3, 4]) }), (e: Error) => e instanceof h.CheckpointError && /dtype float32.*expected int8/.test(e.message));
});
