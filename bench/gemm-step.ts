/**
 * The training step's own GEMM calls (G2P seq2seq, d 256, batch 64: sgemm, linearFused and
 * linearBackward), recorded from one step and replayed one by one on the CPU clock, so that other
 * jobs on a shared machine do not decide the answer.
 *
 * Per call shape (medians over --reps runs of every recorded call, in interleaved order):
 *   1T        the call on 1 thread, timed on the calling thread's CPU clock; % of the FMA peak
 *             probed on the same clock in this process
 *   2T est    on 2 threads: the caller's CPU outside pool jobs + the jobs' makespan (the pool's
 *             profiling counters replay each job's tasks, timed on their threads' CPU clocks, onto
 *             2 free threads): the call's length on two idle threads, no wake-up counted
 *   2T eff    1T / (2 × 2T est)
 *   busy      the two threads' CPU in the call: caller outside jobs + all tasks (work the split adds)
 *   idle      2 × 2T est − busy: the thread-time the split leaves idle (imbalance, slab edges)
 *
 * For each linearBackward call (a Linear's dx and dW in one call, each product on its own thread at
 * 2 threads), the same figures for the old way, its two sgemm calls each split in two slabs, in the
 * same rounds: the A/B of the pairing.
 *
 * --base <heed.node>: instead of the two-sgemm arm, every call also runs on another addon build's
 * kernels (rows "base: …"), alternating with this tree's in a rotating order in the same rounds, each
 * arm on its own addon's pool and pool profile: a replayed-makespan A/B on the CPU clock.
 *
 *   node --import tsx bench/gemm-step.ts [--reps 7] [--base old/heed.node] [--out bench/results/gemm-step-….json]
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { gemmCallFlop, gemmCallLabel, recordStepGemmCalls, STEP_GEMMS, type Params } from './step-gemm-calls.ts';
import { k, setBackend, setNumThreads, kernelSpecs } from '../src/backend/registry.ts';
import { nativeCall } from '../src/backend/call.ts';
import { nativeLoad } from './native-util.ts';
import { POOL_PROFILE_FIELDS } from '../src/backend/native/load.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  reps: { kind: 'int', default: 7, min: 1, help: 'timed repetitions per call' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
  base: { kind: 'string', default: '', help: 'another build\'s heed.node to A/B against' },
});
if (!nativeLoad) throw new Error('bench/gemm-step.ts needs the native addon (npm run build:native)');
const reps = flags.reps;
const out = flags.out;
const basePath = flags.base;
const base = basePath ? createRequire(import.meta.url)(resolve(basePath)) as Record<string, unknown> : null;
setBackend('native');
setNumThreads(1);

const table = k as unknown as Record<string, (p: Params) => unknown>;
const calls = await recordStepGemmCalls();

const n = (p: Params, key: string) => p[key] as number;
/** linearBackward's two products as the sgemm calls linearGrads made before it existed. */
function asTwoSgemm(p: Params): () => void {
  const common = { batch: 1, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 };
  const rows = n(p, 'rows'), inF = n(p, 'inF'), outF = n(p, 'outF');
  const dx = { ...common, a: p.g, b: p.w, c: p.gx, m: rows, n: inF, k: outF, transA: false, transB: false };
  const dw = { ...common, a: p.g, b: p.x, c: p.gw, m: outF, n: inF, k: rows, transA: true, transB: false };
  return () => { table.sgemm(dx); table.sgemm(dw); };
}

