/**
 * The training step's roofline, kernel by kernel, every figure measured in this one process:
 * what each kernel of the real step (bench/train.ts's G2P step, as bench/profile-step.ts runs it)
 * takes, what it should take at its roofline, and so what fraction of the FMA peak the whole step
 * could reach and where the gap is.
 *
 *   node --import tsx bench/step-roofline.ts [--threads 1] [--steps 16] [--warm 150] [--d 256] [--wall] [--out f.json]
 *
 * Per kernel, the bound is the larger of
 * - compute: its FLOPs (sgemm 2·batch·m·n·k, linearFused 2·rows·outF·inF, linearBackward's two
 *   products 4·rows·outF·inF, the fused attention's products over the allowed (query, key) pairs)
 *   at the efficiency a large GEMM reaches in this process: sgemm 1024³ against the FMA probe
 *   (native peakFlops, bench/peak.ts), both timed here on the same clock;
 * - memory: the bytes it moves (each array argument from the kernel specs: inputs read once,
 *   outputs written once, the in-place ones read and written; the GEMMs' and attention's from
 *   their shapes) over the streaming bandwidth measured here with the addon's own passes (copy:
 *   unary neg, 1 read + 1 write; add: 2 reads + 1 write) and TypedArray.set, at the call's working
 *   set ("warm": the best of the three at the smallest measured set ≥ the call's bytes) and at a
 *   64 MB set ("DRAM": the step's operands mostly come from memory, as the GEMMs evict them).
 * The step's bound is the kernels' bounds plus the time outside kernels as measured (the step's
 * JavaScript: not a kernel's to cut), and "% of peak" is the step's GEMM FLOPs (the 16.26 GFLOP
 * bench/train.ts counts) over the time, against the probe: the figure issue 16's target uses.
 * The clock is the process's CPU time (a loaded machine preempts the step; at 1 thread the pool's
 * workers sleep) unless --wall.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { heedStep, makeTrainBatch, TRAIN_CONFIGS } from './train.ts';
import { gemmCallFlop, gemmCallLabel, STEP_GEMMS } from './step-gemm-calls.ts';
import { k, setBackend, setNumThreads, backendInfo } from '../src/backend/registry.ts';
import * as specs from '../src/backend/specs/index.ts';
import type { KernelSpec } from '../src/backend/spec.ts';
import { cpuNowMs, nativeLoad, nk, filled } from './native-util.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  threads: { kind: 'int', default: 1, min: 1, help: 'threads' },
  steps: { kind: 'int', default: 16, min: 1, help: 'timed steps' },
  warm: { kind: 'int', default: 150, min: 0, help: 'untimed warm-up steps' },
  d: { kind: 'int', default: 256, choices: TRAIN_CONFIGS.map((c) => c.dModel), help: 'the model width (a bench/train.ts config)' },
  wall: { kind: 'bool', help: 'time on the wall clock instead of the process CPU clock' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
const outFile = flags.out;
if (!nativeLoad || !nk) { console.error('step-roofline: the native addon is not built (npm run build:native)'); process.exit(2); }
const native = nativeLoad, kernels = nk;
setBackend('native');
const { threads, steps, warm } = flags;
setNumThreads(threads);
const wall = flags.wall;
const now = wall ? () => performance.now() : cpuNowMs;
const clock = wall ? 'wall time' : 'process CPU time';
const cfg = TRAIN_CONFIGS.find((c) => c.dModel === flags.d) ?? TRAIN_CONFIGS[0];
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

// ---- per call: bytes moved and FLOPs, from the specs and the shapes ----
type P = Record<string, unknown>;
const specByName = new Map<string, KernelSpec>(Object.values(specs).map((s) => [s.name, s as KernelSpec]));
/** Outputs that the kernel also reads (updated in place). */
const inPlace: Record<string, readonly string[]> = {
  adamwStep: ['param', 'm', 'v'], adamwStepMulti: ['params', 'm', 'v'], scaleInPlace: ['x'], scaleInPlaceMulti: ['xs'],
  embeddingBackward: ['dWeight'], embedPositionsBackward: ['dWeight'],
};
const GEMMS = new Set<string>(STEP_GEMMS);
const n = (v: unknown) => Number(v ?? 0);
/** Allowed (query, key) pairs of one attention head. */
function pairs(p: P) {
  const Lq = n(p.Lq), Lk = n(p.Lk);
  if (!p.causal) return Lq * Lk;
  let s = 0;
  for (let i = 0; i < Lq; i++) s += Math.max(0, Math.min(Lk, i + n(p.causalOffset) + 1));
  return s;
}
function costOf(name: string, p: P): { bytes: number; flop: number } {
  const f4 = 4;
  switch (name) {
    case 'sgemm': {
      const b = n(p.batch), m = n(p.m), nn = n(p.n), kk = n(p.k);
      return { flop: gemmCallFlop({ name, p }), bytes: f4 * b * (m * kk + kk * nn + m * nn * (n(p.beta) !== 0 ? 2 : 1)) };
    }
    case 'linearFused': {
      const r = n(p.rows), o = n(p.outF), i = n(p.inF);
      return { flop: gemmCallFlop({ name, p }), bytes: f4 * (r * i + o * i + r * o * (p.residual ? 2 : 1) + (p.bias ? o : 0)) };
    }
    case 'linearBackward': case 'linearBackwardFused': {
      // dy, x and W read; gx and gW written (each only if asked for, in the fused call), gb written
      const r = n(p.rows), o = n(p.outF), i = n(p.inF);
      const fused = name === 'linearBackwardFused';
      const gx = !fused || p.gx != null ? r * i : 0, gw = !fused || p.gw != null ? o * i : 0;
      return { flop: gemmCallFlop({ name, p }), bytes: f4 * (r * o + r * i + o * i + gx + gw + (fused && p.gb != null ? o : 0)) };
    }
    case 'attentionForward': case 'attentionForwardStrided': case 'attentionBackward': case 'attentionBackwardStrided': {
      const bh = n(p.B) * n(p.H), bhk = n(p.B) * n(p.Hkv), D = n(p.D), Dv = n(p.Dv), Lq = n(p.Lq), Lk = n(p.Lk);
      const io = bh * Lq * D + bhk * Lk * (D + Dv) + bh * Lq * Dv + bh * Lq; // q, k, v, out, lse
      // forward: S = QKᵀ, O = PV; backward: S again, dV = PᵀdO, dP = dO·Vᵀ, dQ = dS·K, dK = dSᵀQ
      return name.startsWith('attentionForward')
        ? { flop: 2 * bh * pairs(p) * (D + Dv), bytes: f4 * io }
        : { flop: 2 * bh * pairs(p) * (3 * D + 2 * Dv), bytes: f4 * (io + bh * Lq * Dv + bh * Lq * D + bhk * Lk * (D + Dv)) };
    }
  }
  const spec = specByName.get(name);
  let bytes = 0;
  const rmw = inPlace[name] ?? [];
  for (const [arg, a] of Object.entries(spec?.args ?? {})) {
    const v = p[arg];
    const times = rmw.includes(arg) ? 2 : 1;
    if (a.role === 'input' || a.role === 'output') { if (ArrayBuffer.isView(v)) bytes += times * v.byteLength; }
    else if (a.role === 'inputList' || a.role === 'outputList') for (const x of (v as ArrayBufferView[]) ?? []) bytes += times * x.byteLength;
  }
  return { bytes, flop: 0 };
}

