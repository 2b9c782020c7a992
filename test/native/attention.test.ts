/** Native fused attention (forward and backward) equals the reference kernels. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, ref, rng, randn, assertClose } from './helpers.js';

interface Case {
  B: number; H: number; Hkv: number; Lq: number; Lk: number; D: number; Dv: number;
  causal?: boolean; offset?: number; keyLengths?: number[]; mask?: 'none' | 'shared' | 'full' | 'neginf';
  alibi?: boolean; dropoutP?: number; seed?: number;
}

function run(t: Parameters<typeof native>[0], c: Case, backward = true): void {
  const nk = native(t);
  if (!nk) return;
  const r = rng(c.seed ?? 7);
  const { B, H, Hkv, Lq, Lk, D, Dv } = c;
  const q = randn(B * H * Lq * D, r), k = randn(B * Hkv * Lk * D, r), v = randn(B * Hkv * Lk * Dv, r);
  const scale = 1 / Math.sqrt(D);
  const keyLengths = c.keyLengths ? Int32Array.from(c.keyLengths) : null;
  let mask: Float32Array | null = null, msB = 0, msH = 0;
  if (c.mask === 'shared') mask = randn(Lq * Lk, r);
  if (c.mask === 'full') { mask = randn(B * H * Lq * Lk, r); msB = H * Lq * Lk; msH = Lq * Lk; }
  if (c.mask === 'neginf') {
    mask = new Float32Array(B * Lq * Lk); msB = Lq * Lk;
    for (let i = 0; i < mask.length; i++) if (r() < 0.3) mask[i] = -Infinity;
  }
  const alibi = c.alibi ? Float32Array.from({ length: H }, (_, h) => 2 ** (-(h + 1))) : null;
  const p = c.dropoutP ?? 0, seed = 12345;
  const off = c.offset ?? Lk - Lq;
  const args = { B, H, Hkv, Lq, Lk, kvStride: Lk, D, Dv, scale, causal: c.causal ?? false, causalOffset: off, keyLengths, mask, maskStrideB: msB, maskStrideH: msH, alibiSlopes: alibi, dropoutP: p, dropoutSeed: seed };
  const outR = new Float32Array(B * H * Lq * Dv), lseR = new Float32Array(B * H * Lq);
  const outN = new Float32Array(B * H * Lq * Dv).fill(NaN), lseN = new Float32Array(B * H * Lq).fill(NaN);
  ref.attentionForward({ q, k, v, out: outR, lse: lseR, ...args });
  nk.attentionForward!({ q, k, v, out: outN, lse: lseN, ...args });
  const name = JSON.stringify(c);
  assertClose(outN, outR, `out ${name}`, 2e-5, 2e-4);
  assertClose(lseN, lseR, `lse ${name}`, 2e-5, 2e-5);
  if (!backward) return;
  const dOut = randn(outR.length, r);
  const dqR = new Float32Array(q.length), dkR = new Float32Array(k.length), dvR = new Float32Array(v.length);
  const dqN = new Float32Array(q.length).fill(NaN), dkN = new Float32Array(k.length).fill(NaN), dvN = new Float32Array(v.length).fill(NaN);
  ref.attentionBackward({ q, k, v, out: outR, dOut, lse: lseR, dq: dqR, dk: dkR, dv: dvR, ...args });
  nk.attentionBackward!({ q, k, v, out: outR, dOut, lse: lseR, dq: dqN, dk: dkN, dv: dvN, ...args });
  assertClose(dqN, dqR, `dq ${name}`, 1e-4, 1e-3);
  assertClose(dkN, dkR, `dk ${name}`, 1e-4, 1e-3);
  assertClose(dvN, dvR, `dv ${name}`, 1e-4, 1e-3);
}

test('attention forward/backward: awkward lengths and widths', (t) => {
  for (const [Lq, Lk] of [[1, 1], [3, 17], [17, 3], [63, 65], [65, 129], [130, 70]]) {
    for (const [D, Dv] of [[64, 64], [3, 5], [17, 33]]) run(t, { B: 1, H: 2, Hkv: 2, Lq, Lk, D, Dv });
  }
});

test('attention causal, with offsets (decoding) and tile-boundary lengths', (t) => {
  run(t, { B: 2, H: 3, Hkv: 3, Lq: 129, Lk: 129, D: 32, Dv: 32, causal: true });
  run(t, { B: 1, H: 2, Hkv: 2, Lq: 5, Lk: 140, D: 16, Dv: 16, causal: true });
  run(t, { B: 1, H: 2, Hkv: 2, Lq: 70, Lk: 70, D: 16, Dv: 16, causal: true, offset: -3 });
  run(t, { B: 1, H: 1, Hkv: 1, Lq: 100, Lk: 64, D: 8, Dv: 8, causal: true, offset: 10 });
});

test('attention key lengths, additive masks and −∞ masks (fully masked rows give 0 and −∞ lse)', (t) => {
  run(t, { B: 3, H: 2, Hkv: 2, Lq: 40, Lk: 90, D: 16, Dv: 24, keyLengths: [90, 1, 0] });
  run(t, { B: 2, H: 2, Hkv: 2, Lq: 33, Lk: 77, D: 16, Dv: 16, mask: 'shared' });
  run(t, { B: 2, H: 3, Hkv: 3, Lq: 20, Lk: 70, D: 16, Dv: 16, mask: 'full', causal: true });
  run(t, { B: 2, H: 2, Hkv: 1, Lq: 20, Lk: 20, D: 8, Dv: 8, mask: 'neginf', keyLengths: [5, 20] });
});

test('attention ALiBi and grouped-query / multi-query heads', (t) => {
  run(t, { B: 1, H: 4, Hkv: 4, Lq: 50, Lk: 80, D: 16, Dv: 16, alibi: true, causal: true, offset: 30 });
  run(t, { B: 2, H: 6, Hkv: 2, Lq: 65, Lk: 65, D: 32, Dv: 16 });
  run(t, { B: 1, H: 4, Hkv: 1, Lq: 70, Lk: 130, D: 64, Dv: 64, causal: true });
});

test('attention dropout reproduces the reference hash exactly', (t) => {
  run(t, { B: 2, H: 2, Hkv: 1, Lq: 33, Lk: 70, D: 16, Dv: 16, dropoutP: 0.3 });
  run(t, { B: 1, H: 2, Hkv: 2, Lq: 65, Lk: 65, D: 8, Dv: 8, dropoutP: 0.5, causal: true });
});

test('attention at decoding sizes (Lq ≤ 4: the row path without Kᵀ) with every mask form', (t) => {
  run(t, { B: 2, H: 4, Hkv: 2, Lq: 1, Lk: 37, D: 64, Dv: 64, causal: true });
  run(t, { B: 3, H: 2, Hkv: 2, Lq: 2, Lk: 20, D: 17, Dv: 5, keyLengths: [20, 1, 0] });
  run(t, { B: 2, H: 3, Hkv: 3, Lq: 4, Lk: 9, D: 16, Dv: 16, mask: 'full', causal: true });
  run(t, { B: 2, H: 2, Hkv: 1, Lq: 3, Lk: 30, D: 8, Dv: 8, mask: 'neginf' });
  run(t, { B: 1, H: 4, Hkv: 4, Lq: 1, Lk: 50, D: 32, Dv: 32, alibi: true, causal: true });
  run(t, { B: 1, H: 2, Hkv: 2, Lq: 4, Lk: 4, D: 8, Dv: 8, causal: true, offset: -2 }); // first rows see no key
  run(t, { B: 1, H: 2, Hkv: 2, Lq: 2, Lk: 40, D: 16, Dv: 16, dropoutP: 0.3 }); // dropout stays on the tiled path
});

test('attention forward at L = 512, d = 64 matches (tile interiors)', (t) => {
  run(t, { B: 1, H: 1, Hkv: 1, Lq: 512, Lk: 512, D: 64, Dv: 64, causal: true }, false);
});

test('attention output of a causal query never depends on later keys', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(3);
  const L = 100, D = 16;
  const q = randn(L * D, r), k = randn(L * D, r), v = randn(L * D, r);
  const out1 = new Float32Array(L * D), out2 = new Float32Array(L * D), lse = new Float32Array(L);
  nk.attentionForward!({ q, k, v, out: out1, lse, B: 1, H: 1, Hkv: 1, Lq: L, Lk: L, kvStride: L, D, Dv: D, scale: 0.25, causal: true, causalOffset: 0, keyLengths: null, mask: null, maskStrideB: 0, maskStrideH: 0, alibiSlopes: null, dropoutP: 0, dropoutSeed: 0 });
  for (let i = 60 * D; i < L * D; i++) { k[i] += 1; v[i] -= 1; }
  nk.attentionForward!({ q, k, v, out: out2, lse, B: 1, H: 1, Hkv: 1, Lq: L, Lk: L, kvStride: L, D, Dv: D, scale: 0.25, causal: true, causalOffset: 0, keyLengths: null, mask: null, maskStrideB: 0, maskStrideH: 0, alibiSlopes: null, dropoutP: 0, dropoutSeed: 0 });
  assert.deepEqual(out1.subarray(0, 60 * D), out2.subarray(0, 60 * D));
});

test('attention forward reads the first Lk keys of a cache with room to grow (kvStride > Lk) as if they were contiguous', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(11);
  for (const { B, H, Hkv, Lq, Lk, C, D, causal } of [
    { B: 3, H: 4, Hkv: 2, Lq: 1, Lk: 9, C: 16, D: 16, causal: true }, // a decoding step, GQA
    { B: 2, H: 2, Hkv: 2, Lq: 5, Lk: 33, C: 64, D: 24, causal: true },
    { B: 1, H: 3, Hkv: 3, Lq: 7, Lk: 20, C: 21, D: 8, causal: false },
  ]) {
    const q = randn(B * H * Lq * D, r);
    const kCache = randn(B * Hkv * C * D, r).fill(NaN), vCache = randn(B * Hkv * C * D, r).fill(NaN); // the spare room is never read
    const k = randn(B * Hkv * Lk * D, r), v = randn(B * Hkv * Lk * D, r);
    for (let bh = 0; bh < B * Hkv; bh++) {
      kCache.set(k.subarray(bh * Lk * D, (bh + 1) * Lk * D), bh * C * D);
      vCache.set(v.subarray(bh * Lk * D, (bh + 1) * Lk * D), bh * C * D);
    }
    const common = { B, H, Hkv, Lq, Lk, D, Dv: D, scale: 0.3, causal, causalOffset: Lk - Lq, keyLengths: null, mask: null, maskStrideB: 0, maskStrideH: 0, alibiSlopes: null, dropoutP: 0, dropoutSeed: 0 };
    const want = new Float32Array(B * H * Lq * D), got = new Float32Array(want.length), gotRef = new Float32Array(want.length);
    const lse = new Float32Array(B * H * Lq);
    nk.attentionForward!({ q, k, v, out: want, lse, kvStride: Lk, ...common });
    nk.attentionForward!({ q, k: kCache, v: vCache, out: got, lse, kvStride: C, ...common });
    ref.attentionForward({ q, k: kCache, v: vCache, out: gotRef, lse, kvStride: C, ...common });
    assert.deepEqual(got, want, `native, ${JSON.stringify({ B, H, Hkv, Lq, Lk, C })}`);
    assertClose(gotRef, want, 'reference with a key stride', 2e-5, 2e-4);
  }
});
