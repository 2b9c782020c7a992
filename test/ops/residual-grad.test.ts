/**
 * The residual-gradient link (src/ops/residual-grad.ts): linearDropout hands its residual's
 * gradient to layerNormLinked's backward, which adds it in its kernel. The linked graphs of a
 * pre-norm sublayer, x + dropout(LN(x)·Wᵀ + b), and of a post-norm pair, y = LN(s), y + dropout(y·Wᵀ + b),
 * give the same values and gradients as the same graphs on the tape alone, and pass a float64
 * gradcheck.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import type { Tensor } from '../../src/index.ts';
import { linearDropout } from '../../src/ops/linear-fused.ts';
import { layerNormLinked } from '../../src/ops/norm.ts';
import { ResidualGrad } from '../../src/ops/residual-grad.ts';
import { maxDiff } from '../tensors.ts';

const leaf = (shape: number[], seed: number, dtype: 'float32' | 'float64' = 'float32') => {
  const t = h.randn(shape, { dtype, generator: new h.Generator(seed) });
  t.requiresGrad = true;
  return t;
};

/** pre-norm: x + dropout(LN(x) · Wᵀ + b), linked or on the tape. x (N, D) → (N, D). */
function preNorm(x: Tensor, lw: Tensor, lb: Tensor, w: Tensor, b: Tensor, linked: boolean): Tensor {
  const link = linked ? new ResidualGrad() : null;
  const y = layerNormLinked(x, [x.shape[1]], lw, lb, 1e-5, { input: link });
  return linearDropout(y, w, b, { p: 0.3, residual: x, residualGradTo: link, generator: new h.Generator(8) });
}

/** post-norm: y = LN(s); y + dropout(y · Wᵀ + b), linked or on the tape. s (N, D) → (N, D). */
function postNorm(s: Tensor, lw: Tensor, lb: Tensor, w: Tensor, b: Tensor, linked: boolean): Tensor {
  const link = linked ? new ResidualGrad() : null;
  const y = layerNormLinked(s, [s.shape[1]], lw, lb, 1e-5, { output: link });
  return linearDropout(y, w, b, { p: 0.3, residual: y, residualGradTo: link, generator: new h.Generator(8) });
}

for (const [name, f] of [['pre-norm', preNorm], ['post-norm', postNorm]] as const) {
  test(`${name}: the linked residual gradient equals the tape's sum`, () => {
    const x = leaf([6, 16], 1), lw = leaf([16], 2), lb = leaf([16], 3), w = leaf([16, 16], 4), b = leaf([16], 5);
    const upstream = h.randn([6, 16], { generator: new h.Generator(6) });
    const run = (linked: boolean) => {
      for (const t of [x, lw, lb, w, b]) t.grad = null;
      const y = f(x, lw, lb, w, b, linked);
      h.sum(h.mul(y, upstream)).backward();
      return { y, gx: x.grad!, glw: lw.grad!, glb: lb.grad!, gw: w.grad! };
    };
    const linked = run(true), taped = run(false);
    assert.ok(maxDiff(linked.y, taped.y) === 0, 'the forward differs');
    for (const k of ['gx', 'glw', 'glb', 'gw'] as const) assert.ok(maxDiff(linked[k], taped[k]) < 1e-5, `${k} differs by ${maxDiff(linked[k], taped[k])}`);
  });

  test(`${name}: gradcheck in float64 through the link`, () => {
    const x = leaf([3, 5], 11, 'float64'), lw = leaf([5], 12, 'float64'), lb = leaf([5], 13, 'float64'), w = leaf([5, 5], 14, 'float64'), b = leaf([5], 15, 'float64');
    const r = h.gradcheck((a, c, d, e, g) => f(a, c, d, e, g, true), [x, lw, lb, w, b], { eps: 1e-6, atol: 1e-5, rtol: 1e-4 });
    assert.ok(r.ok && r.missingGrad.length === 0, `max abs error ${r.maxAbsError}`);
  });
}

test('a link is emptied by the norm\'s backward, and two gradients put on one link are summed', () => {
  const link = new ResidualGrad();
  assert.equal(link.take(), null);
  link.put(h.tensor([1, 2]), h.add);
  link.put(h.tensor([10, 20]), h.add);
  assert.deepEqual(Array.from(link.take()!.toFloat32Array()), [11, 22]);
  assert.equal(link.grad, null);
  // after a linked backward nothing is left waiting
  const x = leaf([2, 4], 21), lw = leaf([4], 22), lb = leaf([4], 23), w = leaf([4, 4], 24), b = leaf([4], 25);
  const l2 = new ResidualGrad();
  const y = layerNormLinked(x, [4], lw, lb, 1e-5, { input: l2 });
  h.sum(linearDropout(y, w, b, { residual: x, residualGradTo: l2 })).backward();
  assert.equal(l2.grad, null);
});
