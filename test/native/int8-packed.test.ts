/**
 * Packed int8 weights: int8PackWeights and int8GemmPacked, native against the TypeScript
 * reference on awkward sizes (1, 3, 17, 63, 65, 127, 129: partial 32-column panels and
 * partial 4-byte k-quads), and against the unpacked int8Gemm, which computes the same
 * integers from row-major weights.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, ref, rng, randn, assertClose } from './helpers.js';
import { packedLength } from '../../src/backend/js/int8.js';

const SIZES = [1, 3, 17, 63, 65, 127, 129];

function packBoth(nk: NonNullable<ReturnType<typeof native>>, w: Float32Array, n: number, k: number) {
  const make = () => ({ packed: new Int8Array(packedLength(n, k)).fill(99), scales: new Float32Array(n), colSums: new Int32Array(n) });
  const r = make(), nt = make();
  ref.int8PackWeights({ w, ...r, n, k });
  nk.int8PackWeights!({ w, ...nt, n, k });
  return { r, nt };
}

test('int8PackWeights: packed bytes, scales and column sums are bit-identical to the reference', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(21);
  for (const n of SIZES) for (const k of SIZES) {
    const w = randn(n * k, r);
    if (n > 2) for (let c = 0; c < k; c++) w[2 * k + c] = 0; // an all-zero row → scale 1, zeros
    const { r: a, nt: b } = packBoth(nk, w, n, k);
    assert.deepEqual(b.packed, a.packed, `packed ${n}x${k}`);
    assert.deepEqual(b.scales, a.scales, `scales ${n}x${k}`);
    assert.deepEqual(b.colSums, a.colSums, `colSums ${n}x${k}`);
    // the padding (columns past n, bytes past k) is zero, not left over from the buffer
    const q = new Int8Array(n * k), s = new Float32Array(n);
    ref.quantizePerChannel({ w, q, scales: s, n, k });
    assert.equal(a.packed.reduce((acc, v) => acc + Math.abs(v), 0), q.reduce((acc, v) => acc + Math.abs(v), 0), `padding ${n}x${k}`);
  }
});

test('int8GemmPacked: native equals the reference and the unpacked int8Gemm, with and without bias', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(22);
  for (const m of [1, 3, 17, 65]) for (const n of SIZES) for (const k of [1, 3, 17, 63, 65, 129]) {
    const w = randn(n * k, r), x = randn(m * k, r, 3), bias = randn(n, r);
    if (m > 1) for (let c = 0; c < k; c++) x[k + c] = 0; // an all-zero activation row
    const { r: p } = packBoth(nk, w, n, k);
    const q = new Int8Array(n * k), s = new Float32Array(n);
    ref.quantizePerChannel({ w, q, scales: s, n, k });
    for (const b of [null, bias]) {
      const outRef = new Float32Array(m * n), outNat = new Float32Array(m * n).fill(NaN), outUnpacked = new Float32Array(m * n);
      const args = { x, packed: p.packed, wScales: p.scales, colSums: p.colSums, m, n, k, bias: b, activation: 0, residual: null, xScale: 0 };
      ref.int8GemmPacked({ ...args, out: outRef });
      nk.int8GemmPacked!({ ...args, out: outNat });
      ref.int8Gemm({ x, wq: q, wScales: s, out: outUnpacked, m, n, k, bias: b });
      const label = `${m}x${n}x${k} bias${b !== null}`;
      assert.deepEqual(outRef, outUnpacked, `reference packed vs unpacked ${label}`);
      assertClose(outNat, outRef, `native vs reference ${label}`, 1e-6, 1e-6);
    }
  }
});

test('int8GemmPacked epilogue: act(x·Wᵀ + b) + residual equals the reference, relu and gelu, residual in place', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(24);
  for (const m of [1, 5, 13]) for (const n of [3, 32, 65]) for (const k of [17, 64]) {
    const w = randn(n * k, r), x = randn(m * k, r, 2), bias = randn(n, r), res = randn(m * n, r);
    const { r: p } = packBoth(nk, w, n, k);
    for (const activation of [0, 1, 2]) for (const b of [null, bias]) {
      const label = `${m}x${n}x${k} act${activation} bias${b !== null}`;
      const args = { x, packed: p.packed, wScales: p.scales, colSums: p.colSums, m, n, k, bias: b, activation, xScale: 0 };
      // The epilogue is the plain product followed by the activation and the residual sum.
      const plain = new Float32Array(m * n);
      ref.int8GemmPacked({ ...args, activation: 0, residual: null, out: plain });
      const act = (v: number) => activation === 1 ? Math.max(v, 0) : activation === 2 ? 0.5 * v * (1 + erf(v / Math.SQRT2)) : v;
      const expected = plain.map((v, i) => act(v) + res[i]);
      const outRef = new Float32Array(m * n), outNat = new Float32Array(m * n).fill(NaN);
      ref.int8GemmPacked({ ...args, residual: res, out: outRef });
      nk.int8GemmPacked!({ ...args, residual: res, out: outNat });
      assertClose(outRef, expected, `reference vs composed ${label}`, 1e-5, 1e-5);
      assertClose(outNat, outRef, `native vs reference ${label}`, 1e-5, 1e-5);
      // out += …: the residual buffer is the output (the decoder's residual stream).
      const inPlace = Float32Array.from(res);
      nk.int8GemmPacked!({ ...args, residual: inPlace, out: inPlace });
      assertClose(inPlace, outRef, `native in place ${label}`, 1e-5, 1e-5);
      const inPlaceRef = Float32Array.from(res);
      ref.int8GemmPacked({ ...args, residual: inPlaceRef, out: inPlaceRef });
      assert.deepEqual(inPlaceRef, outRef, `reference in place ${label}`);
    }
  }
});

test('int8GemmPacked with a static input scale (xScale > 0): native equals the reference, values past ±127·xScale clamp', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(25);
  for (const m of [1, 7, 13]) for (const n of [5, 33]) for (const k of [3, 64]) {
    const w = randn(n * k, r), x = randn(m * k, r, 2), bias = randn(n, r);
    const { r: p } = packBoth(nk, w, n, k);
    const xScale = 0.01; // |x| up to ~6 here: most rows hold values past 127·0.01 = 1.27, which clamp
    const args = { x, packed: p.packed, wScales: p.scales, colSums: p.colSums, m, n, k, bias, activation: 0, residual: null, xScale };
    const outRef = new Float32Array(m * n), outNat = new Float32Array(m * n).fill(NaN);
    ref.int8GemmPacked({ ...args, out: outRef });
    nk.int8GemmPacked!({ ...args, out: outNat });
    assertClose(outNat, outRef, `static ${m}x${n}x${k}`, 1e-5, 1e-5);
    // The reference by hand for one row: every x rounded with xScale and clamped to ±127.
    const q = new Int8Array(n * k), s = new Float32Array(n);
    ref.quantizePerChannel({ w, q, scales: s, n, k });
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let c = 0; c < k; c++) {
        const v = x[c] / xScale;
        dot += Math.max(-127, Math.min(127, Math.sign(v) * Math.floor(Math.abs(v) + 0.5))) * q[j * k + c];
      }
      assert.ok(Math.abs(outRef[j] - (xScale * s[j] * dot + bias[j])) < 1e-4 * (1 + Math.abs(outRef[j])), `row 0 col ${j}`);
    }
  }
});

/** erf by Abramowitz–Stegun 7.1.26 (|err| < 1.5e-7), an oracle independent of the kernels' form. */
function erf(x: number): number {
  const s = Math.sign(x), z = Math.abs(x), t = 1 / (1 + 0.3275911 * z);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return s * y;
}

