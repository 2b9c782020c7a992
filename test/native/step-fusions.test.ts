/** The training step's fused kernels against their references: embedPositionsForward / embedPositionsBackward (bit for bit) and layerNormBackwardDropout, with and without their optional parts, at 1 and 2 threads. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, ref, rng, randn, assertClose } from './helpers.js';

test('embedPositions kernels: native equals the reference on awkward shapes, 1 and 2 threads', async (t) => {
  const nk = native(t);
  if (!nk) return;
  const { setNumThreads, backendInfo } = await import('../../src/backend/registry.js');
  const before = backendInfo().threads;
  const r = rng(41);
  try {
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      for (const [V, dim, B, T] of [[3, 1, 1, 1], [7, 17, 2, 3], [30, 64, 4, 9], [45, 256, 64, 12], [31, 33, 80, 27]]) {
        const count = B * T, maxLen = T + 5;
        const weight = randn(V * dim, r), positions = randn(maxLen * dim, r), dOut = randn(count * dim, r);
        const indices = Int32Array.from({ length: count }, () => Math.floor(r() * V));
        for (const p of [0, 0.1, 0.5]) for (const pos of [null, positions]) {
          const seed = Math.floor(r() * 2 ** 32), offset = pos ? 3 : 0, scale = Math.fround(Math.sqrt(dim));
          const what = `V${V} dim${dim} ${B}×${T} p${p}${pos ? ' +pos' : ''} ${threads}T`;
          const args = { weight, indices, positions: pos, dim, seqLen: T, offset, scale, p, seed };
          const yr = new Float32Array(count * dim), yn = new Float32Array(count * dim).fill(NaN);
          ref.embedPositionsForward({ ...args, out: yr });
          nk.embedPositionsForward!({ ...args, out: yn });
          assert.deepEqual(yn, yr, `forward ${what}: the same float32 steps, so the same bits`);
          const pad = V > 3 ? 2 : -1;
          const bargs = { dOut, indices, dim, paddingIdx: pad, scale, p, seed };
          const gr = new Float32Array(V * dim), gn = new Float32Array(V * dim);
          ref.embedPositionsBackward({ ...bargs, dWeight: gr });
          nk.embedPositionsBackward!({ ...bargs, dWeight: gn });
          assert.deepEqual(gn, gr, `backward ${what}: the same float32 steps in row order, so the same bits`);
          if (pad >= 0) for (let c = 0; c < dim; c++) assert.equal(gn[pad * dim + c], 0, `${what}: the padding row got a gradient`);
          if (p > 0) {
            const kept = new Float32Array(count * dim);
            ref.dropout({ x: new Float32Array(count * dim).fill(1), out: kept, p, seed });
            for (let i = 0; i < kept.length; i++) if (kept[i] === 0) assert.equal(yn[i], 0, `${what}: element ${i} should be dropped`);
          }
        }
      }
    }
  } finally {
    setNumThreads(before);
  }
});

test('layerNormBackwardDropout: native equals the reference (layerNormBackward, then the dropout backward of dx), 1 and 2 threads', async (t) => {
  const nk = native(t);
  if (!nk) return;
  const { setNumThreads, backendInfo } = await import('../../src/backend/registry.js');
  const before = backendInfo().threads;
  const r = rng(43);
  try {
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      for (const [rows, cols] of [[1, 1], [3, 17], [5, 64], [704, 256], [129, 33]]) {
        const n = rows * cols;
        const x = randn(n, r), weight = randn(cols, r), dy = randn(n, r), dyAdd = randn(n, r), dxAdd = randn(n, r);
        const mean = new Float32Array(rows), rstd = new Float32Array(rows), y = new Float32Array(n);
        ref.layerNormForward({ x, weight, bias: null, y, mean, rstd, rows, cols, eps: 1e-5 });
        for (const p of [0.1, 0.5]) for (const adds of [false, true]) {
          const seed = Math.floor(r() * 2 ** 32);
          const out = () => ({ dx: new Float32Array(n), dweight: new Float32Array(cols), dbias: new Float32Array(cols), dz: new Float32Array(n).fill(NaN) });
          const a = { x, weight, mean, rstd, dy, dyAdd: adds ? dyAdd : null, dxAdd: adds ? dxAdd : null, rows, cols, p, seed };
          const o1 = out(), o2 = out();
          ref.layerNormBackwardDropout({ ...a, ...o1 });
          nk.layerNormBackwardDropout!({ ...a, ...o2 });
          const what = `${rows}×${cols} p${p}${adds ? ' +adds' : ''} ${threads}T`;
          assertClose(o2.dx, o1.dx, `dx ${what}`, 1e-4, 1e-4);
          assertClose(o2.dz, o1.dz, `dz ${what}`, 1e-4, 1e-4);
          assertClose(o2.dweight, o1.dweight, `dweight ${what}`, 1e-3, 1e-3);
          assertClose(o2.dbias, o1.dbias, `dbias ${what}`, 1e-3, 1e-3);
          for (let i = 0; i < n; i++) if (o2.dx[i] !== 0 && o2.dz[i] !== 0) assert.ok(Math.abs(o2.dz[i] - o2.dx[i] / (1 - p)) <= 1e-4 * Math.abs(o2.dz[i]) + 1e-6, `${what}: dz is not dx / (1 − p) at ${i}`);
        }
      }
    }
  } finally {
    setNumThreads(before);
  }
});
