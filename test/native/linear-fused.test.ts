/** Native linearFused (the GEMM epilogue: bias, ReLU, dropout, residual) and reluDropoutBackward equal the reference kernels. */
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
