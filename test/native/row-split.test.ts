/**
 * The memory-bound kernels of the training step split their rows by native/row_split.h's rule
 * (task count by size alone, even, rows dealt evenly, flat splits on the output's cache lines). So
 * their results, partial sums included, have the same bits on 1, 2 and 3 threads, and equal the
 * reference. Shapes are the G2P step's (704 and 768 rows, d 256, FF 1024, 45 classes) and awkward
 * ones large enough to make several tasks, with outputs that start off a cache line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, ref, rng, randn, assertClose } from './helpers.js';

const { setNumThreads, backendInfo } = await import('../../src/backend/registry.js');

/** fn's outputs at 1, 2 and 3 pool threads (restoring the pool size). */
function atThreadCounts<T>(fn: () => T): T[] {
  const before = backendInfo().threads;
  try {
    return [1, 2, 3].map((t) => { setNumThreads(t); return fn(); });
  } finally {
    setNumThreads(Math.max(1, before));
  }
}

/** A Float32Array view of n floats starting `offset` floats into its buffer (off a 64-byte line when offset % 16 ≠ 0). */
function offsetArray(n: number, offset: number, fill = NaN): Float32Array {
  return new Float32Array(new ArrayBuffer((n + offset) * 4), offset * 4, n).fill(fill);
}

test('layerNormForward/Backward and rmsNorm split across threads: identical bits at 1, 2 and 3 threads (weight and bias sums included), equal to the reference', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(61);
  for (const [rows, cols] of [[704, 256], [768, 256], [300, 1000], [4099, 17], [129, 1025], [65, 64], [130, 128], [67, 192]]) {
    const n = rows * cols;
    const x = randn(n, r, 2), dy = randn(n, r), dxAdd = randn(n, r), w = randn(cols, r), b = randn(cols, r);
    const what = `${rows}×${cols}`;
    const fwd = atThreadCounts(() => {
      const o = { y: offsetArray(n, 3), mean: new Float32Array(rows), rstd: new Float32Array(rows) };
      nk.layerNormForward!({ x, weight: w, bias: b, y: o.y, mean: o.mean, rstd: o.rstd, rows, cols, eps: 1e-5 });
      return o;
    });
    for (const i of [1, 2]) assert.deepEqual(fwd[i], fwd[0], `layerNormForward ${what}: ${i + 1} threads vs 1`);
    const R = { y: new Float32Array(n), mean: new Float32Array(rows), rstd: new Float32Array(rows) };
    ref.layerNormForward({ x, weight: w, bias: b, y: R.y, mean: R.mean, rstd: R.rstd, rows, cols, eps: 1e-5 });
    assertClose(fwd[0].y, R.y, `layerNormForward ${what} y`, 1e-4, 1e-4);
    const { mean, rstd } = R;
    const bwd = atThreadCounts(() => {
      const o = { dx: offsetArray(n, 5), dw: new Float32Array(cols).fill(NaN), db: new Float32Array(cols).fill(NaN) };
      nk.layerNormBackward!({ x, weight: w, mean, rstd, dy, dyAdd: null, dx: o.dx, dxAdd, dweight: o.dw, dbias: o.db, rows, cols });
      return o;
    });
    for (const i of [1, 2]) assert.deepEqual(bwd[i], bwd[0], `layerNormBackward ${what}: ${i + 1} threads vs 1`);
    const B = { dx: new Float32Array(n), dw: new Float32Array(cols), db: new Float32Array(cols) };
    ref.layerNormBackward({ x, weight: w, mean, rstd, dy, dyAdd: null, dx: B.dx, dxAdd, dweight: B.dw, dbias: B.db, rows, cols });
    assertClose(bwd[0].dx, B.dx, `layerNormBackward ${what} dx`, 1e-4, 1e-3);
    assertClose(bwd[0].dw, B.dw, `layerNormBackward ${what} dw`, 1e-3, 1e-3);
    assertClose(bwd[0].db, B.db, `layerNormBackward ${what} db`, 1e-3, 1e-3);
    const rms = atThreadCounts(() => {
      const o = { y: new Float32Array(n), rstd: new Float32Array(rows), dx: new Float32Array(n), dw: new Float32Array(cols).fill(NaN) };
      nk.rmsNormForward!({ x, weight: w, y: o.y, rstd: o.rstd, rows, cols, eps: 1e-6 });
      nk.rmsNormBackward!({ x, weight: w, rstd: o.rstd, dy, dx: o.dx, dweight: o.dw, rows, cols });
      return o;
    });
    for (const i of [1, 2]) assert.deepEqual(rms[i], rms[0], `rmsNorm ${what}: ${i + 1} threads vs 1`);
    const dwR = new Float32Array(cols), dxR = new Float32Array(n);
    ref.rmsNormBackward({ x, weight: w, rstd: rms[0].rstd, dy, dx: dxR, dweight: dwR, rows, cols });
    assertClose(rms[0].dx, dxR, `rmsNormBackward ${what} dx`, 1e-4, 1e-3);
    assertClose(rms[0].dw, dwR, `rmsNormBackward ${what} dw`, 1e-3, 1e-3);
  }
});

