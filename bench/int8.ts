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
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nk, nativeLoad, threadCounts, withThreads, filled, skipped, type BenchRow } from './native-util.js';
import * as heed from '../src/index.js';
import { k } from '../src/backend/registry.js';
import { packedLength } from '../src/backend/js/int8.js';

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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const rows = await run({ quick: args.includes('--quick') });
  for (const r of rows) console.log(`${r.workload.padEnd(22)} t${r.threads} ${r.impl.padEnd(42)} ${r.ms.toFixed(4).padStart(9)} ms  ${(r.gflops ?? 0).toFixed(1).padStart(7)} GFLOP/s  ${r.note ?? ''}`);
  if (outAt >= 0) {
    const meta = { date: new Date().toISOString(), command: `node --import tsx bench/int8.ts ${args.join(' ')}`, cpus: (await import('node:os')).cpus()[0]?.model, loadavg: (await import('node:os')).loadavg(), isa: heed.backendInfo() };
    writeFileSync(args[outAt + 1], JSON.stringify({ meta, rows }, null, 2) + '\n');
  }
}
