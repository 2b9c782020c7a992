/**
 * The tag row of the compression table run in onnxruntime-node: the fp32 WordTagger (the tag
 * template's model) exported as one graph (src/compress/onnx/word-tagger.ts)
 *
 *   words (B, T), shapes (B, T), ngrams (U), ngram_mix (B·T, U) → emissions (B, T, K)
 *   [, transitions (K, K), start_transitions (K), end_transitions (K) with a CRF]
 *
 * and decoded outside the graph, as the graph's docstring says (Viterbi over its transition
 * outputs, the scheme's constraints included).
 *
 * Metric. The entity F1 is scored on the dev sentences through the tag predictor's own code
 * (its windows, batches of 32, CRF decoding and span repair) with onnxruntime's emissions in place
 * of heed's: a forward hook on the predictor's model records each batch the predictor encodes
 * (first pass), onnxruntime runs those batches, and a second pass replaces each forward's output
 * by onnxruntime's emissions for the same batch. So the row differs from heed's fp32 row only by
 * the runtime that computed the emissions; `agreementWithHeedFp32` is the fraction of dev sentences
 * whose tags equal heed's.
 *
 * Timing, in a child that imports onnxruntime-node and the Viterbi routine only (one intra-op
 * thread): inputs encoded by the predictor beforehand (so, like the classifiers' ONNX rows, its
 * times exclude reading the words); single-request p50 runs one sentence per call (200 calls after
 * bench/compress.ts's warm-up: the graph, then Viterbi per sentence), `modelP50Ms` the graph alone
 * (beside heed's forward-only figure), throughput runs 64 sentences as the predictor batches them
 * (two batches of 32), best of 3.
 *
 * Used by bench/compress.ts --onnx; `node --import tsx bench/compress-onnx-tag.ts --child <json>`
 * is the timing child.
 *
 * Letters: B sentences, T words, U distinct character n-grams in the batch, K tags.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type * as Ort from 'onnxruntime-node';
import { denseNgramMix, type WordBatch } from '../src/models/word-tagger.js';
import type { Predictor } from '../src/tasks/predictor.js';
import type { Module } from '../src/nn/module.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { WARMUP_CALLS, cpuMs, p50 } from './compress-timing.ts';

const here = fileURLToPath(import.meta.url);

/** A batch as plain data: the graph's feeds and each sentence's word count. */
interface EncodedBatch {
  feeds: Record<string, { type: 'int32' | 'float32'; data: number[]; dims: number[] }>;
  lengths: number[];
}

/** The graph's feeds of a WordBatch (the n-gram inputs only when the model reads character n-grams). */
function encodeBatch(b: WordBatch): EncodedBatch {
  const t = (x: { data: ArrayLike<number>; shape: readonly number[] }, type: 'int32' | 'float32') => ({ type, data: Array.from(x.data), dims: [...x.shape] });
  const feeds: EncodedBatch['feeds'] = { words: t(b.words, 'int32'), shapes: t(b.shapes, 'int32') };
  // The predictor's batches carry the mix as compressed rows (WordBatch.ngramRows); the graph reads it dense.
  const mix = b.ngramMix ?? (b.ngrams && b.ngramRows ? denseNgramMix(b.ngramRows, b.ngrams.shape[0]) : null);
  if (b.ngrams && mix) Object.assign(feeds, { ngrams: t(b.ngrams, 'int32'), ngram_mix: t(mix, 'float32') });
  if (b.chars) throw new Error('bench compress: the tag model reads a character CNN, which the WordTagger export does not cover');
  return { feeds, lengths: [...b.lengths] };
}

function ortFeeds(ort: typeof Ort, e: EncodedBatch): Record<string, Ort.Tensor> {
  return Object.fromEntries(Object.entries(e.feeds).map(([k, v]) => [k, new ort.Tensor(v.type, v.type === 'int32' ? Int32Array.from(v.data) : Float32Array.from(v.data), v.dims)]));
}

/** The batches the predictor's model is called on while it tags `sentences` (heed's emissions are kept). */
function recordBatches(pred: Predictor, model: Module, sentences: readonly (readonly string[])[]): WordBatch[] {
  const seen: WordBatch[] = [];
  const h = model.registerForwardHook((_m, args) => { seen.push(args[0] as WordBatch); });
  try { pred.predict(sentences); } finally { h.remove(); }
  return seen;
}

