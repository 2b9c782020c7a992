import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { nn } from '../../src/index.ts';
import { maxDiff } from '../tensors.ts';

test('linear attention equals its dense definition, causal and not', () => {
  h.manualSeed(0);
  const q = h.randn([2, 2, 7, 4]), k = h.randn([2, 2, 7, 4]), v = h.randn([2, 2, 7, 3]);
  for (const causal of [false, true]) {
    assert.ok(maxDiff(nn.linearAttention(q, k, v, causal), nn.linearAttentionReference(q, k, v, causal)) < 1e-5, `causal=${causal}`);
  }
  const la = new nn.LinearAttention(8, 2, { causal: true });
  const x = h.randn([1, 5, 8]), x2 = x.clone();
  for (let i = 4 * 8; i < 5 * 8; i++) x2.data[i] = 3;
  const a = la.forward(x), b = la.forward(x2);
  for (let i = 0; i < 4 * 8; i++) assert.ok(Math.abs(a.data[i] - b.data[i]) < 1e-6, 'causal linear attention never reads the future');
});

test('gradcheck: causal linear attention (prefix sums) in float64', () => {
  h.manualSeed(1);
  const mk = (): h.Tensor => h.randn([1, 1, 4, 3], { dtype: 'float64', requiresGrad: true });
  const q = mk(), k = mk(), v = mk();
  const r = h.gradcheck((a, b, c) => nn.linearAttention(a, b, c, true), [q, k, v]);
  assert.ok(r.ok, JSON.stringify(r));
});

test('sliding-window attention equals dense attention with the band mask', () => {
  h.manualSeed(2);
  const swa = new nn.SlidingWindowAttention(8, 2, { window: 3 });
  const dense = new nn.MultiheadAttention(8, 2);
  dense.loadStateDict(swa.stateDict());
  const x = h.randn([2, 9, 8]);
  const band = nn.slidingWindowMask(9, 9, 3, true);
  assert.equal(band.data[8 * 9 + 5], 0);
  assert.equal(band.data[8 * 9 + 6], 1);
  assert.ok(maxDiff(swa.forward(x).output, dense.forward(x, x, x, { attnMask: band }).output) < 1e-6);
  const cache = new nn.KVCache();
  const steps: h.Tensor[] = [];
  for (let t = 0; t < 9; t++) { const xt = h.narrow(x, 1, t, 1); steps.push(swa.forward(xt, xt, xt, { kvCache: cache }).output); }
  assert.ok(maxDiff(h.cat(steps, 1), swa.forward(x).output) < 1e-5, 'KV-cache decoding equals the full forward');
});

test('block-sparse attention computes only allowed tiles and equals dense attention with the layout mask', () => {
  h.manualSeed(3);
  const q = h.randn([1, 2, 10, 4]), k = h.randn([1, 2, 10, 4]), v = h.randn([1, 2, 10, 4]);
  const layout = nn.localGlobalLayout(3, 1, 1);
  for (const causal of [false, true]) {
    const o = { blockSize: 4, layout, causal };
    const sparse = nn.blockSparseAttention(q, k, v, o);
    const dense = h.scaledDotProductAttention(q, k, v, { attnMask: nn.layoutToMask(10, 10, o) });
    assert.ok(maxDiff(sparse, dense) < 1e-5, `causal=${causal}`);
  }
  assert.throws(() => nn.blockSparseAttention(q, k, v, { blockSize: 4, layout: [[true]] }), h.ShapeError);
});

test('Bahdanau and Luong attention: weights sum to 1 and ignore padded keys', () => {
  h.manualSeed(4);
  const enc = h.randn([2, 5, 6]), dec = h.randn([2, 6]);
  const pad = h.tensor([[false, false, false, false, false], [false, false, true, true, true]]);
  const mods: [string, (q: h.Tensor, k: h.Tensor, o: { keyPaddingMask: h.Tensor }) => nn.SimpleAttentionOutput][] = [
    ['additive', (q, k, o) => new nn.AdditiveAttention(6, 6, 8).forward(q, k, k, o)],
    ['dot', (q, k, o) => new nn.LuongAttention('dot', 6).forward(q, k, k, o)],
    ['general', (q, k, o) => new nn.LuongAttention('general', 6).forward(q, k, k, o)],
    ['concat', (q, k, o) => new nn.LuongAttention('concat', 6, 6, 8).forward(q, k, k, o)],
  ];
  for (const [name, run] of mods) {
    const { output, weights } = run(dec, enc, { keyPaddingMask: pad });
    assert.deepEqual(output.shape, [2, 1, 6], name);
    assert.deepEqual(weights.shape, [2, 1, 5], name);
    const w = Array.from(weights.data);
    assert.ok(Math.abs(w.slice(0, 5).reduce((a, b) => a + b) - 1) < 1e-5, name);
    assert.ok(w.slice(7, 10).every((x) => x === 0), `${name}: padded keys get no weight`);
  }
  assert.throws(() => new nn.LuongAttention('dot', 6, 4), h.ConfigError);
});

test('gradcheck: AdditiveAttention and LuongAttention(concat) in float64', () => {
  h.manualSeed(5);
  const add = new nn.AdditiveAttention(3, 3, 4).to('float64');
  const lu = new nn.LuongAttention('concat', 3, 3, 4).to('float64');
  const q = h.randn([1, 2, 3], { dtype: 'float64', requiresGrad: true }), k = h.randn([1, 3, 3], { dtype: 'float64', requiresGrad: true });
  assert.ok(h.gradcheck((a, b) => add.forward(a, b).output, [q, k]).ok);
  assert.ok(h.gradcheck((a, b) => lu.forward(a, b).output, [q, k]).ok);
});

test('BlockSparseAttention with a full layout equals MultiheadAttention with the same weights', () => {
  h.manualSeed(6);
  const bsa = new nn.BlockSparseAttention(8, 2, { blockSize: 3, layout: [[true, true], [true, true]], causal: true });
  const mha = new nn.MultiheadAttention(8, 2);
  mha.loadStateDict(bsa.stateDict());
  const x = h.randn([2, 5, 8]);
  assert.ok(maxDiff(bsa.forward(x), mha.forward(x, x, x, { isCausal: true }).output) < 1e-5);
});
