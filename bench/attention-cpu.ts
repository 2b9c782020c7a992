/**
 * heed's fused attention forward against onnxruntime-node's fused MultiHeadAttention on the
 * process CPU clock, for a loaded machine: both read the same (B, L, H·d) buffers (heed through its
 * strides), and their calls alternate in one process, batch by batch, so load hits both alike. The
 * FMA peak is probed between shapes on the same clock at the same thread count (bench/peak.ts's
 * probe, its FLOPs over the CPU time it took), and % of peak is FLOPs / CPU time / that peak.
 * At 2 threads CPU time sums both threads, so % of peak is per core, and a thread that spins while
 * waiting (heed's pool briefly, ORT's by default) counts as busy.
 *
 *   node --import tsx bench/attention-cpu.ts [--threads 1,2] [--rounds 7] [--out file.json]
 */
import { writeFileSync } from 'node:fs';
import { readArgs } from './args.ts';
import os from 'node:os';
import { mhaModel, mhaFlops, heedForward, type MhaShape } from './peers/ort-mha.ts';
import { session } from './peers/onnxruntime.ts';
import { randomFloats, median } from './peers/common.ts';
import { nk, nativeLoad, cpuNowMs } from './native-util.ts';

process.env.HEED_QUIET ??= '1';
const flags = readArgs(import.meta.url, {
  threads: { kind: 'ints', default: [1, 2], min: 1, help: 'thread counts' },
  rounds: { kind: 'int', default: 7, min: 1, help: 'interleaved rounds' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
if (!nk || !nativeLoad) throw new Error('bench/attention-cpu.ts: the native addon is not built (npm run build:native)');
const threadList = flags.threads;
const rounds = flags.rounds;
const ort = await import('onnxruntime-node');

const shapes: MhaShape[] = [
  ...[64, 128, 256, 1024, 2048].map((L) => ({ B: 1, H: 12, L, d: 64, causal: false })),
  ...[4, 12].flatMap((H) => [32, 64, 128, 256].map((L) => ({ B: 32, H, L, d: 64, causal: false }))),
];

/** CPU ms per call of fn, over a batch sized to take ~`budget` CPU ms. */
async function cpuPerCall(fn: () => unknown, n: number): Promise<number> {
  const c0 = cpuNowMs();
  for (let i = 0; i < n; i++) await fn();
  return (cpuNowMs() - c0) / n;
}

/** The FMA peak on the CPU clock: the probe's GFLOP/s scaled by its wall/CPU time ratio. */
function peakCpu(threads: number): number {
  const w0 = performance.now(), c0 = cpuNowMs();
  const g = nativeLoad!.peakFlops(threads);
  return (g * (performance.now() - w0)) / (cpuNowMs() - c0);
}

const load0 = os.loadavg();
const rows = [];
for (const threads of threadList) {
  nativeLoad.setThreads(threads);
  for (const s of shapes) {
    const n = s.B * s.L * s.H * s.d, dims = [s.B, s.L, s.H * s.d];
    const q = randomFloats(n, 3), k = randomFloats(n, 4), v = randomFloats(n, 5);
    const heed = heedForward(nk, s, q, k, v);
    const sess = await session(ort, mhaModel(s), threads);
    const feeds = { q: new ort.Tensor('float32', q, dims), k: new ort.Tensor('float32', k, dims), v: new ort.Tensor('float32', v, dims) };
    const ortCall = () => sess.run(feeds);
    // warm up both, then size batches to ~40 CPU ms of the slower
    const first = Math.max(await cpuPerCall(heed.call, 2), await cpuPerCall(ortCall, 2), 1e-3);
    const batch = Math.max(1, Math.min(2000, Math.round(40 / first)));
    const tHeed: number[] = [], tOrt: number[] = [], peaks: number[] = [peakCpu(threads)];
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) { tHeed.push(await cpuPerCall(heed.call, batch)); tOrt.push(await cpuPerCall(ortCall, batch)); }
      else { tOrt.push(await cpuPerCall(ortCall, batch)); tHeed.push(await cpuPerCall(heed.call, batch)); }
    }
    peaks.push(peakCpu(threads));
    await sess.release();
    const flops = mhaFlops(s), peak = median(peaks);
    const heedMs = median(tHeed), ortMs = median(tOrt);
    const row = {
      workload: `attention fwd B${s.B} H${s.H} L${s.L} d${s.d}`, threads, heedCpuMs: heedMs, ortCpuMs: ortMs, heedVsOrt: ortMs / heedMs,
      // per core: CPU time sums the threads, so FLOPs / CPU time is a per-core rate, and so is the CPU-clock peak probe
      heedPctPeak: (100 * flops) / (heedMs * 1e6) / peak, ortPctPeak: (100 * flops) / (ortMs * 1e6) / peak,
      peakCpuGflops: peak, batch, heedSamples: tHeed, ortSamples: tOrt,
    };
    rows.push(row);
    console.log(`| ${row.workload} | ${threads} | ${heedMs.toFixed(3)} | ${ortMs.toFixed(3)} | ${row.heedVsOrt.toFixed(2)}× | ${row.heedPctPeak.toFixed(0)}% | ${row.ortPctPeak.toFixed(0)}% |`);
  }
}
const load1 = os.loadavg();
const out = {
  command: `node --import tsx bench/attention-cpu.ts ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(), machine: { cpu: os.cpus()[0]?.model, isa: nativeLoad.isa(), loadAvgBefore: load0, loadAvgAfter: load1 },
  peer: `onnxruntime-node ${ort.env.versions?.node ?? ''} com.microsoft MultiHeadAttention`, rows,
};
const file = flags.out;
if (file) writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
