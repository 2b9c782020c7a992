/**
 * Dynamic int8 Linear against heed's fp32 Linear (issue 15): y (M, N) = x (M, K) · Wᵀ + b
 * at M = 1 … 512 (1, 2, 4, 8, 16, 17, 32, 64, 128, 256, 512; --quick: 1, 8, 17, 64, 512) and
 * K = N = 256, 1024, at 1 and 2 threads. M = 16 / 17 straddle fp32's unpacked small-M path.
 *
 * Rows per shape, layer level (what a model pays, output allocation included):
 *   heed fp32 Linear                  nn.Linear.forward (sgemm with bias, through the ops layer)
 *   heed int8 QuantizedLinear         nn.QuantizedLinear.forward (W packed once, x quantized per call)
 * and kernel level (into a preallocated output):
 *   kernel fp32 sgemm                 x · Wᵀ + b
 *   kernel int8GemmPacked             the kernel QuantizedLinear calls
 *   kernel int8Gemm (repacks W)       the previous kernel, which repacks W on every call
 * Each int8 row's note gives its speed-up over the fp32 row of the same level.
 * The three are timed interleaved (one call of each per round) and each keeps its best
 * round: on a shared, loaded machine the minimum is the least disturbed measurement, and
 * interleaving exposes all three to the same load.
 *
 *   npm run bench -- --only int8         (through the harness, results/latest-int8.json)
 *   node --import tsx bench/int8.ts [--quick] [--out bench/results/int8.json]
 *
 * --grid (for a loaded machine; one thread): the kernels only, int8GemmPacked against sgemm
 * (x·Wᵀ + b into a preallocated output) at the shapes heed's models run (K → N: 64 → 64/192/256,
 * 256 → 64/256/768/1024, 1024 → 256/1024) and M = 1, 4, 16, 64, 150, 512, timed on the process
 * CPU clock (a preempted thread does not accumulate it): rounds of calls, the two kernels
 * interleaved round by round, the median per-call time of each. Each shape's figures are quoted as
 * % of the fp32 FMA peak and of the int8 VNNI peak, both probes timed on the same clock in the
 * same process (peakFlops, int8PeakOps). A third kernel row, int8 static, is the same call with
 * a calibrated input scale (xScale > 0, quantizeStatic): no per-row max-abs scan. callFloorUs: each
 * kernel called at 1×1×1, the fixed cost of a call (argument checks, dispatch) that bounds M = 1.
 *   HEED_NUM_THREADS=1 node --import tsx bench/int8.ts --grid [--rounds 15] [--out bench/results/int8-grid-<date>.json]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { median } from './peers/common.ts';
import { cpuNowMs, nk, nativeLoad, threadCounts, withThreads, filled, skipped, type BenchRow } from './native-util.js';
import * as heed from '../src/index.js';
import { k } from '../src/backend/registry.js';
import { packedLength } from '../src/backend/js/int8.js';
import { readArgs } from './args.ts';

export type { BenchRow };

/** Best wall time in ms of each fn, called in turn for budgetMs (at least 5 rounds, after a warm-up). */
function bestMsInterleaved(fns: (() => void)[], budgetMs: number): number[] {
  for (const fn of fns) fn();
  const best = fns.map(() => Infinity);
  const start = performance.now();
  for (let round = 0; round < 5 || (performance.now() - start < budgetMs && round < 2000); round++) {
    fns.forEach((fn, i) => {
      const t0 = performance.now();
      fn();
      best[i] = Math.min(best[i], performance.now() - t0);
    });
  }
  return best;
}

