/**
 * fp32 GEMM A/B of two addon builds: `HEED_NATIVE_PATH=<heed.node> node --import tsx bench/gemm-ab.ts`
 * prints median ms of square n×n·n×n at n = 256, 512, 1024 on 1 and 2 threads (bench/gemm.ts's
 * timing). Run it for two builds in alternating processes: the full bench's 2-thread rows move by
 * ±30% between runs, and only an alternation separates a change from that.
 */
import { nk, nativeLoad, withThreads, timeMs, filled } from './native-util.js';

if (!nk || !nativeLoad) throw new Error('gemm-ab: the native addon did not load');
const out: string[] = [];
for (const threads of [1, 2]) {
  withThreads(threads, () => {
    for (const n of [256, 512, 1024]) {
      const a = filled(n * n, 1), b = filled(n * n, 2), c = new Float32Array(n * n);
      const ms = timeMs(() => nk!.sgemm!({ a, b, c, batch: 1, m: n, n, k: n, transA: false, transB: false, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 }), 300);
      out.push(`${n}³ ${threads}T ${ms.toFixed(3)} ms`);
    }
  });
}
console.log(`${process.env.HEED_NATIVE_PATH ?? 'build/Release/heed.node'}: ${out.join(', ')}`);
