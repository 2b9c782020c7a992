/**
 * The training step's attention calls, alone: the fused forward and backward at the G2P model's
 * shapes (B 64, H 4, d 64, heads read in place from (B, L, H·d) projections, dropout 0.1), on 1 and
 * 2 threads, for a loaded machine and for the lead's quiet re-run.
 *
 * The three calls of a G2P layer pair, per direction:
 *   enc self    Lq = Lk = Ls, the source padding as key lengths
 *   dec self    Lq = Lk = Lt, causal
 *   cross       Lq = Lt, Lk = Ls, key lengths
 * at (Ls, Lt) = (12, 11), bench/train.ts's batch (the step bench/train-threads.ts profiles), and at
 * longer lengths (--lens 24,32,48: real G2P words with their BOS/EOS run 20–48 positions).
 *
 * Per call and thread count:
 *   cpuMs      CPU time per call on the process clock (all threads), median of interleaved rounds
 *   wallMs     wall time per call, median (on a loaded machine this measures the other jobs)
 *   pctCopyBandwidth1  the bytes the call must move once (operands read, results written) / cpu time,
 *              against a copy between two 8 MB buffers on the same clock (copyGBs1T)
 *   pctPeak    FLOPs (4·Lq·Lk·d per head forward, 2.5× that backward; causal halves neither, the
 *              shapes are tiny) / cpu time, against the FMA probe on the same clock in the same process
 * At 2 threads, from the pool's profile counters (native/threadpool.h PoolProfile):
 *   serialMs   caller CPU outside pool jobs; makespanMs: the jobs' tasks replayed on 2 free threads
 *   est2Ms     serial + makespan; efficiency = 1T cpu / (2 · est2); poolJobs per call
 *
 *   node --import tsx bench/attention-step.ts [--lens 12] [--rounds 9] [--out file.json]
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { median } from './peers/common.ts';
import { readArgs } from './args.ts';
import { nk, nativeLoad, cpuNowMs, filled } from './native-util.ts';

process.env.HEED_QUIET ??= '1';
const flags = readArgs(import.meta.url, {
  rounds: { kind: 'int', default: 9, min: 1, help: 'interleaved rounds' },
  lens: { kind: 'ints', default: [12], min: 1, help: 'sequence lengths' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
if (!nk || !nativeLoad) throw new Error('bench/attention-step.ts: the native addon is not built (npm run build:native)');
const kern = nk, addon = nativeLoad;
const rounds = flags.rounds;
const lens = flags.lens;
const B = 64, H = 4, D = 64, dropoutP = 0.1;

interface Shape { name: string; Lq: number; Lk: number; causal: boolean; keyLengths: boolean }
const shapesFor = (Ls: number): Shape[] => {
  const Lt = Ls - 1;
  return [
    { name: `enc self L${Ls}`, Lq: Ls, Lk: Ls, causal: false, keyLengths: true },
    { name: `dec self L${Lt} causal`, Lq: Lt, Lk: Lt, causal: true, keyLengths: false },
    { name: `cross ${Lt}×${Ls}`, Lq: Lt, Lk: Ls, causal: false, keyLengths: true },
  ];
};

/** Strided (B, L, H·d) arguments of one call; key lengths between Lk/3 and Lk, as padded words. */
function makeCall(s: Shape) {
  const q = filled(B * s.Lq * H * D, 1), k = filled(B * s.Lk * H * D, 2), v = filled(B * s.Lk * H * D, 3);
  const out = new Float32Array(q.length), lse = new Float32Array(B * H * s.Lq);
  const dOut = filled(q.length, 4), dq = new Float32Array(q.length), dk = new Float32Array(k.length), dv = new Float32Array(v.length);
  const keyLengths = s.keyLengths ? Int32Array.from({ length: B }, (_, b) => Math.max(1, s.Lk - ((b * 7) % Math.ceil((2 * s.Lk) / 3)))) : null;
  const strides = (L: number, tag: string) => ({ [`${tag}StrideB`]: L * H * D, [`${tag}StrideH`]: D, [`${tag}StrideL`]: H * D });
  const common = {
    B, H, Hkv: H, Lq: s.Lq, Lk: s.Lk, D, Dv: D, scale: 1 / Math.sqrt(D), causal: s.causal, causalOffset: 0, keyLengths,
    mask: null, maskStrideB: 0, maskStrideH: 0, alibiSlopes: null, dropoutP, dropoutSeed: 12345,
    ...strides(s.Lq, 'q'), ...strides(s.Lk, 'k'), ...strides(s.Lk, 'v'), ...strides(s.Lq, 'out'),
  };
  const fwd = () => kern.attentionForwardStrided!({ ...common, q, k, v, out, lse } as never);
  const bwd = () => kern.attentionBackwardStrided!({ ...common, q, k, v, out, lse, dOut, dq, dk, dv } as never);
  fwd();
  // bytes each call must move at least once: fwd reads q, k, v and writes out; bwd reads q, k, v, out,
  // dOut and writes dq, dk, dv (lse, key lengths: negligible)
  const fwdBytes = 4 * (2 * q.length + k.length + v.length), bwdBytes = 4 * (4 * q.length + 2 * k.length + 2 * v.length);
  return { fwd, bwd, flops: 4 * B * H * s.Lq * s.Lk * D, fwdBytes, bwdBytes };
}

