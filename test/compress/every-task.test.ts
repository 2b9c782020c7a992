/**
 * heed export onnx and heed compress on every built-in task family beyond g2p / spam / digits
 * (test/compress/onnx-tasks.test.ts), through the CLI as a user runs them, on tiny trained models:
 *   recommend (SASRec with item-side fusion), forecast (PatchTST), mlm (MaskedLM), clm (GPT),
 *   the classify, tag (CRF) and seq2seq templates, the CNN of fashion / continual, and a Hugging
 *   Face directory. Each exported graph runs in onnxruntime-node and equals heed to 1e-4; each
 *   compressed copy (int8, fp16 storage, sparsity, head pruning) reloads and predicts.
 * And the bad inputs: quantizing twice, pruning more heads than a layer has, pruning a
 * model without attention, exporting an int8 model (the op and module path are named), and no
 * half-written output directory after a failure.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import * as h from '../../src/index.ts';
import { heed } from '../tasks/run-cli.ts';
import { loadPredictor, loadTaskModel } from '../../src/tasks/index.ts';
import { compressModelDir } from '../../src/tasks/compress.ts';
import { exportOnnx } from '../../src/compress/onnx/export.ts';
import { saveCheckpoint } from '../../src/io/checkpoint.ts';
import { formatTimestamp } from '../../src/data/timeseries.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { noGrad } from '../../src/autograd/mode.ts';
import { eq } from '../../src/ops/elementwise.ts';
import { CnnClassifier } from '../../src/models/cnn.ts';
import type { SASRec } from '../../src/models/sasrec.ts';
import type { PatchTSTForecaster } from '../../src/models/forecaster.ts';
import type { WordTagger } from '../../src/models/word-tagger.ts';
import { ConfigError, OnnxExportError, ValueError } from '../../src/errors.ts';

const root = mkdtempSync(join(tmpdir(), 'heed-every-task-'));
const TINY = ['--d-model', '16', '--num-heads', '2', '--num-layers', '1', '--dim-feedforward', '32', '--warmup-steps', '1', '--eval-every', '0', '--progress', 'none'];
const file = (name: string, text: string): string => {
  const p = join(root, name);
  writeFileSync(p, text);
  return p;
};
const dirs = {
  recommend: join(root, 'recommend'), forecast: join(root, 'forecast'), mlm: join(root, 'mlm'), clm: join(root, 'clm'),
  classify: join(root, 'classify'), tag: join(root, 'tag'), seq2seq: join(root, 'seq2seq'), fashionSe: join(root, 'fashion-se'), fashionMhsa: join(root, 'fashion-mhsa'),
};

async function ok(...args: string[]): Promise<string> {
  const r = await heed(...args);
  assert.equal(r.code, 0, `heed ${args.join(' ')}:\n${r.out}`);
  return r.out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const ortOf = (t: Tensor) => new ort.Tensor(t.dtype === 'int32' ? 'int32' : 'float32', t.data as Int32Array | Float32Array, t.shape);

/**
 * heed export onnx <dir>, then the single graph run on `feeds` (graph inputs not given, a GPT's
 * past key/values, get zero-length tensors); returns output `name`.
 */
async function exportAndRun(dir: string, feeds: Record<string, Tensor>, name: string): Promise<Float32Array> {
  const out = join(root, `${dir.split('/').pop()}.onnx`);
  await ok('export', 'onnx', dir, '--out', out);
  const s = await ort.InferenceSession.create(out, { intraOpNumThreads: 1 });
  const all: Record<string, ort.Tensor> = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, ortOf(v)]));
  const B = Object.values(feeds)[0].shape[0];
  for (const input of s.inputNames.filter((n) => !(n in all))) {
    const m = /^past_(key|value)_(\d+)$/.exec(input);
    assert.ok(m, `unexpected graph input ${input}`);
    const [H, hd] = [2, 8]; // TINY: 2 heads of 16 / 2
    all[input] = new ort.Tensor('float32', new Float32Array(0), [B, H, 0, hd]);
  }
  return (await s.run(all))[name].data as Float32Array;
}

