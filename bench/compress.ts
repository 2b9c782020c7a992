/**
 * The compression trade-off (issue 15): for each task (g2p, spam, digits) and each variant of its
 * trained model (fp32, int8 dynamic, fp16 storage, heads pruned 25% / 50% and fine-tuned, a
 * distilled student and the same student trained without the teacher), measure
 *   - the task metric on the test split (g2p: WER and PER on the first 300 test words, greedy;
 *     spam and digits: accuracy), through the task's own evaluate;
 *   - the checkpoint size (bytes of model.safetensors);
 *   - single-request latency p50 (one input per predict call, 20 calls after warm-up);
 *   - batch throughput (inputs/s, predict on 64 inputs at once, best of 3);
 *   - peak RSS of a process that loads the model and runs the latency and throughput loops
 *     (a child process per variant, so no variant's memory counts against another; the inputs are
 *     handed over in a small JSON file so the child never loads a dataset).
 * Timing runs on one thread (HEED_NUM_THREADS=1), as one serving worker would.
 *
 * The variants are model directories <dir>/<task>-<variant>, made by tools/compress-variants.ts;
 * <dir> is $HEED_COMPRESS_DIR or runs/compress; $HEED_COMPRESS_TASKS picks tasks (default spam,digits,g2p).
 * --onnx adds the row of the fp32 classifier exported to ONNX and run in onnxruntime-node (spam, digits).
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

export type { BenchRow };

const VARIANTS = ['fp32', 'int8', 'fp16', 'pruned25', 'pruned50', 'student-kd', 'student'];
const TASKS = (process.env.HEED_COMPRESS_TASKS ?? 'spam,digits,g2p').split(',');
const G2P_WORDS = 300;
const here = fileURLToPath(import.meta.url);

/** Up to 64 test inputs of a task, as its Predictor takes them. */
async function sampleInputs(task: string): Promise<unknown[]> {
  if (task === 'g2p') {
    const { loadCmudict } = await import('../src/data/cmudict.js');
    return loadCmudict().test.words.slice(0, 64).map((w) => w.word);
  }
  if (task === 'spam') {
    const { loadSpamAssassin } = await import('../src/data/spam.js');
    return (await loadSpamAssassin()).test.slice(0, 64).map((e) => e.text);
  }
  const { loadDigits } = await import('../src/data/digits.js');
  const t = loadDigits().test;
  return Array.from({ length: 64 }, (_, i) => Array.from(t.images.subarray(i * 64, (i + 1) * 64)));
}

/** Child process: load one model, time single and batched predictions, report peak RSS. */
async function child(dir: string, inputsFile: string): Promise<void> {
  const { loadPredictor } = await import('../src/tasks/index.js');
  const inputs = JSON.parse(readFileSync(inputsFile, 'utf8')) as unknown[];
  const p = await loadPredictor(dir);
  for (let i = 0; i < 3; i++) p.predict([inputs[i % inputs.length]]);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    p.predict([inputs[i % inputs.length]]);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    p.predict(inputs);
    best = Math.min(best, performance.now() - t0);
  }
  console.log(JSON.stringify({ p50Ms: times[times.length >> 1], throughput: inputs.length / (best / 1000), peakRssBytes: process.resourceUsage().maxRSS * 1024 }));
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
  for (let i = 0; i < 3; i++) await s.run(singles[i % singles.length]);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await s.run(singles[i % singles.length]);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    await s.run(batched);
    best = Math.min(best, performance.now() - t0);
  }
  console.log(JSON.stringify({ p50Ms: times[times.length >> 1], throughput: batch.shape[0] / (best / 1000), peakRssBytes: process.resourceUsage().maxRSS * 1024 }));
}

/**
 * The fp32 classifier exported to ONNX (src/compress/onnx) and run in onnxruntime-node: accuracy of
 * its argmax on the whole test split (computed here), the .onnx size, and the child's timings on the
 * same 64 inputs, encoded by heed's reader beforehand (so its times exclude tokenization, which
 * heed's rows include). g2p is left out: its ONNX form is two graphs and a generation loop.
 */
async function onnxRecord(task: string, dir: string, tmp: string): Promise<Record<string, unknown> | null> {
  if (task !== 'spam' && task !== 'digits') return null;
  const ort = await import('onnxruntime-node');
  const { loadPredictor } = await import('../src/tasks/index.js');
  const { exportOnnx } = await import('../src/compress/onnx/export.js');
  const { noGrad } = await import('../src/index.js');
  type Member = { model: never; encode(inputs: readonly unknown[]): { x: { data: ArrayLike<number>; shape: readonly number[]; dtype: string } } };
  const member = ((await loadPredictor(dir)) as unknown as { members: Member[] }).members[0];
  const inputs = await sampleInputs(task);
  const bytes = noGrad(() => exportOnnx(member.model, [member.encode([inputs[0]]).x as never])).graphs[0].bytes;
  const modelFile = join(tmp, `${task}.onnx`), inputsFile = join(tmp, `${task}-onnx.json`);
  writeFileSync(modelFile, bytes);
  writeFileSync(inputsFile, JSON.stringify({ single: inputs.map((i) => encoded(member.encode([i]).x)), batch: encoded(member.encode(inputs).x) }));
  const r = spawnSync(process.execPath, ['--import', 'tsx', here, '--onnx-child', modelFile, inputsFile], { encoding: 'utf8', env: { ...process.env, HEED_QUIET: '1' } });
  if (r.status !== 0) throw new Error(`bench compress: the ONNX child for ${dir} failed: ${r.stderr.slice(-2000)}`);
  const speed = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { p50Ms: number; throughput: number; peakRssBytes: number };
  // Accuracy of onnxruntime's argmax on the test split (labels are class indices for both tasks).
  let test: { input: unknown; label: number }[];
  if (task === 'spam') {
    const { loadSpamAssassin } = await import('../src/data/spam.js');
    test = (await loadSpamAssassin()).test.map((e) => ({ input: e.text, label: e.label }));
  } else {
    const { loadDigits } = await import('../src/data/digits.js');
    const t = loadDigits().test;
    test = Array.from(t.labels, (label, i) => ({ input: Array.from(t.images.subarray(i * 64, (i + 1) * 64)), label }));
  }
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
  // agreement: onnxruntime's argmax equals heed's fp32 argmax on the same encoded input (the export's
  // parity); accuracy: against the split's labels read here (the digits smoke run disagreed with the
  // task's own evaluate, 10% vs 31%, while agreement is the check that the graph is right).
  return { metrics: { accuracy: correct / test.length, agreementWithHeedFp32: agree / test.length, testExamples: test.length }, checkpointBytes: bytes.length, ...speed, runtime: `onnxruntime-node ${ort.env.versions?.common ?? ''}`.trim() };
}