// ---- the step, every kernel call timed and costed ----
interface Acc { ms: number; calls: number; bytes: number; flop: number; maxCallBytes: number; callBytes: number[] }
const acc = new Map<string, Acc>();
// the GEMM kernels again, by shape label (bench/step-gemm-calls.ts; their calls' FLOPs, bytes and times; the same clock reads)
const byShape = new Map<string, { ms: number; calls: number; flop: number; bytes: number }>();
const timer = { on: false, cost: false };
const table = k as unknown as Record<string, (p: P) => unknown>;
for (const name of Object.keys(table)) {
  const fn = table[name];
  table[name] = (p: P) => {
    if (!timer.on) return fn(p);
    const t0 = now();
    try { return fn(p); } finally {
      const ms = now() - t0;
      const e = acc.get(name) ?? { ms: 0, calls: 0, bytes: 0, flop: 0, maxCallBytes: 0, callBytes: [] };
      e.ms += ms; e.calls++;
      if (timer.cost) {
        const c = costOf(name, p);
        e.bytes += c.bytes; e.flop += c.flop; e.callBytes.push(c.bytes);
        e.maxCallBytes = Math.max(e.maxCallBytes, c.bytes);
      }
      acc.set(name, e);
      if (GEMMS.has(name)) {
        const key = gemmCallLabel({ name, p }), c = costOf(name, p);
        const sh = byShape.get(key) ?? { ms: 0, calls: 0, flop: 0, bytes: 0 };
        sh.ms += ms; sh.calls++; sh.flop += c.flop; sh.bytes += c.bytes;
        byShape.set(key, sh);
      }
    }
  };
}
const h = await heedStep(makeTrainBatch(), cfg);
for (let i = 0; i < warm; i++) h.step();
// one step to count bytes and FLOPs (untimed: its times are dropped below)
timer.on = timer.cost = true;
h.step();
const costs = new Map([...acc].map(([name, e]) => [name, { bytes: e.bytes, flop: e.flop, callBytes: e.callBytes }]));
acc.clear();
byShape.clear();
timer.cost = false;
// The FMA probe and sgemm 1024³ after every timed step (untimed by the step's clock), so that the
// peak and the large GEMM's efficiency come from the same minutes as the step: on this shared 2-vCPU
// VM the core's speed per CPU second drifts with the other vCPU's load, and a probe taken once
// after the steps read a peak 5-10% off the steps' own minutes.
const probe = () => {
  const w0 = performance.now(), c0 = cpuNowMs();
  const g = native.peakFlops(threads);
  return wall ? g : (g * (performance.now() - w0)) / (cpuNowMs() - c0);
};
const N = 1024;
const A = filled(N * N, 1), B = filled(N * N, 2), C = new Float32Array(N * N);
const gemm1024 = () => kernels.sgemm!({ a: A, b: B, c: C, batch: 1, m: N, n: N, k: N, transA: false, transB: false, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 });
gemm1024();
const stepTimes: number[] = [], peaks: number[] = [], gemmSamples: number[] = [];
for (let i = 0; i < steps; i++) {
  timer.on = true;
  const s0 = now();
  h.step();
  stepTimes.push(now() - s0);
  timer.on = false;
  peaks.push(probe());
  const g0 = now();
  gemm1024();
  gemmSamples.push(now() - g0);
}
const stepMs = stepTimes.reduce((x, y) => x + y, 0) / steps;
const peak = median(peaks);
const gemmGflops = (2 * N ** 3) / median(gemmSamples) / 1e6;
const eff = gemmGflops / peak;

