/**
 * The fused attention's two issue-16 targets on the process CPU clock, for a loaded machine:
 *   - forward, non-causal, L ≥ 1024: % of the FMA peak probed in the same process on the same clock;
 *   - backward: fused kernel vs heed's composed ops (the same computation through matmul, softmax and
 *     their backward ops: the baseline of bench/peers/heed.ts, timed the same way, out.backward(dOut)
 *     on a graph recorded once), and the most any fused backward could reach against that baseline:
 *     it must recompute S = Q·Kᵀ (no L×L buffer is kept), so it runs five L×L×d products (Q·Kᵀ, dO·Vᵀ,
 *     Pᵀ·dO, dS·K, dSᵀ·Q: 2.5× the forward's FLOPs; half that under a causal mask) and takes at least
 *     their FLOPs / peak. `boundX` = composed time / that floor.
 * Calls alternate kernel by kernel, round by round; medians; B = 1, H = 12, d = 64 as bench/attention.ts.
 * HEED_NATIVE_PATH loads another build of the addon (an A/B across two processes).
 *
 *   node --import tsx bench/attention-roofline-cpu.ts [--threads 1,2] [--rounds 7] [--fwd 1024,2048,4096]
 *     [--bwd 128,256,512,1024] [--out bench/results/attention-roofline-<date>.json]
 */
import { writeFileSync } from 'node:fs';
import { readArgs } from './args.ts';
import os from 'node:os';
import * as h from '../src/index.ts';
import { median } from './peers/common.ts';
import { nk, nativeLoad, cpuNowMs, filled } from './native-util.ts';

