/**
 * Where a training step's time goes: wraps every kernel of the active backend with a timer and
 * runs the bench/train.ts step (the G2P demo model, batch 64). Kernel time is split by name; the
 * rest of the step (autograd, allocation, op dispatch in JS) is reported as "outside kernels".
 *
 *   node --import tsx bench/profile-step.ts [--threads 1] [--steps 10] [--warm 3] [--cpu] [--shapes] [--roofline] [--d 128]
 *
 * --cpu     time with the process's CPU clock instead of the wall clock (a loaded machine preempts
 *           the step; CPU time does not count that; at 2 threads it sums both threads' time).
 * --shapes  also split sgemm by shape (batch × m×n×k, transposes), and linearFused and linearBackward
 *           by shape (linearBackward: its dx and dW products), with their GFLOP/s and % of the
 *           FMA peak measured in the same process at the same thread count.
 * --composed  the layers op by op instead of fused (a no-op forward hook on every FFN Linear,
 *           attention outProj and norm, as bench/train-fusion-ab.ts's composed arm); with
 *           HEED_NATIVE_PATH, an older addon without linearFused.
 * --roofline  also count the bytes every kernel call touches (each typed-array argument once: inputs
 *           read, outputs written; one extra untimed step), measure the machine's streaming bandwidth
 *           in this process at those sizes (a copy and a native add, same clock), and print the time
 *           the non-GEMM kernels cannot go below and the % of peak the step could reach with the
 *           GEMMs at their measured efficiency.
 * --json f  also write the step time, the peak, the step's GEMM FLOPs (with --shapes or --roofline)
 *           and the per-kernel rows to file f (bench/profile-step-ab.ts reads it).
 */
import { heedStep, makeTrainBatch, TRAIN_CONFIGS } from './train.ts';
import { k, setBackend, setNumThreads, backendInfo } from '../src/backend/registry.ts';
import { timeKernelCalls, cpuNowMs, nativeLoad } from './native-util.ts';
import { TransformerEncoderLayer, TransformerDecoderLayer } from '../src/nn/transformer.ts';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { readArgs } from './args.ts';
import { gemmCallFlop, gemmCallLabel, STEP_GEMMS } from './step-gemm-calls.ts';

const flags = readArgs(import.meta.url, {
  threads: { kind: 'int', default: 1, min: 1, help: 'pool threads' },
  steps: { kind: 'int', default: 10, min: 1, help: 'profiled training steps' },
  d: { kind: 'int', default: 256, choices: TRAIN_CONFIGS.map((c) => c.dModel), help: 'the training step\'s model width (bench/train.ts TRAIN_CONFIGS)' },
  warm: { kind: 'int', default: 3, min: 0, help: 'untimed warm-up steps' },
  cpu: { kind: 'bool', help: 'time with the process\'s CPU clock instead of the wall clock' },
  shapes: { kind: 'bool', help: 'also split sgemm, linearFused and linearBackward by shape' },
  roofline: { kind: 'bool', help: 'also count the bytes every kernel call touches, against measured bandwidth' },
  composed: { kind: 'bool', help: 'the layers op by op instead of fused (as bench/train-fusion-ab.ts\'s composed arm)' },
  json: { kind: 'string', default: '', help: 'also write the step time, the peak and the per-kernel times here (JSON)' },
});
const flag = (name: 'cpu' | 'shapes' | 'roofline' | 'composed') => flags[name];
if (backendInfo().nativeAvailable) setBackend('native');
const threads = flags.threads;
setNumThreads(threads);
const steps = flags.steps;
const cfg = TRAIN_CONFIGS.find((c) => c.dModel === flags.d) ?? TRAIN_CONFIGS[0];
const now = flag('cpu') ? cpuNowMs : () => performance.now();