/**
 * Memory bandwidth on the CPU clock, GB/s counting bytes read + written: copies between two 8 MB
 * buffers (past this machine's L2, as the step's operands are), median of 5. The tiny shapes move
 * 30–60 bytes per FLOP·d⁻¹, so this, not the FMA peak, is their roofline.
 */
function copyGBs(): number {
  const a = filled(1 << 21, 9), b = new Float32Array(1 << 21), xs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const c0 = cpuNowMs();
    for (let i = 0; i < 10; i++) (i % 2 ? a : b).set(i % 2 ? b : a);
    xs.push((10 * 2 * 4 * a.length) / ((cpuNowMs() - c0) * 1e6));
  }
  return median(xs);
}

/** The FMA peak on the CPU clock, per core: the probe's GFLOP/s scaled by its wall/CPU time. */
function peakCpu(threads: number): number {
  const w0 = performance.now(), c0 = cpuNowMs();
  const g = addon.peakFlops(threads);
  return (g * (performance.now() - w0)) / (cpuNowMs() - c0);
}

const snapA = new Float64Array(8), snapB = new Float64Array(8);
const JOBS = 0, IN_JOB = 4, MAKESPAN = 5, CPU = 7;
/** One sample of n calls: process CPU ms, wall ms, and (profiled) caller serial / makespan ns per call. */
function sample(fn: () => unknown, n: number, profiled: boolean) {
  if (profiled) addon.poolProfile(true, snapA);
  const c0 = cpuNowMs(), w0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  const cpu = (cpuNowMs() - c0) / n, wall = (performance.now() - w0) / n;
  if (!profiled) return { cpu, wall, serial: NaN, makespan: NaN, jobs: NaN };
  addon.poolProfile(false, snapB);
  const d = (i: number) => (snapB[i] - snapA[i]) / n;
  return { cpu, wall, serial: (d(CPU) - d(IN_JOB)) / 1e6, makespan: d(MAKESPAN) / 1e6, jobs: d(JOBS) };
}