/**
 * Tags sentences with the tag predictor's own code (windows, batches, CRF decoding, repair) but
 * with emissions from `emissionsOf` in place of its model's: the batches are recorded in a first
 * pass, `emissionsOf` computes each (another runtime, asynchronously), and a second pass replaces
 * each forward's output by them (a forward hook's return replaces the output).
 */
export async function tagWithEmissions(pred: Predictor & { model: Module }, sentences: readonly (readonly string[])[],
  emissionsOf: (b: WordBatch) => Promise<Tensor>): Promise<string[][]> {
  const batches = recordBatches(pred, pred.model, sentences);
  const emissions: Tensor[] = [];
  for (const b of batches) emissions.push(await emissionsOf(b)); // (B, T, K) each
  let k = 0;
  const h = pred.model.registerForwardHook((_m, args) => {
    const b = args[0] as WordBatch, e = emissions[k++];
    if (e === undefined || e.shape[0] !== b.words.shape[0] || e.shape[1] !== b.words.shape[1]) throw new Error('bench compress: the tag predictor batched the replay differently from the recording');
    return e;
  });
  try { return pred.predict(sentences).map((p) => tagsOf(String(p.output))); } finally { h.remove(); }
}

/** Tags from a predictor answer "w1/T1 w2/T2 …" (a word may itself hold '/'). */
const tagsOf = (output: string): string[] => output.split(' ').map((wt) => wt.slice(wt.lastIndexOf('/') + 1));

