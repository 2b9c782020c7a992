/**
 * Where a training step's serial JavaScript goes (issue 16: the part of the step outside native
 * kernels, which bounds the 2-thread speed-up by Amdahl's law). One process, the main thread's
 * CPU clock (CLOCK_THREAD_CPUTIME_ID), medians over steps. Each step runs as the Trainer runs it,
 * in parts timed one by one:
 *
 *   open      stepScope + zeroGrad
 *   forward   the model's forward and the loss (op dispatch, tape recording)
 *   backward  loss.backward(): the engine's walk and every op's gradient closure
 *   clip      clipGradNorm(params, 1), the Trainer's default (bench/train.ts's step has none;
 *             reported apart, so the step's share stays comparable with bench/train-threads.ts)
 *   optim     optimizer.step() (AdamW)
 *   close     the storage scope's close (liveness walk, buffers back to the pool)
 *
 * Every kernel call is bracketed by the same clock (the wrapper's own cost calibrated and
 * subtracted), so each part splits into kernels and JS. Also per step: kernel calls, autograd
 * nodes, tensor storages handed out (new / from the pool), and the garbage collector's pauses.
 *
 *   node --import tsx bench/js-share.ts [--threads 1] [--steps 12] [--only d256,d128,spam] [--out bench/results/js-share-….json]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { heedStep, makeTrainBatch, TRAIN_CFG, TRAIN_CFG_D128, type TrainCfg } from './train.ts';
import { heedClassifierStep, makeClassifierBatch } from './train-classifier.ts';
import { k, setBackend, setNumThreads } from '../src/backend/registry.ts';
import { nativeLoad } from './native-util.ts';
import { median } from './peers/common.ts';
import { stepScope } from '../src/train/step-memory.ts';
import { clipGradNorm } from '../src/train/optim/clip.ts';
import { storageStats } from '../src/tensor/storage-pool.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import type { Module } from '../src/nn/module.ts';
import type { AdamW } from '../src/train/optim/index.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  threads: { kind: 'int', default: 1, min: 1, help: 'pool threads' },
  steps: { kind: 'int', default: 12, min: 1, help: 'timed training steps per workload' },
  only: { kind: 'strings', default: ['d256', 'd128', 'spam'], choices: ['d256', 'd128', 'spam'], help: 'workloads' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
if (!nativeLoad) throw new Error('bench/js-share.ts needs the native addon (npm run build:native)');
setBackend('native');
const threads = flags.threads;
const steps = flags.steps;
const only = flags.only;
const out = flags.out;
setNumThreads(threads);
const cpuNs = () => nativeLoad!.threadCpuNs();

// Every kernel bracketed by the main thread's CPU clock while `on`.
const kern = { on: false, ns: 0, calls: 0 };
const table = k as unknown as Record<string, (p: unknown) => unknown>;
for (const name of Object.keys(table)) {
  const fn = table[name];
  table[name] = (p: unknown) => {
    if (!kern.on) return fn(p);
    const t0 = cpuNs();
    try { return fn(p); } finally { kern.ns += cpuNs() - t0; kern.calls++; }
  };
}
/** The wrapper's main-thread cost per call outside its clock window (charged to JS; subtracted). */
function wrapperNs(): number {
  const n = 20000;
  const t0 = cpuNs();
  let inside = 0;
  for (let i = 0; i < n; i++) { const a = cpuNs(); inside += cpuNs() - a; kern.calls++; }
  return (cpuNs() - t0 - inside) / n;
}

/** Autograd nodes reachable from `root` (counted outside the timed parts). */
function countNodes(root: Tensor): number {
  const seen = new Set<Tensor>([root]);
  const stack = [root];
  while (stack.length) for (const x of stack.pop()!.gradFn?.inputs ?? []) if (x.gradFn !== null && !seen.has(x)) { seen.add(x); stack.push(x); }
  return seen.size;
}

const gcPauses: { start: number; ms: number; major: boolean }[] = [];
// kind 4 = NODE_PERFORMANCE_GC_MAJOR (mark-compact), 1 = minor (scavenge), 8 = incremental marking, 16 = weak callbacks
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push({ start: e.startTime, ms: e.duration, major: (e as unknown as { detail?: { kind?: number } }).detail?.kind === 4 });
}).observe({ entryTypes: ['gc'] });

const PARTS = ['open', 'forward', 'backward', 'clip', 'optim', 'close'] as const;
type Part = (typeof PARTS)[number];
interface Parts { model: Module; opt: AdamW; lossOf: () => Tensor }

