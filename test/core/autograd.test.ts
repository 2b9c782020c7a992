import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';

test('gradients accumulate across two backward calls', () => {
  const x = h.tensor([1, 2, 3], undefined, { requiresGrad: true });
  h.mul(x, x).sum().backward();
  h.mul(x, x).sum().backward();
  assert.deepEqual(Array.from(x.grad!.data), [4, 8, 12]);
});

test('noGrad records nothing', () => {
  const x = h.ones([2], { requiresGrad: true });
  const y = h.noGrad(() => h.mul(x, 2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
});

test('retainGrad keeps a non-leaf gradient; detach cuts the graph', () => {
  const x = h.tensor([1, -2], undefined, { requiresGrad: true });
  const y = h.mul(x, 3).retainGrad();
  h.relu(y).sum().backward();
  assert.deepEqual(Array.from(y.grad!.data), [1, 0]);
  assert.deepEqual(Array.from(x.grad!.data), [3, 0]);
  assert.equal(y.detach().requiresGrad, false);
});

test('backward of a non-scalar needs an upstream gradient', () => {
  const x = h.ones([2, 2], { requiresGrad: true });
  assert.throws(() => h.mul(x, 2).backward(), h.AutogradError);
  h.mul(x, 2).backward(h.ones([2, 2]));
  assert.deepEqual(Array.from(x.grad!.data), [2, 2, 2, 2]);
});

test('a diamond graph sums both paths', () => {
  const x = h.tensor([2], undefined, { requiresGrad: true });
  const a = h.mul(x, x), b = h.mul(x, 3);
  h.add(a, b).sum().backward();
  assert.equal(x.grad!.item(), 2 * 2 + 3);
});
