/**
 * linearDropout (src/ops/linear-fused.ts) against the composed ops it replaces:
 * add(residual, dropout(act(linear(x, W, b)), p)) (act none, relu or gelu) with the same generator gives the same values
 * and the same gradients; central-difference gradcheck in float64; bad arguments are typed errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { linearDropout } from '../../src/ops/linear-fused.ts';
import type { Tensor } from '../../src/index.ts';
import { maxDiff } from '../tensors.ts';

const leaf = (shape: number[], seed: number, dtype: 'float32' | 'float64' = 'float32') => {
  const t = h.randn(shape, { dtype, generator: new h.Generator(seed) });
  t.requiresGrad = true;
  return t;
};

for (const [activation, p, withResidual] of [['relu', 0.3, false], ['none', 0.3, true], ['none', 0, true], ['relu', 0, false], ['none', 0.5, false], ['gelu', 0.3, false], ['gelu', 0, false]] as const) {
  test(`linearDropout equals the composed ops, values and gradients (${activation}, p ${p}${withResidual ? ', residual' : ''})`, () => {
    const x = leaf([4, 9, 24], 1), w = leaf([40, 24], 2), b = leaf([40], 3), res = leaf([4, 9, 40], 4);
    const upstream = h.randn([4, 9, 40], { generator: new h.Generator(5) });
    const run = (fused: boolean) => {
      for (const t of [x, w, b, res]) t.grad = null;
      const gen = new h.Generator(77);
      let y: Tensor;
      if (fused) {
        y = linearDropout(x, w, b, { activation, p, residual: withResidual ? res : null, generator: gen });
      } else {
        y = h.linear(x, w, b);
        if (activation === 'relu') y = h.relu(y);
        if (activation === 'gelu') y = h.gelu(y);
        y = h.dropout(y, p, { generator: gen });
        if (withResidual) y = h.add(res, y);
      }
      h.sum(h.mul(y, upstream)).backward();
      return { y, gx: x.grad!, gw: w.grad!, gb: b.grad!, gr: res.grad };
    };
    const f = run(true), c = run(false);
    assert.ok(maxDiff(f.y, c.y) < 1e-5, `output differs by ${maxDiff(f.y, c.y)}`);
    for (const k of ['gx', 'gw', 'gb'] as const) assert.ok(maxDiff(f[k], c[k]) < 1e-4, `${k} differs by ${maxDiff(f[k], c[k])}`);
    if (withResidual) assert.ok(maxDiff(f.gr!, c.gr!) === 0, 'the residual gradient is the upstream gradient');
    else assert.equal(f.gr, null);
    if (p > 0 && !withResidual) {
      const zeros = f.y.toFloat32Array().filter((v) => v === 0).length;
      assert.ok(zeros > 0, 'dropout dropped nothing');
    }
  });
}

test('linearDropout: gradcheck in float64 (relu + dropout; dropout + residual)', () => {
  const x = leaf([3, 5], 11, 'float64'), w = leaf([4, 5], 12, 'float64'), b = leaf([4], 13, 'float64'), res = leaf([3, 4], 14, 'float64');
  // away from ReLU's kink: shift the bias so no pre-activation is near 0
  for (let i = 0; i < b.size; i++) b.data[i] += b.data[i] >= 0 ? 0.5 : -0.5;
  const relu = h.gradcheck((a, c, d) => linearDropout(a, c, d, { activation: 'relu', p: 0.4, generator: new h.Generator(9) }), [x, w, b], { eps: 1e-6, atol: 1e-5, rtol: 1e-4 });
  assert.ok(relu.ok && relu.missingGrad.length === 0, `relu: max abs error ${relu.maxAbsError}`);
  const resid = h.gradcheck((a, c, d, e) => linearDropout(a, c, d, { p: 0.4, residual: e, generator: new h.Generator(9) }), [x, w, b, res], { eps: 1e-6, atol: 1e-5, rtol: 1e-4 });
  assert.ok(resid.ok && resid.missingGrad.length === 0, `residual: max abs error ${resid.maxAbsError}`);
  const gelu = h.gradcheck((a, c, d) => linearDropout(a, c, d, { activation: 'gelu', p: 0.4, generator: new h.Generator(9) }), [x, w, b], { eps: 1e-6, atol: 1e-5, rtol: 1e-4 });
  assert.ok(gelu.ok && gelu.missingGrad.length === 0, `gelu: max abs error ${gelu.maxAbsError}`);
});

test('linearDropout: eval mode (training false) is linear + residual and draws no seed', () => {
  const x = leaf([2, 6], 21), w = leaf([3, 6], 22), res = leaf([2, 3], 23);
  const gen = new h.Generator(5), before = gen.nextU32();
  const gen2 = new h.Generator(5);
  const y = linearDropout(x, w, null, { p: 0.9, training: false, residual: res, generator: gen2 });
  assert.equal(gen2.nextU32(), before, 'a seed was drawn in eval mode');
  assert.ok(maxDiff(y, h.add(res, h.linear(x, w))) < 1e-6);
});

test('linearDropout: bad arguments are typed errors that say the fix', () => {
  const x = leaf([2, 6], 31), w = leaf([3, 6], 32);
  assert.throws(() => linearDropout(x, w, null, { p: 1 }), (e: Error) => e instanceof h.ValueError && /p=1, expected/.test(e.message));
  assert.throws(() => linearDropout(x, w, null, { p: -0.1 }), h.ValueError);
  assert.throws(() => linearDropout(x, w, null, { activation: 'silu' as 'relu' }), (e: Error) => e instanceof h.ValueError && /expected 'none', 'relu' or 'gelu'/.test(e.message));
  assert.throws(() => linearDropout(x, w, null, { residual: h.zeros([2, 4]) }), (e: Error) => e instanceof h.ShapeError && /residual has shape \[2, 4\]/.test(e.message));
  assert.throws(() => linearDropout(x, w, null, { activation: 'relu', residual: h.zeros([2, 3]) }), (e: Error) => e instanceof h.ValueError && /Fix: add the residual/.test(e.message));
  assert.throws(() => linearDropout(x, w, null, { activation: 'gelu', residual: h.zeros([2, 3]) }), (e: Error) => e instanceof h.ValueError && /activation 'gelu' with a residual/.test(e.message));
  assert.throws(() => linearDropout(x, h.zeros([3, 5]), null), (e: Error) => e instanceof h.ShapeError && /linearDropout: input has shape/.test(e.message));
  assert.throws(() => linearDropout(x, w, h.zeros([4])), h.ShapeError);
});

test('linearDropout gelu off the tape (no input requires grad) runs gelu and the dropout in the epilogue: same values as the composed ops', () => {
  const x = h.randn([5, 7, 24], { generator: new h.Generator(41) }), w = h.randn([33, 24], { generator: new h.Generator(42) }), b = h.randn([33], { generator: new h.Generator(43) });
  for (const p of [0, 0.3]) {
    const fused = linearDropout(x, w, b, { activation: 'gelu', p, generator: new h.Generator(7) });
    const composed = h.dropout(h.gelu(h.linear(x, w, b)), p, { generator: new h.Generator(7) });
    assert.ok(maxDiff(fused, composed) < 1e-5, `p ${p}: differs by ${maxDiff(fused, composed)}`);
  }
});

test('linearDropout with a frozen bias (no bias gradient summed in the backward pass) gives the composed ops\' gradients', () => {
  for (const activation of ['relu', 'none'] as const) {
    const x = leaf([5, 24], 21), w = leaf([40, 24], 22), b = h.randn([40], { generator: new h.Generator(23) });
    const upstream = h.randn([5, 40], { generator: new h.Generator(24) });
    const run = (fused: boolean) => {
      x.grad = null; w.grad = null;
      const gen = new h.Generator(78);
      const y = fused ? linearDropout(x, w, b, { activation, p: 0.3, generator: gen })
        : h.dropout(activation === 'relu' ? h.relu(h.linear(x, w, b)) : h.linear(x, w, b), 0.3, { generator: gen });
      h.sum(h.mul(y, upstream)).backward();
      return { gx: x.grad!, gw: w.grad! };
    };
    const f = run(true), c = run(false);
    assert.ok(maxDiff(f.gx, c.gx) < 1e-4 && maxDiff(f.gw, c.gw) < 1e-4, `${activation}: gradients differ`);
    assert.equal(b.grad, null);
  }
});