before(async () => {
  // recommend: 40 users walking a 20-film catalogue (MovieTweetings format), with item-side fusion.
  const dataDir = join(root, 'movies');
  mkdirSync(dataDir);
  const GENRES = ['Drama', 'Comedy', 'Action'];
  const ratings: string[] = [];
  for (let u = 1; u <= 40; u++) for (let k = 0; k < 8; k++) ratings.push(`${u}::${String(101 + ((u + 2 * k) % 20)).padStart(7, '0')}::7::${1000 * u + k}`);
  const movies = Array.from({ length: 20 }, (_, i) => `${String(101 + i).padStart(7, '0')}::Film ${['Red', 'Blue'][i % 2]} ${i} (${2000 + (i % 4)})::${GENRES[i % 3]}`);
  writeFileSync(join(dataDir, 'movietweetings-100k.ratings.dat.gz'), gzipSync(ratings.join('\n')));
  writeFileSync(join(dataDir, 'movietweetings-100k.movies.dat.gz'), gzipSync(movies.join('\n')));
  await ok('train', 'recommend', '--data-dir', dataDir, '--fusion', 'attention', '--title-layers', '1', '--title-max-len', '5', '--max-len', '6', '--batch-size', '8', '--max-steps', '2', ...TINY, '--out', dirs.recommend);

  // forecast: two daily series over 420 days.
  const day = (t: number) => formatTimestamp(Date.UTC(2020, 0, 1 + t));
  const csv = file('sales.csv', ['date,a,b', ...Array.from({ length: 420 }, (_, t) => `${day(t)},${(100 + 10 * Math.sin((2 * Math.PI * t) / 7) + t / 20).toFixed(3)},${(50 + (t % 7 === 5 ? 20 : 0) + ((t * 7919) % 13) / 4).toFixed(3)}`)].join('\n') + '\n');
  await ok('train', 'forecast', '--data', csv, '--context-length', '28', '--horizon', '14', '--horizons', '7,14', '--patch-length', '7', '--patch-stride', '7', '--head-dim', '8',
    '--valid-steps', '56', '--test-steps', '56', '--max-steps', '2', '--batch-size', '16', '--ridge-lags', '1-14', ...TINY, '--out', dirs.forecast);

  // mlm and clm: pretraining on a small text.
  const text = file('text.txt', Array.from({ length: 60 }, (_, i) => `the whale number ${i % 7} swam past the ship and the sailors saw it.`).join(' '));
  for (const task of ['mlm', 'clm'] as const) {
    const flags = task === 'clm' ? TINY.filter((f, i) => f !== '--dim-feedforward' && TINY[i - 1] !== '--dim-feedforward') : TINY; // clm sizes its MLP itself
    await ok('pretrain', task, '--text-files', text, '--corpus', '', '--max-len', '24', '--batch-size', '4', '--max-steps', '2', ...flags, '--out', dirs[task]);
  }

  // The three templates on user files.
  const rows = ['text,label', ...Array.from({ length: 60 }, (_, i) => `${['good film', 'bad plot', 'fine acting'][i % 3]} ${i},${['pos', 'neg', 'neutral'][i % 3]}`)];
  await ok('train', 'classify', '--train', file('train.csv', rows.join('\n') + '\n'), '--max-steps', '2', '--batch-size', '16', ...TINY, '--out', dirs.classify);
  const conll = Array.from({ length: 30 }, (_, i) => `${['Alice', 'Bob'][i % 2]}\tB-PER\nflew\tO\nto\tO\n${['Paris', 'Oslo'][i % 2]}\tB-LOC\n`).join('\n');
  await ok('train', 'tag', '--train', file('train.conll', conll), '--valid', file('dev.conll', conll), '--crf', '--char-buckets', '32', '--max-steps', '2', '--batch-size', '8', ...TINY, '--out', dirs.tag);
  const pairs = ['cat', 'dog', 'bird', 'fish', 'mouse', 'horse'].map((w) => `${w}\t${[...w].reverse().join(' ')}`);
  await ok('train', 'seq2seq', '--train', file('pairs.tsv', pairs.join('\n') + '\n'), '--valid', file('dev.tsv', pairs.join('\n') + '\n'), '--max-steps', '2', '--batch-size', '4', ...TINY, '--out', dirs.seq2seq);

  // The fashion / continual CNN (the Fashion-MNIST files are a Debian package that may be absent):
  // a model directory in the tasks' layout, with BatchNorm statistics away from their init.
  for (const [dir, attention] of [[dirs.fashionSe, 'se'], [dirs.fashionMhsa, 'mhsa']] as const) {
    h.manualSeed(2);
    const cnn = new CnnClassifier({ numClasses: 10, width: 8, attention, numHeads: 2 });
    for (const [name, t] of Object.entries(cnn.stateDict())) {
      if (name.endsWith('runningVar')) (t.data as Float32Array).set(h.rand(t.shape).data as Float32Array);
      if (name.endsWith('runningMean')) (t.data as Float32Array).set(h.randn(t.shape).data as Float32Array);
    }
    await saveCheckpoint(dir, { task: 'fashion', runId: 't', config: { model: cnn.toConfig() }, weights: cnn.stateDict() });
  }
});

