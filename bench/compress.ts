/**
 * The compression trade-off (issue 15): for each task (g2p, spam, digits, tag = WNUT-17 NER,
 * fashion = Fashion-MNIST CNN) and each variant of its trained model (fp32, int8 dynamic, fp16
 * storage, heads pruned 25–30% / 50%, a distilled student and the same student trained without the
 * teacher), measure
 *   - the task metric through the task's own evaluate (g2p: WER and PER on the first 300 test words,
 *     greedy; spam, digits, fashion: accuracy on the test split; tag: entity F1 on the dev split,
 *     the only labelled split besides train on this machine);
 *   - the checkpoint size (bytes of model.safetensors);
 *   - single-request latency p50 (one input per predict call, 200 calls after up to 500 warm-up calls:
 *     WARMUP_CALLS says why), and for the classifiers and the tagger also the model's forward alone on
 *     the encoded input (like onnxruntime's row), each on the wall clock and on the process CPU clock
 *     (cpuP50Ms, modelCpuP50Ms: what a loaded machine does not inflate);
 *   - batch throughput (inputs/s, predict on 64 inputs at once, best of 3);
 *   - peak RSS of a process that loads the model and runs the latency and throughput loops
 *     (a child process per variant, so no variant's memory counts against another; the inputs are
 *     handed over in a small JSON file so the child never loads a dataset).
 * Timing runs on one thread (HEED_NUM_THREADS=1), as one serving worker would.
 *
 * The variants are model directories <dir>/<task>-<variant>, made by tools/compress-variants.ts;
 * <dir> is $HEED_COMPRESS_DIR or runs/compress; $HEED_COMPRESS_TASKS picks tasks (default spam,digits,g2p).
 * --onnx adds the row of the fp32 model exported to ONNX and run in onnxruntime-node: the whole graph
 * for the classifiers (spam, digits, fashion), and for g2p the encoder + decoder-step graphs driven by
 * a greedy loop over past key/values (bench/compress-onnx.ts), for tag the WordTagger graph with the
 * predictor's own windows and CRF decoding on onnxruntime's emissions (bench/compress-onnx-tag.ts).
 * A variant that cannot exist for a task (no attention heads to prune, no --distill-from) is written
 * as a record with `missing: <why>` instead of figures, so the table says why.
 * tools/compress-all.ts runs the whole pipeline (trainings, variants, this, the table) in one command.
 * Missing variants are skipped; with --out the raw file is rewritten after every variant.
 *
 *   npm run bench -- --only compress                   (through the harness: results/latest-compress.json)
 *   node --import tsx bench/compress.ts [--out bench/results/compress.json]
 */
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './peers/common.ts';
import { WARMUP_CALLS, cpuMs, p50 } from './compress-timing.ts';
import type { Module } from '../src/nn/module.js';
import { readArgs } from './args.ts';

export type { BenchRow };

const VARIANTS = ['fp32', 'int8', 'fp16', 'pruned25', 'pruned30', 'pruned50', 'student-kd', 'student'];
const TASKS = (process.env.HEED_COMPRESS_TASKS ?? 'spam,digits,g2p,tag,fashion').split(',');
/** The split a task's metric is read on: tag has train and dev (valid) files only. */
const metricSplit = (task: string): string => (task === 'tag' ? 'valid' : 'test');
/** Why a variant has no model directory, for the variants that cannot exist (tools/compress-variants.ts). */
export const MISSING: Record<string, Record<string, string>> = {
  fashion: {
    pruned25: 'no attention heads to prune: the default fashion model is a CNN with CBAM (channel and spatial gates, no heads)',
    pruned50: 'no attention heads to prune: the default fashion model is a CNN with CBAM (channel and spatial gates, no heads)',
    'student-kd': 'the fashion task has no --distill-from',
    student: 'not trained: without a distilled student there is nothing for the plain student to control',
  },
  tag: {
    'student-kd': 'the tag task has no --distill-from',
    student: 'not trained: without a distilled student there is nothing for the plain student to control',
  },
};
const G2P_WORDS = 300;
const here = fileURLToPath(import.meta.url);

/**
 * A SpamAssassin mail as a user would send it to a spam model: the header lines above subject and
 * body when the model reads headers (the task's default), else subject and body only. A plain string
 * is read as is by the predictor, so this is exactly the text the task's own evaluate scores.
 */
function spamText(e: { headers: string; text: string }, readsHeaders: boolean): string {
  return readsHeaders && e.headers ? `${e.headers}\n${e.text}` : e.text;
}