export async function run(opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  if (!nk || !nativeLoad) return skipped('int8 linear');
  heed.setBackend('native');
  const rows: BenchRow[] = [];
  const budget = opts.quick ? 150 : 600;
  for (const threads of threadCounts()) {
    withThreads(threads, () => {
      for (const kn of [256, 1024]) {
        const K = kn, N = kn;
        const lin = new heed.nn.Linear(K, N);
        const qlin = heed.nn.QuantizedLinear.fromLinear(lin);
        const wq = new Int8Array(N * K), scales = new Float32Array(N);
        k.quantizePerChannel({ w: lin.weight.data as Float32Array, q: wq, scales, n: N, k: K });
        const packed = new Int8Array(packedLength(N, K)), wScales = new Float32Array(N), colSums = new Int32Array(N);
        k.int8PackWeights({ w: lin.weight.data as Float32Array, packed, scales: wScales, colSums, n: N, k: K });
        for (const M of opts.quick ? [1, 8, 17, 64, 512] : [1, 2, 4, 8, 16, 17, 32, 64, 128, 256, 512]) {
          const x = heed.tensor(filled(M * K, 3)).reshape([M, K]);
          const out = new Float32Array(M * N);
          const workload = `linear ${M}x${N}x${K}`;
          const flops = 2 * M * N * K;
          const xs = x.data as Float32Array, b = lin.bias!.data as Float32Array, w = lin.weight.data as Float32Array;
          const [layerF32, layerI8, kernF32, kernI8, kernRepack] = heed.noGrad(() => bestMsInterleaved([
            () => lin.forward(x),
            () => qlin.forward(x),
            () => k.sgemm({ a: xs, b: w, c: out, batch: 1, m: M, n: N, k: K, transA: false, transB: true, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: b, activation: 0 }),
            () => k.int8GemmPacked({ x: xs, packed, wScales, colSums, out, m: M, n: N, k: K, bias: b, activation: 0, residual: null, xScale: 0 }),
            () => k.int8Gemm({ x: xs, wq, wScales: scales, out, m: M, n: N, k: K, bias: b }),
          ], budget));
          const row = (impl: string, ms: number, base?: number): BenchRow =>
            ({ workload, impl, threads, ms, gflops: flops / ms / 1e6, ...(base === undefined ? {} : { note: `${(base / ms).toFixed(2)}x fp32` }) });
          rows.push(row('heed fp32 Linear', layerF32), row('heed int8 QuantizedLinear', layerI8, layerF32));
          rows.push(row('kernel fp32 sgemm', kernF32), row('kernel int8GemmPacked', kernI8, kernF32), row('kernel int8Gemm (repacks W)', kernRepack, kernF32));
        }
      }
    });
  }
  return rows;
}

/** The two native kernels the grid times (no fallback to the reference: a missing one is an error). */
function nativeSgemm(p: Parameters<NonNullable<NonNullable<typeof nk>['sgemm']>>[0]): void {
  if (!nk?.sgemm) throw new Error('bench/int8 --grid: the native addon has no sgemm');
  nk.sgemm(p);
}
function nativeInt8(p: Parameters<NonNullable<NonNullable<typeof nk>['int8GemmPacked']>>[0]): void {
  if (!nk?.int8GemmPacked) throw new Error('bench/int8 --grid: the native addon has no int8GemmPacked');
  nk.int8GemmPacked(p);
}

/** The (K, N) pairs of heed's models: spam/digits/tag d 64 (q|k|v 192, FFN 256), g2p d 256 (q|k|v 768, FFN 1024). */
export const GRID_KN: readonly [number, number][] = [[64, 64], [64, 192], [64, 256], [256, 64], [256, 256], [256, 768], [256, 1024], [1024, 256], [1024, 1024]];
export const GRID_M: readonly number[] = [1, 4, 16, 64, 150, 512];

/** The addon's int8 VNNI probe (GOP/s, one multiply-add = 2 ops), or null when this build lacks it. */
function int8Probe(): ((threads: number) => number) | null {
  // The addon loadNative chose (HEED_NATIVE_PATH overrides the build), read directly: int8PeakOps is a bench probe, not a kernel.
  const path = process.env.HEED_NATIVE_PATH || new URL('../build/Release/heed.node', import.meta.url).pathname;
  const addon = createRequire(import.meta.url)(path) as Record<string, unknown>;
  return typeof addon.int8PeakOps === 'function' ? (addon.int8PeakOps as (t: number) => number) : null;
}

/** A probe's rate on the process CPU clock: its work (rate × wall time) over the CPU time it took. */
function onCpuClock(probe: () => number): number {
  const w0 = performance.now(), c0 = cpuNowMs();
  const rate = probe();
  return (rate * (performance.now() - w0)) / (cpuNowMs() - c0);
}

