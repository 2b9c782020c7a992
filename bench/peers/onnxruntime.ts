/**
 * onnxruntime-node peer: GEMM as a one-node MatMul graph, and attention as the unfused
 * graph MatMul(q, kᵀ) → Mul(scale) → (Add causal mask) → Softmax → MatMul(·, v), both
 * built in code (./onnx-proto.ts). Sessions use intraOpNumThreads 1 and 2, sequential
 * execution, all graph optimizations. Timing includes session.run's async hop (~10 µs).
 */
import { buildModel, type NodeSpec } from './onnx-proto.ts';
import {
  wants, ATTN_LENGTHS, ATTN_SHAPE, GEMM_SIZES, attnFlops, attnWorkload, causalMask, gemmFlops, gemmWorkload, gflopsOf, randomFloats, timeIt,
  type BenchOptions, type BenchRow,
} from './common.ts';

type Ort = typeof import('onnxruntime-node');

/** A session on `threads` intra-op threads, sequential, all graph optimizations (every ORT row uses these). */
export async function session(ort: Ort, model: Uint8Array, threads: number) {
  return ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
}

export function gemmModel(n: number): Uint8Array {
  return buildModel({
    name: 'gemm', nodes: [{ op: 'MatMul', inputs: ['A', 'B'], outputs: ['C'] }],
    inputs: [{ name: 'A', shape: [n, n] }, { name: 'B', shape: [n, n] }], outputs: [{ name: 'C', shape: [n, n] }],
  });
}

/** The unfused attention graph over (B, H, L, d) inputs; B, H, d default to the `attention` family's shape. */
export function attentionModel(L: number, causal: boolean, { B, H, d } = ATTN_SHAPE): Uint8Array {
  const shape = [B, H, L, d];
  const nodes: NodeSpec[] = [
    { op: 'Transpose', inputs: ['k'], outputs: ['kt'], attrs: [{ name: 'perm', ints: [0, 1, 3, 2] }] },
    { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['s'] },
    { op: 'Mul', inputs: ['s', 'scale'], outputs: ['ss'] },
    ...(causal ? [{ op: 'Add', inputs: ['ss', 'mask'], outputs: ['sm'] }] : []),
    { op: 'Softmax', inputs: [causal ? 'sm' : 'ss'], outputs: ['p'], attrs: [{ name: 'axis', i: 3 }] },
    { op: 'MatMul', inputs: ['p', 'v'], outputs: ['out'] },
  ];
  return buildModel({
    name: 'attention', nodes,
    inputs: ['q', 'k', 'v'].map((name) => ({ name, shape })), outputs: [{ name: 'out', shape }],
    initializers: [
      { name: 'scale', shape: [], data: new Float32Array([1 / Math.sqrt(d)]) },
      ...(causal ? [{ name: 'mask', shape: [L, L], data: causalMask(L) }] : []),
    ],
  });
}

export async function run(opts: BenchOptions = {}): Promise<BenchRow[]> {
  let ort: Ort;
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    return [{ workload: 'gemm', impl: 'onnxruntime-node', threads: 0, ms: NaN, note: `skipped: ${(e as Error).message}` }];
  }
  const impl = `onnxruntime-node ${ort.env.versions?.node ?? ''}`.trim();
  const threads = opts.threads ?? [1, 2];
  const rows: BenchRow[] = [];
  for (const n of wants(opts, 'gemm') ? (opts.quick ? GEMM_SIZES.quick : GEMM_SIZES.full) : []) {
    const feeds = { A: new ort.Tensor('float32', randomFloats(n * n, 1), [n, n]), B: new ort.Tensor('float32', randomFloats(n * n, 2), [n, n]) };
    for (const t of threads) {
      const s = await session(ort, gemmModel(n), t);
      const ms = await timeIt(() => s.run(feeds), opts);
      rows.push({ workload: gemmWorkload(n), impl, threads: t, ms, gflops: gflopsOf(gemmFlops(n), ms) });
      await s.release();
    }
  }
  const { B, H, d } = ATTN_SHAPE;
  for (const L of wants(opts, 'attention') ? (opts.quick ? ATTN_LENGTHS.quick : ATTN_LENGTHS.full) : []) {
    const dims = [B, H, L, d], n = B * H * L * d;
    const feeds = { q: new ort.Tensor('float32', randomFloats(n, 3), dims), k: new ort.Tensor('float32', randomFloats(n, 4), dims), v: new ort.Tensor('float32', randomFloats(n, 5), dims) };
    for (const causal of [false, true]) {
      for (const t of threads) {
        const s = await session(ort, attentionModel(L, causal), t);
        const ms = await timeIt(() => s.run(feeds), opts);
        rows.push({ workload: attnWorkload(L, causal), impl: `${impl} (unfused graph)`, threads: t, ms, gflops: gflopsOf(attnFlops(L, causal), ms) });
        await s.release();
      }
    }
  }
  return rows;
}