test('int8GemmPacked approximates the fp32 product within the int8 rounding bound', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(23);
  const m = 8, n = 65, k = 129;
  const w = randn(n * k, r), x = randn(m * k, r);
  const { nt: p } = packBoth(nk, w, n, k);
  const out = new Float32Array(m * n);
  nk.int8GemmPacked!({ x, packed: p.packed, wScales: p.scales, colSums: p.colSums, out, m, n, k, bias: null, activation: 0, residual: null, xScale: 0 });
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let exact = 0, maxX = 0, maxW = 0;
    for (let c = 0; c < k; c++) {
      exact += x[i * k + c] * w[j * k + c];
      maxX = Math.max(maxX, Math.abs(x[i * k + c]));
      maxW = Math.max(maxW, Math.abs(w[j * k + c]));
    }
    // each operand is off by at most half a step (max/254); the product error is bounded by the sum
    const bound = k * (maxX / 254) * maxW + k * (maxW / 254) * maxX + k * (maxX / 254) * (maxW / 254);
    assert.ok(Math.abs(out[i * n + j] - exact) <= bound + 1e-5, `(${i}, ${j}): ${out[i * n + j]} vs ${exact}, bound ${bound}`);
  }
});

test('int8GemmPacked quantizes activation ties half away from zero, as the reference, at every K remainder of a 16-lane vector', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(26);
  for (const k of [5, 16, 31, 32, 33, 48, 64, 100, 256]) for (const xScale of [0, 0.5]) {
    const m = 3, n = 40;
    const w = randn(n * k, r);
    const { r: p } = packBoth(nk, w, n, k);
    // Row max |x| = 127 → scale 1 (dynamic), or xScale 0.5 → x/0.5: every other entry lands exactly on k + ½.
    const x = new Float32Array(m * k);
    for (let i = 0; i < m; i++) {
      for (let c = 0; c < k; c++) {
        const tie = Math.floor(r() * 252) - 126 + 0.5; // −125.5 … 125.5
        const v = c % 2 === 0 ? tie : Math.floor(r() * 253) - 126;
        x[i * k + c] = xScale > 0 ? v * xScale : v;
      }
      x[i * k + (i % k)] = xScale > 0 ? 127 * xScale : (i % 2 === 0 ? 127 : -127);
    }
    const args = { x, packed: p.packed, wScales: p.scales, colSums: p.colSums, m, n, k, bias: null, activation: 0, residual: null, xScale };
    const outRef = new Float32Array(m * n), outNat = new Float32Array(m * n).fill(NaN);
    ref.int8GemmPacked({ ...args, out: outRef });
    nk.int8GemmPacked!({ ...args, out: outNat });
    // One tie rounded the other way moves a dot product by |q_w| ≥ 1 (relative ~1e-3): the tolerance sees it.
    assertClose(outNat, outRef, `ties k ${k} xScale ${xScale}`, 1e-6, 1e-6);
  }
});

test('int8GemmPacked with a static input scale clamps values far past ±127·xScale to ±127 with their sign (beyond the int32 range too)', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(27);
  for (const k of [7, 16, 40]) {
    const m = 4, n = 33, xScale = 0.001;
    const w = randn(n * k, r);
    const { r: p } = packBoth(nk, w, n, k);
    const x = randn(m * k, r, 2);
    for (let i = 0; i < m * k; i += 3) x[i] = (i % 2 === 0 ? 1 : -1) * 10 ** (3 + (i % 7)); // up to 1e9: 1e12 after ÷ xScale
    const args = { x, packed: p.packed, wScales: p.scales, colSums: p.colSums, m, n, k, bias: null, activation: 0, residual: null, xScale };
    const outRef = new Float32Array(m * n), outNat = new Float32Array(m * n).fill(NaN);
    ref.int8GemmPacked({ ...args, out: outRef });
    nk.int8GemmPacked!({ ...args, out: outNat });
    assertClose(outNat, outRef, `huge static k ${k}`, 1e-6, 1e-6);
  }
});
