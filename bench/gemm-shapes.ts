/**
 * The training step's GEMM shapes (G2P seq2seq, d = 256), timed on the CPU clock so that other jobs
 * on a shared machine do not decide the answer, optionally A/B against another build of the addon
 * in the same process (interleaved rounds, medians).
 *
 * Every call is timed alone; a shape's figure is the 25th percentile of its calls' times (see
 * `quantile` below), the median beside it.
 *
 * 1 thread: each call is timed on the calling thread's CPU clock (all the work runs there), and the
 * FMA peak probe (native/peak.cpp) is timed on the same clock between rounds; % of peak = the
 * call's GFLOP/s on that clock over the probe's median.
 *
 * 2 threads (--threads 2): the pool's profiling counters (native/threadpool.h PoolProfile) time
 * every task on its thread's CPU clock; a call's idle-machine estimate is its caller time outside
 * pool jobs + the jobs' makespan (tasks replayed in claim order onto 2 free threads), and its
 * efficiency = 1-thread CPU time / (2 × that estimate), the way bench/train-threads.ts counts it.
 * Work a split adds (two slabs each packing the shared operand) lowers it.
 *
 * --cold evicts the caches before every timed call (the operands come from memory, as in the step).
 *
 *   node --import tsx bench/gemm-shapes.ts [--base path/to/old/heed.node] [--threads 1|2] [--rounds 9] [--quantile 0.25] [--cold]
 *        [--only 256x256x768TN,...] [--out bench/results/gemm-shapes-….json]
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { nativeLoad, filled } from './native-util.ts';
import { median } from './peers/common.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  threads: { kind: 'int', default: 1, min: 1, help: 'pool threads' },
  rounds: { kind: 'int', default: 9, min: 1, help: 'interleaved rounds' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
  base: { kind: 'string', default: '', help: 'another build\'s heed.node to A/B against' },
  cold: { kind: 'bool', help: 'evict the caches before every timed call' },
  only: { kind: 'strings', default: [], help: 'shapes by key (MxNxK + NN/NT/TN); a key not in the step\'s list is timed too' },
  quantile: { kind: 'number', default: 0.25, min: 0, max: 1, help: 'the quantile of the per-round times reported' },
});
if (!nativeLoad) throw new Error('bench/gemm-shapes.ts needs the native addon (npm run build:native)');
const threads = flags.threads;
const rounds = flags.rounds;
const out = flags.out;
const basePath = flags.base;
// --cold: before every timed call, write 64 MB (more than the L3) so that the call's operands and
// output come from memory, as in the training step, where the kernels between two GEMMs evict them
const cold = flags.cold;
const flushBuf = cold ? new Float32Array(16 << 20) : null;
let flushVal = 0;
const flush = () => { if (flushBuf) flushBuf.fill(++flushVal); };

/** One addon build: its flat sgemm, pool controls, clocks and counters. */
interface Impl {
  name: string;
  sgemm: (...args: unknown[]) => void;
  setThreads: (n: number) => void;
  peakFlops: (t: number) => number;
  threadCpuNs: () => number;
  poolProfile: (on: boolean | null, out: Float64Array) => void;
}
function implOf(name: string, addon: Record<string, unknown>): Impl {
  const kernels = addon.kernels as Record<string, (...a: unknown[]) => void>;
  return {
    name,
    sgemm: kernels.sgemm,
    setThreads: addon.setNumThreads as (n: number) => void,
    peakFlops: addon.peakFlops as (t: number) => number,
    threadCpuNs: addon.threadCpuNs as () => number,
    poolProfile: addon.poolProfile as (on: boolean | null, out: Float64Array) => void,
  };
}
const impls: Impl[] = [
  {
    name: 'this tree',
    sgemm: nativeLoad.kernels.sgemm,
    setThreads: nativeLoad.setThreads,
    peakFlops: nativeLoad.peakFlops,
    threadCpuNs: nativeLoad.threadCpuNs,
    poolProfile: nativeLoad.poolProfile,
  },
];
if (basePath) impls.unshift(implOf(`base ${basePath}`, createRequire(import.meta.url)(resolve(basePath)) as Record<string, unknown>));

