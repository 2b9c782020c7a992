/**
 * linearStacked (src/ops/linear-stacked.ts), projections of one input as one GEMM, against one linear
 * per projection: same output columns, same gradients (the parameters' gradients are views of one
 * stacked buffer); a float64 gradcheck; MultiheadAttention's stacked q|k|v (self) and k|v (cross)
 * on the tape against its one-by-one path (a forward hook on a projection); typed errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { linearStacked } from '../../src/ops/linear-stacked.ts';
import { maxDiff } from '../tensors.ts';

for (const bias of [true, false]) {
  test(`linearStacked equals one linear per projection (${bias ? 'biases' : 'no bias'})`, () => {
    const g = new h.Generator(3);
    const x = h.randn([2, 5, 8], { generator: g, requiresGrad: true });
    const ws = [6, 4, 4].map((o) => h.randn([o, 8], { generator: g, requiresGrad: true }));
    const bs = [6, 4, 4].map((o) => (bias ? h.randn([o], { generator: g, requiresGrad: true }) : null));
    const up = h.randn([2, 5, 14], { generator: g });
    const run = (stacked: boolean) => {
      for (const t of [x, ...ws, ...bs]) if (t) t.grad = null;
      const y = stacked ? linearStacked(x, ws, bs) : h.cat(ws.map((w, i) => h.linear(x, w, bs[i])), -1);
      h.sum(h.mul(y, up)).backward();
      return { y, gx: x.grad!, gw: ws.map((w) => w.grad!), gb: bs.map((b) => b?.grad ?? null) };
    };
    const s = run(true), c = run(false);
    assert.ok(maxDiff(s.y, c.y) < 1e-5, `output differs by ${maxDiff(s.y, c.y)}`);
    assert.ok(maxDiff(s.gx, c.gx) < 1e-4, `dx differs by ${maxDiff(s.gx, c.gx)}`);
    s.gw.forEach((gw, i) => assert.ok(maxDiff(gw, c.gw[i]) < 1e-4, `dW${i} differs`));
    s.gb.forEach((gb, i) => assert.ok(gb === null ? c.gb[i] === null : maxDiff(gb, c.gb[i]!) < 1e-4, `db${i} differs`));
  });
}

test('linearStacked: gradcheck in float64', () => {
  const g = new h.Generator(5);
  const x = h.randn([3, 4], { generator: g, dtype: 'float64', requiresGrad: true });
  const w1 = h.randn([2, 4], { generator: g, dtype: 'float64', requiresGrad: true }), w2 = h.randn([3, 4], { generator: g, dtype: 'float64', requiresGrad: true });
  const b1 = h.randn([2], { generator: g, dtype: 'float64', requiresGrad: true }), b2 = h.randn([3], { generator: g, dtype: 'float64', requiresGrad: true });
  const r = h.gradcheck((a, c, d, e, f) => linearStacked(a, [c, d], [e, f]), [x, w1, w2, b1, b2], { eps: 1e-6, atol: 1e-5, rtol: 1e-4 });
  assert.ok(r.ok && r.missingGrad.length === 0, `max abs error ${r.maxAbsError}`);
});

test('linearStacked: bad arguments are typed errors', () => {
  const x = h.randn([2, 4]);
  assert.throws(() => linearStacked(x, [], []), h.ValueError);
  assert.throws(() => linearStacked(x, [h.randn([2, 4]), h.randn([2, 4])], [h.randn([2]), null]), h.ValueError);
  assert.throws(() => linearStacked(x, [h.randn([2, 5])], [null]), h.ShapeError);
});

for (const kind of ['self', 'cross'] as const) {
  test(`MultiheadAttention (${kind}): stacked projections on the tape equal the one-by-one path`, () => {
    h.manualSeed(2);
    const attn = new h.nn.MultiheadAttention(16, 2, { numKvHeads: kind === 'cross' ? 1 : 2 });
    const g = new h.Generator(8);
    const x = h.randn([2, 5, 16], { generator: g, requiresGrad: true });
    const mem = kind === 'cross' ? h.randn([2, 7, 16], { generator: g, requiresGrad: true }) : x;
    const up = h.randn([2, 5, 16], { generator: g });
    const run = () => {
      for (const t of [x, mem, ...attn.parameters()]) t.grad = null;
      const { output } = attn.call(x, mem, mem, { isCausal: kind === 'self' });
      h.sum(h.mul(output, up)).backward();
      return { y: output, gx: x.grad!, gm: mem.grad!, gq: attn.qProj!.weight.grad!, gk: attn.kProj!.weight.grad!, gvb: attn.vProj!.bias!.grad! };
    };
    const s = run();
    const hook = attn.kProj!.registerForwardHook(() => undefined);
    const c = run();
    hook.remove();
    for (const key of ['y', 'gx', 'gm', 'gq', 'gk', 'gvb'] as const) assert.ok(maxDiff(s[key], c[key]) < 1e-4, `${key} differs by ${maxDiff(s[key], c[key])}`);
  });
}

test('linearStacked reads back-to-back parameters in place (MultiheadAttention lays q|k|v out so), with the same values and gradients as the copy', () => {
  h.manualSeed(11);
  const m = new h.nn.MultiheadAttention(8, 2);
  const [q, kk, v] = [m.qProj!, m.kProj!, m.vProj!];
  // the layout: one storage, rows in order (weights and biases each)
  assert.equal(q.weight.data.buffer, v.weight.data.buffer);
  assert.equal(kk.weight.data.byteOffset, q.weight.data.byteOffset + q.weight.data.byteLength);
  assert.equal(v.bias!.data.byteOffset, kk.bias!.data.byteOffset + kk.bias!.data.byteLength);
  const x = h.randn([2, 3, 8], { requiresGrad: true });
  const up = h.randn([2, 3, 24]);
  const ws = [q.weight, kk.weight, v.weight], bs = [q.bias, kk.bias, v.bias];
  const run = (weights: h.Tensor[], biases: (h.Tensor | null)[]) => {
    for (const t of [x, ...weights, ...biases]) if (t) t.grad = null;
    const y = linearStacked(x, weights, biases);
    h.sum(h.mul(y, up)).backward();
    return { y, gx: x.grad!, gw: weights.map((w) => w.grad!), gb: biases.map((b) => b!.grad!) };
  };
  const inPlace = run(ws, bs);
  // separate copies of the same parameters: not adjacent, so linearStacked copies them into a stack
  const copies = ws.map((w) => h.tensor(Array.from(w.data), [...w.shape], { requiresGrad: true }));
  const bcopies = bs.map((b) => h.tensor(Array.from(b!.data), [...b!.shape], { requiresGrad: true }));
  const copied = run(copies, bcopies);
  assert.equal(maxDiff(inPlace.y, copied.y), 0);
  assert.equal(maxDiff(inPlace.gx, copied.gx), 0);
  inPlace.gw.forEach((g, i) => assert.equal(maxDiff(g, copied.gw[i]), 0));
  inPlace.gb.forEach((g, i) => assert.equal(maxDiff(g, copied.gb[i]), 0));
  // the forward read the parameters themselves: an in-place update shows in the next call
  q.weight.data[0] += 1;
  const y2 = linearStacked(x, ws, bs);
  assert.notEqual(maxDiff(y2, inPlace.y), 0);
});
