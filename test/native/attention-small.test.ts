/**
 * The short-key attention kernel (native/attention_small.cpp: Lk ≤ 16, keys in one vector's lanes)
 * equals the reference and the general native path, forward and backward, at the lengths around its
 * limits (1, 5, 11, 12, 16, and 17 falling back), causal, with key lengths, dropout, GQA; and gives
 * the same bits on 1 and 2 threads. An all-zero additive mask sends a call down the general path
 * (the short-key kernel takes no mask), with the same semantics: that is the second oracle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nat, native, ref, rng, randn, assertClose } from './helpers.js';

interface Case {
  B: number; H: number; Hkv: number; Lq: number; Lk: number; D: number; Dv: number;
  causal?: boolean; offset?: number; keyLengths?: number[]; dropoutP?: number;
}

type Kernels = NonNullable<ReturnType<typeof native>> | typeof ref;

/** Forward then backward of one contiguous call; `general` adds a zero mask (the general native path). */
function attend(kern: Kernels, c: Case, seed: number, general = false) {
  const r = rng(seed);
  const { B, H, Hkv, Lq, Lk, D, Dv } = c;
  const q = randn(B * H * Lq * D, r), k = randn(B * Hkv * Lk * D, r), v = randn(B * Hkv * Lk * Dv, r), dOut = randn(B * H * Lq * Dv, r);
  const args = {
    B, H, Hkv, Lq, Lk, kvStride: Lk, D, Dv, scale: 1 / Math.sqrt(D), causal: c.causal ?? false, causalOffset: c.offset ?? Lk - Lq,
    keyLengths: c.keyLengths ? Int32Array.from(c.keyLengths) : null, mask: general ? new Float32Array(Lq * Lk) : null,
    maskStrideB: 0, maskStrideH: 0, alibiSlopes: null, dropoutP: c.dropoutP ?? 0, dropoutSeed: 4321,
  };
  const out = new Float32Array(B * H * Lq * Dv).fill(NaN), lse = new Float32Array(B * H * Lq).fill(NaN);
  kern.attentionForward!({ q, k, v, out, lse, ...args });
  const dq = new Float32Array(q.length).fill(NaN), dk = new Float32Array(k.length).fill(NaN), dv = new Float32Array(v.length).fill(NaN);
  kern.attentionBackward!({ q, k, v, out, dOut, lse, dq, dk, dv, ...args });
  return { out, lse, dq, dk, dv };
}

function check(t: Parameters<typeof native>[0], c: Case, seed = 3): void {
  const nk = native(t);
  if (!nk) return;
  const got = attend(nk, c, seed), want = attend(ref, c, seed), general = attend(nk, c, seed, true);
  const name = JSON.stringify(c);
  for (const [who, w] of [['reference', want], ['general native path', general]] as const) {
    assertClose(got.out, w.out, `out vs ${who} ${name}`, 2e-5, 2e-4);
    assertClose(got.lse, w.lse, `lse vs ${who} ${name}`, 2e-5, 2e-5);
    assertClose(got.dq, w.dq, `dq vs ${who} ${name}`, 1e-4, 1e-3);
    assertClose(got.dk, w.dk, `dk vs ${who} ${name}`, 1e-4, 1e-3);
    assertClose(got.dv, w.dv, `dv vs ${who} ${name}`, 1e-4, 1e-3);
  }
}

test('short-key attention at L 1, 5, 11, 12, 16 (and 17, past the kernel) with causal masks, key lengths and dropout', (t) => {
  for (const L of [1, 5, 11, 12, 16, 17]) {
    for (const dropoutP of [0, 0.1]) {
      const keyLengths = [L, Math.max(1, L - 3), 1, 0];
      check(t, { B: 4, H: 2, Hkv: 2, Lq: L, Lk: L, D: 64, Dv: 64, dropoutP });
      check(t, { B: 4, H: 2, Hkv: 2, Lq: L, Lk: L, D: 64, Dv: 64, dropoutP, keyLengths });
      check(t, { B: 2, H: 3, Hkv: 3, Lq: L, Lk: L, D: 32, Dv: 48, dropoutP, causal: true, offset: 0 });
    }
  }
});

