/**
 * Every native binding rejects bad arguments with a TypeError or RangeError that
 * names the kernel, and never crashes the process: wrong array types, wrong
 * lengths, negative, fractional and huge dims, missing arguments. The checks are
 * the generic checker's (native/binding.cpp) reading each kernel's spec.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { native, rng } from './helpers.js';
import { kernelSpecs } from '../../src/backend/registry.js';
import { passedArgs } from '../../src/backend/spec.js';

type Fn = (p: Record<string, unknown>) => void;
/** The kernel's parameter object from its args in spec order. */
function named(name: string, args: unknown[]): Record<string, unknown> {
  const names = passedArgs(kernelSpecs().get(name)!);
  assert.equal(args.length, names.length, `${name}: the valid call has ${args.length} args, the spec ${names.length}`);
  return Object.fromEntries(names.map((n, i) => [n, args[i]]));
}
const f = (n: number) => new Float32Array(n);
const i32 = (n: number) => new Int32Array(n);
const i8 = (n: number) => new Int8Array(n);

// One valid call per kernel; the fuzzer mutates one argument at a time.
const valid: Record<string, () => unknown[]> = {
  sgemm: () => [f(6), f(12), f(8), 1, 2, 4, 3, false, false, 1, 0, 6, 12, 8, null, 0],
  // g (2, 4), x (2, 3), w (4, 3), gx (2, 3), gw (4, 3); rows 2, inF 3, outF 4
  linearBackward: () => [f(8), f(6), f(12), f(6), f(12), 2, 3, 4],
  // the same, and gb (4), maskScale 0 (gx unmasked)
  linearBackwardFused: () => [f(8), f(6), f(12), f(6), f(12), f(4), 2, 3, 4, 0],
  attentionForward: () => [f(2 * 3 * 4), f(3 * 4), f(3 * 5), f(2 * 3 * 5), f(2 * 3), 1, 2, 1, 3, 3, 4, 5, 0.5, true, 0, null, null, 0, 0, null, 0, 1, 3],
  attentionBackward: () => [f(24), f(12), f(15), f(30), f(30), f(6), f(24), f(12), f(15), 1, 2, 1, 3, 3, 4, 5, 0.5, false, 0, null, null, 0, 0, null, 0, 1],
  // (B, L, H·d) layouts: q (1, 3, 2·4), k (1, 3, 4), v (1, 3, 5), out (1, 3, 2·5)
  attentionForwardStrided: () => [f(24), f(12), f(15), f(30), f(6), 1, 2, 1, 3, 3, 4, 5, 0.5, true, 0, null, null, 0, 0, null, 0, 1, 24, 4, 8, 12, 4, 4, 15, 5, 5, 30, 5, 10],
  attentionBackwardStrided: () => [f(24), f(12), f(15), f(30), f(30), f(6), f(24), f(12), f(15), 1, 2, 1, 3, 3, 4, 5, 0.5, false, 0, null, null, 0, 0, null, 0, 1, 24, 4, 8, 12, 4, 4, 15, 5, 5, 30, 5, 10],
  softmaxForward: () => [f(12), f(12), 2, 3, 2, false],
  softmaxBackward: () => [f(12), f(12), f(12), 2, 3, 2, true],
  layerNormForward: () => [f(12), f(4), f(4), f(12), f(3), f(3), 3, 4, 1e-5],
  layerNormBackward: () => [f(12), f(4), f(3), f(3), f(12), null, f(12), null, f(4), f(4), 3, 4],
  layerNormBackwardDropout: () => [f(12), f(4), f(3), f(3), f(12), null, f(12), null, f(4), f(4), f(12), 3, 4, 0.1, 7],
  rmsNormForward: () => [f(12), null, f(12), f(3), 3, 4, 1e-5],
  rmsNormBackward: () => [f(12), f(4), f(3), f(12), f(12), null, 3, 4],
  unary: () => [7, f(10), f(10)],
  unaryBackward: () => [7, f(10), f(10), f(10), f(10)],
  binarySame: () => [0, f(10), f(10), f(10)],
  binaryBroadcast: () => [2, f(6), [3, 1], f(3), [0, 1], f(6), [2, 3]],
  embeddingForward: () => [f(20), Int32Array.from([0, 4, 2]), f(12), 4],
  embeddingBackward: () => [f(12), Int32Array.from([0, 4, 2]), f(20), 4, -1],
  // table (5, 4), ids (1, 3), positions (6, 4) from row 2, scale 2, p 0.1, seed 7
  embedPositionsForward: () => [f(20), Int32Array.from([0, 4, 2]), f(24), f(12), 4, 3, 2, 2, 0.1, 7],
  embedPositionsBackward: () => [f(12), Int32Array.from([0, 4, 2]), f(20), 4, -1, 2, 0.1, 7],
  crossEntropyForward: () => [f(12), Int32Array.from([0, 3, -100]), f(3), f(3), 3, 4, -100, 0.1],
  crossEntropyBackward: () => [f(12), Int32Array.from([0, 3, 1]), f(3), f(3), f(12), 3, 4, -100, 0],
  adamwStep: () => [f(10), f(10), f(10), f(10), 1e-3, 0.9, 0.999, 1e-8, 0.01, 1],
  sumSquares: () => [f(10), f(2)],
  scaleInPlace: () => [f(10), 0.5],
  // array lists: params, grads, m, v (2 tensors each), per-tensor hyper-parameters
  adamwStepMulti: () => [[f(10), f(3)], [f(10), f(3)], [f(10), f(3)], [f(10), f(3)], Float64Array.from([1e-3, 0.9, 0.999, 1e-8, 0.01, 1, 1e-3, 0.9, 0.999, 1e-8, 0, 1])],
  sumSquaresMulti: () => [[f(10), f(0)], f(2)],
  scaleInPlaceMulti: () => [[f(10), f(3)], 0.5],
  quantizePerChannel: () => [f(12), i8(12), f(3), 3, 4],
  int8Gemm: () => [f(8), i8(12), f(3), f(6), 2, 3, 4, null],
  int8PackWeights: () => [f(12), i8(32 * 4), f(3), i32(3), 3, 4],
  int8GemmPacked: () => [f(8), i8(32 * 4), f(3), i32(3), f(6), 2, 3, 4, null, 0, null, 0],
  permute: () => [f(24), f(24), [2, 3, 4], [2, 0, 1]],
  reduceAxis: () => [1, f(24), f(8), 2, 3, 4],
  dropout: () => [f(10), f(10), 0.3, 7],
  // x (2, 3), w (4, 3), y (2, 4), bias null, relu off, p 0.1, seed 7, residual null
  linearFused: () => [f(6), f(12), f(8), 2, 4, 3, null, 0, 0.1, 7, null],
  reluDropoutBackward: () => [f(10), f(10), f(10), 1.25],
  dropoutBackwardBias: () => [f(12), f(12), f(4), 3, 4, 0.1, 7],
  geluDropout: () => [f(10), f(10), 0.1, 7],
  geluDropoutBackward: () => [f(10), f(10), f(10), 0.1, 7],
  im2col: () => [f(2 * 3 * 4 * 5), f(2 * 2 * 5 * 3 * 3 * 3), 2, 3, 4, 5, 3, 3, 2, 5, 2, 1, 1, 1, 1, 1],
  col2im: () => [f(2 * 2 * 5 * 3 * 3 * 3), f(2 * 3 * 4 * 5), 2, 3, 4, 5, 3, 3, 2, 5, 2, 1, 1, 1, 1, 1],
  // x (2, 4, 4, 5), weight (6, 2, 3, 3), groups 2, stride 2, padding 1 → (2, 6, 2, 3)
  conv2dForward: () => [f(160), f(108), f(6), f(72), 2, 4, 4, 5, 3, 3, 2, 3, 2, 2, 1, 1, 1, 1, 6, 2],
  conv2dBackward: () => [f(160), f(108), f(72), f(160), f(108), null, 2, 4, 4, 5, 3, 3, 2, 3, 2, 2, 1, 1, 1, 1, 6, 2],
  batchNormForward: () => [f(24), f(3), f(3), f(24), f(3), f(3), 2, 3, 4, 1e-5, true, true],
  batchNormBackward: () => [f(24), f(24), f(24), f(3), f(3), f(3), f(24), f(3), f(3), 2, 3, 4, true],
  maxPoolForward: () => [f(48), f(12), i32(12), 2, 4, 6, 2, 3, 2, 2, 2, 2, 0, 0],
  maxPoolBackward: () => [f(12), i32(12), f(48), 2, 4, 6, 2, 3],
  channelScaleForward: () => [f(24), f(3), f(24), 3, 8],
  channelScaleBackward: () => [f(24), f(3), f(24), f(24), f(3), 3, 8],
  // x (2,3,4,5), weightT (3·3·3, 4), bias, y (2,4,4,5); B C H W O kh kw Ho Wo padH padW relu
  conv2dTransposedForward: () => [f(120), f(108), f(4), f(160), 2, 3, 4, 5, 4, 3, 3, 4, 5, 1, 1, true],
  // x (2,8,4,6), fc1W (2,8), fc1B, fc2W (8,2), fc2B, spatialW (2,3,3), y (2,8,2,3), mean (2,8); B C H W R ks pool Ho Wo
  cbamPoolForward: () => [f(384), f(16), f(2), f(16), f(8), f(18), f(96), f(16), 2, 8, 4, 6, 2, 3, 2, 2, 3],
};

