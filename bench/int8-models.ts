/**
 * int8 against fp32 on trained models at batch 1 (issue 15: "int8 serves ≥ 1.8× faster than fp32
 * at batch 1"), for a loaded machine: every figure on the process CPU clock (a preempted thread
 * does not accumulate it), the fp32 and int8 models loaded side by side in one process and timed
 * interleaved call by call, medians over the calls.
 *
 *   HEED_NUM_THREADS=1 node --import tsx bench/int8-models.ts [--dir /work/compress-models/variants]
 *     [--tasks spam,digits,g2p] [--calls 300] [--static 256] [--out bench/results/int8-models-<date>.json]
 *
 * <dir> holds <task>-fp32 and <task>-int8 model directories (tools/compress-variants.ts, heed compress).
 * Rows per task:
 *   forward      the model's forward on one encoded input (spam, digits), as the predictor runs it
 *                (inferenceMode): the like-for-like kernel-path figure;
 *   request      predict([input]): one whole request (tokenizing, forward, softmax / greedy decoding);
 *                for g2p, one word decoded greedily (the encoder, then the fused decoding step).
 *   kernels      (spam, digits) the forward's time per kernel (sgemm / int8GemmPacked and the rest),
 *                each kernel call timed on the CPU clock in a separate pass (the timer's own cost
 *                is in these figures, not in the two above): how much of a forward the Linears are,
 *                and so the most int8 Linears can gain (Amdahl: forward ÷ (forward − Linears)).
 * --static N (spam, digits): also a statically quantized copy (`heed compress --quantize int8-static
 * --calibrate N`, made in a temporary directory from <task>-fp32), timed in the same interleaving:
 * its rows give int8Static beside int8 (dynamic).
 * Inputs: the first 64 test inputs of each task (spam mails as the predictor reads them, with header
 * lines when the model reads headers; digits images as grey levels 0…16; g2p CMUdict test words).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as heed from '../src/index.js';
import { inferenceMode } from '../src/index.js';
import { loadPredictor } from '../src/tasks/index.js';
import { compressModelDir } from '../src/tasks/compress.js';
import { median } from './peers/common.ts';
import { cpuNowMs, nativeLoad, timeKernelCalls } from './native-util.js';
import { k as kernelTable } from '../src/backend/registry.js';
import { readArgs } from './args.ts';

const args = process.argv.slice(2);
const flags = readArgs(import.meta.url, {
  dir: { kind: 'string', default: '/work/compress-models/variants', help: 'the trained models (<task>-fp32 directories)' },
  tasks: { kind: 'strings', default: ['spam', 'digits', 'g2p'], help: 'tasks' },
  calls: { kind: 'int', default: 300, min: 1, help: 'timed calls per model' },
  static: { kind: 'int', default: 0, min: 0, help: 'calibration inputs for static int8 quantization (0: dynamic only)' },
  out: { kind: 'string', help: 'raw results file (JSON)' },
});
const DIR = flags.dir;
const TASKS = flags.tasks;
const CALLS = flags.calls;
const STATIC = flags.static;

/** The first 64 test inputs of a task, as its predictor takes them. */
async function inputs(task: string): Promise<unknown[]> {
  if (task === 'g2p') {
    const { loadCmudict } = await import('../src/data/cmudict.js');
    return loadCmudict().test.words.slice(0, 64).map((w) => w.word);
  }
  if (task === 'spam') {
    const { loadSpamAssassin } = await import('../src/data/spam.js');
    const cfg = JSON.parse(readFileSync(join(DIR, 'spam-fp32', 'config.json'), 'utf8')) as { config: { headers?: unknown } };
    const headers = cfg.config.headers === true;
    return (await loadSpamAssassin()).test.slice(0, 64).map((e) => (headers && e.headers ? `${e.headers}\n${e.text}` : e.text));
  }
  if (task === 'digits') {
    const { loadDigits } = await import('../src/data/digits.js');
    const t = loadDigits().test;
    return Array.from({ length: 64 }, (_, i) => Array.from(t.images.subarray(i * 64, (i + 1) * 64), (v) => Math.round(v * 16)));
  }
  throw new Error(`bench/int8-models: task '${task}' is not measured here (spam, digits, g2p)`);
}

/** Median CPU ms per call of each fn, the fns called in turn `calls` times (after 20 warm-up rounds). */
function interleaved(fns: ((i: number) => void)[], calls: number): number[] {
  for (let i = 0; i < 20; i++) fns.forEach((f) => f(i));
  const t: number[][] = fns.map(() => []);
  for (let i = 0; i < calls; i++) {
    fns.forEach((f, j) => {
      const c0 = cpuNowMs();
      f(i);
      t[j].push(cpuNowMs() - c0);
    });
  }
  return t.map(median);
}

type Member = { model: { forward(x: unknown): unknown }; encode(inputs: readonly unknown[]): { x: unknown } };

// The calling thread's CPU clock (one native call, cheaper than process.cpuUsage; with one thread the
// kernels run on it). Read per kernel call, so it is only used for the split, not the two rows above.
const threadMs = (): number => nativeLoad!.threadCpuNs() / 1e6;
const timer = timeKernelCalls(kernelTable, threadMs);