test('short-key attention: cross lengths, causal offsets (rows with no key), GQA, widths past 64 columns', (t) => {
  check(t, { B: 3, H: 4, Hkv: 4, Lq: 11, Lk: 12, D: 64, Dv: 64, keyLengths: [12, 5, 9], dropoutP: 0.1 });
  check(t, { B: 2, H: 2, Hkv: 2, Lq: 40, Lk: 7, D: 16, Dv: 16, keyLengths: [7, 3] }); // more queries than one vector of keys
  check(t, { B: 2, H: 2, Hkv: 2, Lq: 64, Lk: 16, D: 16, Dv: 32, causal: true, offset: -40, dropoutP: 0.3 }); // rows with no key
  check(t, { B: 2, H: 2, Hkv: 2, Lq: 65, Lk: 12, D: 16, Dv: 16 }); // Lq past the kernel: the general path
  check(t, { B: 2, H: 2, Hkv: 2, Lq: 6, Lk: 9, D: 16, Dv: 16, causal: true, offset: 3, keyLengths: [9, 4] });
  check(t, { B: 2, H: 6, Hkv: 2, Lq: 12, Lk: 12, D: 80, Dv: 144, causal: true, offset: 0, dropoutP: 0.1 }); // GQA sums dK, dV over 3 heads
  check(t, { B: 1, H: 4, Hkv: 1, Lq: 3, Lk: 13, D: 64, Dv: 64, keyLengths: [10] });
  check(t, { B: 2, H: 2, Hkv: 2, Lq: 12, Lk: 12, D: 24, Dv: 8, dropoutP: 0.1 }); // widths the kernel does not take
});

/** The training step's three calls through (B, L, H·d) strides, on a pool of `threads`. */
async function stepCalls(threads: number) {
  const { setNumThreads } = await import('../../src/backend/registry.js');
  setNumThreads(threads);
  const nk = nat!;
  const B = 64, H = 4, D = 64, res: Float32Array[] = [];
  for (const [Lq, Lk, causal, kl] of [[12, 12, false, true], [11, 11, true, false], [11, 12, false, true]] as const) {
    const r = rng(Lq * 100 + Lk);
    const q = randn(B * Lq * H * D, r), k = randn(B * Lk * H * D, r), v = randn(B * Lk * H * D, r), dOut = randn(q.length, r);
    const s = (L: number) => ({ sB: L * H * D, sH: D, sL: H * D });
    const common = {
      B, H, Hkv: H, Lq, Lk, D, Dv: D, scale: 0.125, causal, causalOffset: 0,
      keyLengths: kl ? Int32Array.from({ length: B }, (_, b) => 1 + (b % Lk)) : null, mask: null, maskStrideB: 0, maskStrideH: 0,
      alibiSlopes: null, dropoutP: 0.1, dropoutSeed: 77,
      qStrideB: s(Lq).sB, qStrideH: D, qStrideL: H * D, kStrideB: s(Lk).sB, kStrideH: D, kStrideL: H * D,
      vStrideB: s(Lk).sB, vStrideH: D, vStrideL: H * D, outStrideB: s(Lq).sB, outStrideH: D, outStrideL: H * D,
    };
    const out = new Float32Array(q.length), lse = new Float32Array(B * H * Lq);
    nk.attentionForwardStrided!({ q, k, v, out, lse, ...common });
    const dq = new Float32Array(q.length), dk = new Float32Array(k.length), dv = new Float32Array(v.length);
    nk.attentionBackwardStrided!({ q, k, v, out, dOut, lse, dq, dk, dv, ...common });
    res.push(out, lse, dq, dk, dv);
  }
  return res;
}

test('short-key attention: the training step\'s calls give the same bits on 1 and 2 threads', async (t) => {
  if (!native(t)) return;
  const { backendInfo, setNumThreads } = await import('../../src/backend/registry.js');
  const before = backendInfo().threads;
  try {
    const one = await stepCalls(1), two = await stepCalls(2);
    for (let i = 0; i < one.length; i++) assert.deepEqual(two[i], one[i], `array ${i}`);
  } finally {
    setNumThreads(Math.max(1, before));
  }
});

test('short-key attention: the kernel runs (its rounding differs from the general path\'s somewhere)', (t) => {
  const nk = native(t);
  if (!nk) return;
  const c = { B: 8, H: 4, Hkv: 4, Lq: 12, Lk: 12, D: 64, Dv: 64, dropoutP: 0.1 };
  const small = attend(nk, c, 9), general = attend(nk, c, 9, true);
  assert.notDeepEqual(small.out, general.out);
  assert.notDeepEqual(small.dk, general.dk);
});
