/**
 * embedPositions (src/ops/embed-positions.ts), the Transformer's input path in one op, against the
 * composition it replaces (embedding, × scale, + a narrowed positional table, dropout): same values,
 * same table gradient, same dropout draw, on the active backend; a float64 gradcheck; typed errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { embedPositions } from '../../src/ops/embed-positions.ts';
import { maxDiff } from '../tensors.ts';

const ids = (B: number, T: number, V: number, seed: number, pad = -1) => {
  const g = new h.Generator(seed);
  const a = Int32Array.from({ length: B * T }, () => Math.floor(g.nextU32() / 2 ** 32 * V));
  if (pad >= 0) a[1] = a[B * T - 1] = pad;
  return h.tensor(a, [B, T], { dtype: 'int32' });
};

for (const p of [0, 0.1, 0.5]) for (const training of [true, false]) for (const withPos of [true, false]) {
  test(`embedPositions equals embedding · scale + positions → dropout (p ${p}, ${training ? 'training' : 'eval'}, ${withPos ? 'positions' : 'no positions'})`, () => {
    const V = 11, D = 24, B = 3, T = 5, offset = withPos ? 2 : 0, scale = Math.sqrt(D);
    const x = ids(B, T, V, 7, 0);
    const pos = h.randn([9, D], { generator: new h.Generator(3) });
    const upstream = h.randn([B, T, D], { generator: new h.Generator(4) });
    const run = (fused: boolean) => {
      const w = h.randn([V, D], { generator: new h.Generator(1), requiresGrad: true });
      h.manualSeed(5);
      let y: h.Tensor;
      if (fused) {
        y = embedPositions(x, w, { scale, positions: withPos ? pos : null, offset, p, training, paddingIdx: 0 });
      } else {
        let e = h.mul(h.embedding(x, w, { paddingIdx: 0 }), scale);
        if (withPos) e = h.add(e, h.narrow(pos, 0, offset, T));
        y = h.dropout(e, p, { training });
      }
      const after = h.randn([1]).data[0]; // the generator advanced alike on both paths
      h.sum(h.mul(y, upstream)).backward();
      return { y, gw: w.grad!, after };
    };
    const f = run(true), c = run(false);
    assert.equal(f.after, c.after, 'the two paths draw the generator differently');
    assert.ok(maxDiff(f.y, c.y) < 1e-6, `output differs by ${maxDiff(f.y, c.y)}`);
    assert.ok(maxDiff(f.gw, c.gw) < 1e-5, `table gradient differs by ${maxDiff(f.gw, c.gw)}`);
    for (let d = 0; d < D; d++) assert.equal(f.gw.data[d], 0, 'the padding row got a gradient');
  });
}

test('embedPositions: gradcheck in float64 (scale, positions at an offset, dropout)', () => {
  const w = h.randn([6, 5], { generator: new h.Generator(2), dtype: 'float64', requiresGrad: true });
  const pos = h.randn([7, 5], { generator: new h.Generator(3), dtype: 'float64' });
  const x = ids(2, 4, 6, 8);
  const r = h.gradcheck((a) => embedPositions(x, a, { scale: 1.7, positions: pos, offset: 3, p: 0.3, generator: new h.Generator(9) }), [w], { eps: 1e-6, atol: 1e-5, rtol: 1e-4 });
  assert.ok(r.ok && r.missingGrad.length === 0, `max abs error ${r.maxAbsError}`);
});

test('embedPositions: bad arguments are typed errors that say what was received', () => {
  const w = h.randn([6, 4]);
  assert.throws(() => embedPositions(h.tensor([[1, 2]]), w), h.DTypeError);
  assert.throws(() => embedPositions(ids(2, 3, 9, 1), w), h.IndexError);
  assert.throws(() => embedPositions(h.tensor(Int32Array.from([1, 2]), [2], { dtype: 'int32' }), w), h.ShapeError);
  assert.throws(() => embedPositions(ids(2, 3, 6, 1), w, { positions: h.randn([4, 4]), offset: 2 }), /positions 2…4 are needed/);
  assert.throws(() => embedPositions(ids(2, 3, 6, 1), w, { positions: h.randn([8, 4], { requiresGrad: true }) }), h.ValueError);
  assert.throws(() => embedPositions(ids(2, 3, 6, 1), w, { p: 1 }), h.ValueError);
});
