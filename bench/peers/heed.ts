/**
 * heed measured through its public API (matmul, scaledDotProductAttention under noGrad),
 * the same way the peers are measured. bench/index.ts runs it for the workloads whose
 * kernel-level modules (bench/gemm.ts, bench/attention.ts) are absent, so every peer row
 * has a heed row to compare with.
 */
import * as h from '../../src/index.ts';
import { wants, ATTN_LENGTHS, ATTN_SHAPE, GEMM_SIZES, attnFlops, attnWorkload, gemmFlops, gemmWorkload, gflopsOf, timeIt, type BenchOptions, type BenchRow } from './common.ts';

export async function run(opts: BenchOptions & { gemm?: boolean; attention?: boolean } = {}): Promise<BenchRow[]> {
  const info = h.backendInfo();
  if (info.backend !== 'native') return [{ workload: 'gemm', impl: 'heed', threads: 0, ms: NaN, note: `skipped: native backend not active (${info.nativeError ?? info.backend})` }];
  const impl = 'heed (ops API)';
  const rows: BenchRow[] = [];
  const g = new h.Generator(1);
  for (const threads of opts.threads ?? [1, 2]) {
    h.setNumThreads(threads);
    if (opts.gemm !== false && wants(opts, 'gemm')) {
      for (const n of opts.quick ? GEMM_SIZES.quick : GEMM_SIZES.full) {
        const a = h.randn([n, n], { generator: g }), b = h.randn([n, n], { generator: g });
        const ms = await timeIt(() => h.noGrad(() => h.matmul(a, b)), opts);
        rows.push({ workload: gemmWorkload(n), impl, threads, ms, gflops: gflopsOf(gemmFlops(n), ms) });
      }
    }
    if (opts.attention !== false && wants(opts, 'attention')) {
      const { B, H, d } = ATTN_SHAPE;
      for (const L of opts.quick ? ATTN_LENGTHS.quick : ATTN_LENGTHS.full) {
        const [q, k, v] = [0, 1, 2].map(() => h.randn([B, H, L, d], { generator: g }));
        for (const isCausal of [false, true]) {
          const ms = await timeIt(() => h.noGrad(() => h.scaledDotProductAttention(q, k, v, { isCausal })), opts);
          rows.push({ workload: attnWorkload(L, isCausal), impl: `${impl}, fused`, threads, ms, gflops: gflopsOf(attnFlops(L, isCausal), ms) });
        }
      }
    }
  }
  h.setNumThreads(Math.max(...(opts.threads ?? [1, 2])));
  return rows;
}
