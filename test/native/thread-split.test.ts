/**
 * Kernels whose work is split across the pool give the same bits on 1, 2 and 3 threads, and
 * match the reference: how a job is cut into tasks must never change a result. Shapes are the
 * training step's (bias gradients of a 704-token batch, d 256 and FF 1024) and awkward ones.
 * Also the pool's profiling counters (threadpool.h PoolProfile), which the thread-scaling bench reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, ref, rng, randn, assertClose } from './helpers.js';

const { setNumThreads, backendInfo } = await import('../../src/backend/registry.js');

/** Runs fn at 1, 2 and 3 pool threads (restoring the pool size) and returns the three outputs. */
function atThreadCounts(fn: () => Float32Array): Float32Array[] {
  const before = backendInfo().threads;
  try {
    return [1, 2, 3].map((t) => { setNumThreads(t); return fn(); });
  } finally {
    setNumThreads(Math.max(1, before));
  }
}

test('reduceAxis: bias-gradient sums split across threads give identical bits at 1, 2 and 3 threads', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(31);
  for (const [outer, size, inner] of [[1, 704, 256], [1, 768, 1024], [1, 704, 45], [2, 300, 64], [1, 5000, 17], [3, 129, 100]]) {
    const x = randn(outer * size * inner, r, 2);
    for (const op of [0, 1, 2]) {
      const outs = atThreadCounts(() => {
        const y = new Float32Array(outer * inner).fill(NaN);
        nk.reduceAxis!({ op, x, out: y, outer, size, inner });
        return y;
      });
      assert.deepEqual(outs[1], outs[0], `reduceAxis op${op} (${outer}, ${size}, ${inner}): 2 threads vs 1`);
      assert.deepEqual(outs[2], outs[0], `reduceAxis op${op} (${outer}, ${size}, ${inner}): 3 threads vs 1`);
      const yr = new Float32Array(outer * inner);
      ref.reduceAxis({ op, x, out: yr, outer, size, inner });
      assertClose(outs[0], yr, `reduceAxis op${op} (${outer}, ${size}, ${inner}) vs reference`, 1e-5, 1e-5);
    }
  }
});

test('the pool profile counts jobs, tasks and their CPU time, and a two-thread makespan no longer than the tasks', async (t) => {
  const nk = native(t);
  if (!nk) return;
  const { loadNative, POOL_PROFILE_FIELDS } = await import('../../src/backend/native/load.js');
  const addon = loadNative();
  assert.ok(addon.ok);
  const before = backendInfo().threads;
  const a = new Float64Array(8), b = new Float64Array(8);
  const at = (s: Float64Array, f: (typeof POOL_PROFILE_FIELDS)[number]) => s[POOL_PROFILE_FIELDS.indexOf(f)];
  try {
    setNumThreads(2);
    const m = 256, n = 256, k = 256;
    const x = randn(m * k, rng(5)), w = randn(k * n, rng(6)), c = new Float32Array(m * n);
    addon.poolProfile(true, a);
    for (let i = 0; i < 3; i++) nk.sgemm!({ a: x, b: w, c, batch: 1, m, n, k, transA: false, transB: false, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 });
    addon.poolProfile(false, b);
    const d = (f: (typeof POOL_PROFILE_FIELDS)[number]) => at(b, f) - at(a, f);
    assert.equal(d('jobs'), 3, 'one pool job per 256³ sgemm at 2 threads');
    assert.ok(d('tasks') >= 6, `tasks ${d('tasks')}`);
    assert.ok(d('taskCpuNs') > 0 && d('makespanNs') > 0);
    assert.ok(d('makespanNs') <= d('taskCpuNs') + 1, 'the schedule is never longer than running every task in a row');
    assert.ok(d('makespanNs') >= d('taskCpuNs') / 2 - 1, 'nor shorter than perfect sharing by two threads');
    assert.ok(d('workerTaskCpuNs') <= d('taskCpuNs'));
    assert.ok(at(b, 'threadCpuNs') > at(a, 'threadCpuNs'));
    nk.sgemm!({ a: x, b: w, c, batch: 1, m, n, k, transA: false, transB: false, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 });
    const after = new Float64Array(8);
    addon.poolProfile(null, after);
    assert.equal(at(after, 'jobs'), at(b, 'jobs'), 'profiling off: counters stay');
    assert.throws(() => addon.poolProfile(null, new Float64Array(3)), /Float64Array of at least 8/);
  } finally {
    setNumThreads(Math.max(1, before));
  }
});