test('recommend: the exported SASRec scoring graph (item-side fusion precomputed) equals scoreNext; int8 + head pruning reloads and recommends', async () => {
  const { model } = await loadTaskModel(dirs.recommend) as { model: SASRec };
  const ids = new Tensor(Int32Array.from([1, 2, 3, 4, 5, 0, 0, 0]), [2, 4]), lengths = new Tensor(Int32Array.from([4, 1]), [2]);
  const scores = await exportAndRun(dirs.recommend, { item_ids: ids, lengths }, 'scores');
  assert.ok(maxAbsDiff(scores, noGrad(() => model.scoreNext(ids, Int32Array.from([4, 1]))).data) < 1e-4);
  const out = join(root, 'recommend-int8');
  assert.match(await ok('compress', dirs.recommend, '--out', out, '--quantize', 'int8', '--prune-heads', '1'), /heads pruned, \d+ int8 layers/);
  const p = await loadPredictor(out);
  const [r] = p.predict(['0000101 0000103'], { nBest: 3 });
  assert.match(String(r.output), /^Film /);
  assert.equal(r.alternatives?.length, 3);
});

test('forecast: the exported PatchTST equals heed; fp16 storage + int8 reload and forecast', async () => {
  const { model, sampleInputs } = await loadTaskModel(dirs.forecast) as { model: PatchTSTForecaster; sampleInputs: Tensor[] };
  const [context, calendar] = sampleInputs;
  const q = await exportAndRun(dirs.forecast, { context, calendar }, 'quantiles');
  const expected = noGrad(() => model.forward(context, calendar)).data;
  assert.ok(maxAbsDiff(q, expected) < 1e-4 * Math.max(1, ...Array.from(expected, Math.abs)));
  const out = join(root, 'forecast-small');
  await ok('compress', dirs.forecast, '--out', out, '--weights', 'fp16', '--quantize', 'int8');
  const p = await loadPredictor(out);
  assert.ok(p.predict([formatTimestamp(Date.UTC(2020, 0, 390))])[0].output);
});

test('mlm and clm: MaskedLM and GPT export and equal heed; sparsity + int8 copies reload and predict', async () => {
  const ids = new Tensor(Int32Array.from([3, 4, 5, 6, 7, 8]), [1, 6]);
  const { model: mlm } = await loadTaskModel(dirs.mlm);
  assert.ok(maxAbsDiff(await exportAndRun(dirs.mlm, { input_ids: ids }, 'logits'), noGrad(() => (mlm as h.models.MaskedLM).forward(ids)).data) < 1e-4);
  const { model: clm } = await loadTaskModel(dirs.clm);
  assert.ok(maxAbsDiff(await exportAndRun(dirs.clm, { input_ids: ids }, 'logits'), noGrad(() => (clm as h.models.GPT).forward(ids)).data) < 1e-4);
  for (const task of ['mlm', 'clm'] as const) {
    const out = join(root, `${task}-small`);
    await ok('compress', dirs[task], '--out', out, '--sparsity', '0.5', '--quantize', 'int8', '--prune-heads', '0.5');
    const [pred] = (await loadPredictor(out)).predict([task === 'mlm' ? 'the <mask> swam' : 'the whale']);
    assert.ok(pred.output !== undefined);
  }
});

test('classify, tag (CRF) and seq2seq templates export and compress', async () => {
  const { model: clf } = await loadTaskModel(dirs.classify);
  const ids = new Tensor(Int32Array.from([4, 5, 6, 7, 0, 0]), [2, 3]);
  assert.ok(maxAbsDiff(await exportAndRun(dirs.classify, { input_ids: ids }, 'logits'), noGrad(() => (clf as h.models.EncoderClassifier).forward(ids)).data) < 1e-4);

  const { model: tagger } = await loadTaskModel(dirs.tag) as { model: WordTagger };
  const words = new Tensor(Int32Array.from([2, 3, 4, 5, 2, 0]), [2, 3]), shapes = new Tensor(Int32Array.from([1, 0, 0, 1, 1, 0]), [2, 3]);
  const ngrams = new Tensor(Int32Array.from([1, 5, 9]), [3]), ngramMix = new Tensor(Float32Array.from({ length: 18 }, (_, i) => (i % 4 === 0 ? 0.5 : 0)), [6, 3]);
  const emissions = await exportAndRun(dirs.tag, { words, shapes, ngrams, ngram_mix: ngramMix }, 'emissions');
  const expected = noGrad(() => tagger.forward({ words, shapes, ngrams, ngramMix, pad: eq(words, 0), lengths: [3, 2] }));
  assert.ok(maxAbsDiff(emissions, expected.data) < 1e-4);

  const printed = await ok('export', 'onnx', dirs.seq2seq, '--out', join(root, 's2s.onnx'));
  assert.match(printed, /s2s\.encoder\.onnx/);
  assert.match(printed, /s2s\.decoder\.onnx/);

  for (const [task, input] of [['classify', 'a good film'], ['tag', 'Alice flew to Oslo'], ['seq2seq', 'cat']] as const) {
    const out = join(root, `${task}-int8`);
    await ok('compress', dirs[task], '--out', out, '--quantize', 'int8', '--prune-heads', '1');
    assert.ok((await loadPredictor(out)).predict([input])[0].output !== undefined, task);
  }
});