/** Timing child: single-sentence p50 and batch throughput of graph + Viterbi, printed as one JSON line. */
async function child(jobFile: string): Promise<void> {
  const ort = await import('onnxruntime-node');
  const { viterbi } = await import('../src/nn/tag-transitions.js');
  const job = JSON.parse(readFileSync(jobFile, 'utf8')) as { model: string; single: EncodedBatch[]; batch: EncodedBatch[] };
  const s = await ort.InferenceSession.create(job.model, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const prepared = (list: EncodedBatch[]) => list.map((e) => ({ feeds: ortFeeds(ort, e), lengths: e.lengths }));
  const single = prepared(job.single), batch = prepared(job.batch);
  /** The graph, then each sentence's best path (Viterbi over the exported transitions, or argmax without a CRF). */
  const tag = async (b: { feeds: Record<string, Ort.Tensor>; lengths: number[] }): Promise<number[][]> => {
    const out = await s.run(b.feeds);
    const e = out.emissions.data as Float32Array, [, T, K] = out.emissions.dims;
    return b.lengths.map((L, i) => {
      const rows = e.subarray(i * T * K, i * T * K + L * K);
      if (out.transitions) return viterbi(rows, L, K, out.transitions.data as Float32Array, out.start_transitions.data as Float32Array, out.end_transitions.data as Float32Array).path;
      return Array.from({ length: L }, (_, w) => { let best = 0; for (let k = 1; k < K; k++) if (rows[w * K + k] > rows[w * K + best]) best = k; return best; });
    });
  };
  let i = 0, j = 0;
  const request = await p50(() => tag(single[i++ % single.length]));
  // The graph alone: the like-for-like figure beside heed's forward-only column (Viterbi excluded on both sides).
  const graph = await p50(() => s.run(single[j++ % single.length].feeds));
  let best = Infinity, bestCpu = Infinity;
  for (let r = 0; r < 3; r++) {
    const c0 = cpuMs(), t0 = performance.now();
    for (const b of batch) await tag(b);
    best = Math.min(best, performance.now() - t0);
    bestCpu = Math.min(bestCpu, cpuMs() - c0);
  }
  const sentences = batch.reduce((n, b) => n + b.lengths.length, 0);
  console.log(JSON.stringify({
    p50Ms: request.wall, modelP50Ms: graph.wall, throughput: sentences / (best / 1000), peakRssBytes: process.resourceUsage().maxRSS * 1024,
    cpuP50Ms: request.cpu, modelCpuP50Ms: graph.cpu, cpuThroughput: sentences / (bestCpu / 1000), warmupCalls: WARMUP_CALLS,
  }));
}

/**
 * The tag ONNX record of bench/compress.ts: entity F1 on the dev sentences with onnxruntime's
 * emissions (see the header), the .onnx size, and the child's timings on `samples` (the same 64
 * dev sentences heed's rows are timed on).
 */
export async function tagOnnxRecord(dir: string, tmp: string, devFile: string, samples: readonly (readonly string[])[]): Promise<Record<string, unknown>> {
  const ort = await import('onnxruntime-node');
  const { loadPredictor, loadTaskModel } = await import('../src/tasks/index.js');
  const { exportOnnx } = await import('../src/compress/onnx/export.js');
  const { noGrad, Tensor } = await import('../src/index.js');
  const { readConll } = await import('../src/data/conll.js');
  const { entityReport } = await import('../src/train/metrics/entity-report.js');
  const { repairTags } = await import('../src/train/tag-repair.js');
  // The graph, exported as `heed export onnx` does (a separate copy of the model, its own sample inputs).
  const exported = await loadTaskModel(dir);
  const graph = noGrad(() => exportOnnx(exported.model, exported.sampleInputs)).graphs[0];
  const modelFile = join(tmp, 'tag.onnx');
  writeFileSync(modelFile, graph.bytes);
  const pred = (await loadPredictor(dir)) as Predictor & { model: Module };
  const session = await ort.InferenceSession.create(graph.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });

  // Gold tags as the task's evaluate reads them: spans broken in the file repaired to their conlleval reading.
  const conll = await readConll(devFile);
  const dev = conll.sentences.map((s) => ({ tokens: s.tokens, tags: repairTags(s.tags, conll.scheme) }));
  const gold: string[][] = [], onnxTags: string[][] = [], heedTags: string[][] = [];
  let maxAbsEmissionDiff = 0; // onnxruntime's emissions against heed's, over every dev batch
  for (let i = 0; i < dev.length; i += 32) { // a slice at a time: its recorded batches (and n-gram mixes) stay small
    const part = dev.slice(i, i + 32).map((s) => s.tokens);
    onnxTags.push(...await tagWithEmissions(pred, part, async (b) => {
      const out = await session.run(ortFeeds(ort, encodeBatch(b)));
      const e = new Tensor(Float32Array.from(out.emissions.data as Float32Array), out.emissions.dims.map(Number)); // (B, T, K)
      const heedE = noGrad(() => (pred.model as unknown as { forward(b: WordBatch): Tensor }).forward(b)).data as Float32Array;
      for (let j = 0; j < heedE.length; j++) maxAbsEmissionDiff = Math.max(maxAbsEmissionDiff, Math.abs(heedE[j] - e.data[j]));
      return e;
    }));
    heedTags.push(...pred.predict(part).map((p) => tagsOf(String(p.output))));
    gold.push(...dev.slice(i, i + 32).map((s) => s.tags));
  }
  await session.release();
  const r = entityReport(gold, onnxTags), heedR = entityReport(gold, heedTags);
  const agree = onnxTags.filter((t, i) => t.join(' ') === heedTags[i].join(' ')).length;

  const job = {
    model: modelFile,
    single: samples.map((s) => encodeBatch(recordBatches(pred, pred.model, [s])[0])),
    batch: recordBatches(pred, pred.model, samples).map(encodeBatch),
  };
  const jobFile = join(tmp, 'tag-onnx.json');
  writeFileSync(jobFile, JSON.stringify(job));
  const c = spawnSync(process.execPath, ['--import', 'tsx', here, '--child', jobFile], { encoding: 'utf8', env: { ...process.env, HEED_QUIET: '1' } });
  if (c.status !== 0) throw new Error(`bench compress: the tag ONNX child failed: ${c.stderr.slice(-2000)}`);
  const speed = JSON.parse(c.stdout.trim().split('\n').at(-1)!) as { p50Ms: number; throughput: number; peakRssBytes: number };
  return {
    // heedF1: heed's own emissions scored here the same way, a check that this scoring is the task's (it should equal the fp32 row).
    metrics: { f1: r.microAvg.f1, precision: r.microAvg.precision, recall: r.microAvg.recall, sentences: dev.length, agreementWithHeedFp32: agree / dev.length, heedF1: heedR.microAvg.f1, maxAbsEmissionDiff },
    checkpointBytes: graph.bytes.length, ...speed, runtime: `onnxruntime-node ${ort.env.versions?.common ?? ''}`.trim(),
  };
}

if (process.argv[1] === here && process.argv[2] === '--child') await child(process.argv[3]);