/** Whether the spam model in dir reads header lines (config.headers; absent in old checkpoints = no). */
function readsHeaders(dir: string): boolean {
  return (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { config: { headers?: unknown } }).config.headers === true;
}

/** Up to 64 test inputs of a task, as its Predictor takes them (dir: the task's fp32 model). */
export async function sampleInputs(task: string, dir: string): Promise<unknown[]> {
  if (task === 'g2p') {
    const { loadCmudict } = await import('../src/data/cmudict.js');
    return loadCmudict().test.words.slice(0, 64).map((w) => w.word);
  }
  if (task === 'spam') {
    const { loadSpamAssassin } = await import('../src/data/spam.js');
    const headers = readsHeaders(dir);
    return (await loadSpamAssassin()).test.slice(0, 64).map((e) => spamText(e, headers));
  }
  if (task === 'tag') {
    const { readConll } = await import('../src/data/conll.js');
    return (await readConll(nerFile('valid'))).sentences.slice(0, 64).map((s) => s.tokens);
  }
  return (await labelledImages(task)).slice(0, 64).map((e) => e.input);
}

/** The WNUT-17 files the tag rows use ($HEED_NER_DIR, default /work/shared/data/ner). */
export function nerFile(split: 'train' | 'valid'): string {
  return join(process.env.HEED_NER_DIR ?? '/work/shared/data/ner', split === 'train' ? 'wnut17train.conll.gz' : 'emerging.dev.conll.gz');
}

/**
 * The test images of digits or fashion as the predictors take them (grey levels: 0..16 for
 * digits, 0..255 for fashion) with their labels. The loaders return pixels already scaled to
 * [0, 1]; the predictors scale again, so the levels are restored here (the digits ONNX row of the
 * smoke run passed scaled pixels and scored 10%).
 */
async function labelledImages(task: string): Promise<{ input: number[]; label: number }[]> {
  if (task === 'digits') {
    const { loadDigits } = await import('../src/data/digits.js');
    const t = loadDigits().test;
    return Array.from(t.labels, (label, i) => ({ input: Array.from(t.images.subarray(i * 64, (i + 1) * 64), (v) => Math.round(v * 16)), label }));
  }
  const { loadFashionMnist, FASHION_PIXELS } = await import('../src/data/fashion-mnist.js');
  const t = loadFashionMnist().test;
  return Array.from(t.labels, (label, i) => ({ input: Array.from(t.images.subarray(i * FASHION_PIXELS, (i + 1) * FASHION_PIXELS), (v) => Math.round(v * 255)), label }));
}

export { WARMUP_CALLS, cpuMs, p50 };

/**
 * The model's own inputs of one request: the arguments of every call of `model.forward` while
 * the predictor answers it (a forward hook records them; inputs built before the forward, so they
 * outlive inferenceMode). For predictors that expose their model but no encode (tag).
 */
export function recordForwardArgs(p: { predict(inputs: unknown[]): unknown }, model: Module, input: unknown): unknown[][] {
  const seen: unknown[][] = [];
  const h = model.registerForwardHook((_m, args) => { seen.push([...args]); });
  try { p.predict([input]); } finally { h.remove(); }
  return seen;
}

/**
 * Child process: load one model, time single and batched predictions, report peak RSS.
 * For the predictors that encode an input into one tensor (spam, digits, fashion), and for the
 * tagger (its recorded WordBatch), it also times the model's forward alone on the encoded input
 * (`modelP50Ms`): the like-for-like figure beside onnxruntime's row, which is handed pre-encoded inputs.
 */
