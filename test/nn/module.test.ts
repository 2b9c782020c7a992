import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { nn } from '../../src/index.ts';

class Block extends nn.Module {
  proj = new nn.Linear(4, 3);
  norm = new nn.LayerNorm(3);
  override forward(x: h.Tensor): h.Tensor { return this.norm.call(this.proj.call(x)); }
}

class Net extends nn.Module {
  emb: nn.Embedding;
  layers: nn.ModuleList<Block>;
  head: nn.Linear;
  constructor() {
    super();
    this.emb = new nn.Embedding(10, 4, { paddingIdx: 0 });
    this.layers = new nn.ModuleList([new Block(), new Block()]);
    this.head = new nn.Linear(3, 2, { bias: false });
  }
}

test('parameters are registered by assignment, with dotted names in registration order', () => {
  const net = new Net();
  assert.deepEqual(net.namedParameters().map(([n]) => n), [
    'emb.weight',
    'layers.0.proj.weight', 'layers.0.proj.bias', 'layers.0.norm.weight', 'layers.0.norm.bias',
    'layers.1.proj.weight', 'layers.1.proj.bias', 'layers.1.norm.weight', 'layers.1.norm.bias',
    'head.weight',
  ]);
  assert.deepEqual(net.namedModules().map(([n]) => n), ['', 'emb', 'layers', 'layers.0', 'layers.0.proj', 'layers.0.norm', 'layers.1', 'layers.1.proj', 'layers.1.norm', 'head']);
  assert.equal(net.numParameters(), 40 + 2 * (12 + 3 + 3 + 3) + 6);
});

test('Embedding zeroes the padding row; Linear init is U(-1/sqrt(in), 1/sqrt(in))', () => {
  h.manualSeed(0);
  const e = new nn.Embedding(5, 3, { paddingIdx: 2 });
  assert.deepEqual(Array.from(e.weight.data.slice(6, 9)), [0, 0, 0]);
  const l = new nn.Linear(100, 50);
  const b = 1 / Math.sqrt(100);
  assert.ok(Array.from(l.weight.data).every((v) => Math.abs(v) <= b));
  assert.ok(Math.max(...Array.from(l.weight.data)) > 0.9 * b);
});

test('stateDict and loadStateDict round-trip; wrong shapes name the key and both shapes', () => {
  const a = new Net(), b = new Net();
  const r = b.loadStateDict(a.stateDict());
  assert.deepEqual(r, { missingKeys: [], unexpectedKeys: [] });
  assert.deepEqual(Array.from(b.head.weight.data), Array.from(a.head.weight.data));
  const sd = a.stateDict();
  sd['head.weight'] = h.zeros([3, 2]);
  assert.throws(() => b.loadStateDict(sd), (e: Error) => e instanceof h.CheckpointError && /head\.weight/.test(e.message) && /\[3, 2\]/.test(e.message) && /\[2, 3\]/.test(e.message));
  const partial = a.stateDict();
  delete partial['emb.weight'];
  partial['extra'] = h.zeros([1]);
  assert.throws(() => b.loadStateDict(partial), h.CheckpointError);
  assert.deepEqual(b.loadStateDict(partial, { strict: false }), { missingKeys: ['emb.weight'], unexpectedKeys: ['extra'] });
});

test('freeze and unfreeze by glob or RegExp; numParameters counts trainable ones', () => {
  const net = new Net();
  const frozen = net.freeze('layers.*');
  assert.equal(frozen.length, 8);
  assert.equal(net.numParameters({ trainableOnly: true }), 40 + 6);
  net.unfreeze(/layers\.1\./);
  assert.equal(net.numParameters({ trainableOnly: true }), 40 + 6 + 21);
  assert.throws(() => net.freeze('nope.*'), h.ValueError);
});

test('train/eval propagate; apply visits children first; zeroGrad clears grads', () => {
  const net = new Net();
  net.eval();
  assert.ok(net.modules().every((m) => !m.training));
  const seen: string[] = [];
  net.layers.get(0).apply((m) => seen.push(m.constructor.name));
  assert.deepEqual(seen, ['Linear', 'LayerNorm', 'Block']);
  const x = h.randn([2, 4]);
  net.layers.get(0).call(x).sum().backward();
  assert.ok(net.layers.get(0).proj.weight.grad !== null);
  net.zeroGrad();
  assert.equal(net.layers.get(0).proj.weight.grad, null);
});

test('forward hooks run on call() and can be removed', () => {
  const lin = new nn.Linear(2, 2);
  let calls = 0;
  const handle = lin.registerForwardHook((_m, _args, out) => { calls++; return h.mul(out as h.Tensor, 0); });
  const y = lin.call(h.ones([1, 2]));
  assert.equal(calls, 1);
  assert.ok(Array.from(y.data).every((v) => v === 0));
  handle.remove();
  lin.call(h.ones([1, 2]));
  assert.equal(calls, 1);
});

test('Sequential chains modules; to(float64) converts parameters and keeps tied weights tied', () => {
  const seq = new nn.Sequential(new nn.Linear(3, 4), new nn.Dropout(0), new nn.Linear(4, 2));
  assert.deepEqual(seq.call(h.ones([5, 3])).shape, [5, 2]);
  const tied = new Net();
  (tied.layers.get(1).proj as nn.Linear).weight = tied.layers.get(0).proj.weight;
  tied.to('float64');
  assert.equal(tied.layers.get(0).proj.weight.dtype, 'float64');
  assert.equal(tied.layers.get(0).proj.weight, tied.layers.get(1).proj.weight);
  assert.equal(Object.keys(tied.stateDict()).length, 10);
  assert.equal(tied.parameters().length, 9);
});