// sgemm split by shape: wrapped under the per-kernel timer, so both see the same calls
interface GemmParams { batch: number; m: number; n: number; k: number; transA: boolean; transB: boolean; bias: unknown; activation: number }
const shapes = new Map<string, { ms: number; calls: number; flop: number }>();
const shapeTimer = { on: false };
if (flag('shapes') || flag('roofline')) {
  const table = k as unknown as Record<string, (p: GemmParams) => unknown>;
  const sgemm = table.sgemm;
  table.sgemm = (p: GemmParams) => {
    if (!shapeTimer.on) return sgemm(p);
    const t0 = now();
    try { return sgemm(p); } finally {
      const key = `${p.batch > 1 ? `${p.batch}× ` : ''}${p.m}×${p.n}×${p.k} ${p.transA ? 'T' : 'N'}${p.transB ? 'T' : 'N'}${p.bias ? ' +bias' : ''}${p.activation ? ` act${p.activation}` : ''}`;
      const e = shapes.get(key) ?? { ms: 0, calls: 0, flop: 0 };
      e.ms += now() - t0; e.calls++; e.flop += 2 * p.batch * p.m * p.n * p.k;
      shapes.set(key, e);
    }
  };
}
// linearFused and linearBackward (the Linear's forward with its epilogue; dx and dW in one call) split
// by shape the same way; their FLOPs count in the step's GEMM FLOPs (linearBackward: 2 products)
const fusedShapes = new Map<string, { ms: number; calls: number; flop: number }>();
let linearFlop = 0;
if (flag('roofline') || flag('shapes')) {
  type LinearParams = { rows: number; outF: number; inF: number; p?: number; residual?: unknown; activation?: number };
  const table = k as unknown as Record<string, (p: LinearParams) => unknown>;
  const wrap = (name: string, keyOf: (p: LinearParams) => string, flopOf: (p: LinearParams) => number) => {
    const fn = table[name];
    table[name] = (p) => {
      if (!shapeTimer.on) return fn(p);
      const t0 = now();
      try { return fn(p); } finally {
        const e = fusedShapes.get(keyOf(p)) ?? { ms: 0, calls: 0, flop: 0 };
        e.ms += now() - t0; e.calls++; e.flop += flopOf(p); linearFlop += flopOf(p);
        fusedShapes.set(keyOf(p), e);
      }
    };
  };
  wrap('linearFused', (p) => `linearFused ${p.rows}×${p.outF}×${p.inF} NT${p.activation ? ' +relu' : ''}${(p.p ?? 0) > 0 ? ' +dropout' : ''}${p.residual ? ' +residual' : ''}`,
    (p) => 2 * p.rows * p.outF * p.inF);
  for (const name of ['linearBackward', 'linearBackwardFused']) wrap(name, (p) => gemmCallLabel({ name, p }), (p) => gemmCallFlop({ name, p }));
}
const timer = timeKernelCalls(k, now);