const load0 = os.loadavg();
const rows: Record<string, unknown>[] = [];
const peaks: number[] = [], bws: number[] = [];
for (const Ls of lens) {
  for (const s of shapesFor(Ls)) {
    const c = makeCall(s);
    for (const [dir, fn, flops, bytes] of [['fwd', c.fwd, c.flops, c.fwdBytes], ['bwd', c.bwd, 2.5 * c.flops, c.bwdBytes]] as const) {
      for (let i = 0; i < 5; i++) fn();
      addon.setThreads(1);
      const n = Math.max(3, Math.min(400, Math.round(30 / Math.max(sample(fn, 3, false).cpu, 1e-3))));
      const t1: ReturnType<typeof sample>[] = [], t2: ReturnType<typeof sample>[] = [];
      peaks.push(peakCpu(1));
      bws.push(copyGBs());
      for (let r = 0; r < rounds; r++) {
        // 1 thread, 2 threads unprofiled (wall, cpu), 2 threads profiled (serial, makespan): interleaved
        addon.setThreads(1); t1.push(sample(fn, n, false));
        addon.setThreads(2); const u = sample(fn, n, false), p = sample(fn, n, true);
        t2.push({ ...p, cpu: u.cpu, wall: u.wall });
      }
      const peak = median(peaks), bw = median(bws);
      const cpu1 = median(t1.map((x) => x.cpu)), serial = median(t2.map((x) => x.serial)), makespan = median(t2.map((x) => x.makespan));
      const est2 = serial + makespan;
      const row = {
        call: `${dir} ${s.name}`, B, H, Lq: s.Lq, Lk: s.Lk, D, causal: s.causal, keyLengths: s.keyLengths, dropoutP, callsPerSample: n,
        cpuMs1: cpu1, wallMs1: median(t1.map((x) => x.wall)), pctPeak1: (100 * flops) / (cpu1 * 1e6) / peak,
        bytes, gbs1: bytes / (cpu1 * 1e6), pctCopyBandwidth1: (100 * bytes) / (cpu1 * 1e6) / bw,
        cpuMs2: median(t2.map((x) => x.cpu)), wallMs2: median(t2.map((x) => x.wall)),
        serialMs2: serial, makespanMs2: makespan, est2Ms: est2, efficiency2: cpu1 / (2 * est2), poolJobsPerCall: median(t2.map((x) => x.jobs)),
      };
      rows.push(row);
      console.log(`${row.call.padEnd(28)} 1T ${cpu1.toFixed(3)} ms CPU (${row.pctPeak1.toFixed(1)}% of peak, ${row.gbs1.toFixed(1)} GB/s = ${row.pctCopyBandwidth1.toFixed(0)}% of copy bandwidth), 2T est ${est2.toFixed(3)} ms (serial ${serial.toFixed(3)}): efficiency ${(100 * row.efficiency2).toFixed(0)}%, ${row.poolJobsPerCall.toFixed(0)} pool job(s); wall 1T ${row.wallMs1.toFixed(3)} 2T ${row.wallMs2.toFixed(3)} ms`);
    }
  }
}
const sum = (key: string, pred: (r: Record<string, unknown>) => boolean) => rows.filter(pred).reduce((a, r) => a + (r[key] as number), 0);
const totals = lens.map((Ls) => {
  const mine = (r: Record<string, unknown>) => (r.Lk as number) === Ls || (r.Lq as number) === Ls || (r.Lk as number) === Ls - 1;
  const c1 = sum('cpuMs1', mine), e2 = sum('est2Ms', mine);
  return { Ls, cpuMs1: c1, est2Ms: e2, efficiency2: c1 / (2 * e2), wallMs1: sum('wallMs1', mine), wallMs2: sum('wallMs2', mine) };
});
for (const t of totals) console.log(`L${t.Ls} all six calls: 1T ${t.cpuMs1.toFixed(3)} ms CPU, 2T est ${t.est2Ms.toFixed(3)} ms: efficiency ${(100 * t.efficiency2).toFixed(0)}%; wall ${t.wallMs1.toFixed(3)} → ${t.wallMs2.toFixed(3)} ms (${(t.wallMs1 / t.wallMs2).toFixed(2)}×)`);
const result = {
  command: `node --import tsx bench/attention-step.ts ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(), addon: process.env.HEED_NATIVE_PATH ?? 'build/Release/heed.node',
  machine: { cpu: os.cpus()[0]?.model, isa: addon.isa(), loadAvgBefore: load0, loadAvgAfter: os.loadavg() },
  peakCpuGflops1T: median(peaks), copyGBs1T: median(bws), rows, totals,
};
const file = flags.out;
if (file) writeFileSync(file, JSON.stringify(result, null, 1) + '\n');
