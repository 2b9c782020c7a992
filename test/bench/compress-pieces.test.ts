/**
 * The pieces of the compression table (bench/compress.ts, bench/compress-onnx.ts,
 * tools/compress-table.ts) on tiny models, so the lead's long run cannot fail on them:
 *   - the g2p ONNX row's greedy loop over the exported encoder + decoder-step graphs gives the
 *     same tokens as heed's greedyDecode, one word at a time and in a padded batch;
 *   - the tag ONNX row scores onnxruntime's emissions through the tag predictor's own decoding: on a
 *     tiny trained tagger it tags every sentence as heed does (the same F1), and its child times;
 *   - the metric phrase of every task, and the table's row for a variant that cannot exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import * as h from '../../src/index.ts';
import { models } from '../../src/index.ts';
import { exportOnnx } from '../../src/compress/onnx/export.ts';
import { greedyOnnx, type G2pOnnxJob } from '../../bench/compress-onnx.ts';
import { metricText, MISSING } from '../../bench/compress.ts';
import { tagOnnxRecord, tagWithEmissions } from '../../bench/compress-onnx-tag.ts';
import { loadPredictor } from '../../src/tasks/index.ts';
import type { Module } from '../../src/nn/module.ts';
import { heed } from '../tasks/run-cli.ts';

test('the greedy loop over the exported encoder + decoder-step graphs decodes what heed greedyDecode decodes', async () => {
  h.manualSeed(11);
  const m = new models.Seq2SeqTransformer({ srcVocabSize: 20, tgtVocabSize: 24, dModel: 16, numHeads: 2, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 32, maxLen: 32 }).eval();
  const words = [[5, 6, 7], [8, 9, 10, 11, 12], [13]];
  const src = new h.Tensor(Int32Array.from([5, 6, 7]), [1, 3]);
  const graphs = h.noGrad(() => exportOnnx(m, [src, new h.Tensor(Int32Array.of(1), [1, 1])])).graphs;
  const dir = mkdtempSync(join(tmpdir(), 'heed-compress-pieces-'));
  const at = (name: string) => { const p = join(dir, `${name}.onnx`); writeFileSync(p, graphs.find((g) => g.name === name)!.bytes); return p; };
  const job: G2pOnnxJob = { encoder: at('encoder'), decoder: at('decoder'), bos: 1, eos: 2, padId: 0, sources: words, maxPositions: 31, extraSteps: 6 };
  const o = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  const enc = await ort.InferenceSession.create(job.encoder, o), dec = await ort.InferenceSession.create(job.decoder, o);
  const batched = await greedyOnnx(ort, enc, dec, job, words);
  for (const [b, w] of words.entries()) {
    const heed = m.greedyDecode(new h.Tensor(Int32Array.from(w), [1, w.length]), { bos: 1, eos: 2, maxLen: Math.min(31, w.length + 6) }).tokens[0];
    assert.ok(heed.length > 0, 'a random model should emit something before <eos> or the length limit');
    assert.deepEqual(await greedyOnnx(ort, enc, dec, job, [w]), [heed], `word ${b} alone`);
    // In the padded batch a word runs to the batch's decode length, so compare the common prefix.
    assert.deepEqual(batched[b].slice(0, heed.length), heed, `word ${b} in the batch`);
  }
  // The timing child prints one JSON line with the three figures.
  writeFileSync(join(dir, 'job.json'), JSON.stringify(job));
  const r = spawnSync(process.execPath, ['--import', 'tsx', new URL('../../bench/compress-onnx.ts', import.meta.url).pathname, '--child', join(dir, 'job.json')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const speed = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  for (const k of ['p50Ms', 'throughput', 'peakRssBytes']) assert.ok(speed[k] > 0, `${k} = ${speed[k]}`);
});

test('the tag ONNX row: onnxruntime\'s emissions through the predictor\'s windows and CRF decoding tag as heed does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-compress-tag-'));
  const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
  const people = ['Alice', 'Bob', 'Carol'], places = ['Paris', 'Oslo', 'Lima', 'Kyoto'];
  const conll = Array.from({ length: 24 }, (_, i) => `${people[i % 3]}\tB-PER\nflew\tO\nto\tO\n${places[i % 4]}\tB-LOC\n${i % 2 ? 'City\tI-LOC\n' : ''}`).join('\n');
  const train = file('train.conll', conll), dev = file('dev.conll', conll);
  const model = join(dir, 'tag');
  const r = await heed('train', 'tag', '--train', train, '--valid', dev, '--crf', '--char-buckets', '32', '--max-steps', '3', '--batch-size', '8',
    '--d-model', '16', '--num-heads', '2', '--num-layers', '1', '--dim-feedforward', '32', '--warmup-steps', '1', '--eval-every', '0', '--progress', 'none', '--out', model);
  assert.equal(r.code, 0, r.out);
  const samples = [['Alice', 'flew', 'to', 'Paris'], ['Bob', 'flew', 'to', 'Lima', 'City'], ['Carol']];
  const rec = await tagOnnxRecord(model, dir, dev, samples) as { metrics: Record<string, number>; p50Ms: number; throughput: number; checkpointBytes: number };
  assert.equal(rec.metrics.sentences, 24);
  assert.equal(rec.metrics.agreementWithHeedFp32, 1, 'every sentence tagged as heed tags it');
  assert.equal(rec.metrics.f1, rec.metrics.heedF1);
  assert.ok(rec.metrics.maxAbsEmissionDiff < 1e-4, `onnxruntime vs heed emissions: ${rec.metrics.maxAbsEmissionDiff}`);
  // The replay really substitutes the emissions: ones that favour 'O' everywhere tag nothing.
  const pred = await loadPredictor(model) as Awaited<ReturnType<typeof loadPredictor>> & { model: Module };
  const labels = (pred.model as unknown as { config: { labels: string[] } }).config.labels;
  assert.ok(labels.includes('O') && labels.length > 1);
  const allO = await tagWithEmissions(pred, samples, async (b) => {
    const [B, T] = b.words.shape, K = labels.length;
    return new h.Tensor(Float32Array.from({ length: B * T * K }, (_, i) => (labels[i % K] === 'O' ? 50 : -50)), [B, T, K]);
  });
  assert.deepEqual(allO, samples.map((s) => s.map(() => 'O')));
  assert.ok(rec.p50Ms > 0 && rec.throughput > 0 && rec.checkpointBytes > 0);
});

test('metric phrases per task, and a variant that cannot exist prints its reason in the table', () => {
  assert.equal(metricText('g2p', { wer: 0.25, per: 0.061 }), 'WER 25.0%, PER 6.1%');
  assert.equal(metricText('tag', { f1: 0.4321 }), 'entity F1 43.21% (dev)');
  assert.equal(metricText('digits', { accuracy: 0.9 }), 'accuracy 90.00%');
  assert.match(MISSING.fashion.pruned50, /no attention heads/);
  const dir = mkdtempSync(join(tmpdir(), 'heed-compress-table-'));
  const file = join(dir, 'raw.json');
  writeFileSync(file, JSON.stringify({ records: [
    { task: 'fashion', variant: 'fp32', metrics: { accuracy: 0.8 }, checkpointBytes: 1000, p50Ms: 2, modelP50Ms: 1.6, throughput: 100, peakRssBytes: 2 ** 20 * 100 },
    { task: 'fashion', variant: 'int8', metrics: { accuracy: 0.79 }, checkpointBytes: 500, p50Ms: 1, modelP50Ms: 0.4, throughput: 200, peakRssBytes: 2 ** 20 * 90 },
    { task: 'fashion', variant: 'pruned50', missing: MISSING.fashion.pruned50 },
    { task: 'fashion', variant: 'onnx', metrics: { accuracy: 0.8 }, checkpointBytes: 1010, p50Ms: 0.5, throughput: 300, peakRssBytes: 2 ** 20 * 120 },
  ] }));
  const r = spawnSync(process.execPath, ['--import', 'tsx', new URL('../../tools/compress-table.ts', import.meta.url).pathname, file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 6);
  // p50 of the whole request, then of the model's forward alone (onnx: its whole p50, on encoded inputs)
  assert.match(lines[3], /\| fashion \| int8 \| accuracy 79\.00% \| 500 \(0\.50×\) \| 1\.00 \(0\.50×\) \| 0\.40 \(0\.25×\) \| 200 \(2\.00×\) \| 90 \|/);
  assert.match(lines[4], /\| fashion \| pruned50 \| — \(no attention heads/);
  assert.match(lines[5], /\| fashion \| onnx \| accuracy 80\.00% \| 1,010 \(1\.01×\) \| 0\.50 \(0\.25×\) \| 0\.50 \(0\.31×\) \| 300 \(3\.00×\) \| 120 \|/);
});