/** Median CPU ms per call of each fn: `rounds` rounds, fns interleaved, each round ≥ ~0.5 ms of calls per fn. */
function cpuMedians(fns: (() => void)[], rounds: number): number[] {
  const reps = fns.map((fn) => {
    fn();
    let n = 0;
    const c0 = cpuNowMs();
    while (cpuNowMs() - c0 < 0.5 || n < 3) { fn(); n++; }
    return n;
  });
  const per: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, i) => {
      const c0 = cpuNowMs();
      for (let j = 0; j < reps[i]; j++) fn();
      per[i].push((cpuNowMs() - c0) / reps[i]);
    });
  }
  return per.map(median);
}

/**
 * ~300 ms of CPU in both kernel calls at the smallest shape before anything is timed: without it the
 * first shape measured (M = 1, K = N = 64) read ~1 µs slower than the same call later (the call's
 * JavaScript not yet optimized).
 */
function warmUp(): void {
  const w = filled(64 * 64, 7), x = filled(64, 3), out = new Float32Array(64);
  const packed = new Int8Array(packedLength(64, 64)), wScales = new Float32Array(64), colSums = new Int32Array(64);
  k.int8PackWeights({ w, packed, scales: wScales, colSums, n: 64, k: 64 });
  const c0 = cpuNowMs();
  while (cpuNowMs() - c0 < 300) {
    for (let i = 0; i < 100; i++) {
      nativeSgemm({ a: x, b: w, c: out, batch: 1, m: 1, n: 64, k: 64, transA: false, transB: true, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 });
      nativeInt8({ x, packed, wScales, colSums, out, m: 1, n: 64, k: 64, bias: null, activation: 0, residual: null, xScale: 0 });
    }
  }
}

/** The --grid run: see the header. */
export function runGrid(rounds = 15): Record<string, unknown> {
  if (!nk || !nativeLoad) throw new Error('bench/int8 --grid: the native addon did not load');
  const int8Peak = int8Probe();
  const fp32Peaks = [onCpuClock(() => nativeLoad!.peakFlops(1))];
  const int8Peaks = int8Peak ? [onCpuClock(() => int8Peak(1))] : [];
  const rows: Record<string, unknown>[] = [];
  warmUp();
  for (const [K, N] of GRID_KN) {
    const w = filled(N * K, 7), b = filled(N, 9);
    const packed = new Int8Array(packedLength(N, K)), wScales = new Float32Array(N), colSums = new Int32Array(N);
    k.int8PackWeights({ w, packed, scales: wScales, colSums, n: N, k: K });
    for (const M of GRID_M) {
      const x = filled(M * K, 3), out = new Float32Array(M * N);
      const [f32, i8, i8s] = cpuMedians([
        () => nativeSgemm({ a: x, b: w, c: out, batch: 1, m: M, n: N, k: K, transA: false, transB: true, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: b, activation: 0 }),
        () => nativeInt8({ x, packed, wScales, colSums, out, m: M, n: N, k: K, bias: b, activation: 0, residual: null, xScale: 0 }),
        () => nativeInt8({ x, packed, wScales, colSums, out, m: M, n: N, k: K, bias: b, activation: 0, residual: null, xScale: 0.004 }),
      ], rounds);
      const ops = 2 * M * N * K;
      rows.push({ M, N, K, fp32Us: 1000 * f32, int8Us: 1000 * i8, int8StaticUs: 1000 * i8s, speedup: f32 / i8, staticSpeedup: f32 / i8s, fp32Gflops: ops / f32 / 1e6, int8Gops: ops / i8 / 1e6 });
    }
    fp32Peaks.push(onCpuClock(() => nativeLoad!.peakFlops(1)));
    if (int8Peak) int8Peaks.push(onCpuClock(() => int8Peak(1)));
  }
  // The fixed cost of one call (argument checks in the binding, dispatch): both kernels at 1×1×1.
  const one = filled(1, 5), p1 = new Int8Array(packedLength(1, 1)), s1 = new Float32Array(1), c1 = new Int32Array(1), o1 = new Float32Array(1);
  k.int8PackWeights({ w: one, packed: p1, scales: s1, colSums: c1, n: 1, k: 1 });
  const [floorF32, floorI8] = cpuMedians([
    () => nativeSgemm({ a: one, b: one, c: o1, batch: 1, m: 1, n: 1, k: 1, transA: false, transB: true, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 }),
    () => nativeInt8({ x: one, packed: p1, wScales: s1, colSums: c1, out: o1, m: 1, n: 1, k: 1, bias: null, activation: 0, residual: null, xScale: 0 }),
  ], rounds);
  const fp32Peak = median(fp32Peaks), i8Peak = int8Peaks.length ? median(int8Peaks) : NaN;
  for (const r of rows) {
    r.fp32PctOfFmaPeak = (100 * (r.fp32Gflops as number)) / fp32Peak;
    r.int8PctOfVnniPeak = (100 * (r.int8Gops as number)) / i8Peak;
  }
  return { fp32FmaPeakCpuGflops: fp32Peak, int8VnniPeakCpuGops: i8Peak, fp32Peaks, int8Peaks, callFloorUs: { sgemm1x1x1: 1000 * floorF32, int8GemmPacked1x1x1: 1000 * floorI8 }, rows };
}

