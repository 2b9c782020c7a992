/**
 * The kernels of gradient clipping (sumSquares, scaleInPlace): native equals the reference bit
 * for bit at every thread count, and clipGradNorm through them equals the plain float64 loop it
 * replaced (up to the order of the float64 sum) and scales exactly as `g[i] *= coef` did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, ref, rng, randn } from './helpers.js';
import { sumSquaresResult } from '../../src/backend/js/optim.js';
import { setNumThreads, backendInfo } from '../../src/backend/registry.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { clipGradNorm, gradNorm } from '../../src/train/optim/clip.js';

/** The sequential float64 sum the TypeScript clipping used before the kernels. */
function plainSumSquares(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

const SIZES = [0, 1, 3, 17, 63, 65, 127, 129, 1000, 4095, 4096, 4097, 65536 + 17, 262144, 1_000_003];

test('sumSquares: native gives the reference bits at 1, 2 and 3 threads, and the plain float64 sum to 1e-12', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(11);
  const before = backendInfo().threads;
  try {
    for (const n of SIZES) {
      const x = randn(n, r, 3);
      const outR = new Float32Array(2);
      ref.sumSquares({ x, out: outR });
      const expected = sumSquaresResult(outR);
      for (const threads of [1, 2, 3]) {
        setNumThreads(threads);
        const outN = new Float32Array(2);
        nk.sumSquares!({ x, out: outN });
        assert.equal(sumSquaresResult(outN), expected, `n ${n}, ${threads} threads`);
      }
      const plain = plainSumSquares(x);
      assert.ok(Math.abs(expected - plain) <= 1e-12 * plain, `n ${n}: ${expected} vs the sequential sum ${plain}`);
    }
  } finally {
    setNumThreads(Math.max(1, before));
  }
});

test('sumSquares carries NaN and Infinity; scaleInPlace rounds the float64 product as a Float32Array store', (t) => {
  const nk = native(t);
  if (!nk) return;
  for (const [bad, want] of [[NaN, NaN], [Infinity, Infinity], [3e38, Infinity]] as const) {
    const x = randn(5000, rng(12));
    x[4321] = bad; // 3e38² overflows float32 but not float64: the sum is finite there
    const out = new Float32Array(2);
    nk.sumSquares!({ x, out });
    const s = sumSquaresResult(out);
    if (Number.isNaN(want)) assert.ok(Number.isNaN(s));
    else if (bad === 3e38) assert.ok(Number.isFinite(s) && s > 8e76, `float64 sum of a 3e38 value: ${s}`);
    else assert.equal(s, want);
  }
  const r = rng(13);
  for (const n of [1, 17, 1000, 4097, 300_000]) {
    const x = randn(n, r, 10);
    const alpha = 0.123456789012345;
    const expected = x.map((v) => v * alpha); // Float32Array.map stores the float64 product rounded
    const xr = x.slice(), xn = x.slice();
    ref.scaleInPlace({ x: xr, alpha });
    nk.scaleInPlace!({ x: xn, alpha });
    assert.deepEqual(xr, expected, `reference n ${n}`);
    assert.deepEqual(xn, expected, `native n ${n}`);
  }
});

test('clipGradNorm on the kernels: the norm of the sequential loop, gradients scaled bit for bit as before', () => {
  const r = rng(14);
  const sizes = [7, 256, 65536, 262144 + 3];
  const params = sizes.map((n) => {
    const p = new Tensor(new Float32Array(n), [n], true);
    p.grad = new Tensor(randn(n, r), [n]);
    return p;
  });
  const grads0 = params.map((p) => (p.grad!.data as Float32Array).slice());
  const plainNorm = Math.sqrt(grads0.reduce((s, g) => s + plainSumSquares(g), 0));
  assert.ok(Math.abs(gradNorm(params) - plainNorm) <= 1e-12 * plainNorm);
  const maxNorm = 1;
  const total = clipGradNorm(params, maxNorm);
  assert.ok(Math.abs(total - plainNorm) <= 1e-12 * plainNorm, `${total} vs ${plainNorm}`);
  const coef = maxNorm / (total + 1e-6);
  params.forEach((p, i) => assert.deepEqual(p.grad!.data, grads0[i].map((v) => v * coef), `param ${i} scaled`));
  // below the threshold nothing changes
  const again = params.map((p) => (p.grad!.data as Float32Array).slice());
  clipGradNorm(params, 1e9);
  params.forEach((p, i) => assert.deepEqual(p.grad!.data, again[i]));
});
