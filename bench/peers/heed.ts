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

/**
 * Attention backward through the composed ops (matmul → softmax → matmul, the reference
 * path), for DESIGN's "fused backward ≥ 3× the composed ops on the same backend". Times
 * out.backward(dOut) alone, on a graph recorded once (backward can be replayed: it only
 * accumulates into the leaves' .grad).
 */
export async function runComposedAttentionBackward(opts: BenchOptions = {}): Promise<BenchRow[]> {
  const info = h.backendInfo();
  if (info.backend !== 'native' || !wants(opts, 'attention')) return [];
  const rows: BenchRow[] = [];
  const g = new h.Generator(2);
  const { B, H, d } = ATTN_SHAPE;
  for (const threads of opts.threads ?? [1, 2]) {
    h.setNumThreads(threads);
    for (const L of opts.quick ? [128, 512] : [128, 512, 1024]) {
      for (const isCausal of [false, true]) {
        const [q, k, v] = [0, 1, 2].map(() => h.randn([B, H, L, d], { generator: g, requiresGrad: true }));
        const out = h.scaledDotProductAttentionReference(q, k, v, { isCausal });
        const dOut = h.randn([B, H, L, d], { generator: g });
        const ms = await timeIt(() => out.backward(dOut), opts);
        rows.push({ workload: `attention bwd B${B} H${H} L${L} d${d}${isCausal ? ' causal' : ''}`, impl: 'heed composed ops', threads, ms,
          gflops: gflopsOf(2.5 * attnFlops(L, isCausal), ms), note: 'reference path: matmul/softmax ops, L×L buffers' });
      }
    }
  }
  h.setNumThreads(Math.max(...(opts.threads ?? [1, 2])));
  return rows;
}
