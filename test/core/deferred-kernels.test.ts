/**
 * Deferred kernel calls in backward (src/backend/registry.ts deferKernels, src/autograd/engine.ts):
 * the kernels of deferrable closures are queued and run later in call order. Checked here: the same
 * gradients as with every kernel run at once, a closure that reads its gradient's values in JS sees
 * them computed, every queued call runs exactly once through whatever wraps the table (as the
 * profiling benches do), the queue is empty and the table restored after backward (also after an
 * error), and retainGrad / accumulation across backward calls are unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { record } from '../../src/autograd/node.ts';
import { k, backendInfo, setBackend, getBackend, deferKernels, flushKernels } from '../../src/backend/registry.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { maxDiff } from '../tensors.ts';

const native = backendInfo().nativeAvailable;
const onNative = <T>(fn: () => T): T => {
  const prev = getBackend();
  setBackend('native');
  try { return fn(); } finally { setBackend(prev); }
};

/** A two-layer MLP with layer norms and dropout-free fused linears: every closure deferrable. */
function mlp(seed: number) {
  const g = new h.Generator(seed);
  const x = h.randn([6, 16], { generator: g, requiresGrad: true });
  const w1 = h.randn([32, 16], { generator: g, requiresGrad: true }), b1 = h.randn([32], { generator: g, requiresGrad: true });
  const w2 = h.randn([8, 32], { generator: g, requiresGrad: true });
  const ln = h.ones([32], { requiresGrad: true });
  return { x, w1, b1, w2, ln, params: [x, w1, b1, w2, ln] };
}

/** Runs backward with every table entry replaced by a wrapper, as a profiler would; returns the call log. */
function wrapped<T>(fn: () => T): { out: T; calls: string[] } {
  const table = k as unknown as Record<string, (p: unknown) => void>;
  const saved = { ...table };
  const calls: string[] = [];
  for (const name of Object.keys(saved)) table[name] = (p) => { calls.push(name); saved[name](p); };
  try { return { out: fn(), calls }; } finally { Object.assign(table, saved); }
}

test('deferred backward: the same gradients as kernels run at once, each kernel once, in order', { skip: !native && 'native addon not built' }, () => onNative(() => {
  // every closure of this graph but the root's (sum, mul) is deferrable; the table is wrapped, as a
  // profiler wraps it, so that the calls that ran are visible
  const m = mlp(7);
  const hid0 = h.layerNorm(h.linear(m.x, m.w1, m.b1), [32], m.ln);
  const y0 = h.linear(h.reshape(hid0, [6, 32]), m.w2);
  const a = { m, calls: wrapped(() => h.sum(h.mul(y0, y0)).backward()).calls };
  // reference: the same graph, kernels forced to run at once by a closure that reads values between them
  const b = mlp(7);
  const readEach = (t: Tensor): Tensor => record(new Tensor(t.data, t.shape), 'readValues', [t], (g) => {
    let s = 0;
    for (let i = 0; i < g.data.length; i++) s += g.data[i]; // reads the incoming gradient: the engine must have flushed
    assert.ok(Number.isFinite(s));
    return [g];
  });
  const hid = readEach(h.layerNorm(readEach(h.linear(b.x, b.w1, b.b1)), [32], b.ln));
  const y = readEach(h.linear(h.reshape(hid, [6, 32]), b.w2));
  h.sum(h.mul(y, y)).backward();
  a.m.params.forEach((p, i) => assert.equal(maxDiff(p.grad!, b.params[i].grad!), 0, `gradient ${i} differs`));
  // every kernel the backward called ran once through the wrapper
  const counts = new Map<string, number>();
  for (const c of a.calls) counts.set(c, (counts.get(c) ?? 0) + 1);
  // (a Linear with a bias runs linearBackwardFused: its db summed off the dW product's packing)
  assert.ok((counts.get('linearBackward') ?? 0) + (counts.get('linearBackwardFused') ?? 0) + (counts.get('sgemm') ?? 0) === 2, `calls: ${a.calls.join(', ')}`);
  assert.equal(counts.get('layerNormBackward'), 1);
}));

test('a closure that reads its gradient in JS after deferred kernels sees the computed values', { skip: !native && 'native addon not built' }, () => onNative(() => {
  const g = new h.Generator(3);
  const x = h.randn([4, 8], { generator: g, requiresGrad: true });
  const w = h.randn([5, 8], { generator: g, requiresGrad: true });
  const w2 = h.randn([3, 5], { generator: g, requiresGrad: true });
  let seen: number[] = [];
  // doubles its gradient in JS: not deferrable, so the linear's queued dx must have run before it
  const twice = (t: Tensor): Tensor => record(new Tensor(t.data, t.shape), 'twiceInJs', [t], (gr) => {
    seen = Array.from(gr.data);
    return [new Tensor(Float32Array.from(gr.data, (v) => 2 * v), gr.shape)];
  });
  const y = h.linear(twice(h.linear(x, w)), w2); // (4, 3)
  h.sum(y).backward();
  // d sum / d (inner output) = ones · w2, per row: column sums of w2
  const expect = Array.from({ length: 5 }, (_, j) => w2.data[j] + w2.data[5 + j] + w2.data[10 + j]);
  for (let r = 0; r < 4; r++) for (let j = 0; j < 5; j++) assert.ok(Math.abs(seen[r * 5 + j] - expect[j]) < 1e-5, `row ${r} col ${j}: ${seen[r * 5 + j]} vs ${expect[j]}`);
  // and the leaves got the doubled gradient, computed
  const ref = h.matmul(h.mul(h.ones([4, 3]).matmul(w2), 2), w); // (4, 8)
  assert.ok(maxDiff(x.grad!, ref) < 1e-4);
}));

