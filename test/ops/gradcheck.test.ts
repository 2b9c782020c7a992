/**
 * Central-difference gradient checks, in float64 (reference kernels), for every name in
 * DIFFERENTIABLE_OPS. The cases table is the coverage list: the first test fails when a
 * differentiable op has no case here, or when an exported function is in neither
 * DIFFERENTIABLE_OPS nor NON_DIFFERENTIABLE_OPS (src/ops/index.ts).
 *
 * Inputs stay away from kinks (relu/abs at 0, ties in max/maximum) where the derivative
 * is not defined and central differences straddle two slopes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import * as ops from '../../src/ops/index.ts';
import type { Tensor } from '../../src/index.ts';

const gen = new h.Generator(2024);

/** float64 standard-normal leaf that requires grad. */
function r(shape: number[], scale = 1, shift = 0): Tensor {
  const t = h.randn(shape, { dtype: 'float64', generator: gen });
  for (let i = 0; i < t.size; i++) t.data[i] = t.data[i] * scale + shift;
  t.requiresGrad = true;
  return t;
}
/** Values in ±[0.3, 1.3): away from 0 (relu, abs, division). */
function nz(shape: number[]): Tensor {
  const t = r(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = (gen.uniform() < 0.5 ? -1 : 1) * (0.3 + gen.uniform());
  return t;
}
/** Values in [0.5, 1.5): positive (log, sqrt, pow base). */
function pos(shape: number[]): Tensor {
  const t = r(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = 0.5 + gen.uniform();
  return t;
}
const int = (data: number[], shape?: number[]) => h.tensor(data, shape, { dtype: 'int32' });
const bool = (data: number[], shape: number[]) => h.tensor(data, shape, { dtype: 'bool' });
const constant = (shape: number[]) => { const t = r(shape); t.requiresGrad = false; return t; };

interface Case {
  op: (typeof ops.DIFFERENTIABLE_OPS)[number];
  what: string;
  inputs: () => Tensor[];
  fn: (...x: Tensor[]) => Tensor;
  eps?: number;
  atol?: number;
}

const CASES: Case[] = [
  { op: 'add', what: 'broadcast (3,1,4) + (2,1)', inputs: () => [r([3, 1, 4]), r([2, 1])], fn: (a, b) => h.add(a, b) },
  { op: 'sub', what: 'broadcast (4) − (3,4)', inputs: () => [r([4]), r([3, 4])], fn: (a, b) => h.sub(a, b) },
  { op: 'mul', what: 'broadcast (2,3) · ()', inputs: () => [r([2, 3]), r([])], fn: (a, b) => h.mul(a, b) },
  { op: 'div', what: 'broadcast (3,4) / (4)', inputs: () => [r([3, 4]), nz([4])], fn: (a, b) => h.div(a, b) },
  { op: 'pow', what: 'positive base, tensor exponent', inputs: () => [pos([3, 4]), r([4], 0.7)], fn: (a, b) => h.pow(a, b) },
  { op: 'pow', what: 'number exponent', inputs: () => [pos([5])], fn: (a) => h.pow(a, 3) },
  { op: 'maximum', what: 'broadcast, no ties', inputs: () => [r([3, 4]), r([4])], fn: (a, b) => h.maximum(a, b) },
  { op: 'minimum', what: 'broadcast, no ties', inputs: () => [r([3, 4]), r([3, 1])], fn: (a, b) => h.minimum(a, b) },
  { op: 'neg', what: '(3,4)', inputs: () => [r([3, 4])], fn: (x) => h.neg(x) },
  { op: 'exp', what: '(3,4)', inputs: () => [r([3, 4])], fn: (x) => h.exp(x) },
  { op: 'log', what: 'positive', inputs: () => [pos([3, 4])], fn: (x) => h.log(x) },
  { op: 'sqrt', what: 'positive', inputs: () => [pos([3, 4])], fn: (x) => h.sqrt(x) },
  { op: 'tanh', what: '(3,4)', inputs: () => [r([3, 4], 2)], fn: (x) => h.tanh(x) },
  { op: 'sigmoid', what: '(3,4)', inputs: () => [r([3, 4], 2)], fn: (x) => h.sigmoid(x) },
  { op: 'relu', what: 'away from 0', inputs: () => [nz([3, 4])], fn: (x) => h.relu(x) },
  { op: 'gelu', what: 'exact (erf)', inputs: () => [r([3, 5], 2)], fn: (x) => h.gelu(x) },
  { op: 'gelu', what: 'tanh approximation', inputs: () => [r([3, 5], 2)], fn: (x) => h.gelu(x, { approximate: 'tanh' }) },
  { op: 'silu', what: '(3,4)', inputs: () => [r([3, 4], 2)], fn: (x) => h.silu(x) },
  { op: 'abs', what: 'away from 0', inputs: () => [nz([3, 4])], fn: (x) => h.abs(x) },
  // float64 → float32 → float64: the float32 rounding needs a wide step and bound
  { op: 'toFloat', what: 'float64 → float32 round trip', inputs: () => [r([6])], fn: (x) => h.toFloat(h.toFloat(x, 'float32'), 'float64'), eps: 1e-2, atol: 1e-4 },

  { op: 'sum', what: 'dims [0, 2], keepDim', inputs: () => [r([2, 3, 4])], fn: (x) => h.sum(x, [0, 2], { keepDim: true }) },
  { op: 'sum', what: 'all dims', inputs: () => [r([2, 3])], fn: (x) => h.sum(x) },
  { op: 'mean', what: 'dim -1', inputs: () => [r([2, 3, 4])], fn: (x) => h.mean(x, -1) },
  { op: 'max', what: 'dim 1 (no ties)', inputs: () => [r([3, 5])], fn: (x) => h.max(x, 1) },
  { op: 'max', what: 'dims [0, 2] keepDim', inputs: () => [r([2, 3, 4])], fn: (x) => h.max(x, [0, 2], { keepDim: true }) },
  { op: 'min', what: 'all dims', inputs: () => [r([3, 4])], fn: (x) => h.min(x) },
  { op: 'logsumexp', what: 'dim 1, large values', inputs: () => [r([3, 5], 10)], fn: (x) => h.logsumexp(x, 1) },
  { op: 'variance', what: 'dims [0, 2], correction 1', inputs: () => [r([2, 3, 4])], fn: (x) => h.variance(x, [0, 2]) },
  { op: 'variance', what: 'dim -1, correction 0, keepDim', inputs: () => [r([3, 5])], fn: (x) => h.variance(x, -1, { correction: 0, keepDim: true }) },

  { op: 'reshape', what: '(2,3,4) → (4,-1)', inputs: () => [r([2, 3, 4])], fn: (x) => h.reshape(x, [4, -1]) },
  { op: 'view', what: '(6) → (2,3)', inputs: () => [r([6])], fn: (x) => h.view(x, [2, 3]) },
  { op: 'flatten', what: 'dims 1..2', inputs: () => [r([2, 3, 2, 2])], fn: (x) => h.flatten(x, 1, 2) },
  { op: 'permute', what: '[2, 0, 1]', inputs: () => [r([2, 3, 4])], fn: (x) => h.permute(x, [2, 0, 1]) },
  { op: 'transpose', what: '(0, 2)', inputs: () => [r([2, 3, 4])], fn: (x) => h.transpose(x, 0, 2) },
  { op: 'unsqueeze', what: 'dim 1', inputs: () => [r([3, 4])], fn: (x) => h.unsqueeze(x, 1) },
  { op: 'squeeze', what: 'all size-1 dims', inputs: () => [r([3, 1, 4, 1])], fn: (x) => h.squeeze(x) },
  { op: 'expand', what: '(3,1) → (2,3,4)', inputs: () => [r([3, 1])], fn: (x) => h.expand(x, [2, 3, 4]) },
  { op: 'cat', what: 'three tensors on dim 1', inputs: () => [r([2, 1, 3]), r([2, 2, 3]), r([2, 3, 3])], fn: (a, b, c) => h.cat([a, b, c], 1) },
  { op: 'stack', what: 'two tensors on a new last dim', inputs: () => [r([3, 2]), r([3, 2])], fn: (a, b) => h.stack([a, b], -1) },
  { op: 'narrow', what: 'dim 1 start 1 length 2', inputs: () => [r([3, 5])], fn: (x) => h.narrow(x, 1, 1, 2) },
  { op: 'slice', what: 'negative start', inputs: () => [r([5, 3])], fn: (x) => h.slice(x, 0, -3, -1) },
  { op: 'split', what: 'sizes [1, 3, 1], pieces scaled then concatenated', inputs: () => [r([5, 2])],
    fn: (x) => h.cat(h.split(x, [1, 3, 1]).map((p, i) => h.mul(p, i + 1))) },
  { op: 'chunk', what: '3 chunks of dim 1', inputs: () => [r([2, 7])], fn: (x) => h.cat(h.chunk(x, 3, 1).map((p, i) => h.mul(p, i + 2)), 1) },

  { op: 'indexSelect', what: 'repeated indices accumulate', inputs: () => [r([4, 3])], fn: (x) => h.indexSelect(x, 0, int([3, 0, 3, 1])) },
  { op: 'gather', what: 'dim 1', inputs: () => [r([3, 4])], fn: (x) => h.gather(x, 1, int([0, 3, 3, 1, 2, 2], [3, 2])) },
  { op: 'maskedFill', what: 'broadcast mask', inputs: () => [r([2, 3])], fn: (x) => h.maskedFill(x, bool([1, 0, 1], [3]), -1) },
  { op: 'where', what: 'cond (2,1), a (3), b (2,3)', inputs: () => [r([3]), r([2, 3])], fn: (a, b) => h.where(bool([1, 0], [2, 1]), a, b) },
  // paddingIdx is left out on purpose: it zeroes a gradient the function does have (as torch),
  // so central differences disagree by design; the parity fixtures check it instead.
  { op: 'embedding', what: 'repeated rows', inputs: () => [r([5, 3])], fn: (w) => h.embedding(int([0, 2, 2, 4, 1], [5]), w) },

  { op: 'matmul', what: 'batch broadcast (2,1,3,4)·(3,4,2)', inputs: () => [r([2, 1, 3, 4]), r([3, 4, 2])], fn: (a, b) => h.matmul(a, b) },
  { op: 'matmul', what: 'shared b (2,3,4)·(4,5)', inputs: () => [r([2, 3, 4]), r([4, 5])], fn: (a, b) => h.matmul(a, b) },
  { op: 'matmul', what: '1-D · 2-D and 1-D · 1-D', inputs: () => [r([4]), r([4, 3]), r([4])], fn: (a, b, c) => h.add(h.matmul(a, b), h.matmul(a, c)) },
  { op: 'linear', what: 'with bias, 3-D input', inputs: () => [r([2, 3, 4]), r([5, 4]), r([5])], fn: (x, w, b) => h.linear(x, w, b) },
  { op: 'linear', what: 'no bias', inputs: () => [r([3, 4]), r([2, 4])], fn: (x, w) => h.linear(x, w) },
  { op: 'softmax', what: 'dim 1 of 3-D', inputs: () => [r([2, 4, 3], 2)], fn: (x) => h.softmax(x, 1) },
  { op: 'logSoftmax', what: 'last dim', inputs: () => [r([3, 5], 2)], fn: (x) => h.logSoftmax(x, -1) },
  { op: 'layerNorm', what: 'weight and bias over the last 2 dims', inputs: () => [r([2, 3, 4]), r([3, 4]), r([3, 4])],
    fn: (x, w, b) => h.layerNorm(x, [3, 4], w, b) },
  { op: 'layerNorm', what: 'no affine', inputs: () => [r([3, 5])], fn: (x) => h.layerNorm(x, [5]) },
  { op: 'layerNormReference', what: 'weight and bias', inputs: () => [r([3, 5]), r([5]), r([5])], fn: (x, w, b) => h.layerNormReference(x, [5], w, b) },
  { op: 'rmsNorm', what: 'with weight', inputs: () => [r([3, 5]), r([5])], fn: (x, w) => h.rmsNorm(x, [5], w) },
  { op: 'rmsNormReference', what: 'with weight', inputs: () => [r([3, 5]), r([5])], fn: (x, w) => h.rmsNormReference(x, [5], w) },
  { op: 'batchNorm', what: 'training, (B, C, H, W), weight and bias', inputs: () => [r([3, 2, 2, 3]), r([2]), r([2])],
    fn: (x, w, b) => h.batchNorm(x, null, null, { weight: w, bias: b, training: true }) },
  { op: 'batchNorm', what: 'eval with running statistics, (B, C)', inputs: () => [r([3, 4]), r([4])],
    fn: (x, w) => h.batchNorm(x, h.zeros([4], { dtype: 'float64' }).add(0.5), h.ones([4], { dtype: 'float64' }).mul(2), { weight: w }) },
  { op: 'batchNorm', what: 'training, fused ReLU, (B, C, H, W)', inputs: () => [r([3, 2, 2, 3]), r([2]), r([2])],
    fn: (x, w, b) => h.batchNorm(x, null, null, { weight: w, bias: b, training: true, relu: true }) },
  { op: 'batchNormReference', what: 'training, (B, C, L), weight and bias', inputs: () => [r([3, 2, 4]), r([2]), r([2])],
    fn: (x, w, b) => h.batchNormReference(x, null, null, { weight: w, bias: b, training: true }) },
  { op: 'im2col', what: 'kernel [2, 3], stride [2, 1], padding [1, 2], dilation [1, 2]', inputs: () => [r([2, 2, 4, 5])],
    fn: (x) => h.im2col(x, { kernelSize: [2, 3], stride: [2, 1], padding: [1, 2], dilation: [1, 2] }) },
  { op: 'conv2d', what: 'padding 1, stride 2, bias', inputs: () => [r([2, 3, 5, 4]), r([4, 3, 3, 3]), r([4])],
    fn: (x, w, b) => h.conv2d(x, w, b, { padding: 1, stride: 2 }) },
  { op: 'conv2d', what: 'groups 2 (4 → 6 channels), no bias', inputs: () => [r([1, 4, 4, 4]), r([6, 2, 2, 2])],
    fn: (x, w) => h.conv2d(x, w, null, { groups: 2 }) },
  { op: 'conv1d', what: 'dilation 2, padding 2', inputs: () => [r([2, 3, 7]), r([2, 3, 3]), r([2])],
    fn: (x, w, b) => h.conv1d(x, w, b, { dilation: 2, padding: 2 }) },
  { op: 'maxPool2d', what: 'kernel 3, stride 2, padding 1, ceilMode', inputs: () => [r([2, 2, 5, 6])],
    fn: (x) => h.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }) },
  { op: 'avgPool2d', what: 'kernel [2, 3], padding [1, 1], counting the padding', inputs: () => [r([2, 2, 4, 5])],
    fn: (x) => h.avgPool2d(x, { kernelSize: [2, 3], padding: [1, 1] }) },
  { op: 'avgPool2d', what: 'ceilMode, padding not counted', inputs: () => [r([1, 2, 5, 5])],
    fn: (x) => h.avgPool2d(x, { kernelSize: 2, ceilMode: true, countIncludePad: false }) },
  { op: 'adaptiveMaxPool2d', what: '5×7 → 3×4 (overlapping windows)', inputs: () => [r([2, 2, 5, 7])], fn: (x) => h.adaptiveMaxPool2d(x, [3, 4]) },
  { op: 'adaptiveAvgPool2d', what: '5×7 → 3×4 (overlapping windows)', inputs: () => [r([2, 2, 5, 7])], fn: (x) => h.adaptiveAvgPool2d(x, [3, 4]) },
  { op: 'dropout', what: 'fixed generator, so the mask repeats on every evaluation', inputs: () => [r([4, 5])],
    fn: (x) => h.dropout(x, 0.4, { generator: new h.Generator(9) }) },

  { op: 'crossEntropy', what: 'label smoothing and ignoreIndex, mean', inputs: () => [r([5, 4])],
    fn: (x) => h.crossEntropy(x, int([1, 3, -100, 0, 2]), { labelSmoothing: 0.2 }) },
  { op: 'crossEntropy', what: '(N, C, d) input, reduction none', inputs: () => [r([2, 3, 4])],
    fn: (x) => h.crossEntropy(x, int([0, 1, 2, 0, 2, 2, 1, 0], [2, 4]), { reduction: 'none' }) },
  { op: 'crossEntropy', what: 'class weights (composed path), sum', inputs: () => [r([4, 3])],
    fn: (x) => h.crossEntropy(x, int([2, 0, 1, 2]), { weight: h.tensor([0.5, 2, 1], undefined, { dtype: 'float64' }), reduction: 'sum' }) },
  { op: 'nllLoss', what: 'class weights, sum', inputs: () => [r([4, 3])],
    fn: (x) => h.nllLoss(x, int([2, 0, 1, 2]), { weight: h.tensor([0.5, 2, 1], undefined, { dtype: 'float64' }), reduction: 'sum' }) },
  { op: 'mseLoss', what: 'mean, gradient to both', inputs: () => [r([3, 4]), r([3, 4])], fn: (x, y) => h.mseLoss(x, y) },
  { op: 'binaryCrossEntropyWithLogits', what: 'soft targets and a 0/1 weight, sum', inputs: () => [r([3, 4])],
    fn: (x) => h.binaryCrossEntropyWithLogits(x, h.tensor([[0, 1, 0.3, 1], [1, 0, 0, 0.5], [0, 0, 1, 1]], undefined, { dtype: 'float64' }),
      { weight: h.tensor([[1, 1, 0, 1], [1, 1, 1, 1], [0, 1, 1, 1]], undefined, { dtype: 'float64' }), reduction: 'sum' }) },

  { op: 'scaledDotProductAttention', what: 'causal, 4-D', inputs: () => [r([1, 2, 4, 3]), r([1, 2, 4, 3]), r([1, 2, 4, 3])],
    fn: (q, k, v) => h.scaledDotProductAttention(q, k, v, { isCausal: true }) },
  { op: 'scaledDotProductAttention', what: 'bool mask, L ≠ S, GQA', inputs: () => [r([1, 2, 3, 4]), r([1, 1, 5, 4]), r([1, 1, 5, 2])],
    fn: (q, k, v) => h.scaledDotProductAttention(q, k, v, { attnMask: bool([1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1], [3, 5]), enableGqa: true }) },
  { op: 'scaledDotProductAttention', what: 'gradient into an additive float mask', inputs: () => [r([2, 3, 4]), r([2, 3, 4]), r([2, 3, 4]), r([3, 3])],
    fn: (q, k, v, m) => h.scaledDotProductAttention(q, k, v, { attnMask: m }) },
  { op: 'scaledDotProductAttentionReference', what: 'causal bottom-right, scale', inputs: () => [r([1, 2, 2, 3]), r([1, 2, 4, 3]), r([1, 2, 4, 3])],
    fn: (q, k, v) => h.scaledDotProductAttentionReference(q, k, v, { isCausal: true, causalAlignment: 'bottom-right', scale: 0.7 }) },
];

