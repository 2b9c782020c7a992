/**
 * attentionMergedHeads (src/ops/attention.ts): attention on (B, L, H·d) projections read in place
 * (the fused kernel's strides) equals splitting the heads, scaledDotProductAttention, and merging;
 * its gradients (one per distinct input tensor, a fused q|k|v tensor included) equal the split
 * path's and central differences; bad operands are typed errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import type { Tensor } from '../../src/index.ts';
import { attentionMergedHeads, splitHeads, scaledDotProductAttention, type Heads, type AttentionOptions } from '../../src/ops/attention.ts';
import { isOverridden } from '../../src/backend/registry.ts';
import { maxDiff } from '../tensors.ts';

/** (B, H, L, Ev) → (B, L, H·Ev) by the ops (the path the merged op avoids). */
function merge(y: Tensor): Tensor {
  const [B, H, L, Ev] = y.shape;
  return h.reshape(h.transpose(y, 1, 2), [B, L, H * Ev]);
}

/** Output and the gradients of a weighted sum, through `fn`, for the given leaf tensors. */
function outAndGrads(fn: () => Tensor, leaves: Tensor[], seed: number): [Tensor, Tensor[]] {
  for (const t of leaves) t.grad = null;
  const y = fn();
  h.manualSeed(seed);
  const w = h.randn(y.shape);
  h.sum(h.mul(y, w)).backward();
  return [y, leaves.map((t) => t.grad!)];
}

function leaf(shape: number[]): Tensor {
  const t = h.randn(shape);
  t.requiresGrad = true;
  return t;
}

const cases: { what: string; B: number; L: number; S: number; H: number; Hkv: number; d: number; packed: boolean; o: AttentionOptions }[] = [
  { what: 'separate projections', B: 2, L: 9, S: 9, H: 3, Hkv: 3, d: 8, packed: false, o: {} },
  { what: 'cross attention, GQA, causal', B: 2, L: 7, S: 12, H: 4, Hkv: 2, d: 4, packed: false, o: { enableGqa: true, isCausal: true, causalAlignment: 'bottom-right' } },
  { what: 'fused q|k|v, key padding', B: 3, L: 10, S: 10, H: 2, Hkv: 2, d: 8, packed: true, o: { keyPaddingMask: h.tensor([[0, 0, 0, 0, 0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]], undefined, { dtype: 'bool' }) } },
  { what: 'fused q|k|v, GQA, additive mask', B: 1, L: 70, S: 70, H: 4, Hkv: 1, d: 16, packed: true, o: { enableGqa: true, attnMask: h.mul(h.randn([70, 70]), 0.5) } },
];

for (const c of cases) {
  test(`attentionMergedHeads equals split → scaledDotProductAttention → merge, forward and gradients (${c.what})`, () => {
    h.manualSeed(3);
    const { B, L, S, H, Hkv, d } = c;
    let qh: Heads, kh: Heads, vh: Heads, leaves: Tensor[];
    if (c.packed) {
      const qkv = leaf([B, L, (H + 2 * Hkv) * d]);
      [qh, kh, vh] = [{ tensor: qkv, offset: 0, heads: H, width: d }, { tensor: qkv, offset: H * d, heads: Hkv, width: d }, { tensor: qkv, offset: (H + Hkv) * d, heads: Hkv, width: d }];
      leaves = [qkv];
    } else {
      const q = leaf([B, L, H * d]), k = leaf([B, S, Hkv * d]), v = leaf([B, S, Hkv * d]);
      [qh, kh, vh] = [{ tensor: q, offset: 0, heads: H, width: d }, { tensor: k, offset: 0, heads: Hkv, width: d }, { tensor: v, offset: 0, heads: Hkv, width: d }];
      leaves = [q, k, v];
    }
    const [yM, gM] = outAndGrads(() => attentionMergedHeads(qh, kh, vh, c.o), leaves, 9);
    const [yS, gS] = outAndGrads(() => merge(scaledDotProductAttention(splitHeads(qh), splitHeads(kh), splitHeads(vh), c.o)), leaves, 9);
    assert.deepEqual(yM.shape, [B, L, H * d]);
    assert.ok(maxDiff(yM, yS) < 1e-5, `output differs by ${maxDiff(yM, yS)}`);
    gM.forEach((g, i) => assert.ok(maxDiff(g, gS[i]) < 1e-4, `gradient ${i} differs by ${maxDiff(g, gS[i])}`));
  });
}