// ---- the machine's streaming bandwidth, measured now on the same clock ----

const sizes = [64e3, 256e3, 1e6, 4e6, 16e6, 64e6];
const bw = sizes.map((setBytes) => {
  const reps = Math.max(4, Math.round(2e8 / setBytes));
  const time = (f: () => void) => {
    f();
    const samples: number[] = [];
    for (let s = 0; s < 5; s++) { const s0 = now(); for (let r = 0; r < reps; r++) f(); samples.push(now() - s0); }
    return median(samples);
  };
  const n3 = Math.floor(setBytes / 12), n2 = Math.floor(setBytes / 8);
  const a = filled(n3, 3), b = filled(n3, 4), out = new Float32Array(n3);
  const src = filled(n2, 5), dst = new Float32Array(n2);
  const add = (reps * 3 * a.byteLength) / time(() => kernels.binarySame!({ op: 0, a, b, out })) / 1e6;
  const copy = (reps * 2 * src.byteLength) / time(() => kernels.unary!({ op: 0, x: src, out: dst })) / 1e6;
  const set = (reps * 2 * src.byteLength) / time(() => dst.set(src)) / 1e6;
  return { setBytes, addGBs: add, copyGBs: copy, setGBs: set, best: Math.max(add, copy, set) };
});
const bwAt = (bytes: number) => (bw.find((r) => r.setBytes >= bytes) ?? bw[bw.length - 1]).best;
const dramGBs = bw[bw.length - 1].best;