/** CPU ms per forward in each kernel (median-free: the sum over `calls` forwards ÷ calls), plus the forward's total. */
function kernelSplit(m: Member, encoded: unknown[]): Record<string, number> {
  const calls = Math.max(50, Math.floor(CALLS / 2));
  timer.time.clear();
  timer.on = true;
  const c0 = threadMs();
  for (let i = 0; i < calls; i++) inferenceMode(() => m.model.forward(encoded[i % encoded.length]), m.model as never);
  const total = (threadMs() - c0) / calls;
  timer.on = false;
  const out: Record<string, number> = { total };
  let inKernels = 0;
  for (const [name, e] of [...timer.time].sort((a, b) => b[1].ms - a[1].ms)) { out[name] = e.ms / calls; inKernels += e.ms / calls; }
  out.outsideKernels = total - inKernels;
  return out;
}

async function main(): Promise<void> {
  if (!nativeLoad) throw new Error('bench/int8-models: the native addon did not load');
  const loadBefore = loadavg();
  const rows: Record<string, unknown>[] = [];
  for (const task of TASKS) {
    const xs = await inputs(task);
    const fp32 = await loadPredictor(join(DIR, `${task}-fp32`));
    const int8 = await loadPredictor(join(DIR, `${task}-int8`));
    const withStatic = STATIC > 0 && task !== 'g2p';
    let stat: typeof int8 | null = null;
    if (withStatic) {
      const d = join(mkdtempSync(join(tmpdir(), 'heed-int8-models-')), `${task}-int8-static`);
      await compressModelDir(join(DIR, `${task}-fp32`), d, { quantize: 'int8-static', calibrate: STATIC });
      stat = await loadPredictor(d);
    }
    const preds = stat ? [fp32, int8, stat] : [fp32, int8];
    const req = interleaved(preds.map((p) => (i: number) => p.predict([xs[i % xs.length]])), CALLS);
    rows.push({ task, what: 'request (predict one input)', fp32Ms: req[0], int8Ms: req[1], speedup: req[0] / req[1], ...(stat ? { int8StaticMs: req[2], staticSpeedup: req[0] / req[2] } : {}) });
    const members = preds.map((p) => (p as unknown as { members?: Member[] }).members?.[0]);
    const [mf, mi] = members;
    if (members.every((m) => m?.encode)) {
      const enc = members.map((m) => xs.map((x) => m!.encode([x]).x));
      const [ef, ei] = enc;
      const fwd = interleaved(members.map((m, j) => (i: number) => inferenceMode(() => m!.model.forward(enc[j][i % xs.length]), m!.model as never)), CALLS);
      rows.push({ task, what: 'model forward (one encoded input)', fp32Ms: fwd[0], int8Ms: fwd[1], speedup: fwd[0] / fwd[1], ...(stat ? { int8StaticMs: fwd[2], staticSpeedup: fwd[0] / fwd[2] } : {}) });
      rows.push({ task, what: 'kernels per forward (ms)', fp32: kernelSplit(mf!, ef), int8: kernelSplit(mi!, ei) });
    }
    for (const r of rows.filter((x) => x.task === task && x.speedup !== undefined)) console.log(`${task.padEnd(7)} ${String(r.what).padEnd(34)} fp32 ${(r.fp32Ms as number).toFixed(3)} ms  int8 ${(r.int8Ms as number).toFixed(3)} ms  ${(r.speedup as number).toFixed(2)}x${r.int8StaticMs !== undefined ? `  int8 static ${(r.int8StaticMs as number).toFixed(3)} ms ${(r.staticSpeedup as number).toFixed(2)}x` : ''}`);
  }
  for (const r of rows.filter((x) => x.fp32 !== undefined)) {
    const f = r.fp32 as Record<string, number>, q = r.int8 as Record<string, number>;
    const lin = f.sgemm ?? 0, rest = f.total - lin;
    console.log(`${String(r.task).padEnd(7)} timed per kernel: fp32 forward ${f.total.toFixed(3)} ms, sgemm ${lin.toFixed(3)} ms (${((100 * lin) / f.total).toFixed(0)}%); int8 forward ${q.total.toFixed(3)} ms, int8GemmPacked ${(q.int8GemmPacked ?? 0).toFixed(3)} ms + sgemm ${(q.sgemm ?? 0).toFixed(3)} ms; bound with free Linears ${(f.total / rest).toFixed(2)}x`);
  }
  const out = flags.out;
  const result = {
    command: `HEED_NUM_THREADS=${process.env.HEED_NUM_THREADS ?? ''} node --import tsx bench/int8-models.ts ${args.join(' ')}`.trim(),
    date: new Date().toISOString(), clock: 'process CPU (process.cpuUsage), median per call', dir: DIR, calls: CALLS,
    static: STATIC, threads: nativeLoad.threads(), backend: heed.backendInfo().isa, loadavgBefore: loadBefore, loadavgAfter: loadavg(), rows,
  };
  if (out !== undefined) writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
}

await main();
