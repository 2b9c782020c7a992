/**
 * fp32 GEMM (C = A·B, square n×n) at 1 and 2 threads, GFLOP/s and % of the
 * measured FMA peak; plus the int8 VNNI GEMM against fp32 at the same shape.
 */
import { nk, nativeLoad, threadCounts, withThreads, timeMs, filled, skipped, type BenchRow } from './native-util.js';
import { peakGflops } from './peak.js';

export type { BenchRow };

export async function run(opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const kern = nk;
  if (!kern || !nativeLoad) return skipped('sgemm');
  const rows: BenchRow[] = [];
  const sizes = opts.quick ? [256, 512, 1024] : [256, 512, 1024, 2048];
  for (const threads of threadCounts()) {
    withThreads(threads, () => {
      const peak = peakGflops(threads);
      for (const n of sizes) {
        const a = filled(n * n, 1), b = filled(n * n, 2), c = new Float32Array(n * n);
        const ms = timeMs(() => kern.sgemm!({ a, b, c, batch: 1, m: n, n, k: n, transA: false, transB: false, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 }), opts.quick ? 150 : 400);
        const gflops = (2 * n ** 3) / ms / 1e6;
        rows.push({ workload: `sgemm ${n}x${n}x${n}`, impl: 'heed-native', threads, ms, gflops, note: `${((100 * gflops) / peak).toFixed(0)}% of measured peak ${peak.toFixed(0)} GFLOP/s` });
      }
      for (const [m, n, k] of opts.quick ? [[512, 1024, 1024]] : [[512, 1024, 1024], [1024, 4096, 1024], [1, 4096, 4096]]) {
        const x = filled(m * k, 3), w = filled(n * k, 4), out = new Float32Array(m * n);
        const wq = new Int8Array(n * k), scales = new Float32Array(n);
        kern.quantizePerChannel!({ w, q: wq, scales, n, k });
        const msI8 = timeMs(() => kern.int8Gemm!({ x, wq, wScales: scales, out, m, n, k, bias: null }), opts.quick ? 150 : 400);
        const msF32 = timeMs(() => kern.sgemm!({ a: x, b: w, c: out, batch: 1, m, n, k, transA: false, transB: true, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 }), opts.quick ? 150 : 400);
        const flops = 2 * m * n * k;
        rows.push({ workload: `int8 gemm ${m}x${n}x${k}`, impl: 'heed-native', threads, ms: msI8, gflops: flops / msI8 / 1e6, note: `${(msF32 / msI8).toFixed(2)}x fp32 sgemm (${msF32.toFixed(2)} ms)` });
      }
    });
  }
  return rows;
}