test('every exported op is classified, and every differentiable one has a gradcheck case', () => {
  const exported = Object.entries(ops).filter(([, v]) => typeof v === 'function').map(([n]) => n).sort();
  const diff = new Set<string>(ops.DIFFERENTIABLE_OPS), nondiff = new Set<string>(ops.NON_DIFFERENTIABLE_OPS);
  const unclassified = exported.filter((n) => !diff.has(n) && !nondiff.has(n));
  assert.deepEqual(unclassified, [], `exported from src/ops/index.ts but in neither DIFFERENTIABLE_OPS nor NON_DIFFERENTIABLE_OPS: ${unclassified.join(', ')}`);
  const both = [...diff].filter((n) => nondiff.has(n));
  assert.deepEqual(both, [], `listed as both differentiable and not: ${both.join(', ')}`);
  const stale = [...diff, ...nondiff].filter((n) => !exported.includes(n));
  assert.deepEqual(stale, [], `listed but not exported: ${stale.join(', ')}`);
  const covered = new Set(CASES.map((c) => c.op));
  const missing = [...diff].filter((n) => !covered.has(n as Case['op']));
  assert.deepEqual(missing, [], `differentiable ops without a gradcheck case: ${missing.join(', ')}. Add one to CASES in test/ops/gradcheck.test.ts.`);
});

