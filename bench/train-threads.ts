/**
 * How a training step scales to two threads, measured so that other jobs on the machine do not
 * decide the answer: the thread pool's profiling counters (native/threadpool.h PoolProfile) time
 * every task of every pool job on its thread's CPU clock, and every kernel call is bracketed by
 * the JS main thread's CPU clock. From those, per kernel and per step:
 *
 *   serial     the caller's CPU time in the kernel outside pool jobs (packing, small kernels that
 *              stay on one thread, the binding's argument checks)
 *   tasks      CPU time of the kernel's pool tasks, summed over threads
 *   makespan   the pool jobs' tasks replayed in claim order onto `threads` free threads (a greedy
 *              list schedule): the jobs' time on an idle machine
 *   est 1T     serial + tasks          (the kernel on one thread)
 *   est 2T     serial + makespan       (the kernel on two idle threads; no wake-up cost counted)
 *   efficiency est 1T / (threads × est 2T); 100% = perfect scaling
 *   busy/wall  (serial + tasks) / (wall time in the kernel × threads): the same ratio on the wall
 *              clock, which on a loaded machine measures the other jobs as much as heed
 *   JS         main-thread CPU time of the step outside kernels (autograd, op dispatch, allocation;
 *              the wrappers' own cost, calibrated, is subtracted)
 *
 * The step's measured-Amdahl speed-up is (JS + Σ est 1T) / (JS + Σ est 2T). The wall-clock step
 * times at 1 and 2 threads (interleaved rounds, medians) are printed beside it with the load average.
 *
 *   node --import tsx bench/train-threads.ts [--threads 2] [--steps 6] [--rounds 5] [--only d256,d128,spam] [--out file.json]
 *
 * HEED_NUM_THREADS is not needed: the script sets the pool size itself (1 for the 1-thread rounds).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { heedStep, makeTrainBatch, TRAIN_CFG, TRAIN_CFG_D128, type TrainCfg } from './train.ts';
import { heedClassifierStep, makeClassifierBatch } from './train-classifier.ts';
import { k, setBackend, setNumThreads, backendInfo } from '../src/backend/registry.ts';
import { nativeLoad } from './native-util.ts';
import { median } from './peers/common.ts';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
if (!nativeLoad) throw new Error('bench/train-threads.ts needs the native addon (npm run build:native)');
setBackend('native');
const threads = Number(arg('threads', '2'));
const steps = Number(arg('steps', '6'));
const rounds = Number(arg('rounds', '5'));
const only = arg('only', 'd256,d128,spam').split(',');
const out = arg('out', '');
// Counter snapshots, indices as POOL_PROFILE_FIELDS (src/backend/native/load.ts).
const JOBS = 0, TASKS = 1, TASK = 2, WORKER = 3, IN_JOB = 4, MAKESPAN = 5, JOINED = 6, CPU = 7;
const snapA = new Float64Array(8), snapB = new Float64Array(8);
const snap = (into: Float64Array) => nativeLoad.poolProfile(null, into);

/** Accumulated per kernel (or GEMM shape) over the profiled steps. */
interface Acc { calls: number; wallNs: number; callerNs: number; callerInJobNs: number; taskNs: number; workerNs: number; makespanNs: number; jobs: number; tasks: number; joined: number }
const zero = (): Acc => ({ calls: 0, wallNs: 0, callerNs: 0, callerInJobNs: 0, taskNs: 0, workerNs: 0, makespanNs: 0, jobs: 0, tasks: 0, joined: 0 });

type Params = Record<string, unknown>;
/** sgemm and linearFused split by shape (m×n×k, transposes, batch), the rest by kernel name. */
function keyOf(name: string, p: Params): string {
  if (name === 'sgemm') return `sgemm ${Number(p.batch) > 1 ? `${p.batch}× ` : ''}${p.m}×${p.n}×${p.k} ${p.transA ? 'T' : 'N'}${p.transB ? 'T' : 'N'}`;
  if (name === 'linearFused') return `linearFused ${p.rows}×${p.outF}×${p.inF}`;
  return name;
}

