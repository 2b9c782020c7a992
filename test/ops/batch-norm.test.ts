/**
 * batchNorm (fused loops, closed-form backward) equals batchNormReference (composed from
 * primitives): outputs, running statistics and the gradients of input, weight and bias, in
 * training and in eval. PyTorch parity is in test/nn/cnn-parity.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';

function close(a: h.Tensor, b: h.Tensor, what: string, tol = 1e-5): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  for (let i = 0; i < a.size; i++) assert.ok(Math.abs(a.data[i] - b.data[i]) < tol, `${what}[${i}]: ${a.data[i]} vs ${b.data[i]}`);
}

for (const training of [true, false]) for (const relu of [false, true]) {
  for (const shape of [[5, 3], [4, 3, 7], [3, 3, 4, 5]]) {
    test(`batchNorm equals batchNormReference (${training ? 'training' : 'eval'}${relu ? ', fused ReLU' : ''}, input ${JSON.stringify(shape)})`, () => {
      const runs = [h.batchNorm, h.batchNormReference].map((f) => {
        h.manualSeed(42);
        const leaf = h.randn(shape).mul(2).add(1);
        leaf.requiresGrad = true;
        const w = h.randn([3]).add(1), b = h.randn([3]);
        w.requiresGrad = true;
        b.requiresGrad = true;
        const rm = h.randn([3]), rv = h.rand([3]).add(0.5);
        const y = f(leaf, rm, rv, { weight: w, bias: b, training, momentum: 0.3, eps: 1e-3, relu });
        h.mul(y, h.randn(shape, { generator: new h.Generator(7) })).sum().backward();
        return { y, rm, rv, gx: leaf.grad!, gw: w.grad!, gb: b.grad! };
      });
      const [fused, ref] = runs;
      close(fused.y, ref.y, 'output');
      close(fused.rm, ref.rm, 'runningMean');
      close(fused.rv, ref.rv, 'runningVar');
      close(fused.gx, ref.gx, 'input gradient');
      close(fused.gw, ref.gw, 'weight gradient', 1e-4);
      close(fused.gb, ref.gb, 'bias gradient', 1e-4);
    });
  }
}
