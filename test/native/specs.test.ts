/**
 * The kernel specs are the one declaration of every kernel: the native header generated
 * from them is up to date, the registry derived from them enforces its invariants
 * (unique names, a reference for every spec, no native kernel without a reference), and
 * the native call derived from them falls back to the reference exactly when the spec says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generate, HEADER_PATH } from '../../scripts/gen-native-specs.js';
import { indexSpecs, bindNative, kernelSpecs, referenceKernels } from '../../src/backend/registry.js';
import { nativeCall } from '../../src/backend/call.js';
import { kernel, input, output, shape, intList, passedArgs, type KernelSpec } from '../../src/backend/spec.js';
import * as specs from '../../src/backend/specs/index.js';

test('native/kernel_specs.gen.h is what the specs generate (run node --import tsx scripts/gen-native-specs.ts)', () => {
  assert.equal(readFileSync(HEADER_PATH, 'utf8'), generate());
});

test('every spec has a reference kernel and every reference a spec', () => {
  const names = [...kernelSpecs().keys()].sort();
  assert.deepEqual(names, Object.keys(referenceKernels()).sort());
  assert.ok(names.length >= 24, `only ${names.length} kernels`);
});

const noop = () => {};
const tiny = kernel('tiny', { x: input('f32', { len: 'n' }), n: shape() });

test('a kernel name declared twice is an error at load', () => {
  assert.throws(() => indexSpecs({ tiny, other: { ...tiny } }, { tiny: noop }), /kernel spec exported as 'other' is named 'tiny'/);
  assert.throws(() => indexSpecs({ tiny }, {}), /kernel 'tiny' has a spec but no reference/);
  assert.throws(() => indexSpecs({ tiny }, { tiny: noop, extra: noop }), /exports 'extra', which has no kernel spec/);
  assert.equal(indexSpecs({ tiny }, { tiny: noop }).get('tiny'), tiny);
});

test('a native kernel without a reference is an error', () => {
  const index = indexSpecs({ tiny }, { tiny: noop });
  assert.throws(() => bindNative({ tiny: noop, rogue: noop }, index, { tiny: noop }), /native backend: kernel 'rogue' has no spec and no TypeScript reference/);
  const bound = bindNative({ tiny: noop }, index, { tiny: noop });
  assert.deepEqual(Object.keys(bound.plain), ['tiny']);
});

/** Which of native / reference a call went to, and the flat args native received. */
function route(spec: KernelSpec, p: Record<string, unknown>): { to: string; flat?: unknown[] } {
  let hit: { to: string; flat?: unknown[] } = { to: 'none' };
  const call = nativeCall(spec, (...flat) => { hit = { to: 'native', flat }; }, () => { hit = { to: 'reference' }; });
  call(p);
  return hit;
}

test('the native call passes the named args flat, in spec order, derived args left out', () => {
  const s = kernel('flat', { b: input('f32'), a: output('f32'), n: shape(), dims: intList() });
  const p = { a: new Float32Array(1), b: new Float32Array(2), n: 3, dims: [1] };
  assert.deepEqual(route(s, p), { to: 'native', flat: [p.b, p.a, 3, [1]] });
  assert.deepEqual(passedArgs(specs.unary), ['op', 'x', 'out']);
});

test('fallbacks derived from the spec: float64, non-float32 numeric arrays, > 16 dims, small elementwise calls', () => {
  const f = (n: number) => new Float32Array(n);
  // float64 anywhere a float32 array goes → reference (gradcheck)
  assert.equal(route(specs.softmaxForward, { x: new Float64Array(4), y: new Float64Array(4), outer: 1, size: 4, inner: 1, log: false }).to, 'reference');
  assert.equal(route(specs.softmaxForward, { x: f(4), y: f(4), outer: 1, size: 4, inner: 1, log: false }).to, 'native');
  // permute moves int32 ids and uint8 masks on the reference
  assert.equal(route(specs.permute, { x: new Int32Array(6), out: new Int32Array(6), shape: [2, 3], perm: [1, 0] }).to, 'reference');
  assert.equal(route(specs.permute, { x: new Uint8Array(6), out: new Uint8Array(6), shape: [2, 3], perm: [1, 0] }).to, 'reference');
  assert.equal(route(specs.permute, { x: f(6), out: f(6), shape: [2, 3], perm: [1, 0] }).to, 'native');
  // more dims than the native layer takes
  const dims17 = new Array(17).fill(1);
  assert.equal(route(specs.permute, { x: f(1), out: f(1), shape: dims17, perm: dims17.map((_, i) => i) }).to, 'reference');
  assert.equal(route(specs.binaryBroadcast, { op: 0, a: f(1), aStrides: dims17, b: f(1), bStrides: dims17, out: f(1), outShape: dims17 }).to, 'reference');
  // elementwise calls below 256 elements stay in JS
  assert.equal(route(specs.binarySame, { op: 0, a: f(255), b: f(255), out: f(255) }).to, 'reference');
  assert.equal(route(specs.binarySame, { op: 0, a: f(256), b: f(256), out: f(256) }).to, 'native');
  assert.equal(route(specs.unaryBackward, { op: 1, x: f(10), y: f(10), dy: f(10), dx: f(10) }).to, 'reference');
  // null optional arrays do not trigger a fallback
  assert.equal(route(specs.rmsNormForward, { x: f(4), weight: null, y: f(4), rstd: f(1), rows: 1, cols: 4, eps: 1e-5 }).to, 'native');
});

test('the expression compiler rejects unknown names and functions', async () => {
  const { compileForTest } = await import('../../scripts/gen-native-specs.js');
  assert.throws(() => compileForTest(kernel('bad', { x: input('f32', { len: 'm * 2' }) })), /'m' is not an integer, dim or option/);
  assert.throws(() => compileForTest(kernel('bad', { x: input('f32', { len: 'sum(x)' }) })), /unknown function sum/);
  assert.throws(() => compileForTest(kernel('bad', { x: input('f32', { len: 'len(n)' }), n: shape() })), /'n' is not an array/);
});
