/**
 * Where a training step's time goes: wraps every kernel of the active backend with a timer and
 * runs the bench/train.ts step (the G2P demo model, batch 64). Kernel time is split by name; the
 * rest of the step (autograd, allocation, op dispatch in JS) is reported as "outside kernels".
 *
 *   node --import tsx bench/profile-step.ts [--threads 1] [--steps 10] [--cpu] [--shapes] [--d 128]
 *
 * --cpu     time with the process's CPU clock instead of the wall clock (a loaded machine preempts
 *           the step; CPU time does not count that; at 2 threads it sums both threads' time).
 * --shapes  also split sgemm by shape (batch × m×n×k, transposes) with its GFLOP/s and % of the
 *           FMA peak measured in the same process at the same thread count.
 * --composed  the FFN op by op instead of fused (a no-op forward hook on every FFN Linear, as
 *           bench/train-fusion-ab.ts); with HEED_NATIVE_PATH, an older addon without linearFused.
 */
import { heedStep, makeTrainBatch, TRAIN_CONFIGS } from './train.ts';
import { k, setBackend, setNumThreads, backendInfo } from '../src/backend/registry.ts';
import { timeKernelCalls, cpuNowMs, nativeLoad } from './native-util.ts';
import { TransformerEncoderLayer, TransformerDecoderLayer } from '../src/nn/transformer.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const flag = (name: string) => process.argv.includes(`--${name}`);
if (backendInfo().nativeAvailable) setBackend('native');
const threads = arg('threads', 1);
setNumThreads(threads);
const steps = arg('steps', 10);
const cfg = TRAIN_CONFIGS.find((c) => c.dModel === arg('d', 256)) ?? TRAIN_CONFIGS[0];
const now = flag('cpu') ? cpuNowMs : () => performance.now();

// sgemm split by shape: wrapped under the per-kernel timer, so both see the same calls
interface GemmParams { batch: number; m: number; n: number; k: number; transA: boolean; transB: boolean; bias: unknown; activation: number }
const shapes = new Map<string, { ms: number; calls: number; flop: number }>();
const shapeTimer = { on: false };
if (flag('shapes')) {
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
const timer = timeKernelCalls(k, now);

const h = await heedStep(makeTrainBatch(), cfg);
if (flag('composed')) {
  for (const m of h.model.modules()) {
    if (m instanceof TransformerEncoderLayer || m instanceof TransformerDecoderLayer) {
      m.linear1.registerForwardHook(() => undefined);
      m.linear2.registerForwardHook(() => undefined);
    }
  }
}
for (let i = 0; i < 3; i++) h.step();
timer.on = shapeTimer.on = true;
const t0 = now();
for (let i = 0; i < steps; i++) h.step();
const total = (now() - t0) / steps;
timer.on = shapeTimer.on = false;
// The peak on the same clock as the step: with --cpu, the probe's FLOPs over its CPU time (median of 3)
const probe = () => { const w0 = performance.now(), c0 = cpuNowMs(); const g = nativeLoad!.peakFlops(threads); return flag('cpu') ? (g * (performance.now() - w0)) / (cpuNowMs() - c0) : g; };
const probes = nativeLoad ? [probe(), probe(), probe()].sort((a, b) => a - b) : [NaN];
const peak = flag('cpu') ? probes[1] : probes[2];
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
