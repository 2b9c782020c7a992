import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { record } from '../../src/autograd/node.ts';
import { setGradEnabled } from '../../src/autograd/mode.ts';

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

test('gradcheck fails when an input that requires grad gets no gradient, even where the true derivative is 0', () => {
  const x = h.randn([3], { dtype: 'float64', requiresGrad: true }), y = h.randn([3], { dtype: 'float64', requiresGrad: true });
  // an input the function never reads: numerically 0, analytically missing
  const unused = h.gradcheck((_a, b) => h.mul(b, 2), [x, y]);
  assert.equal(unused.ok, false);
  assert.deepEqual(unused.missingGrad, [0]);
  // an op whose backward drops its input's gradient (returns null): wrong, not zero. backward()
  // itself refuses it, so ordinary training cannot silently stop updating what sits below the op.
  const broken = (a: h.Tensor): h.Tensor => record(h.noGrad(() => h.mul(a, 3)), 'brokenTriple', [a], () => [null]);
  assert.throws(() => h.gradcheck((a, b) => h.add(broken(a), b), [x, y]), (e: unknown) =>
    e instanceof h.AutogradError && /backward of brokenTriple: input 0 requires grad but the op returned no gradient/.test(e.message));
  assert.throws(() => h.sum(broken(x)).backward(), h.AutogradError);
  // the same op with its gradient passes, and reports nothing missing
  const fixed = (a: h.Tensor): h.Tensor => record(h.noGrad(() => h.mul(a, 3)), 'triple', [a], (g) => [h.mul(g, 3)]);
  const ok = h.gradcheck((a, b) => h.add(fixed(a), b), [x, y]);
  assert.equal(ok.ok, true);
  assert.deepEqual(ok.missingGrad, []);
});

test('the arrays backward keeps between passes: a pass after one that threw, and a pass nested in a closure, get the right gradients', () => {
  // a pass that throws part-way (its closure refuses) leaves nothing behind for the next one
  const x = h.tensor([1, 2, 3], undefined, { requiresGrad: true });
  const refuse = (a: h.Tensor): h.Tensor => record(h.noGrad(() => h.mul(a, 1)), 'refuse', [a], () => { throw new Error('refused'); });
  assert.throws(() => h.sum(h.mul(refuse(h.mul(x, 2)), 3)).backward(), /refused/);
  x.grad = null;
  h.mul(h.mul(x, x), 2).sum().backward(); // d/dx 2x² = 4x
  assert.deepEqual(Array.from(x.grad!.data), [4, 8, 12]);
  // a closure that runs a backward pass of its own graph (a nested pass) in the middle of the outer one
  const y = h.tensor([1, -1], undefined, { requiresGrad: true });
  const z = h.tensor([5, 7], undefined, { requiresGrad: true });
  const viaInner = (a: h.Tensor): h.Tensor => record(h.noGrad(() => h.mul(a, 2)), 'viaInner', [a], (g) => {
    const prev = setGradEnabled(true); // backward runs its closures with recording off
    try {
      h.mul(z, z).sum().backward(); // z.grad = 2z
    } finally {
      setGradEnabled(prev);
    }
    return [h.mul(g, 2)];
  });
  const out = h.add(h.mul(viaInner(h.mul(y, 3)), y), h.mul(y, 10)); // 6y² + 10y
  out.sum().backward();
  assert.deepEqual(Array.from(y.grad!.data), [22, -2]); // 12y + 10
  assert.deepEqual(Array.from(z.grad!.data), [10, 14]);
});
