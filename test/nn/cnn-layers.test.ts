/**
 * Behaviour of the CNN layers and GRU beyond PyTorch parity (test/nn/cnn-parity.test.ts):
 * float64 gradchecks through the modules, BatchNorm's train/eval contract and state dict,
 * the pooling window rules, grouped convolution as separate convolutions, and bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from '../../src/index.ts';
import { nn } from '../../src/index.ts';

const f64 = (shape: number[]): h.Tensor => h.randn(shape, { dtype: 'float64', requiresGrad: true });

test('gradcheck in float64 through BatchNorm2d (training), BatchNorm1d (eval), pooling, grouped Conv2d, SqueezeExcitation, CBAM and GRU', () => {
  h.manualSeed(3);
  const cases: [string, nn.Module, (x: h.Tensor) => h.Tensor, number[]][] = [];
  const bn2 = new nn.BatchNorm2d(2).to('float64'); cases.push(['BatchNorm2d', bn2, (x) => bn2.forward(x), [3, 2, 2, 2]]);
  const bn1 = new nn.BatchNorm1d(3).to('float64').eval(); cases.push(['BatchNorm1d eval', bn1, (x) => bn1.forward(x), [2, 3, 2]]);
  const mp = new nn.MaxPool2d(2, { stride: 1 }); cases.push(['MaxPool2d', mp, (x) => mp.forward(x), [1, 2, 3, 3]]);
  const ap = new nn.AdaptiveAvgPool2d([2, 3]); cases.push(['AdaptiveAvgPool2d', ap, (x) => ap.forward(x), [1, 2, 3, 4]]);
  const gc = new nn.Conv2d(4, 2, 3, { padding: 1, groups: 2 }).to('float64'); cases.push(['Conv2d groups', gc, (x) => gc.forward(x), [1, 4, 3, 3]]);
  const dw = new nn.Conv2d(2, 2, 3, { stride: 2, groups: 2 }).to('float64'); cases.push(['Conv2d depthwise', dw, (x) => dw.forward(x), [1, 2, 5, 5]]);
  const se = new nn.SqueezeExcitation(4, 2).to('float64'); cases.push(['SqueezeExcitation', se, (x) => se.forward(x), [2, 4, 2, 3]]);
  const cb = new nn.CBAM(4, { reduction: 2, spatialKernelSize: 3 }).to('float64'); cases.push(['CBAM', cb, (x) => cb.forward(x), [1, 4, 3, 3]]);
  const gru = new nn.GRU(2, 3, { numLayers: 2, bidirectional: true }).to('float64'); cases.push(['GRU', gru, (x) => gru.forward(x).output, [2, 3, 2]]);
  for (const [name, m, run, shape] of cases) {
    const x = f64(shape);
    const r = h.gradcheck((xx, ...ps) => { void ps; return run(xx); }, [x, ...m.parameters()]);
    assert.ok(r.ok, `${name}: ${JSON.stringify(r)}`);
  }
});

test('BatchNorm2d state dict holds weight, bias and the buffers runningMean, runningVar, numBatchesTracked (PyTorch names in camelCase)', () => {
  const bn = new nn.BatchNorm2d(3);
  const sd = bn.stateDict();
  assert.deepEqual(Object.keys(sd).sort(), ['bias', 'numBatchesTracked', 'runningMean', 'runningVar', 'weight']);
  assert.deepEqual(bn.namedParameters().map(([n]) => n), ['weight', 'bias']);
  assert.equal(sd.numBatchesTracked.dtype, 'int32');
  assert.deepEqual(Array.from(sd.runningVar.data), [1, 1, 1]);
  // inside a model the buffers get dotted names like any parameter
  const net = new nn.Sequential(new nn.Conv2d(1, 3, 3), new nn.BatchNorm2d(3));
  assert.ok('1.runningMean' in net.stateDict() && '1.numBatchesTracked' in net.stateDict());
  // float64 conversion leaves the integer counter an integer, as PyTorch's .double()
  bn.to('float64');
  assert.equal(bn.runningMean!.dtype, 'float64');
  assert.equal(bn.numBatchesTracked!.dtype, 'int32');
});

test('BatchNorm2d uses batch statistics in train() and running statistics in eval(), and eval never changes them', () => {
  h.manualSeed(4);
  const bn = new nn.BatchNorm2d(2, { affine: false });
  const x = h.randn([8, 2, 3, 3]).mul(3).add(5);
  const y = bn.forward(x);
  // training: every channel of the output has mean 0 and (biased) variance ≈ 1
  const m = h.mean(y, [0, 2, 3]), v = h.variance(y, [0, 2, 3], { correction: 0 });
  for (let c = 0; c < 2; c++) {
    assert.ok(Math.abs(m.data[c]) < 1e-5);
    assert.ok(Math.abs(v.data[c] - 1) < 1e-3);
  }
  assert.equal(bn.numBatchesTracked!.data[0], 1);
  const running = Array.from(bn.runningMean!.data);
  bn.eval();
  const a = bn.forward(x), b = bn.forward(h.narrow(x, 0, 0, 1));
  // eval: a sample's output does not depend on the rest of its batch, and the statistics stay put
  for (let i = 0; i < b.size; i++) assert.ok(Math.abs(a.data[i] - b.data[i]) < 1e-6);
  assert.deepEqual(Array.from(bn.runningMean!.data), running);
  assert.equal(bn.numBatchesTracked!.data[0], 1);
});

test('BatchNorm with trackRunningStats false has no buffers and normalizes with the batch in eval too', () => {
  const bn = new nn.BatchNorm1d(2, { trackRunningStats: false }).eval();
  assert.deepEqual(Object.keys(bn.stateDict()).sort(), ['bias', 'weight']);
  const y = bn.forward(h.tensor([[1, 10], [3, 30]]));
  assert.deepEqual(Array.from(y.data).map((v) => Math.round(v * 1000) / 1000), [-1, -1, 1, 1]);
});

test('BatchNorm running statistics survive a checkpoint round trip', async () => {
  h.manualSeed(5);
  const bn = new nn.BatchNorm2d(3);
  for (let i = 0; i < 3; i++) bn.forward(h.randn([4, 3, 2, 2]).add(i));
  const dir = mkdtempSync(join(tmpdir(), 'heed-bn-'));
  try {
    await h.saveCheckpoint(join(dir, 'ckpt'), { task: 'test', runId: 'r', config: {}, weights: bn.stateDict() });
    const loaded = await h.loadCheckpoint(join(dir, 'ckpt'));
    const fresh = new nn.BatchNorm2d(3);
    fresh.loadStateDict(loaded.weights);
    assert.deepEqual(Array.from(fresh.runningMean!.data), Array.from(bn.runningMean!.data));
    assert.deepEqual(Array.from(fresh.runningVar!.data), Array.from(bn.runningVar!.data));
    assert.equal(fresh.numBatchesTracked!.data[0], 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('adaptive pooling windows follow PyTorch: start ⌊i·H/Ho⌋, end ⌈(i+1)·H/Ho⌉ (overlapping when H is not a multiple)', () => {
  const x = h.tensor([1, 2, 3, 4, 5], [1, 1, 1, 5]);
  // 5 → 3: windows [0,2) [1,4) [3,5)
  assert.deepEqual(Array.from(h.adaptiveAvgPool2d(x, [1, 3]).data), [1.5, 3, 4.5]);
  assert.deepEqual(Array.from(h.adaptiveMaxPool2d(x, [1, 3]).data), [2, 4, 5]);
  // a 3-D (C, H, W) input is a batch of one
  assert.deepEqual(h.maxPool2d(h.zeros([2, 4, 4]), { kernelSize: 2 }).shape, [2, 2, 2]);
});

test('max pooling sends the gradient to the first maximum only; average pooling with padding divides by the padded window', () => {
  const x = h.tensor([[[[1, 3], [3, 0]]]], undefined, { requiresGrad: true });
  h.maxPool2d(x, { kernelSize: 2 }).sum().backward();
  assert.deepEqual(Array.from(x.grad!.data), [0, 1, 0, 0]);
  const ones = h.ones([1, 1, 2, 2]);
  // 3×3 window at padding 1 over a 2×2 plane: 4 real cells / 9 counted, or 4 / 4 without the padding
  assert.ok(Math.abs(h.avgPool2d(ones, { kernelSize: 3, padding: 1 }).data[0] - 4 / 9) < 1e-7);
  assert.equal(h.avgPool2d(ones, { kernelSize: 3, padding: 1, countIncludePad: false }).data[0], 1);
});

test('a grouped Conv2d equals separate convolutions over each channel group', () => {
  h.manualSeed(6);
  const g = new nn.Conv2d(4, 6, 3, { padding: 1, groups: 2 });
  assert.deepEqual(g.weight.shape, [6, 2, 3, 3]);
  const x = h.randn([2, 4, 5, 5]);
  const y = g.forward(x);
  for (let grp = 0; grp < 2; grp++) {
    const c = new nn.Conv2d(2, 3, 3, { padding: 1 });
    c.loadStateDict({ weight: h.narrow(g.weight, 0, 3 * grp, 3), bias: h.narrow(g.bias!, 0, 3 * grp, 3) });
    const part = c.forward(h.narrow(x, 1, 2 * grp, 2));
    const want = h.narrow(y, 1, 3 * grp, 3);
    for (let i = 0; i < part.size; i++) assert.ok(Math.abs(part.data[i] - want.data[i]) < 1e-5);
  }
});

test('SqueezeExcitation and CBAM keep the input shape and only rescale it by gates in (0, 1)', () => {
  h.manualSeed(7);
  const x = h.rand([2, 8, 5, 5]).add(0.1);
  for (const m of [new nn.SqueezeExcitation(8, 2), new nn.CBAM(8, { reduction: 4 })]) {
    const y = m.forward(x);
    assert.deepEqual(y.shape, x.shape);
    for (let i = 0; i < y.size; i++) assert.ok(y.data[i] > 0 && y.data[i] < x.data[i], `${m.constructor.name} at ${i}`);
  }
  assert.deepEqual(new nn.CBAM(8).namedParameters().map(([n]) => n),
    ['channelAttention.fc1.weight', 'channelAttention.fc1.bias', 'channelAttention.fc2.weight', 'channelAttention.fc2.bias', 'spatialAttention.conv.weight']);
});

test('GRU names its parameters as LSTM does (weightIhL0, …, Reverse) with 3 gates, and its state is only h', () => {
  const g = new nn.GRU(3, 4, { numLayers: 2, bidirectional: true });
  const names = g.namedParameters().map(([n, p]) => `${n}:${p.shape.join('x')}`);
  assert.deepEqual(names.slice(0, 4), ['weightIhL0:12x3', 'weightHhL0:12x4', 'biasIhL0:12', 'biasHhL0:12']);
  assert.ok(names.includes('weightIhL1Reverse:12x8'));
  const r = g.forward(h.randn([2, 5, 3]));
  assert.deepEqual(r.output.shape, [2, 5, 8]);
  assert.deepEqual(r.h.shape, [4, 2, 4]);
  assert.equal((r as Record<string, unknown>).c, undefined);
});

test('bad CNN layer arguments are ConfigErrors; wrong inputs are ShapeErrors or ValueErrors saying what was expected', () => {
  assert.throws(() => new nn.Conv2d(4, 6, 3, { groups: 3 }), (e: Error) => e instanceof h.ConfigError && /divisible by groups=3/.test(e.message));
  assert.throws(() => new nn.Conv2d(4, 4, 3, { groups: 0 }), h.ConfigError);
  assert.throws(() => new nn.CBAM(8, { spatialKernelSize: 4 }), h.ConfigError);
  assert.throws(() => new nn.BatchNorm2d(3, { momentum: 2 }), h.ConfigError);
  assert.throws(() => new nn.BatchNorm2d(3).forward(h.zeros([2, 4, 2, 2])), (e: Error) => e instanceof h.ShapeError && /numFeatures = 3/.test(e.message));
  assert.throws(() => new nn.BatchNorm2d(3).forward(h.zeros([2, 3, 4])), (e: Error) => e instanceof h.ShapeError && /BatchNorm1d/.test(e.message));
  assert.throws(() => new nn.BatchNorm1d(3).forward(h.zeros([1, 3])), (e: Error) => e instanceof h.ValueError && /more than 1 value per channel/.test(e.message));
  assert.throws(() => h.maxPool2d(h.zeros([1, 1, 4, 4]), { kernelSize: 2, padding: 2 }), (e: Error) => e instanceof h.ConfigError && /half of kernelSize/.test(e.message));
  assert.throws(() => h.avgPool2d(h.zeros([1, 1, 2, 2]), { kernelSize: 3 }), h.ShapeError);
  assert.throws(() => h.adaptiveAvgPool2d(h.zeros([1, 4, 4]).reshape([16]), 2), h.ShapeError);
  assert.throws(() => h.adaptiveMaxPool2d(h.zeros([1, 1, 4, 4]), 0), h.ConfigError);
  assert.throws(() => h.maxPool2d(h.zeros([1, 1, 4, 4]), {} as h.Pool2dOptions), h.ConfigError);
  assert.throws(() => new nn.SqueezeExcitation(8, 2).forward(h.zeros([1, 4, 2, 2])), h.ShapeError);
  assert.throws(() => new nn.GRU(3, 4).forward(h.zeros([1, 2, 5])), h.ShapeError);
  assert.throws(() => new nn.GRU(3, 4).forward(h.zeros([1, 2, 3]), h.zeros([2, 1, 4])), (e: Error) => e instanceof h.ShapeError && /\[1, 1, 4\]/.test(e.message));
});