test('non-differentiable ops record nothing, even on inputs that require grad', () => {
  const x = h.randn([3, 4], { requiresGrad: true }), y = h.randn([3, 4], { requiresGrad: true });
  const outs: Record<(typeof ops.NON_DIFFERENTIABLE_OPS)[number], Tensor> = {
    eq: h.eq(x, y), ne: h.ne(x, y), lt: h.lt(x, y), le: h.le(x, y), gt: h.gt(x, y), ge: h.ge(x, y),
    logicalAnd: h.logicalAnd(h.gt(x, 0), h.gt(y, 0)), logicalOr: h.logicalOr(h.gt(x, 0), h.gt(y, 0)), logicalNot: h.logicalNot(h.gt(x, 0)),
    toInt: h.toInt(x), argmax: h.argmax(x, 1), sumToShape: h.noGrad(() => h.sumToShape(x, [1, 4])),
  };
  for (const [name, t] of Object.entries(outs)) assert.equal(t.requiresGrad, false, `${name} output requires grad`);
});

for (const c of CASES) {
  test(`${c.op} gradient matches central differences (${c.what})`, () => {
    const inputs = c.inputs();
    const res = h.gradcheck(c.fn, inputs, { eps: c.eps ?? 1e-6, atol: c.atol ?? 1e-6, rtol: 1e-5 });
    const w = res.worst;
    assert.deepEqual(res.missingGrad, [], `${c.op}: inputs ${res.missingGrad.join(', ')} require grad but got no gradient from backward`);
    assert.ok(res.ok, `${c.op}: analytic ${w?.analytic} vs numeric ${w?.numeric} at input ${w?.input} element ${w?.index} (max abs error ${res.maxAbsError.toExponential(2)})`);
  });
}