const badValues: unknown[] = [
  -1, 1.5, NaN, Infinity, 2 ** 60, 1e300, -(2 ** 40), 'x', {}, undefined, null, true,
  f(0), f(1), f(1e5), i32(12), i8(12), new Float64Array(12), new Uint8Array(12), [1, 2], [-1], [1.5],
];

function expectCleanError(name: string, fn: Fn, args: unknown[]): 'threw' | 'ok' {
  try {
    fn(named(name, args));
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof TypeError || e instanceof RangeError, `${name}: threw ${String(e)} instead of a TypeError/RangeError`);
    assert.match((e as Error).message, new RegExp(`^${name}: `), `${name}: message should name the kernel: ${(e as Error).message}`);
    return 'threw';
  }
}

test('every binding accepts its valid call', (t) => {
  const nk = native(t);
  if (!nk) return;
  assert.deepEqual(Object.keys(valid).sort(), Object.keys(nk).sort(), 'every native kernel has a valid call here');
  for (const [name, make] of Object.entries(valid)) {
    const fn: Fn = (nk as unknown as Record<string, Fn>)[name];
    assert.ok(fn, `native kernel ${name} is missing`);
    assert.equal(expectCleanError(name, fn, make()), 'ok', `${name}: the valid call threw`);
  }
});