/** m×n×k, transA, transB: every GEMM shape of the d = 256 step (and its calls per step). */
interface Shape { key: string; m: number; n: number; k: number; tA: boolean; tB: boolean; calls: number }
const parse = (key: string, calls: number): Shape => {
  const [, m, n, kk, ta, tb] = /^(\d+)x(\d+)x(\d+)([NT])([NT])$/.exec(key)!;
  return { key, m: +m, n: +n, k: +kk, tA: ta === 'T', tB: tb === 'T', calls };
};
const ALL: Shape[] = [
  ['256x256x768TN', 12], ['256x256x704TN', 12], ['768x256x256NT', 12], ['768x256x256NN', 12], ['704x256x256NT', 12], ['704x256x256NN', 12],
  ['1024x256x768TN', 2], ['256x1024x768TN', 2], ['768x256x1024NN', 2], ['768x1024x256NN', 2], ['768x1024x256NT', 2], ['768x256x1024NT', 2],
  ['704x256x1024NN', 2], ['704x1024x256NN', 2], ['1024x256x704TN', 2], ['256x1024x704TN', 2], ['704x1024x256NT', 2], ['704x256x1024NT', 2],
  ['704x45x256NT', 1], ['704x256x45NN', 1], ['45x256x704TN', 1],
].map(([key, calls]) => parse(key as string, calls as number));
// --only picks shapes by key; a key not in the step's list is timed too (calls/step 0)
const only = flags.only;
const shapes = only.length ? only.map((key) => ALL.find((s) => s.key === key) ?? parse(key, 0)) : ALL;

const TASK = 2, IN_JOB = 4, MAKESPAN = 5, JOINED = 6, CPU = 7;
const snapA = new Float64Array(8), snapB = new Float64Array(8);

/** Per-call figures of one batch of calls, each call timed alone. */
interface Sample { cpuNs: number[]; est2Ns: number[]; workNs: number[]; joined: boolean[] }

function timeShape(impl: Impl, s: Shape, bufs: { a: Float32Array; b: Float32Array; c: Float32Array }, reps: number, t: number): Sample {
  const call = () => impl.sgemm(bufs.a, bufs.b, bufs.c, 1, s.m, s.n, s.k, s.tA, s.tB, 1, 0, 0, 0, 0, null, 0);
  impl.setThreads(t);
  call();
  const out: Sample = { cpuNs: [], est2Ns: [], workNs: [], joined: [] };
  if (t === 1) {
    for (let r = 0; r < reps; r++) {
      flush();
      const c0 = impl.threadCpuNs();
      call();
      out.cpuNs.push(impl.threadCpuNs() - c0);
    }
    return out;
  }
  impl.poolProfile(true, snapB);
  for (let r = 0; r < reps; r++) {
    flush();
    impl.poolProfile(null, snapA);
    call();
    impl.poolProfile(null, snapB);
    // serial = caller CPU outside pool jobs; the estimate = serial + the jobs' makespan
    const caller = snapB[CPU] - snapA[CPU], inJob = snapB[IN_JOB] - snapA[IN_JOB];
    out.cpuNs.push(caller);
    out.est2Ns.push(caller - inJob + snapB[MAKESPAN] - snapA[MAKESPAN]);
    out.joined.push(snapB[JOINED] - snapA[JOINED] > 0);
    out.workNs.push(caller - inJob + snapB[TASK] - snapA[TASK]);
  }
  impl.poolProfile(false, snapB);
  return out;
}

/**
 * The statistic of a shape's call times: their 25th percentile. On a loaded machine a call's CPU
 * time is inflated by whatever the other jobs did to the caches between its time slices, by a
 * varying amount; the low quantile is the call's own cost, the median is printed beside it.
 */
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const Q = flags.quantile;