test('after backward (also one that throws) the queue is empty and the table holds the kernels again', { skip: !native && 'native addon not built' }, () => onNative(() => {
  const before = { ...k };
  const g = new h.Generator(5);
  const x = h.randn([3, 4], { generator: g, requiresGrad: true }), w = h.randn([2, 4], { generator: g, requiresGrad: true });
  const bad = (t: Tensor): Tensor => record(new Tensor(t.data, t.shape), 'fails', [t], () => { throw new Error('boom'); });
  const y = h.linear(x, w);
  assert.throws(() => h.sum(h.linear(bad(y), h.ones([2, 2]))).backward(), /boom/);
  for (const name of Object.keys(before)) assert.equal((k as unknown as Record<string, unknown>)[name], (before as Record<string, unknown>)[name], name);
  // deferral is off: a kernel call runs at once
  assert.equal(deferKernels(false), false);
  flushKernels();
  const z = h.add(h.ones([3]), h.ones([3]));
  assert.deepEqual(Array.from(z.data), [2, 2, 2]);
}));

test('deferred backward keeps accumulation across calls and retainGrad', { skip: !native && 'native addon not built' }, () => onNative(() => {
  const g = new h.Generator(9);
  const x = h.randn([3, 4], { generator: g, requiresGrad: true }), w = h.randn([5, 4], { generator: g, requiresGrad: true });
  const step = () => {
    const y = h.linear(x, w).retainGrad();
    h.sum(y).backward();
    return y;
  };
  const y1 = step();
  const g1 = Array.from(w.grad!.data);
  step();
  w.grad!.data.forEach((v, i) => assert.ok(Math.abs(v - 2 * g1[i]) < 1e-5));
  assert.ok(Array.from(y1.grad!.data).every((v) => v === 1));
}));

test('Seq2SeqTransformer: the deferred forward gives the logits and gradients of the kernel-by-kernel one; a hook reads computed values', { skip: !native && 'native addon not built' }, () => onNative(() => {
  const src = h.tensor([[3, 4, 5, 0], [6, 7, 0, 0]], undefined, { dtype: 'int32' });
  const tgt = h.tensor([[1, 8, 9], [1, 10, 0]], undefined, { dtype: 'int32' });
  const run = (hooked: boolean) => {
    h.manualSeed(4);
    const m = new h.models.Seq2SeqTransformer({ srcVocabSize: 12, tgtVocabSize: 14, dModel: 16, numHeads: 2, dimFeedforward: 32, numEncoderLayers: 2, numDecoderLayers: 2, dropout: 0.1 }).train();
    let seen = NaN;
    // a hook that reads the layer's output in JS: the stack is then not fused throughout, nothing is deferred across it
    if (hooked) m.encoder.layers.toArray()[0].registerForwardHook((_m, _a, out) => { seen = Array.from((out as h.Tensor).data).reduce((s, v) => s + v, 0); });
    const logits = m.forward(src, tgt);
    h.sum(h.mul(logits, logits)).backward();
    return { logits, grads: m.parameters().map((p) => p.grad!), seen, m };
  };
  const plain = run(false), hooked = run(true);
  assert.equal(maxDiff(plain.logits, hooked.logits), 0);
  plain.grads.forEach((g, i) => assert.equal(maxDiff(g, hooked.grads[i]), 0, `gradient ${i}`));
  assert.ok(Number.isFinite(hooked.seen) && hooked.seen !== 0, `the hook read ${hooked.seen}`);
  // the forward's queue ran: nothing is left deferred after it
  assert.equal(deferKernels(false), false);
}));

test('a layer that cannot run fused (float64 input, a mask that requires grad) inside a deferred region runs the queue first and then kernel by kernel', { skip: !native && 'native addon not built' }, () => onNative(() => {
  h.manualSeed(2);
  const layer = new h.nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 });
  const x = h.randn([2, 3, 8], { dtype: 'float64' });
  const mask = h.zeros([3, 3], { requiresGrad: true });
  const ref = layer.forward(x, { mask });
  // an earlier op's kernel is queued when the layer starts: the layer's composed ops read its output
  deferKernels(true);
  const pre = h.mul(x, 1); // queued
  const y = layer.forward(pre, { mask });
  flushKernels();
  assert.equal(maxDiff(y, ref), 0);
  assert.equal(deferKernels(false), false);
}));
