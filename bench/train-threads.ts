/**
 * How a training step scales to two threads, measured so that other jobs on the machine do not
 * decide the answer: the thread pool's profiling counters (native/threadpool.h PoolProfile) time
 * every task of every pool job on its thread's CPU clock, and every kernel call is bracketed by
 * the JS main thread's CPU clock. From those, per kernel and per step:
 *
 *   1T         the kernel's CPU time in a 1-thread profile of the same step (all on the caller)
 *   serial     in the N-thread profile, the caller's CPU time in the kernel outside pool jobs
 *              (small calls that stay on one thread, packing before a job, the binding)
 *   tasks      CPU time of the kernel's pool tasks, summed over threads (each task timed on its
 *              thread's CPU clock, one clock read's cost subtracted)
 *   makespan   the pool jobs' tasks replayed in claim order onto N free threads (a greedy list
 *              schedule): the jobs' time on an idle machine
 *   est 2T     serial + makespan       (the kernel on N idle threads; no wake-up cost counted)
 *   efficiency 1T / (N × est 2T); 100% = perfect scaling. Work the split adds (a GEMM slab packing
 *              the shared operand again, two threads sharing caches) lowers it, as it should.
 *   work eff   1T / (serial + tasks): only the work the split adds, whatever the schedule. The makespan
 *              assumes a job's tasks are independent; a GEMM's slabs share one pack of their common
 *              operand (native/gemm.cpp SharedPack), claimed by whichever thread gets there first, so
 *              when a worker joins late (a loaded machine) the first task packs most of it and the
 *              replayed schedule is longer than two idle threads would make it.
 *   busy/wall  (serial + tasks) / (wall time in the kernel × N): the brief's ratio on the wall
 *              clock, which on a loaded machine measures the other jobs more than heed
 *   JS         main-thread CPU time of the 1-thread step outside kernels (autograd, op dispatch,
 *              allocation; the wrappers' own calibrated cost subtracted)

 * The step's measured-Amdahl speed-up is (JS + Σ 1T) / (JS + Σ est 2T). The wall-clock step
 * times at 1 and 2 threads (interleaved rounds, medians) are printed beside it with the load average.
 *
 *   node --import tsx bench/train-threads.ts [--threads 2] [--steps 6] [--rounds 5] [--only d256,d128,spam] [--detail] [--out file.json]
 *
 * --detail  also print the table by shape (GEMMs) and size (memory-bound kernels); the JSON always has it.
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
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  threads: { kind: 'int', default: 2, min: 1, help: 'pool threads' },
  steps: { kind: 'int', default: 6, min: 1, help: 'profiled steps per round' },
  rounds: { kind: 'int', default: 5, min: 1, help: 'rounds' },
  only: { kind: 'strings', default: ['d256', 'd128', 'spam'], choices: ['d256', 'd128', 'spam'], help: 'workloads' },
  detail: { kind: 'bool', help: 'also every kernel\'s row' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
if (!nativeLoad) throw new Error('bench/train-threads.ts needs the native addon (npm run build:native)');
setBackend('native');
const threads = flags.threads;
const steps = flags.steps;
const rounds = flags.rounds;
const only = flags.only;
const out = flags.out;
// Counter snapshots, indices as POOL_PROFILE_FIELDS (src/backend/native/load.ts).
const JOBS = 0, TASKS = 1, TASK = 2, WORKER = 3, IN_JOB = 4, MAKESPAN = 5, JOINED = 6, CPU = 7;
const snapA = new Float64Array(8), snapB = new Float64Array(8);
const addon = nativeLoad;
const snap = (into: Float64Array) => addon.poolProfile(null, into);

/** Accumulated per kernel (or GEMM shape) over the profiled steps. */
interface Acc { calls: number; wallNs: number; callerNs: number; callerInJobNs: number; taskNs: number; workerNs: number; makespanNs: number; jobs: number; tasks: number; joined: number }
const zero = (): Acc => ({ calls: 0, wallNs: 0, callerNs: 0, callerInJobNs: 0, taskNs: 0, workerNs: 0, makespanNs: 0, jobs: 0, tasks: 0, joined: 0 });

type Params = Record<string, unknown>;
/**
 * The detail key of a call: GEMMs by shape (m×n×k, transposes, batch), the memory-bound kernels by
 * size, so that a kernel whose small calls stay on one thread shows which calls those are.
 */