const F = (f: (typeof POOL_PROFILE_FIELDS)[number]) => POOL_PROFILE_FIELDS.indexOf(f);
const s0 = new Float64Array(8), s1 = new Float64Array(8);
const cpuNow = () => nativeLoad!.threadCpuNs();
/** An addon's pool controls: this tree's (nativeLoad), or --base's. */
interface Pool { threads: (n: number) => void; profile: (on: boolean | null, out: Float64Array) => void }
const ours: Pool = { threads: setNumThreads, profile: (on, o) => nativeLoad!.poolProfile(on, o) };
const theirs: Pool | null = base ? { threads: base.setNumThreads as (n: number) => void, profile: base.poolProfile as Pool['profile'] } : null;
theirs?.threads(1);
/** One run of fn: 1T CPU ns (threads 1), or at 2 threads the estimate and the busy thread-time. */
function time1(fn: () => void): number {
  const t0 = cpuNow();
  fn();
  return cpuNow() - t0;
}
function time2(fn: () => void, pool: Pool): { est: number; busy: number } {
  pool.profile(null, s0);
  fn();
  pool.profile(null, s1);
  const d = (f: (typeof POOL_PROFILE_FIELDS)[number]) => s1[F(f)] - s0[F(f)];
  const outside = d('threadCpuNs') - d('callerInJobCpuNs');
  return { est: outside + d('makespanNs'), busy: outside + d('taskCpuNs') };
}
const baseKernel = (name: string) => nativeCall(kernelSpecs().get(name)!, (base!.kernels as Record<string, (...a: unknown[]) => void>)[name]) as (p: Params) => unknown;
// an older addon may lack a kernel (linearBackwardFused): its calls then have no base arm
const baseTable: Record<string, (p: Params) => unknown> = base
  ? Object.fromEntries(STEP_GEMMS.filter((name) => typeof (base.kernels as Record<string, unknown>)[name] === 'function').map((name) => [name, baseKernel(name)]))
  : {};

interface Acc { flop: number; calls: number; one: number[]; est: number[]; busy: number[] }
const acc = new Map<string, Acc>();
const add = (key: string, flop: number, v: { one?: number; est?: number; busy?: number }) => {
  const e = acc.get(key) ?? { flop, calls: 0, one: [], est: [], busy: [] };
  if (v.one !== undefined) e.one.push(v.one);
  if (v.est !== undefined) e.est.push(v.est);
  if (v.busy !== undefined) e.busy.push(v.busy);
  acc.set(key, e);
};
// the other arm: --base's kernels (rows "base: …"), else linearBackward's products as two sgemm calls
const runs = calls.map((c) => ({
  key: gemmCallLabel(c), flop: gemmCallFlop(c), fn: () => table[c.name](c.p),
  other: base ? (baseTable[c.name] ? { key: `base: ${gemmCallLabel(c)}`, fn: () => baseTable[c.name](c.p), pool: theirs! } : null) : c.name === 'linearBackward' ? { key: `${gemmCallLabel(c)} as 2 sgemm`, fn: asTwoSgemm(c.p), pool: ours } : null,
}));
const count = (key: string, flop: number) => acc.set(key, { ...(acc.get(key) ?? { flop, one: [], est: [], busy: [] }), calls: (acc.get(key)?.calls ?? 0) + 1 });
for (const r of runs) count(r.key, r.flop);
for (const r of runs) if (r.other) count(r.other.key, r.flop);