async function child(dir: string, inputsFile: string): Promise<void> {
  const { loadPredictor } = await import('../src/tasks/index.js');
  const { inferenceMode } = await import('../src/index.js');
  const { WordTagger } = await import('../src/models/word-tagger.js');
  const inputs = JSON.parse(readFileSync(inputsFile, 'utf8')) as unknown[];
  const p = await loadPredictor(dir);
  let i = 0;
  const request = await p50(() => p.predict([inputs[i++ % inputs.length]]));
  type Forward = { forward(...x: unknown[]): unknown };
  type Member = { model?: Forward; encode?(inputs: readonly unknown[]): { x: unknown } };
  const member = (p as unknown as { members?: Member[] }).members?.[0];
  const own = (p as unknown as { model?: Module }).model;
  // The model's forward on one request's encoded input: the classifiers' encode, or for the tagger
  // the WordBatch its predictor builds (recorded; the CRF's Viterbi is outside the forward).
  let model: Forward | null = null, encoded: unknown[][] = [];
  if (member?.encode && member.model) [model, encoded] = [member.model, inputs.map((x) => [member.encode!([x]).x])];
  else if (own instanceof WordTagger) {
    const calls = inputs.map((x) => recordForwardArgs(p, own, x));
    if (calls.every((c) => c.length === 1)) [model, encoded] = [own as unknown as Forward, calls.map((c) => c[0])];
  }
  let forward: { wall: number; cpu: number } | null = null;
  if (model !== null) {
    let j = 0;
    // As the predictors run it: no grad, temporaries back to the pool after each call.
    forward = await p50(() => inferenceMode(() => model.forward(...encoded[j++ % encoded.length]), model));
  }
  let best = Infinity, bestCpu = Infinity;
  for (let r = 0; r < 3; r++) {
    const c0 = cpuMs(), t0 = performance.now();
    p.predict(inputs);
    best = Math.min(best, performance.now() - t0);
    bestCpu = Math.min(bestCpu, cpuMs() - c0);
  }
  console.log(JSON.stringify({
    p50Ms: request.wall, modelP50Ms: forward?.wall ?? null, throughput: inputs.length / (best / 1000), peakRssBytes: process.resourceUsage().maxRSS * 1024,
    cpuP50Ms: request.cpu, modelCpuP50Ms: forward?.cpu ?? null, cpuThroughput: inputs.length / (bestCpu / 1000), warmupCalls: WARMUP_CALLS,
  }));
}

/** The task's metric as one phrase: WER and PER (g2p), entity F1 (tag) or accuracy. */
export function metricText(task: string, m: Record<string, number>): string {
  if (task === 'g2p') return `WER ${(100 * m.wer).toFixed(1)}%, PER ${(100 * m.per).toFixed(1)}%`;
  if (task === 'tag') return `entity F1 ${(100 * m.f1).toFixed(2)}% (dev)`;
  return `accuracy ${(100 * m.accuracy).toFixed(2)}%`;
}

type Encoded = { data: number[]; shape: number[]; dtype: string };
const encoded = (x: { data: ArrayLike<number>; shape: readonly number[]; dtype: string }): Encoded => ({ data: Array.from(x.data), shape: [...x.shape], dtype: x.dtype });