const h = await heedStep(makeTrainBatch(), cfg);
if (flag('composed')) {
  for (const m of h.model.modules()) {
    if (m instanceof TransformerEncoderLayer || m instanceof TransformerDecoderLayer) {
      for (const mod of [m.linear1, m.linear2, m.norm1, m.norm2, m.selfAttn.outProj]) mod.registerForwardHook(() => undefined);
      if (m instanceof TransformerDecoderLayer) for (const mod of [m.norm3, m.crossAttn.outProj]) mod.registerForwardHook(() => undefined);
    }
  }
}
// --warm 150 measures the JIT's steady state (V8 optimizes the step's JS after 100–160 steps)
for (let i = 0, warm = flags.warm; i < warm; i++) h.step();
timer.on = shapeTimer.on = true;
const t0 = now();
for (let i = 0; i < steps; i++) h.step();
const total = (now() - t0) / steps;
timer.on = shapeTimer.on = false;
// The peak on the same clock as the step: with --cpu, the probe's FLOPs over its CPU time (median of 3)
const probe = () => { const w0 = performance.now(), c0 = cpuNowMs(); const g = nativeLoad!.peakFlops(threads); return flag('cpu') ? (g * (performance.now() - w0)) / (cpuNowMs() - c0) : g; };
const probes = nativeLoad ? [probe(), probe(), probe()].sort((a, b) => a - b) : [NaN];
const peak = flag('cpu') ? probes[1] : probes[2];
const roofline = flag('roofline') ? measureRoofline() : null;
const rows = [...timer.time.entries()].map(([n, e]) => ({ n, ms: e.ms / steps, calls: e.calls / steps })).sort((a, b) => b.ms - a.ms);
const inKernels = rows.reduce((s, r) => s + r.ms, 0);
const clock = flag('cpu') ? 'CPU time' : 'wall time';
console.log(`d ${cfg.dModel}: step ${total.toFixed(1)} ms ${clock} (${backendInfo().backend}, ${backendInfo().threads} thread(s)); kernels ${inKernels.toFixed(1)} ms, outside kernels ${(total - inKernels).toFixed(1)} ms; FMA peak ${peak.toFixed(0)} GFLOP/s`);
console.log('| kernel | ms/step | calls/step | share |\n|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.n} | ${r.ms.toFixed(2)} | ${r.calls.toFixed(0)} | ${((100 * r.ms) / total).toFixed(1)}% |`);
if (shapes.size) {
  const srows = [...shapes.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const flop = srows.reduce((s, [, e]) => s + e.flop, 0) / steps, ms = srows.reduce((s, [, e]) => s + e.ms, 0) / steps;
  console.log(`\nsgemm by shape: ${(flop / 1e9).toFixed(2)} GFLOP/step in ${ms.toFixed(1)} ms = ${(flop / ms / 1e6).toFixed(0)} GFLOP/s (${((100 * flop) / ms / 1e6 / peak).toFixed(0)}% of peak)`);
  console.log('| shape (batch× m×n×k, op(A)op(B)) | calls/step | ms/step | GFLOP/step | GFLOP/s | % peak |\n|---|---:|---:|---:|---:|---:|');
  for (const [key, e] of srows) {
    const g = e.flop / e.ms / 1e6;
    console.log(`| ${key} | ${(e.calls / steps).toFixed(0)} | ${(e.ms / steps).toFixed(2)} | ${(e.flop / steps / 1e9).toFixed(3)} | ${g.toFixed(0)} | ${((100 * g) / peak).toFixed(0)}% |`);
  }
}
if (fusedShapes.size) {
  const frows = [...fusedShapes.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const flop = frows.reduce((s, [, e]) => s + e.flop, 0) / steps, ms = frows.reduce((s, [, e]) => s + e.ms, 0) / steps;
  console.log(`\nlinearFused and linearBackward by shape (m×n×k of each product): ${(flop / 1e9).toFixed(2)} GFLOP/step in ${ms.toFixed(1)} ms = ${(flop / ms / 1e6).toFixed(0)} GFLOP/s (${((100 * flop) / ms / 1e6 / peak).toFixed(0)}% of peak)`);
  console.log('| call | calls/step | ms/step | GFLOP/step | GFLOP/s | % peak |\n|---|---:|---:|---:|---:|---:|');
  for (const [key, e] of frows) {
    const g = e.flop / e.ms / 1e6;
    console.log(`| ${key} | ${(e.calls / steps).toFixed(0)} | ${(e.ms / steps).toFixed(2)} | ${(e.flop / steps / 1e9).toFixed(3)} | ${g.toFixed(0)} | ${((100 * g) / peak).toFixed(0)}% |`);
  }
}

/**
 * Bytes per kernel per step (one extra step, not timed) and the streaming bandwidth of this machine,
 * measured here on the same clock: Float32Array.set (a memcpy: read + write) and the native add
 * kernel (read 2, write 1), at working sets from 256 KB to 16 MB; the faster of the two is the bound.
 */
function measureRoofline() {
  const table = k as unknown as Record<string, (p: Record<string, unknown>) => unknown>;
  const bytes = new Map<string, { bytes: number; calls: number }>();
  const saved = new Map<string, (p: Record<string, unknown>) => unknown>();
  for (const name of Object.keys(table)) {
    const fn = table[name];
    saved.set(name, fn);
    table[name] = (p: Record<string, unknown>) => {
      let b = 0;
      for (const v of Object.values(p ?? {})) if (ArrayBuffer.isView(v)) b += v.byteLength;
      const e = bytes.get(name) ?? { bytes: 0, calls: 0 };
      e.bytes += b; e.calls++;
      bytes.set(name, e);
      return fn(p);
    };
  }
  // the step's GEMM calls, recorded to be replayed alone below (fresh buffers, the same shapes and flags)
  const gemmCalls: { name: string; p: Record<string, unknown> }[] = [];
  const record = (name: string) => {
    const fn = table[name];
    table[name] = (p: Record<string, unknown>) => { gemmCalls.push({ name, p: { ...p } }); return fn(p); };
  };
  record('sgemm');
  record('linearFused');
  record('linearBackward');
  record('linearBackwardFused');
  h.step();
  for (const [name, fn] of saved) table[name] = fn;
  // Replay: every GEMM of one step back to back, timed as one block (no per-call clock reads), median of 5
  const fresh = (v: unknown) => (v instanceof Float32Array ? Float32Array.from(v) : v);
  const replay = gemmCalls.map(({ name, p }) => ({ name, p: Object.fromEntries(Object.entries(p).map(([key, v]) => [key, fresh(v)])) }));
  const gemmSamples: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = now();
    for (const c of replay) table[c.name](c.p);
    gemmSamples.push(now() - t0);
  }
  const gemmAloneMs = gemmSamples.sort((x, y) => x - y)[2];
  // Warm: each call three times in a row (its operands in cache, as when the op before just wrote them), per call
  const warmSamples: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = now();
    for (const c of replay) for (let i = 0; i < 3; i++) table[c.name](c.p);
    warmSamples.push((now() - t0) / 3);
  }
  const gemmWarmMs = warmSamples.sort((x, y) => x - y)[2];
  const bw: { setBytes: number; copyGBs: number; addGBs: number }[] = [];
  for (const setBytes of [256e3, 1e6, 4e6, 16e6]) {
    const n = Math.floor(setBytes / 12); // add: a, b, out of n floats
    const a = new Float32Array(n).fill(1), b = new Float32Array(n).fill(2), out = new Float32Array(n);
    const src = new Float32Array(Math.floor(setBytes / 8)), dst = new Float32Array(src.length);
    const reps = Math.max(20, Math.round(4e8 / setBytes)); // ~0.4 GB per sample
    const time = (f: () => void) => {
      const samples: number[] = [];
      for (let s = 0; s < 5; s++) { const t0 = now(); for (let r = 0; r < reps; r++) f(); samples.push(now() - t0); }
      return samples.sort((x, y) => x - y)[2];
    };
    const copyMs = time(() => dst.set(src)), addMs = time(() => table.binarySame({ op: 0, a, b, out }));
    bw.push({ setBytes, copyGBs: (reps * 2 * src.byteLength) / copyMs / 1e6, addGBs: (reps * 3 * a.byteLength) / addMs / 1e6 });
  }
  return { bytes, bw, gemmAloneMs, gemmWarmMs, gemmCalls: gemmCalls.length };
}

if (roofline) {
  const { bytes, bw, gemmAloneMs, gemmWarmMs, gemmCalls } = roofline;
  console.log('\nStreaming bandwidth in this process (' + clock + ', median of 5): working set → GB/s');
  console.log('| working set | copy (TypedArray.set) | native add (2 reads, 1 write) |\n|---:|---:|---:|');
  for (const r of bw) console.log(`| ${(r.setBytes / 1e6).toFixed(2)} MB | ${r.copyGBs.toFixed(1)} | ${r.addGBs.toFixed(1)} |`);
  const bwAt = (perCall: number) => {
    const row = bw.find((r) => r.setBytes >= perCall) ?? bw[bw.length - 1];
    return Math.max(row.copyGBs, row.addGBs);
  };
  const gemmNames = new Set<string>(STEP_GEMMS);
  let gemmMs = 0, boundMs = 0, otherMs = 0, otherBytes = 0;
  console.log('\nNon-GEMM kernels: bytes touched per step and the time they cannot go below at that bandwidth');
  console.log('| kernel | MB/step | calls | MB/call | GB/s bound | floor ms/step | measured ms/step | measured / floor |\n|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    if (gemmNames.has(r.n)) { gemmMs += r.ms; continue; }
    const e = bytes.get(r.n);
    if (!e) continue;
    const perCall = e.bytes / e.calls, g = bwAt(perCall), floor = e.bytes / g / 1e6;
    boundMs += floor; otherMs += r.ms; otherBytes += e.bytes;
    console.log(`| ${r.n} | ${(e.bytes / 1e6).toFixed(2)} | ${e.calls} | ${(perCall / 1e6).toFixed(3)} | ${g.toFixed(1)} | ${floor.toFixed(2)} | ${r.ms.toFixed(2)} | ${(r.ms / floor).toFixed(1)}× |`);
  }
  const outside = total - inKernels;
  console.log(`\nGEMM kernels (sgemm, linearFused, linearBackward) ${gemmMs.toFixed(1)} ms/step; other kernels ${otherMs.toFixed(1)} ms measured, ${(otherBytes / 1e6).toFixed(1)} MB/step, floor ${boundMs.toFixed(2)} ms at the measured bandwidth; outside kernels ${outside.toFixed(1)} ms.`);
  // the step's GEMM FLOPs: sgemm's (counted by shape) + linearFused's and linearBackward's
  const allFlop = [...shapes.values()].reduce((s2, e) => s2 + e.flop, 0) / steps + linearFlop / steps;
  const pctAll = (ms: number) => ((100 * allFlop) / (ms * 1e6) / peak).toFixed(1);
  console.log(`| step | ms | % of peak (${(allFlop / 1e9).toFixed(2)} GFLOP) |\n|---|---:|---:|`);
  console.log(`| measured | ${total.toFixed(1)} | ${pctAll(total)}% |`);
  console.log(`| GEMMs as measured + other kernels at their floor + outside kernels as measured | ${(gemmMs + boundMs + outside).toFixed(1)} | ${pctAll(gemmMs + boundMs + outside)}% |`);
  console.log(`| GEMMs as measured + other kernels at their floor, no time outside kernels | ${(gemmMs + boundMs).toFixed(1)} | ${pctAll(gemmMs + boundMs)}% |`);
  console.log(`| GEMMs alone, as measured in the step | ${gemmMs.toFixed(1)} | ${pctAll(gemmMs)}% |`);
  console.log(`| GEMMs alone, the step's ${gemmCalls} GEMM calls replayed back to back (median of 5) | ${gemmAloneMs.toFixed(1)} | ${pctAll(gemmAloneMs)}% |`);
  console.log(`| GEMMs alone, each replayed call run 3× in a row (warm operands), per step | ${gemmWarmMs.toFixed(1)} | ${pctAll(gemmWarmMs)}% |`);
  console.log(`| replayed GEMMs + other kernels at their floor, no time outside kernels | ${(gemmAloneMs + boundMs).toFixed(1)} | ${pctAll(gemmAloneMs + boundMs)}% |`);
  console.log(`| warm replayed GEMMs + other kernels at their floor, no time outside kernels | ${(gemmWarmMs + boundMs).toFixed(1)} | ${pctAll(gemmWarmMs + boundMs)}% |`);
}

const jsonOut = flags.json;
if (jsonOut) {
  const gemmFlop = shapes.size ? ([...shapes.values()].reduce((s2, e) => s2 + e.flop, 0) + linearFlop) / steps : null;
  writeFileSync(jsonOut, JSON.stringify({
    d: cfg.dModel, threads, clock, steps, stepMs: total, peakGflops: peak, gemmFlop, pctPeak: gemmFlop === null ? null : (100 * gemmFlop) / (total * 1e6) / peak,
    kernelsMs: inKernels, outsideMs: total - inKernels, loadavg: os.loadavg(), rows,
  }, null, 2) + '\n');
}