const load0 = loadavg();
const peaks: number[] = [];
for (let rep = 0; rep < reps; rep++) {
  setNumThreads(1);
  const w0 = performance.now(), c0 = cpuNow();
  const g = nativeLoad.peakFlops(1);
  peaks.push((g * (performance.now() - w0) * 1e6) / (cpuNow() - c0));
  // 1T and 2T alternate call by call, new and old alternate in a rotating order
  for (const r of runs) {
    const arms: [string, () => void, Pool][] = r.other ? [[r.key, r.fn, ours], [r.other.key, r.other.fn, r.other.pool]] : [[r.key, r.fn, ours]];
    if (rep % 2) arms.reverse();
    for (const [key, fn, pool] of arms) {
      pool.threads(1);
      fn();
      add(key, r.flop, { one: time1(fn) });
      pool.threads(2);
      fn();
      pool.profile(true, s0);
      add(key, r.flop, time2(fn, pool));
      pool.profile(false, s0);
      pool.threads(1);
    }
  }
}
setNumThreads(1);
const load1 = loadavg();
const med = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const peak = med(peaks);
console.log(`${new Date().toISOString()} load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}; FMA peak on the thread CPU clock ${peak.toFixed(0)} GFLOP/s; ${reps} reps`);
console.log('| call (m×n×k or rows×out×in) | calls/step | 1T µs | % peak | 2T est µs | 2T eff | busy µs | idle thread-µs | 1T ms/step | 2T est ms/step |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const rows = [...acc.entries()].map(([key, e]) => {
  const one = med(e.one) / 1e3, est = med(e.est) / 1e3, busy = med(e.busy) / 1e3;
  return { key, callsPerStep: e.calls, flop: e.flop, oneUs: one, pctPeak: (100 * e.flop) / (one * 1e3) / peak, est2Us: est, eff2: one / (2 * est), busy2Us: busy, idle2Us: 2 * est - busy, oneMsPerStep: (one * e.calls) / 1e3, est2MsPerStep: (est * e.calls) / 1e3, samples1T: e.one, samplesEst2: e.est, samplesBusy2: e.busy };
}).sort((a, b) => b.oneMsPerStep - a.oneMsPerStep);
for (const r of rows) {
  console.log(`| ${r.key} | ${r.callsPerStep} | ${r.oneUs.toFixed(0)} | ${r.pctPeak.toFixed(1)}% | ${r.est2Us.toFixed(0)} | ${(100 * r.eff2).toFixed(0)}% | ${r.busy2Us.toFixed(0)} | ${r.idle2Us.toFixed(0)} | ${r.oneMsPerStep.toFixed(2)} | ${r.est2MsPerStep.toFixed(2)} |`);
}
const isOther = (key: string) => key.endsWith('as 2 sgemm') || key.startsWith('base: ');
const cur = rows.filter((r) => !isOther(r.key));
const sum = (xs: typeof rows, f: (r: (typeof rows)[number]) => number) => xs.reduce((s, r) => s + f(r), 0);
const summary = (label: string, xs: typeof rows) => {
  const flop = sum(xs, (r) => r.flop * r.callsPerStep), one = sum(xs, (r) => r.oneMsPerStep), est = sum(xs, (r) => r.est2MsPerStep);
  const idle = sum(xs, (r) => (r.idle2Us * r.callsPerStep) / 1e3), busy = sum(xs, (r) => (r.busy2Us * r.callsPerStep) / 1e3);
  console.log(`${label}: ${(flop / 1e9).toFixed(2)} GFLOP, 1T ${one.toFixed(1)} ms (${((100 * flop) / (one * 1e6) / peak).toFixed(1)}% of peak), 2T est ${est.toFixed(1)} ms (${((100 * one) / (2 * est)).toFixed(0)}% efficient, ${(one / est).toFixed(3)}×); busy ${busy.toFixed(1)} thread-ms, idle ${idle.toFixed(2)} thread-ms (${((100 * idle) / (2 * est)).toFixed(1)}% of 2 × 2T est)`);
};
summary('all GEMM calls of the step', cur);
if (base) summary('the same calls on --base', rows.filter((r) => r.key.startsWith('base: ')));
const lb = cur.filter((r) => r.key.startsWith('linearBackward'));
const old = rows.filter((r) => r.key.endsWith('as 2 sgemm'));
if (!base) console.log(`linearBackward calls: 1T ${sum(lb, (r) => r.oneMsPerStep).toFixed(2)} ms, 2T est ${sum(lb, (r) => r.est2MsPerStep).toFixed(2)} ms; the same products as two split sgemm calls: 1T ${sum(old, (r) => r.oneMsPerStep).toFixed(2)} ms, 2T est ${sum(old, (r) => r.est2MsPerStep).toFixed(2)} ms`);
if (out) {
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), base: basePath || null, command: `node --import tsx ${process.argv.slice(1).join(' ')}`, isa: nativeLoad.isa(), load: [load0, load1], reps, peakGflops: peak, peaks, rows }, null, 1) + '\n');
  console.log(`wrote ${out}`);
}
