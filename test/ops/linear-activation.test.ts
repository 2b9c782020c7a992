/**
 * linearActivation (ops/matmul.ts): relu / gelu fused into the GEMM epilogue when nothing is taped.
 * The fused output equals the two-step relu(linear(…)) / gelu(linear(…)) on the TypeScript
 * reference and on the native backend (awkward sizes, with and without bias); under grad it takes
 * the differentiable path, so gradients reach x, weight and bias; and the Transformer layers'
 * feed-forward, which uses it, keeps a quantized, hooked or training layer on the two-step path.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { linearActivation, linear } from '../../src/ops/matmul.ts';
import { linearThenActivate } from '../../src/nn/feedforward.ts';
import { nativeSkip } from '../requirements.ts';

const initial = h.getBackend();
after(() => h.setBackend(initial));

const maxDiff = (a: h.Tensor, b: h.Tensor): number => {
  const x = a.data as Float32Array, y = b.data as Float32Array;
  assert.equal(x.length, y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
};

function check(backend: h.BackendName): void {
  h.setBackend(backend);
  h.manualSeed(3);
  for (const [rows, inF, outF] of [[1, 3, 17], [17, 65, 129], [3, 64, 256], [129, 1, 1]]) {
    for (const withBias of [true, false]) {
      const x = h.randn([rows, inF]), w = h.randn([outF, inF]), b = withBias ? h.randn([outF]) : null;
      for (const act of ['relu', 'gelu'] as const) {
        const fused = h.noGrad(() => linearActivation(x, w, b, act));
        const ref = act === 'relu' ? h.relu(linear(x, w, b)) : h.gelu(linear(x, w, b));
        assert.deepEqual(fused.shape, [rows, outF]);
        assert.ok(maxDiff(fused, ref) < 1e-5 * Math.sqrt(inF), `${backend} ${act} ${rows}×${inF}×${outF} bias ${withBias}: ${maxDiff(fused, ref)}`);
        assert.equal(fused.requiresGrad, false);
      }
    }
  }
}

test('fused relu/gelu epilogue equals the two ops on the reference backend', () => check('js'));
test('fused relu/gelu epilogue equals the two ops on the native backend', { skip: nativeSkip }, () => check('native'));

test('under grad linearActivation is the differentiable path: gradients reach x, weight and bias', () => {
  h.manualSeed(4);
  const x = h.randn([5, 7], { requiresGrad: true }), w = h.randn([3, 7], { requiresGrad: true }), b = h.randn([3], { requiresGrad: true });
  const y = linearActivation(x, w, b, 'gelu');
  assert.equal(y.requiresGrad, true);
  h.sum(y).backward();
  for (const t of [x, w, b]) assert.ok(t.grad !== null && Array.from(t.grad.data as Float32Array).some((v) => v !== 0));
});

test('linearThenActivate fuses a plain Linear only: hooks still run, gelu_tanh stays two ops', () => {
  h.manualSeed(5);
  const l = new h.nn.Linear(8, 4);
  const x = h.randn([2, 8]);
  const plain = h.noGrad(() => linearThenActivate(l, x, 'gelu'));
  let seen = 0;
  const handle = l.registerForwardHook(() => { seen++; });
  const hooked = h.noGrad(() => linearThenActivate(l, x, 'gelu'));
  handle.remove();
  assert.equal(seen, 1, 'a forward hook on the layer must still run');
  assert.ok(maxDiff(plain, hooked) < 1e-6);
  const tanh = h.noGrad(() => linearThenActivate(l, x, 'gelu_tanh'));
  assert.ok(maxDiff(tanh, h.gelu(l.forward(x), { approximate: 'tanh' })) < 1e-7);
});

test('a TransformerEncoderLayer gives the same output under noGrad (fused) and with grad (two ops)', () => {
  h.manualSeed(6);
  const layer = new h.nn.TransformerEncoderLayer(16, 2, { dimFeedforward: 40, activation: 'gelu', dropout: 0 }).eval();
  const x = h.randn([2, 5, 16]);
  const fused = h.noGrad(() => layer.call(x));
  const taped = layer.call(x);
  assert.equal(taped.requiresGrad, true);
  assert.ok(maxDiff(fused, taped) < 1e-5);
});
