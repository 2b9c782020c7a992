/** Native fused attention (forward and backward) equals the reference kernels. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, ref, rng, randn, assertClose } from './helpers.js';

interface Case {
  B: number; H: number; Hkv: number; Lq: number; Lk: number; D: number; Dv: number;
  causal?: boolean; offset?: number; keyLengths?: number[]; mask?: 'none' | 'shared' | 'full' | 'neginf';
  alibi?: boolean; dropoutP?: number; seed?: number;
  /** Key row j is scaled by 1 + growing·j/Lk, so scores (and row maxima) grow from key tile to key tile. */
  growing?: number;
}

function run(t: Parameters<typeof native>[0], c: Case, backward = true): void {
  const nk = native(t);
  if (!nk) return;
  const r = rng(c.seed ?? 7);
  const { B, H, Hkv, Lq, Lk, D, Dv } = c;
  const q = randn(B * H * Lq * D, r), k = randn(B * Hkv * Lk * D, r), v = randn(B * Hkv * Lk * Dv, r);
  if (c.growing) for (let i = 0; i < k.length; i++) k[i] *= 1 + (c.growing * (Math.floor(i / D) % Lk)) / Lk;
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

test('attention forward: row maxima that grow across key tiles, by less and by more than the lazy-rescale lag', (t) => {
  // growing 2: maxima rise by a few units per tile (kept reference max, P up to 2^8);
  // growing 40: by tens (O and the row sums are rescaled, several times per row). The lag is the
  // forward's alone; at growing 40 the backward's float32 sums lose digits to cancellation in both
  // kernels alike, so only the forward is compared there.
  for (const growing of [2, 40]) {
    run(t, { B: 1, H: 2, Hkv: 2, Lq: 70, Lk: 300, D: 64, Dv: 32, growing }, growing < 10);
    run(t, { B: 1, H: 2, Hkv: 1, Lq: 130, Lk: 300, D: 32, Dv: 32, growing, causal: true, offset: 170 }, growing < 10);
  }
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

// ---- strided layouts: (B, L, H·d) projections, a fused q|k|v buffer, padded rows ----

interface Strides { sB: number; sH: number; sL: number }

/** Copies a contiguous (B, n, rows, w) array into buf at offset through strides s. */
function embed(src: Float32Array, B: number, n: number, rows: number, w: number, buf: Float32Array, offset: number, s: Strides): void {
  for (let b = 0; b < B; b++) for (let h = 0; h < n; h++) for (let i = 0; i < rows; i++) {
    const o = offset + b * s.sB + h * s.sH + i * s.sL, c = ((b * n + h) * rows + i) * w;
    buf.set(src.subarray(c, c + w), o);
  }
}

/** The contiguous (B, n, rows, w) array read from buf at offset through strides s. */
function extract(buf: Float32Array, B: number, n: number, rows: number, w: number, offset: number, s: Strides): Float32Array {
  const out = new Float32Array(B * n * rows * w);
  for (let b = 0; b < B; b++) for (let h = 0; h < n; h++) for (let i = 0; i < rows; i++) {
    const o = offset + b * s.sB + h * s.sH + i * s.sL;
    out.set(buf.subarray(o, o + w), ((b * n + h) * rows + i) * w);
  }
  return out;
}

/**
 * Forward and backward through strides equal the contiguous reference. 'merged': q (B, L, H·D),
 * k/v (B, S, Hkv·D) with `pad` spare columns per row; 'packed': q|k|v column blocks of one
 * (B, L, (H + 2·Hkv)·D) buffer (row stride (H + 2·Hkv)·D + pad). Spare columns must stay untouched.
 */
function runStrided(t: Parameters<typeof native>[0], c: Case & { layout: 'merged' | 'packed'; pad: number }): void {
  const nk = native(t);
  if (!nk) return;
  const r = rng(c.seed ?? 5);
  const { B, H, Hkv, Lq, Lk, D, Dv, pad } = c;
  const q = randn(B * H * Lq * D, r), k = randn(B * Hkv * Lk * D, r), v = randn(B * Hkv * Lk * Dv, r), dOut = randn(B * H * Lq * Dv, r);
  const keyLengths = c.keyLengths ? Int32Array.from(c.keyLengths) : null;
  const common = { B, H, Hkv, Lq, Lk, D, Dv, scale: 1 / Math.sqrt(D), causal: c.causal ?? false, causalOffset: c.offset ?? Lk - Lq, keyLengths, mask: null, maskStrideB: 0, maskStrideH: 0, alibiSlopes: null, dropoutP: c.dropoutP ?? 0, dropoutSeed: 99 };
  // the oracle: contiguous reference
  const outR = new Float32Array(B * H * Lq * Dv), lseR = new Float32Array(B * H * Lq);
  ref.attentionForward({ q, k, v, out: outR, lse: lseR, kvStride: Lk, ...common });
  const dqR = new Float32Array(q.length), dkR = new Float32Array(k.length), dvR = new Float32Array(v.length);
  ref.attentionBackward({ q, k, v, out: outR, dOut, lse: lseR, dq: dqR, dk: dkR, dv: dvR, ...common });
  // the layouts
  let bufs: { q: Float32Array; k: Float32Array; v: Float32Array; qo: number; ko: number; vo: number };
  let qS: Strides, kS: Strides, vS: Strides;
  if (c.layout === 'packed') {
    assert.equal(Lq, Lk); assert.equal(D, Dv);
    const C = (H + 2 * Hkv) * D + pad;
    const all = new Float32Array(B * Lq * C).fill(NaN);
    qS = kS = vS = { sB: Lq * C, sH: D, sL: C };
    bufs = { q: all, k: all, v: all, qo: 0, ko: H * D, vo: (H + Hkv) * D };
  } else {
    qS = { sB: Lq * (H * D + pad), sH: D, sL: H * D + pad };
    kS = { sB: Lk * (Hkv * D + pad), sH: D, sL: Hkv * D + pad };
    vS = { sB: Lk * (Hkv * Dv + pad), sH: Dv, sL: Hkv * Dv + pad };
    bufs = { q: new Float32Array(B * qS.sB).fill(NaN), k: new Float32Array(B * kS.sB).fill(NaN), v: new Float32Array(B * vS.sB).fill(NaN), qo: 0, ko: 0, vo: 0 };
  }
  embed(q, B, H, Lq, D, bufs.q, bufs.qo, qS); embed(k, B, Hkv, Lk, D, bufs.k, bufs.ko, kS); embed(v, B, Hkv, Lk, Dv, bufs.v, bufs.vo, vS);
  const oS = { sB: Lq * (H * Dv + pad), sH: Dv, sL: H * Dv + pad };
  const strides = {
    qStrideB: qS.sB, qStrideH: qS.sH, qStrideL: qS.sL, kStrideB: kS.sB, kStrideH: kS.sH, kStrideL: kS.sL,
    vStrideB: vS.sB, vStrideH: vS.sH, vStrideL: vS.sL, outStrideB: oS.sB, outStrideH: oS.sH, outStrideL: oS.sL,
  };
  const name = JSON.stringify(c);
  for (const [who, kern] of [['native', nk], ['reference', ref]] as const) {
    const out = new Float32Array(B * oS.sB).fill(NaN), lse = new Float32Array(B * H * Lq);
    const qa = bufs.q.subarray(bufs.qo), ka = bufs.k.subarray(bufs.ko), va = bufs.v.subarray(bufs.vo);
    kern.attentionForwardStrided!({ q: qa, k: ka, v: va, out, lse, ...common, ...strides });
    assertClose(extract(out, B, H, Lq, Dv, 0, oS), outR, `${who} strided out ${name}`, 2e-5, 2e-4);
    assertClose(lse, lseR, `${who} strided lse ${name}`, 2e-5, 2e-5);
    if (pad > 0) for (let i = 0; i < out.length; i++) if (i % oS.sL >= H * Dv) assert.ok(Number.isNaN(out[i]), `${who}: out spare column ${i} written`);
    // gradients land in buffers of the inputs' layouts (one shared buffer when packed)
    const g = { q: new Float32Array(bufs.q.length).fill(NaN), k: bufs.k === bufs.q ? null : new Float32Array(bufs.k.length).fill(NaN), v: bufs.v === bufs.q ? null : new Float32Array(bufs.v.length).fill(NaN) };
    const gk = g.k ?? g.q, gv = g.v ?? g.q;
    const dOutS = new Float32Array(B * oS.sB);
    embed(dOut, B, H, Lq, Dv, dOutS, 0, oS);
    const outS = new Float32Array(B * oS.sB);
    embed(outR, B, H, Lq, Dv, outS, 0, oS);
    kern.attentionBackwardStrided!({ q: qa, k: ka, v: va, out: outS, dOut: dOutS, lse: lseR, dq: g.q.subarray(bufs.qo), dk: gk.subarray(bufs.ko), dv: gv.subarray(bufs.vo), ...common, ...strides });
    assertClose(extract(g.q, B, H, Lq, D, bufs.qo, qS), dqR, `${who} strided dq ${name}`, 1e-4, 1e-3);
    assertClose(extract(gk, B, Hkv, Lk, D, bufs.ko, kS), dkR, `${who} strided dk ${name}`, 1e-4, 1e-3);
    assertClose(extract(gv, B, Hkv, Lk, Dv, bufs.vo, vS), dvR, `${who} strided dv ${name}`, 1e-4, 1e-3);
    if (pad > 0) for (let i = 0; i < g.q.length; i++) if (i % qS.sL >= qS.sL - pad) assert.ok(Number.isNaN(g.q[i]), `${who}: dq spare column ${i} written`);
  }
}

test('attention through strides: (B, L, H·d) projections, padded rows, GQA', (t) => {
  runStrided(t, { layout: 'merged', pad: 0, B: 2, H: 3, Hkv: 3, Lq: 65, Lk: 65, D: 16, Dv: 16 });
  runStrided(t, { layout: 'merged', pad: 5, B: 2, H: 4, Hkv: 2, Lq: 70, Lk: 130, D: 17, Dv: 9, causal: true });
  runStrided(t, { layout: 'merged', pad: 3, B: 1, H: 2, Hkv: 1, Lq: 3, Lk: 40, D: 8, Dv: 8, causal: true, keyLengths: [30] }); // the row path
  runStrided(t, { layout: 'merged', pad: 1, B: 1, H: 2, Hkv: 2, Lq: 33, Lk: 300, D: 8, Dv: 8 }); // few heads: per-thread dq partials
});

test('attention through strides: q|k|v column blocks of one fused buffer, dropout, causal', (t) => {
  runStrided(t, { layout: 'packed', pad: 0, B: 2, H: 2, Hkv: 2, Lq: 129, Lk: 129, D: 16, Dv: 16, causal: true });
  runStrided(t, { layout: 'packed', pad: 4, B: 3, H: 4, Hkv: 1, Lq: 40, Lk: 40, D: 8, Dv: 8, dropoutP: 0.25 });
});

/** Runs fn on a pool of 1, then 2 threads, and restores the thread count. */
async function onOneAndTwoThreads(fn: () => void): Promise<void> {
  const { setNumThreads, backendInfo } = await import('../../src/backend/registry.js');
  const before = backendInfo().threads;
  try {
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      fn();
    }
  } finally {
    setNumThreads(Math.max(1, before));
  }
}

test('attention with many tiny heads (the training step: B·H = 256, L 11–13, several heads per pool task) on 1 and 2 threads', async (t) => {
  await onOneAndTwoThreads(() => {
    // key lengths (encoder padding), causal (decoder), cross (Lq ≠ Lk), dropout: each call one pool job
    // of chunked (b, h) runs; the 65 and 66 pairs of the last two leave a short last chunk
    runStrided(t, { layout: 'merged', pad: 0, B: 64, H: 4, Hkv: 4, Lq: 12, Lk: 12, D: 64, Dv: 64, dropoutP: 0.1, keyLengths: Array.from({ length: 64 }, (_, b) => 4 + (b % 9)) });
    runStrided(t, { layout: 'merged', pad: 0, B: 64, H: 4, Hkv: 4, Lq: 11, Lk: 11, D: 64, Dv: 64, dropoutP: 0.1, causal: true, offset: 0 });
    runStrided(t, { layout: 'merged', pad: 2, B: 64, H: 4, Hkv: 4, Lq: 11, Lk: 12, D: 64, Dv: 64, dropoutP: 0.1, keyLengths: Array.from({ length: 64 }, (_, b) => 1 + (b % 12)) });
    run(t, { B: 13, H: 5, Hkv: 5, Lq: 13, Lk: 13, D: 64, Dv: 64, causal: true, offset: 0, dropoutP: 0.2 });
    run(t, { B: 33, H: 4, Hkv: 2, Lq: 17, Lk: 19, D: 40, Dv: 24, keyLengths: Array.from({ length: 33 }, (_, b) => b % 20) });
  });
});

test('attention forward with long heads (≥ 8 query tiles, 128-row tiles when non-causal: one block of tiles per thread, stealing, the next head prefetched) on 1 and 2 threads', async (t) => {
  await onOneAndTwoThreads(() => {
    // more heads than threads (whole heads per block), an odd count (blocks of 1 and 2 heads),
    // GQA (heads of a group share the K and V rows the next head's prefetch reads), fewer heads
    // than threads (one head split between blocks), key lengths and causal ends, strided q|k|v
    run(t, { B: 1, H: 3, Hkv: 3, Lq: 520, Lk: 530, D: 32, Dv: 32 }, false);
    run(t, { B: 2, H: 2, Hkv: 1, Lq: 513, Lk: 600, D: 16, Dv: 24, keyLengths: [600, 77] }, false);
    run(t, { B: 1, H: 1, Hkv: 1, Lq: 700, Lk: 700, D: 64, Dv: 64, causal: true }, false);
    // non-causal with ≥ 8 tiles of 128 query rows (the long tiles: Kᵀ and V of a head > 768 KB), a
    // partial last tile, GQA, key lengths, row maxima that grow past the lazy-rescale lag
    run(t, { B: 1, H: 2, Hkv: 1, Lq: 1000, Lk: 1600, D: 64, Dv: 64 }, false);
    run(t, { B: 2, H: 1, Hkv: 1, Lq: 1030, Lk: 1700, D: 16, Dv: 112, keyLengths: [1700, 33] }, false);
    run(t, { B: 1, H: 1, Hkv: 1, Lq: 1024, Lk: 1600, D: 64, Dv: 64, growing: 10 }, false);
    runStrided(t, { layout: 'packed', pad: 3, B: 2, H: 2, Hkv: 2, Lq: 520, Lk: 520, D: 16, Dv: 16, causal: true });
    runStrided(t, { layout: 'merged', pad: 0, B: 1, H: 3, Hkv: 3, Lq: 512, Lk: 512, D: 64, Dv: 64, dropoutP: 0.1 });
  });
});