const load0 = loadavg();
console.log(`${new Date().toISOString()} load ${load0.map((x) => x.toFixed(2)).join(' ')}; ${nativeLoad.isa()}; ${threads} thread(s), ${rounds} interleaved rounds${cold ? ', caches evicted before each call' : ''}; impls: ${impls.map((i) => i.name).join(' | ')}`);
const peakCpu = new Map<string, number[]>(impls.map((i) => [i.name, []]));
const res = new Map<string, { one: number[]; est2: number[]; est2Joined: number[]; work2: number[] }>();
for (let r = 0; r < rounds; r++) {
  for (const impl of impls) {
    impl.setThreads(1);
    const c0 = impl.threadCpuNs(), w0 = performance.now();
    const g = impl.peakFlops(1);
    const w = performance.now() - w0, c = (impl.threadCpuNs() - c0) / 1e6;
    peakCpu.get(impl.name)!.push((g * w) / c);
  }
  for (const s of shapes) {
    const bufs = { a: filled(s.m * s.k, 1), b: filled(s.k * s.n, 2), c: new Float32Array(s.m * s.n) };
    const flops = 2 * s.m * s.n * s.k;
    const reps = cold ? 3 : Math.max(3, Math.round(4e8 / flops));  // ~ 2 ms of work per batch
    // alternate the order round by round so neither build always runs first
    const order = r % 2 ? [...impls].reverse() : impls;
    for (const impl of order) {
      const key = `${impl.name}|${s.key}`;
      const e = res.get(key) ?? { one: [], est2: [], est2Joined: [], work2: [] };
      e.one.push(...timeShape(impl, s, bufs, reps, 1).cpuNs);
      if (threads > 1) {
        const t2 = timeShape(impl, s, bufs, reps, threads);
        e.est2.push(...t2.est2Ns);
        e.work2.push(...t2.workNs);
        e.est2Joined.push(...t2.est2Ns.filter((_, i) => t2.joined[i]));
      }
      res.set(key, e);
    }
  }
}
const load1 = loadavg();
const rows: unknown[] = [];
console.log(`load after ${load1.map((x) => x.toFixed(2)).join(' ')}; peak on the CPU clock (median): ${impls.map((i) => `${i.name} ${median(peakCpu.get(i.name)!).toFixed(0)} GFLOP/s`).join(', ')}`);
console.log(`call CPU times: their ${Q} quantile (--quantile), the median's % of peak in brackets`);
console.log(`| shape (m×n×k, op(A) op(B)) | calls/step | ${impls.map((i) => `${i.name}: µs, % peak${threads > 1 ? ', 2T eff (over the calls a worker joined, how many), work eff' : ''}`).join(' | ')} |`);
console.log(`|---|---:|${impls.map(() => '---:|').join('')}`);
for (const s of shapes) {
  const cells: string[] = [];
  for (const impl of impls) {
    const e = res.get(`${impl.name}|${s.key}`)!;
    const one = quantile(e.one, Q), est2 = threads > 1 ? quantile(e.est2, Q) : NaN;
    // the calls in which a worker ran a task: on a busy machine the caller often runs every task
    // itself, and then the first task does all of a shared operand's packing, which the replayed
    // schedule cannot split (on idle threads, the two tasks split it)
    const est2J = e.est2Joined.length ? quantile(e.est2Joined, Q) : NaN, effJ = one / (threads * est2J);
    // work efficiency: 1-thread CPU over all the CPU the split call spends (serial part + every
    // task): the work a split adds (an operand packed per slab, caches shared), whatever the schedule
    const work2 = threads > 1 ? quantile(e.work2, Q) : NaN, effWork = one / work2;
    const peak = median(peakCpu.get(impl.name)!);
    const gflops = (2 * s.m * s.n * s.k) / one;
    const eff = one / (threads * est2);
    const pctMedian = (100 * (2 * s.m * s.n * s.k)) / median(e.one) / peak;
    cells.push(`${(one / 1e3).toFixed(0)}, ${((100 * gflops) / peak).toFixed(1)}% (median ${pctMedian.toFixed(1)}%)${threads > 1 ? `, ${(100 * eff).toFixed(0)}% (joined ${(100 * effJ).toFixed(0)}%, ${e.est2Joined.length}/${e.est2.length}), work ${(100 * effWork).toFixed(0)}%` : ''}`);
    rows.push({ impl: impl.name, shape: s.key, callsPerStep: s.calls, quantile: Q, oneThreadCpuUs: one / 1e3, pctPeak: (100 * gflops) / peak, pctPeakMedian: pctMedian, est2Us: est2 / 1e3, efficiency2T: eff, est2JoinedUs: est2J / 1e3, efficiency2TJoined: effJ, work2Us: work2 / 1e3, workEfficiency2T: effWork, samplesWork2: e.work2, joinedCalls: e.est2Joined.length, samplesEst2Joined: e.est2Joined, samples1T: e.one, samplesEst2: e.est2 });
  }
  console.log(`| ${s.key} | ${s.calls} | ${cells.join(' | ')} |`);
}
if (out) {
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: process.argv.slice(1).join(' '), isa: nativeLoad.isa(), load: [load0, load1], threads, rounds, peakCpu: Object.fromEntries(peakCpu), rows }, null, 1));
  console.log(`wrote ${out}`);
}