// ---- the bound, kernel by kernel ----
const rows = [...acc].map(([name, e]) => {
  const c = costs.get(name) ?? { bytes: 0, flop: 0, callBytes: [] as number[] };
  const ms = e.ms / steps;
  const computeMs = c.flop / (eff * peak) / 1e6;
  // memory at each call's own working set (warm), and at the DRAM bandwidth (cold)
  const warmMemMs = c.callBytes.reduce((s, b) => s + b / bwAt(b) / 1e6, 0);
  const dramMemMs = c.bytes / dramGBs / 1e6;
  const boundMs = Math.max(computeMs, warmMemMs), coldBoundMs = Math.max(computeMs, dramMemMs);
  return {
    kernel: name, calls: e.calls / steps, ms, gflop: c.flop / 1e9, mb: c.bytes / 1e6,
    computeMs, warmMemMs, dramMemMs, boundMs, coldBoundMs, gapMs: ms - boundMs, coldGapMs: ms - coldBoundMs,
    kind: c.flop > 0 ? (computeMs >= warmMemMs ? 'compute' : 'memory') : 'memory',
  };
}).sort((x, y) => y.gapMs - x.gapMs);
const inKernels = rows.reduce((s, r) => s + r.ms, 0);
const outsideMs = stepMs - inKernels;
const gemmFlop = rows.filter((r) => GEMMS.has(r.kernel)).reduce((s, r) => s + r.gflop * 1e9, 0);
const pct = (ms: number) => (100 * gemmFlop) / (ms * 1e6) / peak;
const sum = (f: (r: (typeof rows)[number]) => number, only?: (r: (typeof rows)[number]) => boolean) =>
  rows.filter(only ?? (() => true)).reduce((s, r) => s + f(r), 0);
const isGemm = (r: { kernel: string }) => GEMMS.has(r.kernel);
const lines = {
  measured: stepMs,
  boundKernelsPlusOutside: sum((r) => r.boundMs) + outsideMs,
  coldBoundKernelsPlusOutside: sum((r) => r.coldBoundMs) + outsideMs,
  gemmsAsMeasuredOthersAtBound: sum((r) => r.ms, isGemm) + sum((r) => r.boundMs, (r) => !isGemm(r)) + outsideMs,
  gemmsAsMeasuredOthersAtColdBound: sum((r) => r.ms, isGemm) + sum((r) => r.coldBoundMs, (r) => !isGemm(r)) + outsideMs,
  gemmsAtBoundOthersAsMeasured: sum((r) => r.boundMs, isGemm) + sum((r) => r.ms, (r) => !isGemm(r)) + outsideMs,
  boundKernelsNoOutside: sum((r) => r.boundMs),
};

