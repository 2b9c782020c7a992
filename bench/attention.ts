/**
 * Fused attention forward and backward, B=1 H=12 d=64, causal and not, over L.
 * GFLOP/s counts the two matmuls (4·L²·d per head forward; ×2.5 backward), halved
 * for causal. The last row reports the resident-memory growth of a forward at the
 * largest L, to show there is no L×L buffer.
 */
import { nk, nativeLoad, threadCounts, withThreads, timeMs, filled, skipped, type BenchRow } from './native-util.js';

export type { BenchRow };

export async function run(opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const kern = nk;
  if (!kern || !nativeLoad) return skipped('attention');
  const rows: BenchRow[] = [];
  const B = 1, H = 12;
  const lengths = opts.quick ? [128, 512, 2048] : [128, 512, 1024, 2048, 4096, 8192];
  for (const threads of threadCounts()) {
    withThreads(threads, () => {
      for (const D of opts.quick ? [64] : [64, 128]) for (const L of lengths) for (const causal of [false, true]) {
        if (D === 128 && L > 2048) continue;
        const n = B * H * L * D;
        const q = filled(n, 1), k = filled(n, 2), v = filled(n, 3), out = new Float32Array(n), lse = new Float32Array(B * H * L);
        const scale = 1 / Math.sqrt(D);
        const fwd = () => kern.attentionForward!({ q, k, v, out, lse, B, H, Hkv: H, Lq: L, Lk: L, kvStride: L, D, Dv: D, scale, causal, causalOffset: 0, keyLengths: null, mask: null, maskStrideB: 0, maskStrideH: 0, alibiSlopes: null, dropoutP: 0, dropoutSeed: 0 });
        const budget = L >= 4096 ? 1 : opts.quick ? 150 : 400;
        const flops = (4 * B * H * L * L * D) / (causal ? 2 : 1);
        const msF = timeMs(fwd, budget, L >= 4096 ? 3 : 50);
        const tag = `B${B} H${H} L${L} d${D}${causal ? ' causal' : ''}`;
        rows.push({ workload: `attention fwd ${tag}`, impl: 'heed-native fused', threads, ms: msF, gflops: flops / msF / 1e6 });
        if (L <= (opts.quick ? 2048 : 4096)) {
          const dO = filled(n, 4), dq = new Float32Array(n), dk = new Float32Array(n), dv = new Float32Array(n);
          const bwd = () => kern.attentionBackward!({ q, k, v, out, dOut: dO, lse, dq, dk, dv, B, H, Hkv: H, Lq: L, Lk: L, D, Dv: D, scale, causal, causalOffset: 0, keyLengths: null, mask: null, maskStrideB: 0, maskStrideH: 0, alibiSlopes: null, dropoutP: 0, dropoutSeed: 0 });
          const msB = timeMs(bwd, budget, L >= 4096 ? 3 : 50);
          rows.push({ workload: `attention bwd ${tag}`, impl: 'heed-native fused', threads, ms: msB, gflops: (2.5 * flops) / msB / 1e6,
            note: `bwd/fwd ${(msB / msF).toFixed(2)} (matmul FLOPs 2.5)` });
        }
      }
    });
  }
  // Memory: a forward at L = 8192 allocates O(L·d) workspace; an L×L score matrix would be 3 GB.
  const L = opts.quick ? 4096 : 8192, D = 64, n = B * H * L * D;
  const q = filled(n, 1), k = filled(n, 2), v = filled(n, 3), out = new Float32Array(n), lse = new Float32Array(B * H * L);
  const before = process.memoryUsage().rss;
  const ms = timeMs(() => kern.attentionForward!({ q, k, v, out, lse, B, H, Hkv: H, Lq: L, Lk: L, kvStride: L, D, Dv: D, scale: 0.125, causal: true, causalOffset: 0, keyLengths: null, mask: null, maskStrideB: 0, maskStrideH: 0, alibiSlopes: null, dropoutP: 0, dropoutSeed: 0 }), 1, 1);
  const grown = (process.memoryUsage().rss - before) / 2 ** 20;
  rows.push({ workload: `attention fwd memory B1 H12 L${L} d64 causal`, impl: 'heed-native fused', threads: nativeLoad.threads(), ms,
    note: `RSS grew ${grown.toFixed(1)} MiB during the call (inputs are ${((4 * n * 4) / 2 ** 20).toFixed(0)} MiB; an L×L buffer would be ${((H * L * L * 4) / 2 ** 30).toFixed(1)} GiB)` });
  return rows;
}