test('every binding rejects wrong types, lengths and dims without crashing', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(99);
  let threw = 0;
  for (const [name, make] of Object.entries(valid)) {
    const fn: Fn = (nk as unknown as Record<string, Fn>)[name];
    const n = make().length;
    // each argument replaced by each bad value
    for (let a = 0; a < n; a++) for (const bad of badValues) {
      const args = make();
      args[a] = bad;
      if (expectCleanError(name, fn, args) === 'threw') threw++;
    }
    // each required field missing
    const spec = kernelSpecs().get(name)!;
    passedArgs(spec).forEach((arg, a) => {
      const s = spec.args[arg];
      if ((s.role === 'input' || s.role === 'output') && s.nullable) return;
      const args = make();
      args[a] = undefined;
      assert.equal(expectCleanError(name, fn, args), 'threw', `${name}: missing '${arg}' accepted`);
    });
    // random multi-argument mutations
    for (let trial = 0; trial < 200; trial++) {
      const args = make();
      for (let m = 0; m < 3; m++) args[Math.floor(r() * n)] = badValues[Math.floor(r() * badValues.length)];
      expectCleanError(name, fn, args);
    }
  }
  assert.ok(threw > 500, `only ${threw} bad calls threw`);
});

test('out-of-range indices and targets throw RangeError instead of reading wild memory', (t) => {
  const nk = native(t);
  if (!nk) return;
  const call = (name: string, args: unknown[]) => () => (nk as unknown as Record<string, Fn>)[name](named(name, args));
  assert.throws(call('embeddingForward', [f(20), Int32Array.from([5]), f(4), 4]), /embeddingForward: indices\[0\] = 5 is out of range, expected 0 ≤ indices < 5/);
  assert.throws(call('embeddingForward', [f(20), Int32Array.from([-1]), f(4), 4]), RangeError);
  assert.throws(call('embeddingBackward', [f(4), Int32Array.from([9]), f(20), 4, -1]), RangeError);
  assert.doesNotThrow(call('embeddingBackward', [f(4), Int32Array.from([-1]), f(20), 4, -1]), 'paddingIdx is skipped');
  assert.throws(call('crossEntropyForward', [f(4), Int32Array.from([4]), f(1), f(1), 1, 4, -100, 0]), RangeError);
  assert.throws(call('attentionForward', [f(24), f(12), f(15), f(30), f(6), 1, 2, 4, 3, 3, 4, 5, 0.5, false, 0, null, null, 0, 0, null, 0, 1, 3]),
    /attentionForward: H must be a multiple of Hkv .*\(received H = 2, Hkv = 4\)/);
  assert.throws(call('attentionForward', [f(24), f(12), f(15), f(30), f(6), 1, 2, 1, 3, 3, 4, 5, 0.5, false, 0, null, f(8), 0, 0, null, 0, 1, 3]), RangeError);
  // a key stride (cache capacity) shorter than the keys read
  assert.throws(call('attentionForward', [f(24), f(12), f(15), f(30), f(6), 1, 2, 1, 3, 3, 4, 5, 0.5, false, 0, null, null, 0, 0, null, 0, 1, 2]), /kvStride/);
  assert.throws(call('sgemm', [f(6), f(12), f(8), 2, 2, 4, 3, false, false, 1, 0, 6, 12, 8, null, 0]), RangeError);
  assert.throws(call('attentionForward', [f(24), f(13), f(15), f(30), f(6), 1, 2, 1, 3, 3, 4, 5, 0.5, false, 0, null, null, 0, 0, null, 0, 1, 3]),
    /attentionForward: argument 'k' has length 13, expected B·Hkv·kvStride·D = 12\./);
  // strided attention: an array too short for its strides, and output rows that would overlap
  const strided = [1, 2, 1, 3, 3, 4, 5, 0.5, false, 0, null, null, 0, 0, null, 0, 1, 24, 4, 8, 12, 4, 4, 15, 5, 5];
  assert.throws(call('attentionForwardStrided', [f(23), f(12), f(15), f(30), f(6), ...strided, 30, 5, 10]), /attentionForwardStrided: argument 'q' has length 23/);
  assert.throws(call('attentionForwardStrided', [f(24), f(12), f(15), f(30), f(6), ...strided, 30, 5, 4]), /outStrideL must be ≥ Dv/);
  assert.throws(call('attentionBackwardStrided', [f(24), f(12), f(15), f(30), f(29), f(6), f(24), f(12), f(15), ...strided, 30, 5, 10]), /argument 'dOut' has length 29/);
  assert.throws(call('permute', [f(24), f(24), [2, 3, 4], [2, 0, 0]]), /perm must be a permutation/);
  assert.throws(call('im2col', [f(120), f(2 * 3 * 5 * 3 * 3 * 3), 2, 3, 4, 5, 3, 3, 3, 5, 2, 1, 1, 1, 1, 1]), /im2col: Ho must equal/);
  assert.throws(call('maxPoolBackward', [f(12), Int32Array.from({ length: 12 }, (_, i) => (i === 5 ? 24 : 0)), f(48), 2, 4, 6, 2, 3]), RangeError);
  assert.throws(call('maxPoolForward', [f(48), f(12), i32(12), 2, 4, 6, 2, 3, 2, 2, 2, 2, 2, 0]), /maxPoolForward: kernel sizes must be ≥ 1 and padding at most half the kernel/);
  assert.throws(call('batchNormForward', [f(3), null, null, f(3), f(3), f(3), 1, 3, 1, 1e-5, true, false]), /batchNormForward: training needs more than one value per channel/);
  assert.throws(call('conv2dForward', [f(160), f(72), null, f(72), 2, 4, 4, 5, 3, 3, 2, 3, 2, 2, 1, 1, 1, 1, 6, 3]), /conv2dForward: C and O must be multiples of groups/);
  assert.throws(call('binaryBroadcast', [2, f(5), [3, 1], f(3), [0, 1], f(6), [2, 3]]), /argument 'a' has length 5, expected at least/);
});

test('the raw addon checks its argument count and types against the spec', (t) => {
  if (!native(t)) return;
  const path = process.env.HEED_NATIVE_PATH || fileURLToPath(new URL('../../build/Release/heed.node', import.meta.url));
  const addon = createRequire(import.meta.url)(path) as { kernels: Record<string, (...a: unknown[]) => void> };
  assert.throws(() => addon.kernels.dropout(f(4), f(4), 0.5), /dropout: expected 4 arguments, received 3\./);
  assert.throws(() => addon.kernels.dropout(f(4), new Float64Array(4), 0.5, 1), /dropout: argument 'out' must be a Float32Array, received a Float64Array\./);
  assert.throws(() => addon.kernels.dropout(f(4), f(4), 1.5, 1), /dropout: argument 'p' = 1\.5\d* must be in \[0\.?0*, 1\.?0*\]/);
});