function keyOf(name: string, p: Params): string {
  if (name === 'sgemm') return `sgemm ${Number(p.batch) > 1 ? `${p.batch}× ` : ''}${p.m}×${p.n}×${p.k} ${p.transA ? 'T' : 'N'}${p.transB ? 'T' : 'N'}`;
  if (name === 'linearFused') return `linearFused ${p.rows}×${p.outF}×${p.inF}`;
  if (name === 'permute') return `permute (${String(p.shape)}) by (${String(p.perm)})`;
  if (name === 'reduceAxis') return `reduceAxis op${p.op} (${p.outer}, ${p.size}, ${p.inner})`;
  if (name === 'adamwStep') return `adamwStep n ${(p.param as Float32Array).length}`;
  if (name === 'binarySame' || name === 'dropout' || name === 'unary' || name === 'unaryBackward') return `${name} n ${((p.a ?? p.x ?? p.dy) as Float32Array).length}`;
  return name;
}

/** The map the wrappers accumulate into (one per thread count, switched step by step). */
let acc = new Map<string, Acc>();
const state = { on: false };
/**
 * The main thread's CPU time between the end of one pool job and the start of the next, in the
 * N-thread profiled steps (ns): how long the pool's workers sit idle between kernels, against their
 * spin budget (HEED_POOL_SPIN_US, default 300 µs) after which they sleep and the next job pays a wake-up.
 * CPU time, so the other jobs of a loaded machine do not lengthen it; the call that starts a job counts
 * from its own start (its binding and packing before the job are part of the gap).
 */