test('sgemm split into slabs with one shared pack of the common operand: identical bits at 1, 2 and 3 threads, and the reference', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(41);
  // [m, n, k, transA, transB, beta, bias+act]: column slabs share A (n ≥ m: the dW products TN,
  // several k blocks, a last row panel of 4 rows), row slabs share B (m > n: the projections NN/NT,
  // TT); odd sizes leave partial chunks and panels. Every slab of these stays on the packed path,
  // where an element's arithmetic does not depend on the slab it falls in.
  const shapes: [number, number, number, boolean, boolean, number, boolean][] = [
    [256, 256, 768, true, false, 0, false], [256, 256, 704, true, false, 0, false], [45, 256, 704, true, false, 0, false],
    [768, 256, 256, false, true, 0, false], [704, 256, 256, false, false, 0, false], [1024, 256, 768, true, false, 0, false],
    [257, 390, 513, true, true, 0.5, true], [300, 129, 600, false, false, 1, true], [131, 200, 300, false, true, 0, false],
    [700, 97, 257, true, false, -1, true], [100, 2100, 70, true, true, 0, false],
    [200, 300, 5000, true, false, 0, false], // A packed whole would pass kMaxSharedFloats: each slab packs its own
    // inside the shared pack's 2–4 MB window (kMinSharedFloats < packed operand ≤ kMaxSharedFloats): column slabs share A, row slabs share B
    [300, 400, 1800, true, false, 0, false], [400, 300, 1800, false, true, 0.5, true],
    // row slabs of x·Wᵀ just above kSkinnyRows rows: slabs of ≤ 32 rows would take the unpacked skinny
    // path (another summation order) where the whole matrix runs packed, so it is not split
    [50, 8, 3000, false, true, 0, false], [70, 40, 800, false, true, 0, false],
  ];
  for (const [m, n, k, transA, transB, beta, epi] of shapes) {
    const a = randn(m * k, r), b = randn(k * n, r), c0 = randn(m * n, r), bias = epi ? randn(n, r) : null;
    const args = { a, b, batch: 1, m, n, k, transA, transB, alpha: 1, beta, strideA: 0, strideB: 0, strideC: 0, bias, activation: epi ? 1 : 0 };
    const outs = atThreadCounts(() => {
      const c = c0.slice();
      nk.sgemm!({ ...args, c });
      return c;
    });
    const name = `sgemm ${m}×${n}×${k} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`;
    assert.deepEqual(outs[1], outs[0], `${name}: 2 threads vs 1`);
    assert.deepEqual(outs[2], outs[0], `${name}: 3 threads vs 1`);
    const cr = c0.slice();
    ref.sgemm({ ...args, c: cr });
    assertClose(outs[1], cr, `${name} vs reference`, 2e-6 * Math.sqrt(k + 1) * 4, 1e-4);
  }
});

test('sgemm calls of different shapes back to back on 2 threads reuse the shared-pack buffers correctly', (t) => {
  const nk = native(t);
  if (!nk) return;
  // each call resets the chunk states and may grow the caller's buffers; a smaller call after a larger one
  // must not see the larger one's packed panels as its own
  const before = backendInfo().threads;
  try {
    setNumThreads(2);
    const r = rng(43);
    for (const [m, n, k] of [[256, 256, 768], [300, 400, 1800], [64, 512, 100], [600, 64, 300], [300, 400, 1800], [256, 256, 768]]) {
      const a = randn(m * k, r), b = randn(k * n, r);
      const c = new Float32Array(m * n), cr = new Float32Array(m * n);
      const args = { a, b, batch: 1, m, n, k, transA: true, transB: false, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 };
      nk.sgemm!({ ...args, c });
      ref.sgemm({ ...args, c: cr });
      assertClose(c, cr, `sgemm ${m}×${n}×${k} TN after other shapes`, 2e-6 * Math.sqrt(k + 1) * 4, 1e-4);
    }
  } finally {
    setNumThreads(Math.max(1, before));
  }
});

/** call(out) on 1 thread, then `times` calls on 2 threads into NaN-filled outputs: each must give 1 thread's bits. */
function sameBitsOn2Threads(len: number, call: (out: Float32Array) => void, name: string, times = 10) {
  setNumThreads(1);
  const one = new Float32Array(len);
  call(one);
  setNumThreads(2);
  for (let i = 0; i < times; i++) {
    const out = new Float32Array(len).fill(NaN);
    call(out);
    assert.deepEqual(out, one, `${name}, call ${i} at 2 threads: not 1 thread's bits`);
  }
}

test('sgemm and linearFused on 2 threads: 1 thread\'s bits call after call, epilogues included', (t) => {
  const nk = native(t);
  if (!nk) return;
  // on 2 threads one matrix's slabs (or, with units claimed dynamically, its units) go to whichever thread
  // claims them first: the bits must not depend on it, nor the dropout mask (hashed on the element's index
  // in the whole output)
  const before = backendInfo().threads;
  const r = rng(47);
  try {
    for (const [m, n, k, transA, transB] of [[768, 768, 256, false, true], [704, 45, 256, false, true], [300, 129, 600, false, false], [45, 256, 704, true, false]] as const) {
      const a = randn(m * k, r), b = randn(k * n, r), bias = randn(n, r);
      const args = { a, b, batch: 1, m, n, k, transA, transB, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias, activation: 1 };
      sameBitsOn2Threads(m * n, (c) => nk.sgemm!({ ...args, c }), `sgemm ${m}×${n}×${k}`);
    }
    for (const [rows, outF, inF] of [[704, 256, 256], [768, 1024, 256], [704, 256, 1024], [70, 40, 800], [33, 300, 65]]) {
      const x = randn(rows * inF, r), w = randn(outF * inF, r, 0.2), bias = randn(outF, r), residual = randn(rows * outF, r);
      const args = { x, w, rows, outF, inF, bias, activation: 1, p: 0.1, seed: 1234567, residual };
      sameBitsOn2Threads(rows * outF, (y) => nk.linearFused!({ ...args, y }), `linearFused ${rows}×${outF}×${inF}`);
    }
  } finally {
    setNumThreads(Math.max(1, before));
  }
});
