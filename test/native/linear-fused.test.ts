/** Native linearFused (the GEMM epilogue: bias, ReLU, dropout, residual), reluDropoutBackward, geluDropout(+Backward) and layerNormBackward with residual gradients equal the reference kernels. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, ref, rng, randn, assertClose } from './helpers.js';

test('linearFused: native equals the reference on awkward shapes, every epilogue combination, 1 and 2 threads', async (t) => {
  const nk = native(t);
  if (!nk) return;
  const { setNumThreads, backendInfo } = await import('../../src/backend/registry.js');
  const before = backendInfo().threads;
  const r = rng(31);
  try {
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      // rows ≤ 32 take the unpacked (skinny) path, tiny ones the direct path, the rest the packed one
      for (const [rows, outF, inF] of [[1, 3, 5], [3, 17, 8], [17, 63, 64], [33, 129, 65], [127, 256, 64], [200, 1000, 17], [704, 256, 256]]) {
        const x = randn(rows * inF, r), w = randn(outF * inF, r, 0.2), b = randn(outF, r), res = randn(rows * outF, r);
        for (const activation of [0, 1]) for (const p of [0, 0.1, 0.5]) for (const residual of [null, res]) for (const bias of [null, b]) {
          const seed = Math.floor(r() * 2 ** 32);
          const yr = new Float32Array(rows * outF), yn = new Float32Array(rows * outF).fill(NaN);
          const args = { x, w, rows, outF, inF, bias, activation, p, seed, residual };
          ref.linearFused({ ...args, y: yr });
          nk.linearFused!({ ...args, y: yn });
          const what = `linearFused ${rows}×${outF}×${inF} act${activation} p${p}${residual ? ' +res' : ''}${bias ? ' +bias' : ''} ${threads}T`;
          assertClose(yn, yr, what, 1e-4, 1e-4);
          // the dropout mask is the dropout kernel's: the same elements are zero where it drops
          if (p > 0 && activation === 0 && residual === null) {
            const d = new Float32Array(rows * outF);
            ref.dropout({ x: new Float32Array(rows * outF).fill(1), out: d, p, seed });
            for (let i = 0; i < d.length; i++) if (d[i] === 0) assert.equal(yn[i], 0, `${what}: element ${i} should be dropped`);
          }
        }
      }
    }
  } finally {
    setNumThreads(before);
  }
});

test('reluDropoutBackward: native equals the reference, NaN and zeros give 0', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(32);
  for (const n of [1, 15, 16, 17, 1000, 70001]) {
    const y = randn(n, r), dy = randn(n, r);
    y[0] = 0;
    if (n > 2) y[1] = NaN;
    const zr = new Float32Array(n), zn = new Float32Array(n).fill(NaN);
    ref.reluDropoutBackward({ y, dy, dz: zr, scale: 1.25 });
    nk.reluDropoutBackward!({ y, dy, dz: zn, scale: 1.25 });
    assert.deepEqual(zn, zr, `reluDropoutBackward n${n}`);
    assert.equal(zn[0], 0);
  }
});

test('geluDropout and geluDropoutBackward: native equals the reference (the dropout kernel\'s mask), NaN and ±Infinity', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(33);
  for (const n of [1, 15, 16, 17, 1000, 70001]) for (const p of [0, 0.1, 0.5]) {
    const z = randn(n, r, 3), dy = randn(n, r);
    if (n > 10) { z[0] = NaN; z[1] = Infinity; z[2] = -Infinity; z[3] = 0; z[4] = 30; z[5] = -30; }
    const seed = Math.floor(r() * 2 ** 32);
    const yr = new Float32Array(n), yn = new Float32Array(n).fill(NaN);
    ref.geluDropout({ z, y: yr, p, seed });
    nk.geluDropout!({ z, y: yn, p, seed });
    assertClose(yn, yr, `geluDropout n${n} p${p}`, 1e-5, 1e-5);
    const dr = new Float32Array(n), dn = new Float32Array(n).fill(NaN);
    ref.geluDropoutBackward({ z, dy, dz: dr, p, seed });
    nk.geluDropoutBackward!({ z, dy, dz: dn, p, seed });
    assertClose(dn, dr, `geluDropoutBackward n${n} p${p}`, 1e-5, 1e-5);
    if (p > 0) {
      const kept = new Float32Array(n);
      ref.dropout({ x: new Float32Array(n).fill(1), out: kept, p, seed });
      for (let i = 0; i < n; i++) if (kept[i] === 0) assert.ok(yn[i] === 0 && dn[i] === 0, `n${n} p${p}: element ${i} should be dropped`);
    }
  }
});

test('layerNormBackward with residual gradients (dyAdd, dxAdd): native equals the reference, which equals the plain backward plus the adds', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(34);
  for (const cols of [1, 3, 17, 64, 256, 1000]) for (const rows of [1, 7, 65]) for (const [withDy, withDx] of [[true, false], [false, true], [true, true]]) {
    const n = rows * cols;
    const x = randn(n, r, 2), dy = randn(n, r), w = randn(cols, r), b = randn(cols, r);
    const dyAdd = withDy ? randn(n, r) : null, dxAdd = withDx ? randn(n, r) : null;
    const y = new Float32Array(n), mean = new Float32Array(rows), rstd = new Float32Array(rows);
    ref.layerNormForward({ x, weight: w, bias: b, y, mean, rstd, rows, cols, eps: 1e-5 });
    const out = () => ({ dx: new Float32Array(n).fill(NaN), dw: new Float32Array(cols).fill(NaN), db: new Float32Array(cols).fill(NaN) });
    const R = out(), N = out(), P = out();
    ref.layerNormBackward({ x, weight: w, mean, rstd, dy, dyAdd, dx: R.dx, dxAdd, dweight: R.dw, dbias: R.db, rows, cols });
    nk.layerNormBackward!({ x, weight: w, mean, rstd, dy, dyAdd, dx: N.dx, dxAdd, dweight: N.dw, dbias: N.db, rows, cols });
    const what = `layerNormBackward ${rows}×${cols}${withDy ? ' +dy' : ''}${withDx ? ' +dx' : ''}`;
    assertClose(N.dx, R.dx, `${what} dx`, 1e-4, 1e-3);
    assertClose(N.dw, R.dw, `${what} dw`, 1e-4, 1e-3);
    assertClose(N.db, R.db, `${what} db`, 1e-4, 1e-3);
    // the definition: the plain backward of (dy + dyAdd), then + dxAdd
    const dySum = dyAdd ? dy.map((v, i) => v + dyAdd[i]) : dy;
    ref.layerNormBackward({ x, weight: w, mean, rstd, dy: dySum, dyAdd: null, dx: P.dx, dxAdd: null, dweight: P.dw, dbias: P.db, rows, cols });
    if (dxAdd) for (let i = 0; i < n; i++) P.dx[i] += dxAdd[i];
    assertClose(R.dx, P.dx, `${what} dx against the definition`, 1e-5, 1e-5);
    assertClose(R.dw, P.dw, `${what} dw against the definition`, 1e-5, 1e-5);
  }
});

test('dropoutBackwardBias: native equals the reference (dz exactly, the bias sums to float64 rounding), 1 and 2 threads', async (t) => {
  const nk = native(t);
  if (!nk) return;
  const { setNumThreads, backendInfo } = await import('../../src/backend/registry.js');
  const before = backendInfo().threads;
  const r = rng(35);
  try {
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      for (const [rows, cols] of [[1, 1], [3, 17], [17, 15], [65, 16], [129, 63], [300, 1000], [704, 256], [768, 1024]]) {
        const n = rows * cols, dy = randn(n, r);
        const what = `${rows}×${cols} ${threads}T`;
        for (const p of [0.1, 0.5]) {
          const seed = Math.floor(r() * 2 ** 32);
          const zr = new Float32Array(n), br = new Float32Array(cols), zn = new Float32Array(n).fill(NaN), bn = new Float32Array(cols).fill(NaN);
          ref.dropoutBackwardBias({ dy, dz: zr, dbias: br, rows, cols, p, seed });
          nk.dropoutBackwardBias!({ dy, dz: zn, dbias: bn, rows, cols, p, seed });
          assert.deepEqual(zn, zr, `dropoutBackwardBias ${what} p${p} dz`);
          assertClose(bn, br, `dropoutBackwardBias ${what} p${p} dbias`, 1e-6, 1e-6);
          // the definition: the dropout kernel's output and reduceAxis's column sums
          const zd = new Float32Array(n), bd = new Float32Array(cols);
          nk.dropout!({ x: dy, out: zd, p, seed });
          nk.reduceAxis!({ op: 0, x: zd, out: bd, outer: 1, size: rows, inner: cols });
          assert.deepEqual(zn, zd, `dropoutBackwardBias ${what} p${p}: dz is the dropout kernel's`);
          assertClose(bn, bd, `dropoutBackwardBias ${what} p${p}: dbias is reduceAxis's`, 1e-6, 1e-6);
        }
      }
    }
  } finally {
    setNumThreads(before);
  }
});

test('dropoutBackwardBias and reduceAxis bias sums give identical bits at 1, 2 and 3 threads', async (t) => {
  const nk = native(t);
  if (!nk) return;
  const { setNumThreads, backendInfo } = await import('../../src/backend/registry.js');
  const before = backendInfo().threads;
  const r = rng(36);
  try {
    for (const [rows, cols] of [[768, 1024], [704, 256], [300, 1000], [5000, 17], [40000, 64]]) {
      const n = rows * cols, dy = randn(n, r);
      const outs: Float32Array[][] = [];
      for (const threads of [1, 2, 3]) {
        setNumThreads(threads);
        const a = new Float32Array(cols), c = new Float32Array(cols);
        nk.dropoutBackwardBias!({ dy, dz: new Float32Array(n), dbias: a, rows, cols, p: 0.1, seed: 7 });
        nk.reduceAxis!({ op: 0, x: dy, out: c, outer: 1, size: rows, inner: cols });
        outs.push([a, c]);
      }
      for (const i of [1, 2]) assert.deepEqual(outs[i], outs[0], `${rows}×${cols}: ${i + 1} threads vs 1`);
      const yr = new Float32Array(cols);
      ref.reduceAxis({ op: 0, x: dy, out: yr, outer: 1, size: rows, inner: cols });
      assertClose(outs[0][1], yr, `reduceAxis ${rows}×${cols} vs the reference`, 1e-6, 1e-6);
    }
  } finally {
    setNumThreads(before);
  }
});