const gaps = { on: false, lastEnd: NaN, callsSince: 0, ns: [] as number[], calls: [] as number[] };
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
      if (gaps.on && b[JOBS] > a[JOBS]) {
        if (Number.isFinite(gaps.lastEnd)) {
          gaps.ns.push(a[CPU] - gaps.lastEnd);
          gaps.calls.push(gaps.callsSince);  // wrappers run in the gap (their cost is taken out below)
        }
        gaps.lastEnd = b[CPU];
        gaps.callsSince = 0;
      } else if (gaps.on) {
        gaps.callsSince++;
      }
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
  // 2. The profile, at 1 thread (each kernel's real 1-thread cost, and JS) and at `threads`.
  const overhead = wrapperCostNs();
  // The 1- and N-thread profiles alternate step by step, so that a change in the machine's load
  // during the run hits both alike. Each step keeps its own counters, and every figure is the
  // median over steps: on this VM a thread's CPU clock now and then jumps by milliseconds inside
  // one call (time the hypervisor took the vCPU away, charged to whatever ran), and a mean would
  // spread such a jump over the kernel it landed in.
  const perStep = new Map<number, { acc: Map<string, Acc>; cpuNs: number; wallMs: number }[]>([[1, []], [threads, []]]);
  nativeLoad.poolProfile(true, snapA);
  for (let i = 0; i < steps; i++) {
    for (const t of [1, threads]) {
      setNumThreads(t);
      acc = new Map();
      gaps.on = t === threads;
      gaps.lastEnd = NaN;
      state.on = true;
      const c0 = nativeLoad.threadCpuNs(), w0 = performance.now();
      steppers[t]();
      const cpuNs = nativeLoad.threadCpuNs() - c0, wallMs = performance.now() - w0;
      state.on = false;
      gaps.on = false;
      perStep.get(t)!.push({ acc, cpuNs, wallMs });
    }
  }
  nativeLoad.poolProfile(false, snapA);
  const wrapperOutsideNs = overhead.total - overhead.window;
  const profile = (t: number) => {
    const list = perStep.get(t)!;
    // The median step, scaled by `steps` so that the per-step division below holds: each field of
    // each key is its median over the steps (a key missing from a step counts 0 there).
    const keys = new Set(list.flatMap((x) => [...x.acc.keys()]));
    const a0 = new Map<string, Acc>();
    for (const key of keys) {
      const e = zero();
      for (const f of Object.keys(e) as (keyof Acc)[]) e[f] = steps * median(list.map((x) => x.acc.get(key)?.[f] ?? 0));
      a0.set(key, e);
    }
    const stepCpuNs = median(list.map((x) => x.cpuNs)), stepWallMs = median(list.map((x) => x.wallMs));
    // by kernel name: the detail rows' counters summed
    const byName = new Map<string, Acc>();
    for (const [key, e] of a0) {
      const name = key.split(' ')[0], a = byName.get(name) ?? zero();
      for (const f of Object.keys(a) as (keyof Acc)[]) a[f] += e[f];
      byName.set(name, a);
    }
    const calls = [...a0.values()].reduce((n, e) => n + e.calls, 0) / steps;
    // JS per step, then its median
    const jsMs = median(list.map((x) => ms(x.cpuNs - [...x.acc.values()].reduce((n, e) => n + e.callerNs + e.calls * wrapperOutsideNs, 0))));
    return { stepCpuNs, stepWallMs, byName, detail: a0, calls, jsMs };
  };
  const p1 = profile(1), p2 = profile(threads);
  const stepCpuNs = p2.stepCpuNs, stepWallMs = p2.stepWallMs, calls = p2.calls;

  // One row per kernel (or shape): its 1-thread cost (the 1-thread profile: everything on the
  // caller) against its `threads`-thread estimate (serial part + the pool jobs' makespan).
  const toRows = (m2: Map<string, Acc>, m1: Map<string, Acc>) => [...m2.entries()].map(([key, e]) => {
    const per = (x: number) => x / steps;
    const one = m1.get(key);
    const k1 = one ? Math.max(0, per(one.callerNs - one.calls * overhead.window)) : NaN;
    const serial = Math.max(0, per(e.callerNs - e.callerInJobNs - e.calls * overhead.window)), tasks = per(e.taskNs), makespan = per(e.makespanNs);
    const est2 = serial + makespan;
    return {
      key, calls: e.calls / steps, oneThreadMs: ms(k1), wallMs: ms(per(e.wallNs)), callerMs: ms(per(e.callerNs)), serialMs: ms(serial), taskMs: ms(tasks),
      workerMs: ms(per(e.workerNs)), makespanMs: ms(makespan), est2Ms: ms(est2),
      efficiency: est2 > 0 ? k1 / (threads * est2) : NaN, workEfficiency: serial + tasks > 0 ? k1 / (serial + tasks) : NaN, busyOverWall: e.wallNs > 0 ? (e.callerNs - e.callerInJobNs + e.taskNs) / (e.wallNs * threads) : NaN,
      jobs: e.jobs / steps, tasks: e.tasks / steps, jobsWorkerJoined: e.joined / steps,
    };
  }).sort((a, b) => b.oneThreadMs - a.oneThreadMs);
  const rows = toRows(p2.byName, p1.byName), detail = toRows(p2.detail, p1.detail);
  // JS from the 1-thread profile (no worker competes with the main thread there)
  const jsMs = p1.jsMs;
  const est1 = jsMs + rows.reduce((s2, r) => s2 + (Number.isFinite(r.oneThreadMs) ? r.oneThreadMs : 0), 0);
  const est2 = jsMs + rows.reduce((s2, r) => s2 + r.est2Ms, 0);
  const serialKernels = rows.reduce((s2, r) => s2 + r.serialMs, 0);
  // A second estimate that trusts only the tasks: each kernel's 1-thread time minus what the
  // schedule saves (tasks − makespan). It leaves out the caller's time outside jobs in the N-thread
  // profile, which includes ~3% of every GEMM's time that no code path accounts for (see BENCHMARKS.md).
  const est2Saved = jsMs + rows.reduce((s2, r) => s2 + (Number.isFinite(r.oneThreadMs) ? Math.max(r.oneThreadMs - r.taskMs + r.makespanMs, r.oneThreadMs / threads) : r.est2Ms), 0);
  const t1 = median(plain[1].cpu), t1w = median(plain[1].wall), t2w = median(plain[threads].wall);

  console.log(`\n## ${w.name}: ${calls.toFixed(0)} kernel calls/step (wrapper ${(overhead.total / 1000).toFixed(2)} µs each, ${(overhead.window / 1000).toFixed(2)} µs of it inside the kernel's window; subtracted)`);
  console.log(`main-thread CPU/step ${ms(p1.stepCpuNs).toFixed(1)} / ${ms(stepCpuNs).toFixed(1)} ms profiled at 1 / ${threads} threads; JS outside kernels ${jsMs.toFixed(1)} ms (${p2.jsMs.toFixed(1)} ms in the ${threads}-thread profile); pool jobs ${rows.reduce((s2, r) => s2 + r.jobs, 0).toFixed(0)} (a worker took part in ${rows.reduce((s2, r) => s2 + r.jobsWorkerJoined, 0).toFixed(0)}), tasks ${rows.reduce((s2, r) => s2 + r.tasks, 0).toFixed(0)}; kernels' serial parts ${serialKernels.toFixed(1)} ms`);
  console.log(`estimated step: 1 thread ${est1.toFixed(1)} ms (JS + the kernels' 1-thread profile; unprofiled, main-thread CPU: ${t1.toFixed(1)} ms), ${threads} threads ${est2.toFixed(1)} ms`);
  console.log(`serial share: JS ${pct(jsMs / est1)} + kernels on one thread ${pct(serialKernels / est1)}; measured-Amdahl speed-up at ${threads} threads ${(est1 / est2).toFixed(2)}× (counting only what the pool's schedule saves: ${(est1 / est2Saved).toFixed(2)}×)`);
  // idle gaps of the pool between jobs (main-thread CPU, the profiler's wrappers taken out)
  const gapUs = gaps.ns.map((g, i) => Math.max(0, g - gaps.calls[i] * overhead.total) / 1e3).sort((x, y) => x - y);
  const q = (f: number) => gapUs[Math.min(gapUs.length - 1, Math.floor(f * gapUs.length))];
  const over = (us: number) => gapUs.filter((g) => g > us).length / steps;
  // per spin budget: the jobs per step that find the worker asleep (a gap longer than the budget) and
  // the worker CPU per step its spinning costs (Σ min(gap, budget))
  const budgets = [0, 20, 50, 70, 100, 200, 300, 500, 1000];
  const spinMsPerStep = (us: number) => gapUs.reduce((t, g) => t + Math.min(g, us), 0) / steps / 1e3;
  const idleGaps = {
    perStep: gapUs.length / steps, p10: q(0.1), p25: q(0.25), p50: q(0.5), p75: q(0.75), p90: q(0.9),
    bySpinBudgetUs: budgets.map((us) => ({ spinUs: us, wakesPerStep: over(us), spinCpuMsPerStep: spinMsPerStep(us) })),
  };
  gaps.ns = [];
  gaps.calls = [];
  console.log(`pool idle between jobs (main-thread CPU, ${idleGaps.perStep.toFixed(0)} gaps/step): p10 ${idleGaps.p10.toFixed(0)}, p25 ${idleGaps.p25.toFixed(0)}, p50 ${idleGaps.p50.toFixed(0)}, p75 ${idleGaps.p75.toFixed(0)}, p90 ${idleGaps.p90.toFixed(0)} µs`);
  console.log(`a worker sleeps after HEED_POOL_SPIN_US of idle spin; per spin budget, jobs/step that must wake it and its spin CPU ms/step: ${idleGaps.bySpinBudgetUs.map((b) => `${b.spinUs} µs: ${b.wakesPerStep.toFixed(0)}, ${b.spinCpuMsPerStep.toFixed(1)}`).join('; ')}`);
  console.log(`wall clock (loaded machine; medians of ${rounds} interleaved rounds): 1 thread ${t1w.toFixed(1)} ms, ${threads} threads ${t2w.toFixed(1)} ms, ratio ${(t1w / t2w).toFixed(2)}×; profiled step wall ${stepWallMs.toFixed(1)} ms`);
  console.log('| kernel / shape | calls | 1T ms | serial ms | tasks ms (workers) | est 2T ms | efficiency | work eff | busy/wall | step share 1T |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const print = (r: (typeof rows)[number]) =>
    console.log(`| ${r.key} | ${r.calls.toFixed(0)} | ${r.oneThreadMs.toFixed(2)} | ${r.serialMs.toFixed(2)} | ${r.taskMs.toFixed(2)} (${r.workerMs.toFixed(2)}) | ${r.est2Ms.toFixed(2)} | ${pct(r.efficiency)} | ${pct(r.workEfficiency)} | ${pct(r.busyOverWall)} | ${(100 * r.oneThreadMs / est1).toFixed(1)}% |`);
  rows.forEach(print);
  if (flags.detail) {
    console.log('\nby shape:');
    detail.forEach(print);
  }
  report.push({
    workload: w.name, threads, steps, rounds, load: loadavg(), wrapperNs: overhead.total, wrapperWindowNs: overhead.window, stepMainCpuMs: ms(stepCpuNs), jsMs, js2Ms: p2.jsMs, stepMainCpu1Ms: ms(p1.stepCpuNs), serialKernelsMs: serialKernels,
    est1Ms: est1, est2Ms: est2, amdahlSpeedup: est1 / est2, est2SavedMs: est2Saved, amdahlSpeedupSaved: est1 / est2Saved, measured1tMainCpuMs: t1, wall: { [1]: plain[1].wall, [threads]: plain[threads].wall },
    mainCpu: { [1]: plain[1].cpu, [threads]: plain[threads].cpu }, idleGapsUs: idleGaps, kernels: rows, detail,
  });
}
if (out) {
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: process.argv.slice(1).join(' '), isa: nativeLoad.isa(), report }, null, 1));
  console.log(`\nwrote ${out}`);
}