const acc = new Map<string, Acc>();
const state = { on: false };
const table = k as unknown as Record<string, (p: Params) => unknown>;
for (const name of Object.keys(table)) {
  const fn = table[name];
  table[name] = (p: Params) => {
    if (!state.on) return fn(p);
    snap(snapA);
    const w0 = performance.now();
    try { return fn(p); } finally {
      const w1 = performance.now();
      snap(snapB);
      const a = snapA, b = snapB;
      const key = keyOf(name, p);
      const e = acc.get(key) ?? zero();
      e.calls++;
      e.wallNs += (w1 - w0) * 1e6;
      e.callerNs += b[CPU] - a[CPU];
      e.callerInJobNs += b[IN_JOB] - a[IN_JOB];
      e.taskNs += b[TASK] - a[TASK];
      e.workerNs += b[WORKER] - a[WORKER];
      e.makespanNs += b[MAKESPAN] - a[MAKESPAN];
      e.jobs += b[JOBS] - a[JOBS];
      e.tasks += b[TASKS] - a[TASKS];
      e.joined += b[JOINED] - a[JOINED];
      acc.set(key, e);
    }
  };
}

/**
 * The wrapper's own main-thread CPU per call, ns: `window` is the part between its two clock
 * reads (charged to the kernel; subtracted from each kernel's serial time), `total` all of it
 * (the rest is charged to JS; subtracted from JS).
 */
function wrapperCostNs(): { window: number; total: number } {
  const n = 4000, t0 = nativeLoad!.threadCpuNs();
  let window = 0;
  for (let i = 0; i < n; i++) {
    snap(snapA);
    const w0 = performance.now(), w1 = performance.now();
    snap(snapB);
    window += snapB[CPU] - snapA[CPU];
    if (w1 < w0) throw new Error('unreachable');
  }
  return { window: window / n, total: (nativeLoad!.threadCpuNs() - t0) / n };
}

interface Workload { name: string; make: () => Promise<{ step: () => void }> }
const seq2seq = (c: TrainCfg): Workload => ({ name: `seq2seq d${c.dModel}`, make: () => heedStep(makeTrainBatch(), c) });
const workloads: Workload[] = [
  ...(only.includes('d256') ? [seq2seq(TRAIN_CFG)] : []),
  ...(only.includes('d128') ? [seq2seq(TRAIN_CFG_D128)] : []),
  ...(only.includes('spam') ? [{ name: 'spam classifier d64', make: () => heedClassifierStep(makeClassifierBatch()) }] : []),
];

const ms = (ns: number) => ns / 1e6;
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const report: unknown[] = [];
console.log(`${new Date().toISOString()} load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${backendInfo().backend} ${nativeLoad.isa()}, profiled at ${threads} threads, ${steps} steps`);

