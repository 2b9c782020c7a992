/**
 * linearBackward (native/gemm.cpp): a Linear's input and weight gradients in one call, each product
 * whole on its own thread when the pool has two. The results must be the bits of two sgemm calls at
 * 1, 2 and 3 threads (how the work is placed never changes a result), match the TypeScript
 * reference, and the op-level gradients (linearGrads) must still pass the gradient check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, ref, rng, randn, assertClose } from './helpers.js';

const { setNumThreads, backendInfo } = await import('../../src/backend/registry.js');

// The training step's shapes (rows × inF × outF: the attention projections, the FFN's two Linears,
// the tied vocabulary projection) and edge shapes: one row, below the split threshold, odd sizes
// that leave short last panels (MR = 14, NR = 32), the skinny path's few rows.
const SHAPES: [number, number, number][] = [
  [768, 256, 256], [704, 256, 1024], [704, 1024, 256], [704, 256, 45],
  [1, 7, 5], [3, 16, 16], [17, 33, 29], [100, 45, 257], [31, 64, 3], [250, 130, 90],
];

test('linearBackward: the bits of two sgemm calls at 1, 2 and 3 threads, and the reference', (t) => {
  const nk = native(t);
  if (!nk) return;
  const before = backendInfo().threads;
  const r = rng(41);
  try {
    for (const [rows, inF, outF] of SHAPES) {
      const g = randn(rows * outF, r), x = randn(rows * inF, r), w = randn(outF * inF, r);
      const common = { batch: 1, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 } as const;
      const gxRef = new Float32Array(rows * inF), gwRef = new Float32Array(outF * inF);
      ref.linearBackward({ g, x, w, gx: gxRef, gw: gwRef, rows, inF, outF });
      for (const threads of [1, 2, 3]) {
        setNumThreads(threads);
        // NaN-filled outputs: every element must be written (beta = 0 never reads them)
        const gx = new Float32Array(rows * inF).fill(NaN), gw = new Float32Array(outF * inF).fill(NaN);
        nk.linearBackward!({ g, x, w, gx, gw, rows, inF, outF });
        const gx2 = new Float32Array(rows * inF), gw2 = new Float32Array(outF * inF);
        nk.sgemm!({ ...common, a: g, b: w, c: gx2, m: rows, n: inF, k: outF, transA: false, transB: false });
        nk.sgemm!({ ...common, a: g, b: x, c: gw2, m: outF, n: inF, k: rows, transA: true, transB: false });
        const at = `(${rows}, ${inF}, ${outF}) at ${threads} thread(s)`;
        assert.deepEqual(gx, gx2, `gx ${at}: not the bits of sgemm`);
        assert.deepEqual(gw, gw2, `gw ${at}: not the bits of sgemm`);
        assertClose(gx, gxRef, `gx ${at} vs reference`, 1e-4, 1e-4);
        assertClose(gw, gwRef, `gw ${at} vs reference`, 1e-4, 1e-4);
      }
    }
  } finally {
    setNumThreads(Math.max(1, before));
  }
});

// On two threads which thread computes what depends on timing (which claims a task first; with a split
// whose threads take each other's remaining units, which reaches them first): repeated calls must still
// give 1 thread's bits every time. The last shape's operands are over the 4 MB a shared pack is kept
// whole for (kMaxSharedFloats in native/gemm.cpp).
test('linearBackward: 2 threads give the bits of 1 thread, call after call, whoever takes which units', (t) => {
  const nk = native(t);
  if (!nk) return;
  const before = backendInfo().threads;
  const r = rng(43);
  try {
    for (const [rows, inF, outF, reps] of [[768, 256, 1024, 12], [704, 1024, 256, 12], [768, 256, 768, 12], [704, 256, 45, 24], [1100, 1100, 1000, 2]]) {
      const g = randn(rows * outF, r), x = randn(rows * inF, r), w = randn(outF * inF, r);
      setNumThreads(1);
      const gx1 = new Float32Array(rows * inF), gw1 = new Float32Array(outF * inF);
      nk.linearBackward!({ g, x, w, gx: gx1, gw: gw1, rows, inF, outF });
      setNumThreads(2);
      for (let i = 0; i < reps; i++) {
        const gx = new Float32Array(rows * inF).fill(NaN), gw = new Float32Array(outF * inF).fill(NaN);
        nk.linearBackward!({ g, x, w, gx, gw, rows, inF, outF });
        assert.deepEqual(gx, gx1, `gx (${rows}, ${inF}, ${outF}), call ${i} at 2 threads: not 1 thread's bits`);
        assert.deepEqual(gw, gw1, `gw (${rows}, ${inF}, ${outF}), call ${i} at 2 threads: not 1 thread's bits`);
      }
    }
  } finally {
    setNumThreads(Math.max(1, before));
  }
});

test('linearBackward: a wrong length is a typed error naming the argument, not a crash', (t) => {
  const nk = native(t);
  if (!nk) return;
  const rows = 8, inF = 4, outF = 3;
  const ok = { g: new Float32Array(rows * outF), x: new Float32Array(rows * inF), w: new Float32Array(outF * inF), gx: new Float32Array(rows * inF), gw: new Float32Array(outF * inF), rows, inF, outF };
  assert.throws(() => nk.linearBackward!({ ...ok, gw: new Float32Array(outF * inF - 1) }), /gw/);
  assert.throws(() => nk.linearBackward!({ ...ok, x: new Float32Array(rows * inF + 1) }), /x/);
});

// linearBackwardFused: linearBackward with the bias gradient summed off the dW product's packing. gx and
// gw must be the bits of linearBackward, gb one float64 row-order sum at every thread count (the same bits
// whether summed off the packing, in a pass of its own after a split product, or alone without gw).
test('linearBackwardFused: the bits of linearBackward, gb as the reference, the same bits at any thread count', (t) => {
  const nk = native(t);
  if (!nk) return;
  const before = backendInfo().threads;
  const r = rng(47);
  try {
    for (const [rows, inF, outF] of [...SHAPES, [2100, 64, 40] as [number, number, number], [40, 2100, 3000] as [number, number, number]]) {
      const g = randn(rows * outF, r), x = randn(rows * inF, r), w = randn(outF * inF, r);
      const gbRef = new Float32Array(outF);
      ref.linearBackwardFused({ g, x, w, gx: null, gw: null, gb: gbRef, rows, inF, outF, maskScale: 0 });
      let gb1: Float32Array | null = null;
      for (const threads of [1, 2, 3]) {
        setNumThreads(threads);
        const at = `(${rows}, ${inF}, ${outF}) at ${threads} thread(s)`;
        const gx0 = new Float32Array(rows * inF), gw0 = new Float32Array(outF * inF);
        nk.linearBackward!({ g, x, w, gx: gx0, gw: gw0, rows, inF, outF });
        for (const [withX, withW] of [[true, true], [true, false], [false, true], [false, false]]) {
          const gx = withX ? new Float32Array(rows * inF).fill(NaN) : null, gw = withW ? new Float32Array(outF * inF).fill(NaN) : null;
          const gb = new Float32Array(outF).fill(NaN);
          nk.linearBackwardFused!({ g, x, w, gx, gw, gb, rows, inF, outF, maskScale: 0 });
          const what = `${at}, gx ${withX}, gw ${withW}`;
          if (gx) assert.deepEqual(gx, gx0, `gx ${what}: not the bits of linearBackward`);
          if (gw) assert.deepEqual(gw, gw0, `gw ${what}: not the bits of linearBackward`);
          gb1 ??= gb;
          assert.deepEqual(gb, gb1, `gb ${what}: not the bits of the first call's`);
          assertClose(gb, gbRef, `gb ${what} vs reference`, 1e-5, 1e-5);
        }
      }
    }
  } finally {
    setNumThreads(Math.max(1, before));
  }
});

// maskScale > 0: gx goes through the relu-dropout that wrote x in the dx product's epilogue. It must be
// the bits of the unmasked gx followed by reluDropoutBackward (one multiply, so exact against the two
// passes), at 1, 2 and 3 threads, with and without gw and gb, and the reference's values. x has zeros
// (the relu's and the dropout's), negative zeros and a NaN (not > 0: gradient 0, as reluDropoutBackward).
test('linearBackwardFused with maskScale: the bits of linearBackward then reluDropoutBackward, at any thread count', (t) => {
  const nk = native(t);
  if (!nk) return;
  const before = backendInfo().threads;
  const r = rng(53);
  const scale = Math.fround(1 / 0.9);
  try {
    for (const [rows, inF, outF] of [...SHAPES, [768, 1024, 256] as [number, number, number], [300, 200, 700] as [number, number, number]]) {
      const g = randn(rows * outF, r), w = randn(outF * inF, r), x = randn(rows * inF, r);
      for (let i = 0; i < x.length; i++) if (x[i] < 0) x[i] = i % 3 === 0 ? -0 : 0;
      x[Math.floor(x.length / 2)] = NaN;
      const gxRef = new Float32Array(rows * inF);
      ref.linearBackwardFused({ g, x, w, gx: gxRef, gw: null, gb: null, rows, inF, outF, maskScale: scale });
      for (const threads of [1, 2, 3]) {
        setNumThreads(threads);
        const gx0 = new Float32Array(rows * inF), gw0 = new Float32Array(outF * inF), dz = new Float32Array(rows * inF);
        nk.linearBackward!({ g, x, w, gx: gx0, gw: gw0, rows, inF, outF });
        nk.reluDropoutBackward!({ y: x, dy: gx0, dz, scale });
        for (const [withW, withB] of [[true, true], [false, true], [true, false], [false, false]]) {
          const gx = new Float32Array(rows * inF).fill(NaN), gw = withW ? new Float32Array(outF * inF).fill(NaN) : null;
          const gb = withB ? new Float32Array(outF) : null;
          nk.linearBackwardFused!({ g, x, w, gx, gw, gb, rows, inF, outF, maskScale: scale });
          const what = `(${rows}, ${inF}, ${outF}) at ${threads} thread(s), gw ${withW}, gb ${withB}`;
          assert.deepEqual(gx, dz, `gx ${what}: not the bits of linearBackward then reluDropoutBackward`);
          if (gw) assert.deepEqual(gw, gw0, `gw ${what}: not the bits of linearBackward`);
          assertClose(gx, gxRef, `gx ${what} vs reference`, 1e-4, 1e-4);
        }
      }
    }
  } finally {
    setNumThreads(Math.max(1, before));
  }
});
