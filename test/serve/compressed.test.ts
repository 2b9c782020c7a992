/**
 * heed serve serves compressed models: an int8 copy (safetensors I8 + F32 scales) and an int8 +
 * float16 copy made by `heed compress` load in a worker thread and answer what the in-process
 * predictor of the same directory answers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from '../../src/index.ts';
import { models } from '../../src/index.ts';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import { DIGITS_TASK } from '../../src/tasks/digits.js';
import { compressModelDir } from '../../src/tasks/compress.js';
import { loadPredictor } from '../../src/tasks/index.js';
import { createServer, type HeedServer } from '../../src/serve/server.js';
import { API_KEY, auth } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'heed-serve-compressed-'));
let server: HeedServer;
const images = [Array.from({ length: 64 }, (_, i) => (i * 5) % 16), Array.from({ length: 64 }, (_, i) => (i * 11) % 13)];

before(async () => {
  h.manualSeed(9);
  const vit = new models.ViT({ numClasses: 10, dModel: 32, numHeads: 4, numLayers: 2, dimFeedforward: 64 });
  await saveCheckpoint(join(root, 'fp32'), { task: 'digits', runId: 'r', config: { ...DIGITS_TASK.spec.defaults, model: vit.toConfig() }, weights: vit.stateDict() });
  await compressModelDir(join(root, 'fp32'), join(root, 'int8'), { quantize: 'int8' });
  await compressModelDir(join(root, 'fp32'), join(root, 'int8-fp16'), { quantize: 'int8', weights: 'float16' });
  server = createServer({ models: [{ name: 'int8', dir: join(root, 'int8') }, { name: 'half', dir: join(root, 'int8-fp16') }], apiKeys: [API_KEY], logger: false, config: { port: 0, workers: 1 } });
  await server.ready;
});
after(async () => server?.close());

for (const name of ['int8', 'half']) {
  test(`a compressed model (${name}) is served with the in-process predictor's answers`, async () => {
    const local = (await loadPredictor(join(root, name === 'half' ? 'int8-fp16' : 'int8'))).predict(images);
    const r = await server.app.inject({ method: 'POST', url: `/v1/models/${name}/predict`, headers: auth, payload: { inputs: images } });
    assert.equal(r.statusCode, 200, r.body);
    const got = r.json().predictions as { output: string; alternatives: { output: string; score: number }[] }[];
    assert.deepEqual(got.map((p) => p.output), local.map((p) => p.output));
    got.forEach((p, i) => p.alternatives.forEach((a, j) => assert.ok(Math.abs(a.score - local[i].alternatives![j].score) < 1e-6)));
  });
}
