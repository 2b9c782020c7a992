/** Native sgemm equals the reference on awkward shapes and every option. */
import { test } from 'node:test';
import { native, ref, rng, randn, assertClose } from './helpers.js';

function check(t: Parameters<typeof native>[0], batch: number, m: number, n: number, k: number,
  transA: boolean, transB: boolean, alpha: number, beta: number, withBias: boolean, act: number,
  broadcastA = false, broadcastB = false, seed = 1): void {
  const nk = native(t);
  if (!nk) return;
  const r = rng(seed);
  const sA = broadcastA ? 0 : m * k, sB = broadcastB ? 0 : k * n, sC = m * n;
  const a = randn(Math.max(1, broadcastA ? m * k : batch * m * k), r);
  const b = randn(Math.max(1, broadcastB ? k * n : batch * k * n), r);
  const c0 = randn(batch * m * n, r);
  const bias = withBias ? randn(n, r) : null;
  const cr = c0.slice(), cn = c0.slice();
  ref.sgemm({ a, b, c: cr, batch, m, n, k, transA, transB, alpha, beta, strideA: sA, strideB: sB, strideC: sC, bias, activation: act });
  nk.sgemm!({ a, b, c: cn, batch, m, n, k, transA, transB, alpha, beta, strideA: sA, strideB: sB, strideC: sC, bias, activation: act });
  const tol = 2e-6 * Math.sqrt(k + 1) * 4;
  assertClose(cn, cr, `sgemm b${batch} ${m}x${n}x${k} tA${transA} tB${transB} α${alpha} β${beta} bias${withBias} act${act}`, tol, 1e-4);
}

test('sgemm matches the reference on awkward sizes, all transposes', (t) => {
  const sizes = [1, 3, 17, 63, 65, 129];
  let seed = 1;
  for (const m of sizes) for (const n of [1, 17, 65, 129]) for (const k of [1, 3, 64, 129]) {
    for (const tA of [false, true]) for (const tB of [false, true]) check(t, 1, m, n, k, tA, tB, 1, 0, false, 0, false, false, seed++);
  }
});

test('sgemm large blocked path (several k and column blocks) matches', (t) => {
  check(t, 1, 300, 2100, 600, false, false, 1, 0, false, 0);
  check(t, 1, 257, 190, 513, true, true, 0.5, 0.25, true, 1);
  check(t, 1, 1000, 33, 70, false, true, 1, 1, true, 2);
});

test('sgemm alpha, beta, bias and activation epilogue', (t) => {
  for (const act of [0, 1, 2]) for (const beta of [0, 1, -0.5]) for (const bias of [false, true]) {
    check(t, 1, 37, 45, 29, false, false, 1.5, beta, bias, act);
    check(t, 1, 70, 70, 300, true, false, -0.5, beta, bias, act);
  }
});

test('sgemm strided batches, with broadcast (stride 0) operands', (t) => {
  check(t, 3, 17, 33, 9, false, false, 1, 0, true, 0);
  check(t, 4, 65, 63, 127, false, true, 1, 0, false, 0, true, false);
  check(t, 5, 64, 64, 64, true, false, 1, 0.5, false, 1, false, true);
  check(t, 2, 200, 150, 100, false, false, 1, 0, false, 0, false, false);
});

test('sgemm with beta = 0 never reads C (NaN in C does not leak), NaN in inputs propagates', (t) => {
  const nk = native(t);
  if (!nk) return;
  for (const [m, n, k] of [[3, 5, 7], [100, 100, 100]]) {
    const a = new Float32Array(m * k).fill(1), b = new Float32Array(k * n).fill(1);
    const c = new Float32Array(m * n).fill(NaN);
    nk.sgemm!({ a, b, c, batch: 1, m, n, k, transA: false, transB: false, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 });
    assertClose(c, new Float32Array(m * n).fill(k), 'beta=0 result');
    a[0] = NaN; b[k * n - 1] = Infinity;
    const cr = new Float32Array(m * n), cn = new Float32Array(m * n);
    ref.sgemm({ a, b, c: cr, batch: 1, m, n, k, transA: false, transB: false, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 });
    nk.sgemm!({ a, b, c: cn, batch: 1, m, n, k, transA: false, transB: false, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 });
    assertClose(cn, cr, 'NaN/Inf propagation');
  }
});

test('sgemm with k = 0 gives beta·C + bias', (t) => {
  check(t, 2, 5, 6, 0, false, false, 1, 0.5, true, 1);
});

test('sgemm x·Wᵀ with few rows (the unpacked skinny path, M ≤ 16) matches, with every epilogue', (t) => {
  let seed = 500;
  for (let m = 1; m <= 17; m++) for (const [n, k] of [[1, 1], [7, 15], [33, 17], [64, 256], [130, 47]]) {
    check(t, 1, m, n, k, false, true, 1, 0, true, 0, false, false, seed++);
  }
  for (const act of [1, 2]) check(t, 1, 5, 70, 33, false, true, -0.5, 0.5, true, act);
  check(t, 3, 2, 1100, 300, false, true, 1, 0, true, 0, true, false); // batched, broadcast weights, split over threads
  check(t, 1, 16, 1024, 1024, false, true, 1, 1, false, 0);
});