export async function run(opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const root = process.env.HEED_COMPRESS_DIR ?? 'runs/compress';
  const { evaluate } = await import('../src/tasks/index.js');
  const rows: BenchRow[] = [];
  const records: Record<string, unknown>[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'heed-bench-compress-'));
  const withOnnx = process.argv.includes('--onnx');
  const outArg = process.argv.indexOf('--out');
  const out = outArg > 0 ? process.argv[outArg + 1] : null;
  // Written after every variant, so a run cut short keeps what it measured.
  const trainings = process.env.HEED_COMPRESS_TRAININGS ? JSON.parse(process.env.HEED_COMPRESS_TRAININGS) : null; // tools/compress-all.ts
  const save = () => out && writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: `node --import tsx bench/compress.ts ${process.argv.slice(2).join(' ')}`, variantsDir: root, threads: 1, g2pTestWords: G2P_WORDS, trainings, records }, null, 1) + '\n');
  for (const task of TASKS) {
    const present = VARIANTS.filter((v) => existsSync(join(root, `${task}-${v}`, 'config.json')));
    if (present.length === 0) continue;
    const inputsFile = join(tmp, `${task}.json`);
    writeFileSync(inputsFile, JSON.stringify(await sampleInputs(task)));
    for (const v of present) {
      const dir = join(root, `${task}-${v}`);
      const r = spawnSync(process.execPath, ['--import', 'tsx', here, '--child', dir, inputsFile], { encoding: 'utf8', env: { ...process.env, HEED_NUM_THREADS: '1', HEED_QUIET: '1' } });
      if (r.status !== 0) throw new Error(`bench compress: the child for ${dir} failed: ${r.stderr.slice(-2000)}`);
      const speed = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { p50Ms: number; throughput: number; peakRssBytes: number };
      const ev = await evaluate(dir, { split: 'test', limit: task === 'g2p' ? (opts.quick ? 200 : G2P_WORDS) : undefined });
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      const rec = {
        task, variant: v, dir, metrics: ev.metrics, checkpointBytes: statSync(join(dir, 'model.safetensors')).size, ...speed,
        compression: cfg.compression ?? null, model: cfg.config.model, loadavg: loadavg(),
      };
      records.push(rec);
      const metric = task === 'g2p' ? `WER ${(100 * ev.metrics.wer).toFixed(1)}% PER ${(100 * ev.metrics.per).toFixed(1)}%` : `accuracy ${(100 * ev.metrics.accuracy).toFixed(2)}%`;
      rows.push({
        workload: `compress ${task}`, impl: `heed ${v}`, threads: 1, ms: speed.p50Ms,
        note: `${metric}; ${rec.checkpointBytes.toLocaleString('en-US')} B; ${speed.throughput.toFixed(0)} inputs/s at batch 64; peak RSS ${(speed.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
      });
      console.error(`bench compress: ${task} ${v}: ${rows.at(-1)!.note}; p50 ${speed.p50Ms.toFixed(2)} ms`);
      save();
    }
    const onnx = withOnnx && present.includes('fp32') ? await onnxRecord(task, join(root, `${task}-fp32`), tmp) : null;
    if (onnx) {
      records.push({ task, variant: 'onnx', dir: join(root, `${task}-fp32`), ...onnx, loadavg: loadavg() });
      const o = onnx as { metrics: { accuracy: number }; p50Ms: number; throughput: number; peakRssBytes: number; checkpointBytes: number };
      rows.push({ workload: `compress ${task}`, impl: 'onnxruntime-node (fp32 export)', threads: 1, ms: o.p50Ms,
        note: `accuracy ${(100 * o.metrics.accuracy).toFixed(2)}%; ${o.checkpointBytes.toLocaleString('en-US')} B; ${o.throughput.toFixed(0)} inputs/s at batch 64; peak RSS ${(o.peakRssBytes / 2 ** 20).toFixed(0)} MiB` });
      console.error(`bench compress: ${task} onnx: ${rows.at(-1)!.note}; p50 ${o.p50Ms.toFixed(2)} ms`);
      save();
    }
  }
  return rows;
}

if (process.argv[1] === here) {
  const c = process.argv.indexOf('--child');
  const oc = process.argv.indexOf('--onnx-child');
  if (c > 0) await child(process.argv[c + 1], process.argv[c + 2]);
  else if (oc > 0) await onnxChild(process.argv[oc + 1], process.argv[oc + 2]);
  else for (const r of await run({ quick: process.argv.includes('--quick') })) console.log(`${r.workload}  ${r.impl}  p50 ${r.ms.toFixed(2)} ms  ${r.note}`);
}