const f = (x: number, d = 2) => x.toFixed(d);
console.log(`d ${cfg.dModel} step, ${threads} thread(s), ${clock}, ${steps} steps after ${warm} warm-up; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`step ${f(stepMs, 1)} ms (median step ${f(median(stepTimes), 1)}): kernels ${f(inKernels, 1)}, outside kernels ${f(outsideMs, 1)}; GEMM FLOPs ${f(gemmFlop / 1e9)} GFLOP/step = ${f(pct(stepMs), 1)}% of peak`);
console.log(`FMA probe after each step: median ${f(peak, 0)} GFLOP/s (${f(Math.min(...peaks), 0)}–${f(Math.max(...peaks), 0)}); sgemm 1024³ NN after each step: median ${f(gemmGflops, 0)} GFLOP/s = ${f(100 * eff, 1)}% of the probe (the GEMM efficiency the bound uses)`);
console.log('\nStreaming bandwidth (GB/s of bytes read + written by the program, median of 5):');
console.log('| working set | native add (2R+1W) | native neg (1R+1W) | TypedArray.set | best |\n|---:|---:|---:|---:|---:|');
for (const r of bw) console.log(`| ${f(r.setBytes / 1e6, 3)} MB | ${f(r.addGBs, 1)} | ${f(r.copyGBs, 1)} | ${f(r.setGBs, 1)} | ${f(r.best, 1)} |`);
console.log('\nPer kernel, sorted by the gap to its bound (bound = max(compute at the large-GEMM efficiency, memory at the call\'s working-set bandwidth); "cold" = memory at the 64 MB bandwidth):');
console.log('| kernel | calls | measured ms | GFLOP | MB | compute ms | memory ms (warm) | memory ms (cold) | bound ms | measured / bound | gap ms | cold gap ms |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.kernel} | ${f(r.calls, 0)} | ${f(r.ms)} | ${f(r.gflop, 3)} | ${f(r.mb, 1)} | ${f(r.computeMs)} | ${f(r.warmMemMs)} | ${f(r.dramMemMs)} | ${f(r.boundMs)} | ${f(r.ms / r.boundMs)}× | ${f(r.gapMs)} | ${f(r.coldGapMs)} |`);
}
const shapeRows = [...byShape].map(([shape, e]) => {
  const ms = e.ms / steps, boundMs = e.flop / steps / (eff * peak) / 1e6;
  return { shape, calls: e.calls / steps, ms, gflop: e.flop / steps / 1e9, pctPeak: (100 * e.flop) / e.ms / 1e6 / peak, boundMs, gapMs: ms - boundMs };
}).sort((x, y) => y.gapMs - x.gapMs);
console.log(`\nThe GEMM calls by shape (m×n×k of each product), against the large GEMM's ${f(100 * eff, 1)}% of peak:`);
console.log('| call | calls | measured ms | GFLOP | % of peak | bound ms | gap ms |\n|---|---:|---:|---:|---:|---:|---:|');
for (const r of shapeRows) console.log(`| ${r.shape} | ${f(r.calls, 0)} | ${f(r.ms)} | ${f(r.gflop, 3)} | ${f(r.pctPeak, 1)}% | ${f(r.boundMs)} | ${f(r.gapMs)} |`);
console.log('\n| the step | ms | % of peak |\n|---|---:|---:|');
const label: Record<keyof typeof lines, string> = {
  measured: 'measured',
  boundKernelsPlusOutside: 'every kernel at its bound + outside kernels as measured',
  coldBoundKernelsPlusOutside: 'every kernel at its cold bound (DRAM bandwidth) + outside kernels as measured',
  gemmsAsMeasuredOthersAtBound: 'GEMMs as measured, other kernels at their bound, outside as measured',
  gemmsAsMeasuredOthersAtColdBound: 'GEMMs as measured, other kernels at their cold bound, outside as measured',
  gemmsAtBoundOthersAsMeasured: 'GEMMs at the large-GEMM efficiency, other kernels and outside as measured',
  boundKernelsNoOutside: 'every kernel at its bound, nothing outside kernels',
};
for (const key of Object.keys(lines) as (keyof typeof lines)[]) console.log(`| ${label[key]} | ${f(lines[key], 1)} | ${f(pct(lines[key]), 1)}% |`);
const gemmGap = sum((r) => r.gapMs, isGemm), otherGap = sum((r) => r.gapMs, (r) => !isGemm(r)), otherColdGap = sum((r) => r.coldGapMs, (r) => !isGemm(r));
console.log(`\nGap to the bound (net: kernels under their bound count negative): GEMMs ${f(gemmGap)} ms, other kernels ${f(otherGap)} ms (${f(otherColdGap)} ms against the cold bound), outside kernels ${f(outsideMs)} ms (not bounded here).`);

if (outFile) {
  writeFileSync(outFile, JSON.stringify({
    d: cfg.dModel, threads, clock, steps, warm, loadavg: os.loadavg(), cpu: os.cpus()[0]?.model, isa: native.isa(),
    stepMs, stepMedianMs: median(stepTimes), kernelsMs: inKernels, outsideMs, gemmGflopPerStep: gemmFlop / 1e9,
    peakGflops: peak, peaks, sgemm1024Ms: gemmSamples, sgemm1024Gflops: gemmGflops, gemmEfficiency: eff, bandwidth: bw,
    steps_ms: lines, pctPeak: Object.fromEntries(Object.entries(lines).map(([key, ms]) => [key, pct(ms)])),
    gapMs: { gemms: gemmGap, others: otherGap, othersCold: otherColdGap, outside: outsideMs }, rows, gemmShapes: shapeRows,
  }, null, 2) + '\n');
  console.log(`wrote ${outFile}`);
}