test('fashion CNN: SE and MHSA models export with BatchNorm running statistics; compress reloads equal within int8 rounding', async () => {
  const x = h.rand([2, 1, 28, 28]);
  for (const dir of [dirs.fashionSe, dirs.fashionMhsa]) {
    const { model } = await loadTaskModel(dir);
    const expected = noGrad(() => (model as CnnClassifier).forward(x)).data;
    assert.ok(maxAbsDiff(await exportAndRun(dir, { pixel_values: x }, 'logits'), expected) < 1e-4);
    const out = `${dir}-fp16`;
    await compressModelDir(dir, out, { weights: 'float16', quantize: 'int8', ...(dir === dirs.fashionMhsa ? { pruneHeads: 1 } : {}) });
    const { model: small } = await loadTaskModel(out);
    const got = noGrad(() => (small as CnnClassifier).forward(x)).data;
    if (dir === dirs.fashionSe) assert.ok(maxAbsDiff(got, expected) < 0.05, 'int8 head + fp16 storage stays close');
    else assert.equal(got.length, expected.length);
  }
});

test('a Hugging Face directory exports through fromPretrained; heed compress refuses it with the fix', async () => {
  const hf = join(import.meta.dirname, '..', 'fixtures', 'hf', 'distilbert_seqcls');
  const model = await h.fromPretrained(hf);
  const ids = new Tensor(Int32Array.from([2, 22, 27, 8, 2, 14, 0, 0]), [2, 4]);
  const logits = await exportAndRun(hf, { input_ids: ids }, 'logits'); // written under the temporary root, not into the fixture
  assert.ok(maxAbsDiff(logits, noGrad(() => (model as h.models.BertForSequenceClassification).forward(ids)).data) < 1e-4);
  await assert.rejects(compressModelDir(hf, join(root, 'hf-small'), { quantize: 'int8' }), (e: Error) => e instanceof ConfigError && /Hugging Face checkpoint.*Fix/.test(e.message));
});

test('bad input: quantizing twice, too many heads per layer, heads on a model without attention, an op without ONNX mapping; no half-written output (and int8 exports through QDQ)', async () => {
  const once = join(root, 'classify-once');
  await compressModelDir(dirs.classify, once, { quantize: 'int8' });
  const twice = join(root, 'classify-twice');
  await assert.rejects(compressModelDir(once, twice, { quantize: 'int8' }), (e: Error) => e instanceof ConfigError && /already quantized.*Fix/.test(e.message));
  assert.ok(!existsSync(twice));

  const tooMany = join(root, 'classify-heads');
  await assert.rejects(compressModelDir(dirs.classify, tooMany, { pruneHeads: 2 }),
    (e: Error) => e instanceof ValueError && /would remove 2 heads from 'backbone\.encoder\.layers\.0\.selfAttn', which has 2.*Fix/.test(e.message));
  assert.ok(!existsSync(tooMany), 'nothing is written when pruning fails');
  const r = await heed('compress', dirs.classify, '--out', tooMany, '--prune-heads', '1.5');
  assert.equal(r.code, 1);
  assert.match(r.out, /--prune-heads '1\.5', expected a fraction/);

  await assert.rejects(compressModelDir(dirs.fashionSe, join(root, 'se-heads'), { pruneHeads: 0.5 }), (e: Error) => e instanceof ValueError && /CnnClassifier has no MultiheadAttention/.test(e.message));
  assert.ok(!existsSync(join(root, 'se-heads')));

  // The int8 copy exports through QDQ nodes and equals heed's int8 model; a module with no mapping is named with its path.
  const { model } = await loadTaskModel(once);
  const ids = new Tensor(Int32Array.from([4, 5, 6, 7, 0, 0]), [2, 3]);
  assert.ok(maxAbsDiff(await exportAndRun(once, { input_ids: ids }, 'logits'), noGrad(() => (model as h.models.EncoderClassifier).forward(ids)).data) < 1e-4);
  (model as h.models.EncoderClassifier).backbone.encoder.layers.get(0).norm1 = new h.nn.RMSNorm(16) as never;
  assert.throws(() => exportOnnx(model, [ids]), (e: Error) => e instanceof OnnxExportError && e.moduleType === 'RMSNorm' && /module 'backbone\.encoder\.layers\.0\.norm1' is RMSNorm/.test(e.message));
});
