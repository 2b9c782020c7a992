/**
 * stackedRows: the q|k|v stack the fused decoding step runs is made once per model and reused
 * across decode calls while it is current; it is rebuilt when the weights change (an optimizer
 * step, loadStateDict, a replaced tensor, quantization), so a decode never reads stale weights.
 * And Module.eval() on a model already in eval mode is not a weight change (predictors call it
 * on every request; a bump there re-stacked the weights per request).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { nn, optim, weightsVersion } from '../../src/index.ts';
import { stackedRows, packRows, type Projection } from '../../src/models/stacked-projection.ts';

const three = (seed: number, d = 8): Projection[] => {
  h.manualSeed(seed);
  return [new nn.Linear(d, d), new nn.Linear(d, d), new nn.Linear(d, d)];
};

test('stackedRows returns the same stack while the projections are unchanged, equal to packRows', () => {
  const ls = three(1);
  const a = stackedRows(ls), b = stackedRows(ls);
  assert.equal(a, b, 'reused, not rebuilt');
  assert.deepEqual(Array.from(a.w!), Array.from(packRows(ls).w!));
  assert.notEqual(stackedRows(three(1)), a, 'other modules (same values) get their own stack');
});

test('stackedRows rebuilds after an optimizer step, a loadStateDict, a replaced weight and quantization', () => {
  const ls = three(2);
  const seq = new nn.Sequential(...(ls as nn.Linear[]));
  const first = stackedRows(ls);
  // An optimizer step changes the weights in place (weightsVersion moves).
  const opt = new optim.SGD(seq.parameters(), { lr: 0.1 });
  h.sum(seq.call(h.randn([2, 8]))).backward();
  opt.step();
  const stepped = stackedRows(ls);
  assert.notEqual(stepped, first);
  assert.deepEqual(Array.from(stepped.w!.subarray(0, 64)), Array.from(ls[0].weight.data as Float32Array));
  // loadStateDict of other weights.
  seq.loadStateDict(new nn.Sequential(...(three(3) as nn.Linear[])).stateDict());
  const loaded = stackedRows(ls);
  assert.notEqual(loaded, stepped);
  assert.deepEqual(Array.from(loaded.w!.subarray(64, 128)), Array.from(ls[1].weight.data as Float32Array));
  // A new weight tensor (identity changes, no version bump).
  (ls[2] as nn.Linear).weight = new nn.Parameter(h.randn([8, 8]));
  const replaced = stackedRows(ls);
  assert.notEqual(replaced, loaded);
  assert.deepEqual(Array.from(replaced.w!.subarray(128, 192)), Array.from(ls[2].weight.data as Float32Array));
  // Quantized layers stack as int8 (new modules).
  const q = ls.map((l) => nn.QuantizedLinear.fromLinear(l as nn.Linear));
  const int8 = stackedRows(q);
  assert.equal(int8.w, null);
  assert.deepEqual(Array.from(int8.int8!.scales), [...q.flatMap((l) => Array.from(l.weightScale.data as Float32Array))]);
});

test('Module.train(mode) marks weights changed only when some module changes mode', () => {
  const m = new nn.Sequential(new nn.Linear(4, 4), new nn.Dropout(0.1));
  m.eval();
  const v = weightsVersion();
  m.eval();
  assert.equal(weightsVersion(), v, 'eval() on an eval-mode model is no weight change');
  m.train();
  assert.ok(weightsVersion() > v, 'train() after eval() is');
  const v2 = weightsVersion();
  (m.get(1) as nn.Module).eval(); // one submodule changes mode
  assert.ok(weightsVersion() > v2);
  const v3 = weightsVersion();
  m.train(); // the root was already training, the submodule was not
  assert.ok(weightsVersion() > v3);
});
