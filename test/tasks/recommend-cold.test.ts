/**
 * The cold-item remedies of the fused SASRec: item-ID dropout (training only) and content-only
 * rare items (gated by TRAIN interaction counts only), from the mask to a trained checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { RECOMMEND_TASK } from '../../src/tasks/recommend.js';
import { evaluate } from '../../src/tasks/index.js';
import { resolveTaskConfig } from '../../src/tasks/common.js';
import { loadCheckpoint } from '../../src/io/checkpoint.js';
import { loadMovieTweetings, trainItemCounts } from '../../src/data/movietweetings.js';
import { SASRec } from '../../src/models/sasrec.js';
import { itemIdMask } from '../../src/models/item-side-fusion.js';
import { Generator, manualSeed } from '../../src/tensor/rng.js';
import { noGrad } from '../../src/autograd/mode.js';
import { ConfigError, ShapeError, ValueError } from '../../src/errors.js';

const counts = [0, 1, 5, 9, 10, 30]; // item 0 = padding

test('itemIdMask: at evaluation, content-only items are exactly those under the threshold; in training only if asked', () => {
  const gen = new Generator(0);
  const m = itemIdMask({ rows: 6, counts, contentOnlyBelow: 10, contentOnlyInTraining: false, idDropout: 0, training: false, generator: gen })!;
  assert.deepEqual(m.shape, [6, 1]);
  assert.deepEqual(Array.from(m.data), [1, 0, 0, 0, 1, 1], 'padding kept; counts 1, 5, 9 < 10 dropped; 10 and 30 kept');
  assert.equal(itemIdMask({ rows: 6, counts, contentOnlyBelow: 10, contentOnlyInTraining: false, idDropout: 0, training: true, generator: gen }), null, 'DropoutNet: the gate is for inference');
  const always = itemIdMask({ rows: 6, counts, contentOnlyBelow: 10, contentOnlyInTraining: true, idDropout: 0, training: true, generator: gen })!;
  assert.deepEqual(Array.from(always.data), [1, 0, 0, 0, 1, 1]);
  assert.equal(itemIdMask({ rows: 6, counts, contentOnlyBelow: 0, contentOnlyInTraining: true, idDropout: 0, training: false, generator: gen }), null);
});

test('itemIdMask: ID dropout acts only in training, drops about p of the items, never the padding row', () => {
  const rows = 20001;
  assert.equal(itemIdMask({ rows, contentOnlyBelow: 0, contentOnlyInTraining: false, idDropout: 0.3, training: false, generator: new Generator(0) }), null, 'no dropout at evaluation');
  const m = itemIdMask({ rows, contentOnlyBelow: 0, contentOnlyInTraining: false, idDropout: 0.3, training: true, generator: new Generator(1) })!;
  assert.equal(m.data[0], 1);
  const dropped = Array.from(m.data).filter((v) => v === 0).length / (rows - 1);
  assert.ok(Math.abs(dropped - 0.3) < 0.02, `dropped fraction ${dropped}`);
  assert.ok(Array.from(m.data).every((v) => v === 0 || v === 1), 'not rescaled: a dropped item is content only, a kept one its plain ID');
  const again = itemIdMask({ rows, contentOnlyBelow: 0, contentOnlyInTraining: false, idDropout: 0.3, training: true, generator: new Generator(1) })!;
  assert.deepEqual(again.data, m.data, 'the same generator state draws the same items');
  assert.throws(() => itemIdMask({ rows: 6, contentOnlyBelow: 3, contentOnlyInTraining: false, idDropout: 0, training: false, generator: new Generator(0) }), ValueError);
  assert.throws(() => itemIdMask({ rows: 7, counts, contentOnlyBelow: 3, contentOnlyInTraining: false, idDropout: 0, training: false, generator: new Generator(0) }), ShapeError);
});

const tiny = { numItems: 5, maxLen: 4, dModel: 8, numHeads: 2, numLayers: 1, dimFeedforward: 8, dropout: 0, fusion: 'attention' as const, numGenres: 2 };

test('SASRec: ID dropout changes the item table in training only; evaluation is deterministic and uses every ID', () => {
  manualSeed(0);
  const m = new SASRec({ ...tiny, idDropout: 0.5 });
  const plain = new SASRec({ ...tiny });
  plain.loadStateDict(m.stateDict());
  m.eval();
  plain.eval();
  const evalTable = noGrad(() => m.itemTable()).data;
  assert.deepEqual(evalTable, noGrad(() => plain.itemTable()).data, 'at evaluation idDropout is a no-op');
  m.train();
  const trainTable = noGrad(() => m.itemTable()).data;
  assert.notDeepEqual(trainTable, evalTable, 'in training some items lose their ID embedding');
});

test('SASRec: at evaluation an item under contentOnlyBelow does not depend on its ID embedding; a warm item does', () => {
  manualSeed(0);
  const m = new SASRec({ ...tiny, contentOnlyBelow: 10 });
  m.setItemCounts(counts); // items 1–3 cold, 4–5 warm
  m.eval();
  const before = noGrad(() => m.itemTable()).data.slice();
  m.train();
  const trained = noGrad(() => m.itemTable()).data.slice();
  m.eval();
  for (const item of [2, 5]) for (let d = 0; d < 8; d++) m.itemEmbed.data[item * 8 + d] += 1;
  const after = noGrad(() => m.itemTable()).data;
  const row = (t: Float32Array, i: number) => Array.from(t.subarray(i * 8, (i + 1) * 8));
  assert.deepEqual(row(after, 2), row(before, 2), 'cold item 2: content only');
  assert.notDeepEqual(row(after, 5), row(before, 5), 'warm item 5: its ID embedding counts');
  assert.notDeepEqual(row(trained, 2), row(before, 2), 'in training (dropout 0, no contentOnlyInTraining) the cold item keeps its ID');
  assert.throws(() => m.setItemCounts([1, 2]), ShapeError);
  assert.throws(() => m.setItemCounts([0, 1, -1, 3, 4, 5]), ValueError);
  assert.throws(() => new SASRec({ ...tiny }).setItemCounts(counts), ValueError, 'a model without the gate keeps no counts');
});

test('SASRec config: the cold-item options need fusion and valid values', () => {
  assert.throws(() => new SASRec({ ...tiny, fusion: 'none', idDropout: 0.2 }), /need item side information/);
  assert.throws(() => new SASRec({ ...tiny, fusion: 'none', contentOnlyBelow: 5 }), ConfigError);
  assert.throws(() => new SASRec({ ...tiny, idDropout: 1 }), ConfigError);
  assert.throws(() => new SASRec({ ...tiny, contentOnlyBelow: 2.5 }), ConfigError);
  assert.throws(() => resolveTaskConfig(RECOMMEND_TASK.spec, { idDropout: 'high' }), ConfigError);
});

test('the recommend task gates on the train parts\' counts only, saves them, and evaluates the checkpoint', async () => {
  const root = mkdtempSync(join(tmpdir(), 'heed-recommend-cold-'));
  const dataDir = join(root, 'data');
  mkdirSync(dataDir);
  // 30 users × 6 ratings over 12 movies: the last two ratings of each user are validation and test
  const ratings: string[] = [];
  for (let u = 1; u <= 30; u++) for (let k = 0; k < 6; k++) ratings.push(`${u}::${String(101 + ((u * (k + 1)) % 12)).padStart(7, '0')}::7::${1000 * u + k}`);
  const movies = Array.from({ length: 12 }, (_, i) => `${String(101 + i).padStart(7, '0')}::Film ${['Red', 'Blue'][i % 2]} ${i} (${2000 + (i % 3)})::${i % 2 ? 'Drama' : 'Comedy'}`);
  writeFileSync(join(dataDir, 'movietweetings-100k.ratings.dat.gz'), gzipSync(ratings.join('\n')));
  writeFileSync(join(dataDir, 'movietweetings-100k.movies.dat.gz'), gzipSync(movies.join('\n')));
  const out = join(root, 'model');
  await RECOMMEND_TASK.train({
    dataDir, dModel: 8, numHeads: 2, numLayers: 1, dimFeedforward: 8, maxLen: 4, batchSize: 8, maxSteps: 2, evalEvery: 0, warmupSteps: 1,
    fusion: 'attention', objective: 'softmax', idDropout: 0.5, contentOnlyBelow: 15,
  }, { out, runId: 'c', progress: 'none', print: () => {} });
  const ck = await loadCheckpoint(out, 'recommend');
  const saved = Array.from(ck.weights.itemCounts.data);
  const data = loadMovieTweetings({ dir: dataDir });
  assert.deepEqual(saved, Array.from(trainItemCounts(data)), 'the saved counts are the train parts\'');
  const all = new Array(data.numItems + 1).fill(0);
  for (let u = 0; u < data.train.length; u++) for (const i of [...data.train[u], data.valid[u], data.test[u]]) if (i > 0) all[i]++;
  assert.notDeepEqual(saved, all, 'validation and test items are not counted');
  const r = await evaluate(out, { split: 'valid' });
  assert.ok(r.metrics.users > 0 && r.metrics.hr10 >= 0 && r.metrics.hr10 <= 1);
  assert.match(r.report, /content only below 15/);
});
