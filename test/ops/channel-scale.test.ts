/** channelScale equals mul(x, gate (B, C, 1, 1)) in value and gradients, gradchecks in float64, and rejects a gate of the wrong shape. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { channelScale } from '../../src/ops/channel-scale.ts';
import { gradcheck } from '../../src/autograd/gradcheck.ts';

test('channelScale equals the broadcast mul, forward and backward', () => {
  h.manualSeed(3);
  const runs = [false, true].map((fused) => {
    h.manualSeed(3);
    const x = h.randn([3, 4, 5, 2]), gate = h.rand([3, 4, 1, 1]);
    x.requiresGrad = true;
    gate.requiresGrad = true;
    const y = fused ? channelScale(x, gate) : h.mul(x, gate);
    h.mul(y, h.randn([3, 4, 5, 2], { generator: new h.Generator(9) })).sum().backward();
    return [y, x.grad!, gate.grad!];
  });
  for (let t = 0; t < 3; t++) {
    const [a, b] = [runs[0][t], runs[1][t]];
    assert.deepEqual(a.shape, b.shape);
    for (let i = 0; i < a.size; i++) assert.ok(Math.abs(a.data[i] - b.data[i]) < 1e-5, `tensor ${t} [${i}]: ${a.data[i]} vs ${b.data[i]}`);
  }
});

test('channelScale gradchecks in float64, with a (B, C) gate', () => {
  const g = new h.Generator(5);
  const x = h.randn([2, 3, 4], { generator: g, dtype: 'float64' }), gate = h.randn([2, 3], { generator: g, dtype: 'float64' });
  x.requiresGrad = true;
  gate.requiresGrad = true;
  const r = gradcheck((a, b) => channelScale(a, b), [x, gate]);
  assert.ok(r.ok, JSON.stringify(r).slice(0, 300));
});

test('channelScale rejects a gate that is not one value per image and channel', () => {
  assert.throws(() => channelScale(h.randn([2, 3, 4, 4]), h.randn([2, 4, 1, 1])), (e: Error) => e instanceof h.ShapeError && /expected the gate to be \(B, C\)/.test(e.message));
});