/** Child process for the ONNX row: onnxruntime-node alone (one intra-op thread) on pre-encoded inputs. */
async function onnxChild(modelFile: string, inputsFile: string): Promise<void> {
  const ort = await import('onnxruntime-node');
  const { single, batch } = JSON.parse(readFileSync(inputsFile, 'utf8')) as { single: Encoded[]; batch: Encoded };
  const s = await ort.InferenceSession.create(modelFile, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const feed = (e: Encoded) => ({ [s.inputNames[0]]: new ort.Tensor(e.dtype === 'int32' ? 'int32' : 'float32', e.dtype === 'int32' ? Int32Array.from(e.data) : Float32Array.from(e.data), e.shape) });
  const singles = single.map(feed), batched = feed(batch);
  let i = 0;
  const request = await p50(() => s.run(singles[i++ % singles.length]));
  let best = Infinity, bestCpu = Infinity;
  for (let r = 0; r < 3; r++) {
    const c0 = cpuMs(), t0 = performance.now();
    await s.run(batched);
    best = Math.min(best, performance.now() - t0);
    bestCpu = Math.min(bestCpu, cpuMs() - c0);
  }
  // The whole request is the graph on an encoded input here: it is also the forward-only figure.
  console.log(JSON.stringify({
    p50Ms: request.wall, modelP50Ms: request.wall, throughput: batch.shape[0] / (best / 1000), peakRssBytes: process.resourceUsage().maxRSS * 1024,
    cpuP50Ms: request.cpu, modelCpuP50Ms: request.cpu, cpuThroughput: batch.shape[0] / (bestCpu / 1000), warmupCalls: WARMUP_CALLS,
  }));
}

/**
 * The fp32 model exported to ONNX (src/compress/onnx) and run in onnxruntime-node. Classifiers
 * (spam, digits, fashion): accuracy of the graph's argmax on the whole test split (computed here),
 * the .onnx size, and the child's timings on the same 64 inputs, encoded by heed's reader beforehand
 * (so its times exclude tokenization, which heed's rows include). g2p: bench/compress-onnx.ts (the
 * encoder and decoder-step graphs under a greedy loop); tag: bench/compress-onnx-tag.ts.
 */
async function onnxRecord(task: string, dir: string, tmp: string, g2pWords: number): Promise<Record<string, unknown>> {
  if (task === 'g2p') {
    const { g2pOnnxRecord } = await import('./compress-onnx.js');
    return g2pOnnxRecord(dir, tmp, g2pWords);
  }
  if (task === 'tag') {
    const { tagOnnxRecord } = await import('./compress-onnx-tag.js');
    return tagOnnxRecord(dir, tmp, nerFile('valid'), (await sampleInputs(task, dir)) as string[][]);
  }
  const ort = await import('onnxruntime-node');
  const { loadPredictor } = await import('../src/tasks/index.js');
  const { exportOnnx } = await import('../src/compress/onnx/export.js');
  const { noGrad } = await import('../src/index.js');
  type Member = { model: never; encode(inputs: readonly unknown[]): { x: { data: ArrayLike<number>; shape: readonly number[]; dtype: string } } };
  const member = ((await loadPredictor(dir)) as unknown as { members: Member[] }).members[0];
  const inputs = await sampleInputs(task, dir);
  const bytes = noGrad(() => exportOnnx(member.model, [member.encode([inputs[0]]).x as never])).graphs[0].bytes;
  const modelFile = join(tmp, `${task}.onnx`), inputsFile = join(tmp, `${task}-onnx.json`);
  writeFileSync(modelFile, bytes);
  writeFileSync(inputsFile, JSON.stringify({ single: inputs.map((i) => encoded(member.encode([i]).x)), batch: encoded(member.encode(inputs).x) }));
  const r = spawnSync(process.execPath, ['--import', 'tsx', here, '--onnx-child', modelFile, inputsFile], { encoding: 'utf8', env: { ...process.env, HEED_QUIET: '1' } });
  if (r.status !== 0) throw new Error(`bench compress: the ONNX child for ${dir} failed: ${r.stderr.slice(-2000)}`);
  const speed = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { p50Ms: number; throughput: number; peakRssBytes: number };
  // Accuracy of onnxruntime's argmax on the test split (labels are class indices for every classifier task).
  let test: { input: unknown; label: number }[];
  if (task === 'spam') {
    const { loadSpamAssassin } = await import('../src/data/spam.js');
    const headers = readsHeaders(dir);
    test = (await loadSpamAssassin()).test.map((e) => ({ input: spamText(e, headers), label: e.label }));
  } else test = await labelledImages(task);
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  let correct = 0, agree = 0;
  for (let i = 0; i < test.length; i += 64) {
    const part = test.slice(i, i + 64);
    const x = member.encode(part.map((p) => p.input)).x;
    const e = encoded(x);
    const heedLogits = noGrad(() => (member.model as unknown as { forward(x: unknown): { data: Float32Array } }).forward(x)).data;
    const out = await s.run({ [s.inputNames[0]]: new ort.Tensor(e.dtype === 'int32' ? 'int32' : 'float32', e.dtype === 'int32' ? Int32Array.from(e.data) : Float32Array.from(e.data), e.shape) });
    const logits = out[s.outputNames[0]];
    const C = logits.dims[logits.dims.length - 1], d = logits.data as Float32Array;
    part.forEach((p, b) => {
      let best = 0, heedBest = 0;
      for (let c = 1; c < C; c++) {
        if (d[b * C + c] > d[b * C + best]) best = c;
        if (heedLogits[b * C + c] > heedLogits[b * C + heedBest]) heedBest = c;
      }
      if (best === p.label) correct++;
      if (best === heedBest) agree++;
    });
  }
  await s.release();
  // agreement: onnxruntime's argmax equals heed's fp32 argmax on the same encoded input (the export's parity).
  return { metrics: { accuracy: correct / test.length, agreementWithHeedFp32: agree / test.length, testExamples: test.length }, checkpointBytes: bytes.length, ...speed, runtime: `onnxruntime-node ${ort.env.versions?.common ?? ''}`.trim() };
}

export async function run(opts: { quick?: boolean; onnx?: boolean; out?: string } = {}): Promise<BenchRow[]> {
  const root = process.env.HEED_COMPRESS_DIR ?? 'runs/compress';
  const { evaluate } = await import('../src/tasks/index.js');
  const rows: BenchRow[] = [];
  const records: Record<string, unknown>[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'heed-bench-compress-'));
  const withOnnx = opts.onnx === true;
  const g2pWords = opts.quick ? 200 : G2P_WORDS; // heed's and the ONNX row's g2p metric read the same words
  const out = opts.out ?? null;
  // Written after every variant, so a run cut short keeps what it measured.
  const trainings = process.env.HEED_COMPRESS_TRAININGS ? JSON.parse(process.env.HEED_COMPRESS_TRAININGS) : null; // tools/compress-all.ts
  const save = () => out && writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: `node --import tsx bench/compress.ts ${process.argv.slice(2).join(' ')}`, variantsDir: root, threads: 1, g2pTestWords: g2pWords, trainings, records }, null, 1) + '\n');
  for (const task of TASKS) {
    const present = VARIANTS.filter((v) => existsSync(join(root, `${task}-${v}`, 'config.json')));
    if (present.length === 0) continue;
    const inputsFile = join(tmp, `${task}.json`);
    writeFileSync(inputsFile, JSON.stringify(await sampleInputs(task, join(root, `${task}-${present.includes('fp32') ? 'fp32' : present[0]}`))));
    for (const v of present) {
      const dir = join(root, `${task}-${v}`);
      const r = spawnSync(process.execPath, ['--import', 'tsx', here, '--child', dir, inputsFile], { encoding: 'utf8', env: { ...process.env, HEED_NUM_THREADS: '1', HEED_QUIET: '1' } });
      if (r.status !== 0) throw new Error(`bench compress: the child for ${dir} failed: ${r.stderr.slice(-2000)}`);
      const speed = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { p50Ms: number; modelP50Ms: number | null; throughput: number; peakRssBytes: number };
      const ev = await evaluate(dir, { split: metricSplit(task), limit: task === 'g2p' ? g2pWords : undefined });
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      const rec = {
        task, variant: v, dir, split: metricSplit(task), metrics: ev.metrics, checkpointBytes: statSync(join(dir, 'model.safetensors')).size, ...speed,
        compression: cfg.compression ?? null, model: cfg.config.model, loadavg: loadavg(),
      };
      records.push(rec);
      rows.push({
        workload: `compress ${task}`, impl: `heed ${v}`, threads: 1, ms: speed.p50Ms,
        note: `${metricText(task, ev.metrics)}; ${rec.checkpointBytes.toLocaleString('en-US')} B; ${speed.throughput.toFixed(0)} inputs/s at batch 64; peak RSS ${(speed.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
      });
      console.error(`bench compress: ${task} ${v}: ${rows.at(-1)!.note}; p50 ${speed.p50Ms.toFixed(2)} ms`);
      save();
    }
    for (const [v, why] of Object.entries(MISSING[task] ?? {})) if (!present.includes(v)) records.push({ task, variant: v, missing: why });
    if (!withOnnx || !present.includes('fp32')) continue;
    const onnx = await onnxRecord(task, join(root, `${task}-fp32`), tmp, g2pWords);
    records.push({ task, variant: 'onnx', dir: join(root, `${task}-fp32`), ...(onnx.missing ? {} : { split: metricSplit(task) }), ...onnx, loadavg: loadavg() });
    if (!onnx.missing) {
      const o = onnx as { metrics: Record<string, number>; p50Ms: number; throughput: number; peakRssBytes: number; checkpointBytes: number };
      rows.push({ workload: `compress ${task}`, impl: 'onnxruntime-node (fp32 export)', threads: 1, ms: o.p50Ms,
        note: `${metricText(task, o.metrics)}; ${o.checkpointBytes.toLocaleString('en-US')} B; ${o.throughput.toFixed(0)} inputs/s at batch 64; peak RSS ${(o.peakRssBytes / 2 ** 20).toFixed(0)} MiB` });
      console.error(`bench compress: ${task} onnx: ${rows.at(-1)!.note}; p50 ${o.p50Ms.toFixed(2)} ms`);
    }
    save();
  }
  return rows;
}

if (process.argv[1] === here) {
  const c = process.argv.indexOf('--child');
  const oc = process.argv.indexOf('--onnx-child');
  if (c > 0) await child(process.argv[c + 1], process.argv[c + 2]);
  else if (oc > 0) await onnxChild(process.argv[oc + 1], process.argv[oc + 2]);
  else {
    const flags = readArgs(import.meta.url, {
      quick: { kind: 'bool', help: 'fewer g2p test words (200)' },
      onnx: { kind: 'bool', help: 'also the fp32 model exported to ONNX, on onnxruntime-node' },
      out: { kind: 'string', help: 'raw results file (JSON), written after every variant' },
    });
    for (const r of await run(flags)) console.log(`${r.workload}  ${r.impl}  p50 ${r.ms.toFixed(2)} ms  ${r.note}`);
  }
}