test('attentionMergedHeads reads a KV cache (B, Hkv, capacity, d) in place with kvLength, query merged', () => {
  h.manualSeed(4);
  const B = 2, H = 2, d = 8, cap = 16, S = 11, L = 1;
  const q = h.randn([B, L, H * d]), kc = h.randn([B, H, cap, d]), vc = h.randn([B, H, cap, d]);
  const qh: Heads = { tensor: q, offset: 0, heads: H, width: d };
  const got = attentionMergedHeads(qh, kc, vc, { kvLength: S, isCausal: true, causalAlignment: 'bottom-right' });
  const want = merge(scaledDotProductAttention(splitHeads(qh), h.narrow(kc, 2, 0, S), h.narrow(vc, 2, 0, S), { isCausal: true, causalAlignment: 'bottom-right' }));
  assert.ok(maxDiff(got, want) < 1e-5);
});

test('attentionMergedHeads gradient of a fused q|k|v tensor matches central differences (float32, the strided kernel when native)', () => {
  h.manualSeed(5);
  const B = 2, L = 5, H = 2, d = 4;
  const qkv = leaf([B, L, 3 * H * d]);
  const fn = (x: Tensor): Tensor => attentionMergedHeads({ tensor: x, offset: 0, heads: H, width: d }, { tensor: x, offset: H * d, heads: H, width: d }, { tensor: x, offset: 2 * H * d, heads: H, width: d }, { isCausal: true });
  const res = h.gradcheck(fn, [qkv], { eps: 1e-2, atol: 2e-3, rtol: 2e-2 });
  assert.ok(res.ok, `analytic ${res.worst?.analytic} vs numeric ${res.worst?.numeric} (max abs error ${res.maxAbsError.toExponential(2)}); native strided: ${isOverridden('attentionForwardStrided')}`);
});

test('attentionMergedHeads: overlapping operands of one tensor take the split path and sum both gradients', () => {
  h.manualSeed(6);
  const x = leaf([1, 6, 8]);
  const hx: Heads = { tensor: x, offset: 0, heads: 2, width: 4 };
  const [y1, [g1]] = outAndGrads(() => attentionMergedHeads(hx, hx, hx), [x], 2);
  const [y2, [g2]] = outAndGrads(() => merge(scaledDotProductAttention(splitHeads(hx), splitHeads(hx), splitHeads(hx))), [x], 2);
  assert.ok(maxDiff(y1, y2) < 1e-5 && maxDiff(g1, g2) < 1e-4);
});

test('attentionMergedHeads rejects bad operands with typed errors that say what was received', () => {
  const t = h.randn([2, 5, 16]);
  const ok: Heads = { tensor: t, offset: 0, heads: 2, width: 8 };
  assert.throws(() => attentionMergedHeads({ tensor: t, offset: 8, heads: 2, width: 8 }, ok, ok), (e: Error) => e.name === 'ShapeError' && /16 columns/.test(e.message));
  assert.throws(() => attentionMergedHeads(ok, { tensor: h.randn([3, 5, 16]), offset: 0, heads: 2, width: 8 }, ok), (e: Error) => e.name === 'ShapeError' && /batch sizes 2, 3, 2/.test(e.message));
  assert.throws(() => attentionMergedHeads(ok, { tensor: t, offset: 0, heads: 4, width: 4 }, ok), (e: Error) => e.name === 'ShapeError' && /width 4, expected 8/.test(e.message));
  assert.throws(() => attentionMergedHeads(ok, ok, { tensor: h.randn([2, 5, 16]), offset: 0, heads: 1, width: 8 }), (e: Error) => e.name === 'ShapeError' && /value has 1 heads/.test(e.message));
  assert.throws(() => attentionMergedHeads(ok, { tensor: t, offset: 0, heads: 1, width: 8 }, { tensor: t, offset: 8, heads: 1, width: 8 }), (e: Error) => e.name === 'ShapeError' && /enableGqa/.test(e.message));
  assert.throws(() => attentionMergedHeads(ok, ok, ok, { kvLength: 9 }), (e: Error) => e.name === 'ValueError' && /kvLength=9/.test(e.message));
  assert.throws(() => attentionMergedHeads(h.randn([2, 5]) as unknown as Heads, ok, ok), (e: Error) => e.name === 'ShapeError');
});