async function measure(name: string, h: Parts) {
  const params = h.model.namedParameters().map(([, p]) => p).filter((p) => p.requiresGrad);
  const wrap = wrapperNs();
  const per: Record<Part, { cpu: number[]; kernels: number[]; js: number[]; calls: number[] }> = Object.fromEntries(PARTS.map((p) => [p, { cpu: [], kernels: [], js: [], calls: [] }])) as never;
  const stepJs: number[] = [], stepJsNoClip: number[] = [], stepCpu: number[] = [], nodes: number[] = [], storages: number[] = [], newBytes: number[] = [], windows: [number, number][] = [];
  for (let s = -3; s < steps; s++) { // 3 warm-up steps
    const w0 = performance.now(), s0 = storageStats();
    const parts: Partial<Record<Part, { cpu: number; kernels: number; calls: number }>> = {};
    let scope: ReturnType<typeof stepScope> | undefined, loss: Tensor | undefined;
    const time = (part: Part, f: () => void) => {
      kern.ns = 0; kern.calls = 0; kern.on = true;
      const t0 = cpuNs();
      f();
      const cpu = cpuNs() - t0;
      kern.on = false;
      parts[part] = { cpu, kernels: kern.ns, calls: kern.calls };
    };
    time('open', () => { scope = stepScope(h.model, h.opt); h.opt.zeroGrad(); });
    time('forward', () => { loss = h.lossOf(); });
    const n = countNodes(loss!);
    time('backward', () => loss!.backward());
    time('clip', () => clipGradNorm(params, 1));
    time('optim', () => h.opt.step());
    time('close', () => scope!.close());
    const s1 = storageStats();
    if (s < 0) continue;
    windows.push([w0, performance.now()]);
    nodes.push(n);
    storages.push(s1.allocations - s0.allocations);
    newBytes.push(s1.bytes - s0.bytes);
    let js = 0, cpu = 0, jsClip = 0;
    for (const p of PARTS) {
      const r = parts[p]!;
      const jsMs = (r.cpu - r.kernels - r.calls * wrap) / 1e6;
      per[p].cpu.push(r.cpu / 1e6); per[p].kernels.push(r.kernels / 1e6); per[p].js.push(jsMs); per[p].calls.push(r.calls);
      js += jsMs; cpu += r.cpu / 1e6;
      if (p === 'clip') jsClip = jsMs;
    }
    stepJs.push(js); stepJsNoClip.push(js - jsClip); stepCpu.push(cpu);
  }
  await new Promise((r) => setTimeout(r, 20)); // the gc observer's entries arrive on a later turn
  const inSteps = gcPauses.filter((g) => windows.some(([a, b]) => g.start >= a && g.start <= b));
  const gcMs = inSteps.reduce((t, g) => t + g.ms, 0) / steps;
  const gcMajorMs = inSteps.filter((g) => g.major).reduce((t, g) => t + g.ms, 0) / steps;
  const gcs = inSteps.length / steps, gcMajor = inSteps.filter((g) => g.major).length / steps;
  gcPauses.length = 0;
  const row = {
    workload: name, threads, steps, load: loadavg(), wrapperNs: wrap,
    stepCpuMs: median(stepCpu), jsMs: median(stepJs), jsNoClipMs: median(stepJsNoClip),
    parts: Object.fromEntries(PARTS.map((p) => [p, { cpuMs: median(per[p].cpu), kernelMs: median(per[p].kernels), jsMs: median(per[p].js), kernelCalls: median(per[p].calls) }])),
    autogradNodes: median(nodes), storages: median(storages), newStorageBytes: median(newBytes), gcMsPerStep: gcMs, gcMajorMsPerStep: gcMajorMs, gcsPerStep: gcs, gcMajorPerStep: gcMajor,
  };
  const f = (x: number) => x.toFixed(2);
  const noClipCpu = row.stepCpuMs - row.parts.clip.cpuMs;
  console.log(`\n## ${name} (${threads} thread${threads > 1 ? 's' : ''}, medians of ${steps} steps; load ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
  console.log(`main-thread CPU ${f(row.stepCpuMs)} ms/step; JS outside kernels ${f(row.jsMs)} ms (${(100 * row.jsMs / row.stepCpuMs).toFixed(1)}%); without clipping (bench/train.ts's step) ${f(row.jsNoClipMs)} ms of ${f(noClipCpu)} (${(100 * row.jsNoClipMs / noClipCpu).toFixed(1)}%)`);
  console.log(`${row.autogradNodes} autograd nodes, ${row.storages} storages (${(row.newStorageBytes / 2 ** 20).toFixed(2)} MB new), GC pauses ${f(gcMs)} ms/step (wall; ${gcs.toFixed(1)} per step, mark-compact ${gcMajor.toFixed(2)} per step, ${f(gcMajorMs)} ms); wrapper ${(wrap / 1000).toFixed(2)} µs/call subtracted`);
  console.log('| part | CPU ms | kernels ms | JS ms | kernel calls |\n|---|---:|---:|---:|---:|');
  for (const p of PARTS) { const r = row.parts[p]; console.log(`| ${p} | ${f(r.cpuMs)} | ${f(r.kernelMs)} | ${f(r.jsMs)} | ${r.kernelCalls} |`); }
  return row;
}

const report: unknown[] = [];
const seq2seq = async (c: TrainCfg) => measure(`seq2seq d${c.dModel}`, await heedStep(makeTrainBatch(), c));
console.log(`${new Date().toISOString()} ${nativeLoad.isa()}, ${threads} thread(s)`);
if (only.includes('d256')) report.push(await seq2seq(TRAIN_CFG));
if (only.includes('d128')) report.push(await seq2seq(TRAIN_CFG_D128));
if (only.includes('spam')) report.push(await measure('spam classifier d64', await heedClassifierStep(makeClassifierBatch())));
if (out) {
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: process.argv.slice(1).join(' '), isa: nativeLoad.isa(), report }, null, 1));
  console.log(`\nwrote ${out}`);
}