process.env.HEED_QUIET ??= '1';
const flags = readArgs(import.meta.url, {
  threads: { kind: 'ints', default: [1, 2], min: 1, help: 'thread counts' },
  rounds: { kind: 'int', default: 7, min: 1, help: 'interleaved rounds' },
  fwd: { kind: 'ints', default: [1024, 2048, 4096], min: 1, help: 'forward sequence lengths (empty: none)' },
  bwd: { kind: 'ints', default: [128, 256, 512, 1024], min: 1, help: 'backward sequence lengths (empty: none)' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
if (!nk || !nativeLoad) throw new Error('bench/attention-roofline-cpu.ts: the native addon is not built (npm run build:native)');
const kern = nk;
const threadList = flags.threads;
const rounds = flags.rounds;
const fwdLengths = flags.fwd;
const bwdLengths = flags.bwd;
const B = 1, H = 12, D = 64;

/** CPU ms per call of fn over n calls. */
function cpuPerCall(fn: () => unknown, n: number): number {
  const c0 = cpuNowMs();
  for (let i = 0; i < n; i++) fn();
  return (cpuNowMs() - c0) / n;
}

/** The FMA peak on the CPU clock, per core: the probe's GFLOP/s scaled by its wall/CPU time ratio. */
function peakCpu(threads: number): number {
  const w0 = performance.now(), c0 = cpuNowMs();
  const g = nativeLoad!.peakFlops(threads);
  return (g * (performance.now() - w0)) / (cpuNowMs() - c0);
}

/** Batch size for ~budget CPU ms per sample. */
const batchFor = (ms: number, budget: number) => Math.max(1, Math.min(500, Math.round(budget / Math.max(ms, 1e-3))));

const args = <T extends Record<string, Float32Array>>(L: number, causal: boolean, bufs: T) => ({
  ...bufs, B, H, Hkv: H, Lq: L, Lk: L, D, Dv: D, scale: 1 / Math.sqrt(D), causal, causalOffset: 0, keyLengths: null,
  mask: null, maskStrideB: 0, maskStrideH: 0, alibiSlopes: null, dropoutP: 0, dropoutSeed: 0,
});

const load0 = os.loadavg();
const fwdRows = [], bwdRows = [];
for (const threads of threadList) {
  nativeLoad.setThreads(threads);
  h.setNumThreads(threads);
  for (const L of fwdLengths) {
    const n = B * H * L * D;
    const bufs = { q: filled(n, 1), k: filled(n, 2), v: filled(n, 3), out: new Float32Array(n), lse: new Float32Array(B * H * L) };
    const fwd = () => kern.attentionForward!({ ...args(L, false, bufs), kvStride: L });
    const batch = batchFor(cpuPerCall(fwd, 1), 60);
    const peaks = [peakCpu(threads)], t: number[] = [];
    for (let r = 0; r < rounds; r++) {
      t.push(cpuPerCall(fwd, batch));
      if (r % 3 === 2) peaks.push(peakCpu(threads));
    }
    const flops = 4 * B * H * L * L * D, ms = median(t), peak = median(peaks);
    const row = { workload: `attention fwd B${B} H${H} L${L} d${D}`, threads, cpuMs: ms, pctPeak: (100 * flops) / (ms * 1e6) / peak, peakCpuGflops: peak, batch, samples: t, peaks };
    fwdRows.push(row);
    console.log(`fwd L${L} ${threads}T: ${ms.toFixed(3)} ms CPU, ${row.pctPeak.toFixed(1)}% of ${peak.toFixed(0)} GFLOP/s`);
  }
  for (const L of bwdLengths) {
    for (const causal of [false, true]) {
      const n = B * H * L * D;
      const bufs = { q: filled(n, 1), k: filled(n, 2), v: filled(n, 3), out: new Float32Array(n), lse: new Float32Array(B * H * L) };
      kern.attentionForward!({ ...args(L, causal, bufs), kvStride: L });
      const grads = { dOut: filled(n, 4), dq: new Float32Array(n), dk: new Float32Array(n), dv: new Float32Array(n) };
      const fused = () => kern.attentionBackward!(args(L, causal, { ...bufs, ...grads }));
      const g = new h.Generator(2);
      const [q, k, v] = [0, 1, 2].map(() => h.randn([B, H, L, D], { generator: g, requiresGrad: true }));
      const out = h.scaledDotProductAttentionReference(q, k, v, { isCausal: causal });
      const dOut = h.randn([B, H, L, D], { generator: g });
      const composed = () => out.backward(dOut);
      for (let i = 0; i < 5; i++) { fused(); composed(); }  // warm-up: first calls allocate and JIT
      const bF = batchFor(cpuPerCall(fused, 2), 40), bC = batchFor(cpuPerCall(composed, 2), 40);
      const peaks = [peakCpu(threads)], tF: number[] = [], tC: number[] = [];
      for (let r = 0; r < rounds; r++) {
        if (r % 2 === 0) { tF.push(cpuPerCall(fused, bF)); tC.push(cpuPerCall(composed, bC)); }
        else { tC.push(cpuPerCall(composed, bC)); tF.push(cpuPerCall(fused, bF)); }
        if (r % 3 === 2) peaks.push(peakCpu(threads));
      }
      const flops = (2.5 * 4 * B * H * L * L * D) / (causal ? 2 : 1), peak = median(peaks);
      const fusedMs = median(tF), composedMs = median(tC), floorMs = flops / (peak * 1e6);
      const row = {
        workload: `attention bwd B${B} H${H} L${L} d${D}${causal ? ' causal' : ''}`, threads, fusedCpuMs: fusedMs, composedCpuMs: composedMs,
        speedup: composedMs / fusedMs, fusedPctPeak: (100 * flops) / (fusedMs * 1e6) / peak, fusedFloorMs: floorMs, boundX: composedMs / floorMs,
        peakCpuGflops: peak, fusedSamples: tF, composedSamples: tC, peaks,
      };
      bwdRows.push(row);
      console.log(`bwd L${L}${causal ? ' causal' : ''} ${threads}T: fused ${fusedMs.toFixed(3)} ms (${row.fusedPctPeak.toFixed(0)}% of peak), composed ${composedMs.toFixed(3)} ms: ${row.speedup.toFixed(2)}× (bound at 100% of peak ${row.boundX.toFixed(2)}×)`);
    }
  }
}
const load1 = os.loadavg();
const result = {
  command: `node --import tsx bench/attention-roofline-cpu.ts ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(), addon: process.env.HEED_NATIVE_PATH ?? 'build/Release/heed.node',
  machine: { cpu: os.cpus()[0]?.model, isa: nativeLoad.isa(), loadAvgBefore: load0, loadAvgAfter: load1 },
  forward: fwdRows, backward: bwdRows,
};
const file = flags.out;
if (file) writeFileSync(file, JSON.stringify(result, null, 1) + '\n');