for (const w of workloads) {
  // 1. Wall and main-thread CPU time per step at 1 and `threads` threads, interleaved rounds, no profiling.
  const plain: Record<number, { wall: number[]; cpu: number[] }> = { 1: { wall: [], cpu: [] }, [threads]: { wall: [], cpu: [] } };
  const steppers: Record<number, () => void> = {};
  for (const t of [1, threads]) {
    setNumThreads(t);
    const h = await w.make();
    for (let i = 0; i < 2; i++) h.step();
    steppers[t] = h.step;
  }
  for (let r = 0; r < rounds; r++) {
    for (const t of [1, threads]) {
      setNumThreads(t);
      const c0 = nativeLoad.threadCpuNs(), w0 = performance.now();
      steppers[t]();
      plain[t].wall.push(performance.now() - w0);
      plain[t].cpu.push(ms(nativeLoad.threadCpuNs() - c0));
    }
  }
  // 2. The profile at `threads` threads.
  setNumThreads(threads);
  const step = steppers[threads];
  nativeLoad.poolProfile(true, snapA);
  acc.clear();
  const overhead = wrapperCostNs();
  state.on = true;
  const c0 = nativeLoad.threadCpuNs(), w0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const stepCpuNs = (nativeLoad.threadCpuNs() - c0) / steps, stepWallMs = (performance.now() - w0) / steps;
  state.on = false;
  nativeLoad.poolProfile(false, snapA);

  const rows = [...acc.entries()].map(([key, e]) => {
    const per = (x: number) => x / steps;
    const serial = Math.max(0, per(e.callerNs - e.callerInJobNs - e.calls * overhead.window)), tasks = per(e.taskNs), makespan = per(e.makespanNs);
    const est1 = serial + tasks, est2 = serial + makespan;
    return {
      key, calls: e.calls / steps, wallMs: ms(per(e.wallNs)), callerMs: ms(per(e.callerNs)), serialMs: ms(serial), taskMs: ms(tasks),
      workerMs: ms(per(e.workerNs)), makespanMs: ms(makespan), est1Ms: ms(est1), est2Ms: ms(est2),
      efficiency: est2 > 0 ? est1 / (threads * est2) : NaN, busyOverWall: e.wallNs > 0 ? (e.callerNs - e.callerInJobNs + e.taskNs) / (e.wallNs * threads) : NaN,
      jobs: e.jobs / steps, tasks: e.tasks / steps, jobsWorkerJoined: e.joined / steps,
    };
  }).sort((a, b) => b.est1Ms - a.est1Ms);
  const calls = rows.reduce((s, r) => s + r.calls, 0);
  const kernelCallerMs = rows.reduce((s, r) => s + r.callerMs, 0);
  const jsMs = ms(stepCpuNs) - kernelCallerMs - ms(calls * (overhead.total - overhead.window));
  const est1 = jsMs + rows.reduce((s, r) => s + r.est1Ms, 0), est2 = jsMs + rows.reduce((s, r) => s + r.est2Ms, 0);
  const serialKernels = rows.reduce((s, r) => s + r.serialMs, 0);
  const t1 = median(plain[1].cpu), t1w = median(plain[1].wall), t2w = median(plain[threads].wall);

  console.log(`\n## ${w.name}: ${calls.toFixed(0)} kernel calls/step (wrapper ${(overhead.total / 1000).toFixed(2)} µs each, ${(overhead.window / 1000).toFixed(2)} µs of it inside the kernel's window; subtracted)`);
  console.log(`main-thread CPU/step ${ms(stepCpuNs).toFixed(1)} ms profiled; JS outside kernels ${jsMs.toFixed(1)} ms; pool jobs ${rows.reduce((s2, r) => s2 + r.jobs, 0).toFixed(0)} (a worker took part in ${rows.reduce((s2, r) => s2 + r.jobsWorkerJoined, 0).toFixed(0)}), tasks ${rows.reduce((s2, r) => s2 + r.tasks, 0).toFixed(0)}; kernels' serial parts ${serialKernels.toFixed(1)} ms`);
  console.log(`estimated step: 1 thread ${est1.toFixed(1)} ms (measured at 1 thread, main-thread CPU, unprofiled: ${t1.toFixed(1)} ms), ${threads} threads ${est2.toFixed(1)} ms`);
  console.log(`serial share: JS ${pct(jsMs / est1)} + kernels on one thread ${pct(serialKernels / est1)}; measured-Amdahl speed-up at ${threads} threads ${(est1 / est2).toFixed(2)}× (against the measured 1-thread CPU time: ${(t1 / est2).toFixed(2)}×)`);
  console.log(`wall clock (loaded machine; medians of ${rounds} interleaved rounds): 1 thread ${t1w.toFixed(1)} ms, ${threads} threads ${t2w.toFixed(1)} ms, ratio ${(t1w / t2w).toFixed(2)}×; profiled step wall ${stepWallMs.toFixed(1)} ms`);
  console.log('| kernel / shape | calls | est 1T ms | serial ms | tasks ms (workers) | est 2T ms | efficiency | busy/wall | step share 1T |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.key} | ${r.calls.toFixed(0)} | ${r.est1Ms.toFixed(2)} | ${r.serialMs.toFixed(2)} | ${r.taskMs.toFixed(2)} (${r.workerMs.toFixed(2)}) | ${r.est2Ms.toFixed(2)} | ${pct(r.efficiency)} | ${pct(r.busyOverWall)} | ${(100 * r.est1Ms / est1).toFixed(1)}% |`);
  }
  report.push({
    workload: w.name, threads, steps, rounds, load: loadavg(), wrapperNs: overhead.total, wrapperWindowNs: overhead.window, stepMainCpuMs: ms(stepCpuNs), jsMs, serialKernelsMs: serialKernels,
    est1Ms: est1, est2Ms: est2, amdahlSpeedup: est1 / est2, measured1tMainCpuMs: t1, wall: { [1]: plain[1].wall, [threads]: plain[threads].wall },
    mainCpu: { [1]: plain[1].cpu, [threads]: plain[threads].cpu }, kernels: rows,
  });
}
if (out) {
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: process.argv.slice(1).join(' '), isa: nativeLoad.isa(), report }, null, 1));
  console.log(`\nwrote ${out}`);
}