test('flat elementwise splits (task boundaries on the output\'s cache lines) cover every element once on misaligned outputs: binarySame, unary, reluDropoutBackward', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(62);
  for (const n of [65_536, 65_537, 180_224, 786_431]) {
    for (const offset of [0, 1, 7, 15]) {
      const a = randn(n, r), b = randn(n, r);
      const outs = atThreadCounts(() => {
        const sum = offsetArray(n, offset), relu = offsetArray(n, offset), dz = offsetArray(n, offset);
        nk.binarySame!({ op: 0, a, b, out: sum, n });
        nk.unary!({ op: 6, x: a, out: relu, n });
        nk.reluDropoutBackward!({ y: relu, dy: b, dz, scale: 1.25 });
        return [sum, relu, dz];
      });
      for (const i of [1, 2]) assert.deepEqual(outs[i], outs[0], `n ${n} offset ${offset}: ${i + 1} threads vs 1`);
      const [sum, relu, dz] = outs[1];
      const sumR = new Float32Array(n), reluR = new Float32Array(n), dzR = new Float32Array(n);
      ref.binarySame({ op: 0, a, b, out: sumR, n });
      ref.unary({ op: 6, x: a, out: reluR, n });
      ref.reluDropoutBackward({ y: reluR, dy: b, dz: dzR, scale: 1.25 });
      assert.deepEqual(sum, sumR, `binarySame n ${n} offset ${offset}`);
      assert.deepEqual(relu, reluR, `unary relu n ${n} offset ${offset}`);
      assert.deepEqual(dz, dzR, `reluDropoutBackward n ${n} offset ${offset}`);
    }
  }
});

test('cross-entropy, softmax, embedding and broadcast rows split across threads: identical bits at 1, 2 and 3 threads, equal to the reference', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(63);
  for (const [rows, classes] of [[704, 45], [5000, 45], [2049, 129]]) {
    const logits = randn(rows * classes, r, 3);
    const targets = new Int32Array(rows).map((_, i) => (i * 7) % classes);
    targets[3] = 0; // the ignored (pad) class
    const dLoss = new Float32Array(rows).fill(1 / rows);
    const outs = atThreadCounts(() => {
      const losses = new Float32Array(rows), lse = new Float32Array(rows), dLogits = offsetArray(rows * classes, 9);
      nk.crossEntropyForward!({ logits, targets, losses, lse, rows, classes, ignoreIndex: 0, labelSmoothing: 0.1 });
      nk.crossEntropyBackward!({ logits, targets, lse, dLoss, dLogits, rows, classes, ignoreIndex: 0, labelSmoothing: 0.1 });
      const sm = new Float32Array(rows * classes);
      nk.softmaxForward!({ x: logits, y: sm, outer: rows, size: classes, inner: 1, log: false });
      return [losses, lse, dLogits, sm];
    });
    for (const i of [1, 2]) assert.deepEqual(outs[i], outs[0], `crossEntropy/softmax ${rows}×${classes}: ${i + 1} threads vs 1`);
    const losses = new Float32Array(rows), lse = new Float32Array(rows), dLogits = new Float32Array(rows * classes);
    ref.crossEntropyForward({ logits, targets, losses, lse, rows, classes, ignoreIndex: 0, labelSmoothing: 0.1 });
    ref.crossEntropyBackward({ logits, targets, lse, dLoss, dLogits, rows, classes, ignoreIndex: 0, labelSmoothing: 0.1 });
    assertClose(outs[0][0], losses, `crossEntropyForward ${rows}×${classes} losses`, 1e-5, 1e-5);
    assertClose(outs[0][2], dLogits, `crossEntropyBackward ${rows}×${classes} dLogits`, 1e-6, 1e-4);
  }
  const dim = 256, vocab = 45, count = 768;
  const weight = randn(vocab * dim, r);
  const indices = new Int32Array(count).map((_, i) => (i * 13) % vocab);
  const emb = atThreadCounts(() => { const o = offsetArray(count * dim, 2); nk.embeddingForward!({ weight, indices, out: o, count, dim }); return o; });
  for (const i of [1, 2]) assert.deepEqual(emb[i], emb[0], `embeddingForward: ${i + 1} threads vs 1`);
  const embR = new Float32Array(count * dim);
  ref.embeddingForward({ weight, indices, out: embR, count, dim });
  assert.deepEqual(emb[0], embR, 'embeddingForward vs the reference');
  // (B, T, D) + (T, D): the positional add of the step's embedding path
  const B = 64, T = 12, D = 256;
  const a = randn(B * T * D, r), pos = randn(T * D, r);
  const bc = atThreadCounts(() => {
    const o = offsetArray(B * T * D, 1);
    nk.binaryBroadcast!({ op: 0, a, aStrides: [T * D, D, 1], b: pos, bStrides: [0, D, 1], out: o, outShape: [B, T, D], nd: 3 });
    return o;
  });
  for (const i of [1, 2]) assert.deepEqual(bc[i], bc[0], `binaryBroadcast: ${i + 1} threads vs 1`);
  for (let i = 0; i < B * T * D; i += 997) assert.equal(bc[0][i], Math.fround(a[i] + pos[i % (T * D)]), `binaryBroadcast element ${i}`);
});