const INT8_FLAGS = {
  quick: { kind: 'bool', help: 'the bench rows at quick budgets' },
  grid: { kind: 'bool', help: 'instead: the M×K×N grid of int8 against fp32 on the CPU clock' },
  rounds: { kind: 'int', default: 15, min: 1, help: '--grid: rounds per shape' },
  out: { kind: 'string', help: 'raw results file (JSON)' },
} as const;
const cli = process.argv[1] === fileURLToPath(import.meta.url) ? readArgs(import.meta.url, INT8_FLAGS) : undefined;

if (cli?.grid) {
  const args = process.argv.slice(2);
  const loadBefore = loadavg();
  const g = runGrid(cli.rounds);
  for (const r of g.rows as Record<string, number>[]) {
    console.log(`M ${String(r.M).padStart(3)} K ${String(r.K).padStart(4)} N ${String(r.N).padStart(4)}  fp32 ${r.fp32Us.toFixed(2).padStart(8)} µs (${r.fp32PctOfFmaPeak.toFixed(0).padStart(3)}% FMA)  int8 ${r.int8Us.toFixed(2).padStart(8)} µs (${r.int8PctOfVnniPeak.toFixed(0).padStart(3)}% VNNI)  ${r.speedup.toFixed(2)}x   static ${r.int8StaticUs.toFixed(2).padStart(8)} µs ${r.staticSpeedup.toFixed(2)}x`);
  }
  console.log(`one call at 1×1×1: sgemm ${(g.callFloorUs as Record<string, number>).sgemm1x1x1.toFixed(2)} µs, int8GemmPacked ${(g.callFloorUs as Record<string, number>).int8GemmPacked1x1x1.toFixed(2)} µs`);
  console.log(`peaks on the CPU clock: fp32 ${(g.fp32FmaPeakCpuGflops as number).toFixed(0)} GFLOP/s, int8 ${(g.int8VnniPeakCpuGops as number).toFixed(0)} GOP/s`);
  const out = cli.out;
  if (out !== undefined) {
    const meta = { date: new Date().toISOString(), command: `HEED_NUM_THREADS=${process.env.HEED_NUM_THREADS ?? ''} node --import tsx bench/int8.ts ${args.join(' ')}`, cpus: (await import('node:os')).cpus()[0]?.model, threads: nativeLoad!.threads(), loadavgBefore: loadBefore, loadavgAfter: loadavg(), isa: heed.backendInfo().isa, clock: 'process CPU (process.cpuUsage)' };
    writeFileSync(out, JSON.stringify({ meta, ...g }, null, 1) + '\n');
  }
} else if (cli) {
  const args = process.argv.slice(2);
  const rows = await run({ quick: cli.quick });
  for (const r of rows) console.log(`${r.workload.padEnd(22)} t${r.threads} ${r.impl.padEnd(42)} ${r.ms.toFixed(4).padStart(9)} ms  ${(r.gflops ?? 0).toFixed(1).padStart(7)} GFLOP/s  ${r.note ?? ''}`);
  if (cli.out !== undefined) {
    const meta = { date: new Date().toISOString(), command: `node --import tsx bench/int8.ts ${args.join(' ')}`, cpus: (await import('node:os')).cpus()[0]?.model, loadavg: (await import('node:os')).loadavg(), isa: heed.backendInfo() };
    writeFileSync(cli.out, JSON.stringify({ meta, rows }, null, 2) + '\n');
  }
}
