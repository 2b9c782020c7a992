/**
 * TensorFlow.js wasm peer (@tensorflow/tfjs-core + @tensorflow/tfjs-backend-wasm): GEMM as
 * tf.matMul, attention composed as matMul(q, k, transposeB) → mul(scale) → (add mask) →
 * softmax → matMul(·, v), and the three small dispatch ops.
 *
 * Threads: setThreadsCount only takes effect with the threaded-SIMD wasm build, which needs
 * Web Workers and cross-origin isolation; under Node the backend loads the single-threaded
 * SIMD build, so every row is 1 thread (the row says so when more were asked for).
 * Each call ends with dataSync() so the work is really done, and tidy() frees the tensors
 * (the tidy callback returns nothing: tidy walks a returned typed array element by element).
 */
import { wants, median, ATTN_LENGTHS, ATTN_SHAPE, GEMM_SIZES, attnFlops, attnWorkload, causalMask, gemmFlops, gemmWorkload, gflopsOf, randomFloats, timeIt,
  type BenchOptions, type BenchRow } from './common.ts';

export async function run(opts: BenchOptions = {}): Promise<BenchRow[]> {
  let tf: typeof import('@tensorflow/tfjs-core');
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
    tf = await import('@tensorflow/tfjs-core');
    wasm.setThreadsCount(Math.max(...(opts.threads ?? [1, 2])));
    await tf.setBackend('wasm');
    await tf.ready();
  } catch (e) {
    return [{ workload: 'gemm', impl: 'tfjs-wasm', threads: 0, ms: NaN, note: `skipped: ${(e as Error).message}` }];
  }
  const threads = wasm.getThreadsCount();
  const impl = `tfjs-wasm ${tf.version_core}`;
  const note = threads === 1 ? 'single-threaded wasm under Node' : undefined;
  const rows: BenchRow[] = [];

  for (const n of wants(opts, 'gemm') ? (opts.quick ? GEMM_SIZES.quick : GEMM_SIZES.full) : []) {
    const a = tf.tensor2d(randomFloats(n * n, 1), [n, n]), b = tf.tensor2d(randomFloats(n * n, 2), [n, n]);
    const ms = await timeIt(() => tf.tidy(() => { tf.matMul(a, b).dataSync(); }), { ...opts, budgetMs: opts.quick ? 300 : 1000 });
    rows.push({ workload: gemmWorkload(n), impl, threads, ms, gflops: gflopsOf(gemmFlops(n), ms), ...(note ? { note } : {}) });
    tf.dispose([a, b]);
  }

  const { B, H, d } = ATTN_SHAPE;
  // the composed graph is slow here (DESIGN: ~440 ms at L = 512), so the longest lengths are skipped
  for (const L of (wants(opts, 'attention') ? (opts.quick ? ATTN_LENGTHS.quick : ATTN_LENGTHS.full) : []).filter((l) => l <= 1024)) {
    const shape: [number, number, number, number] = [B, H, L, d];
    const n = B * H * L * d;
    const q = tf.tensor4d(randomFloats(n, 3), shape), k = tf.tensor4d(randomFloats(n, 4), shape), v = tf.tensor4d(randomFloats(n, 5), shape);
    for (const causal of [false, true]) {
      const mask = causal ? tf.tensor2d(causalMask(L), [L, L]) : null;
      const ms = await timeIt(() => tf.tidy(() => {
        let s = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d));
        if (mask) s = tf.add(s, mask);
        tf.matMul(tf.softmax(s), v).dataSync();
      }), { ...opts, budgetMs: opts.quick ? 300 : 1000 });
      rows.push({ workload: attnWorkload(L, causal), impl: `${impl} (composed ops)`, threads, ms, gflops: gflopsOf(attnFlops(L, causal), ms), ...(note ? { note } : {}) });
      if (mask) mask.dispose();
    }
    tf.dispose([q, k, v]);
  }

  // dispatch: per-op cost of tiny ops (no dataSync: that is what heed's eager ops cost too, minus the readback)
  const a64 = tf.tensor1d(randomFloats(64, 6)), b64 = tf.tensor1d(randomFloats(64, 7));
  const a8 = tf.tensor2d(randomFloats(64, 8), [8, 8]), b8 = tf.tensor2d(randomFloats(64, 9), [8, 8]);
  const small: [string, () => unknown][] = [
    ['dispatch add 64', () => tf.add(a64, b64).dispose()],
    ['dispatch matmul 8x8', () => tf.matMul(a8, b8).dispose()],
    ['dispatch softmax 64', () => tf.softmax(a64).dispose()],
  ];
  for (const [workload, fn] of wants(opts, 'dispatch') ? small : []) {
    const us = microsPerCall(fn, opts.quick ?? false);
    rows.push({ workload, impl, threads: 1, ms: us / 1000, note: `${us.toFixed(2)} µs/op` });
  }
  tf.dispose([a64, b64, a8, b8]);
  return rows;
}

function microsPerCall(fn: () => unknown, quick: boolean): number {
  const inner = 500, batches = quick ? 20 : 100;
  for (let i = 0; i < 10 * inner; i++) fn();
  const per: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) fn();
    per.push(((performance.now() - t0) * 1000) / inner);
  }
  return median(per);
}
