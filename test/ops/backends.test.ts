/**
 * Every op gives the same result on setBackend('js') and setBackend('native'): forward
 * outputs and input gradients, on the parity fixtures' shapes and on larger awkward ones
 * (1, 17, 65, 129) where the native kernels tile and thread. Kernel-level native-vs-reference
 * checks live in test/native/; this file checks the ops on top of them.
 * Skipped when the native addon is not built (failed under HEED_REQUIRE_NATIVE=1: test/requirements.ts).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import type { Tensor } from '../../src/index.ts';
import { fixtures, runCase, toTensor, RUNNERS, type OpCase } from './fixtures.ts';
import { nativeSkip } from '../requirements.ts';

const skip = nativeSkip;
const initial = h.getBackend();
after(() => h.setBackend(initial));

/** Outputs and input gradients of one run, as plain arrays. */
function runOn(backend: h.BackendName, c: OpCase): Record<string, Float64Array> {
  h.setBackend(backend);
  const { inputs, outputs } = runCase(c, true);
  const res: Record<string, Float64Array> = {};
  outputs.forEach((o, i) => { res[`output ${i}`] = Float64Array.from(o.data as ArrayLike<number>); });
  if (c.upstream && c.grads) {
    const terms = outputs.flatMap((o, i) => (c.upstream![i] ? [h.sum(h.mul(o, toTensor(c.upstream![i]!, false)))] : []));
    terms.reduce((a, b) => h.add(a, b)).backward();
    for (const name of Object.keys(c.grads)) {
      const g = inputs[name].grad;
      assert.ok(g !== null, `${c.id}: input '${name}' got no gradient on the ${backend} backend`);
      res[`grad ${name}`] = Float64Array.from(g.data as ArrayLike<number>);
    }
  }
  return res;
}

function assertSame(js: Record<string, Float64Array>, nat: Record<string, Float64Array>, id: string, bound = 1e-5): void {
  assert.deepEqual(Object.keys(nat), Object.keys(js), `${id}: different outputs/gradients`);
  for (const [what, a] of Object.entries(js)) {
    const b = nat[what];
    assert.equal(b.length, a.length, `${id} ${what}: length`);
    for (let i = 0; i < a.length; i++) {
      if (Object.is(a[i], b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i]))) continue;
      const err = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(a[i]));
      if (!(err <= bound)) assert.fail(`${id} ${what}[${i}]: js ${a[i]}, native ${b[i]} (error ${err.toExponential(2)})`);
    }
  }
}

const byOp = new Map<string, OpCase[]>();
for (const c of fixtures.cases) byOp.set(c.op, [...(byOp.get(c.op) ?? []), c]);

for (const [op, cases] of byOp) {
  test(`${op} gives the same outputs and gradients on the js and native backends`, { skip }, () => {
    for (const c of cases) assertSame(runOn('js', c), runOn('native', c), c.id);
  });
}

test('every op the fixtures call is covered here', () => {
  assert.deepEqual(Object.keys(RUNNERS).filter((op) => !byOp.has(op)), []);
});

// Larger awkward shapes for the ops the native backend accelerates.
const g = new h.Generator(77);
const rn = (shape: number[]) => h.randn(shape, { generator: g });
interface BigCase { id: string; inputs: () => Tensor[]; fn: (...x: Tensor[]) => Tensor; bound?: number }
const BIG: BigCase[] = [];
for (const [m, k, n] of [[1, 1, 1], [17, 65, 129], [129, 63, 65], [65, 129, 17], [3, 1000, 5]]) {
  BIG.push({ id: `matmul ${m}x${k}x${n}`, inputs: () => [rn([m, k]), rn([k, n])], fn: (a, b) => h.matmul(a, b), bound: 1e-4 });
}
BIG.push({ id: 'matmul batch-broadcast (2,1,17,65)·(3,65,33)', inputs: () => [rn([2, 1, 17, 65]), rn([3, 65, 33])], fn: (a, b) => h.matmul(a, b), bound: 1e-4 });
BIG.push({ id: 'linear (2,65,129)·(63,129)ᵀ + b', inputs: () => [rn([2, 65, 129]), rn([63, 129]), rn([63])], fn: (x, w, b) => h.linear(x, w, b), bound: 1e-4 });
for (const L of [1, 17, 65, 129]) {
  for (const isCausal of [false, true]) {
    BIG.push({ id: `sdpa L=${L} causal=${isCausal}`, inputs: () => [rn([2, 3, L, 64]), rn([2, 3, L, 64]), rn([2, 3, L, 64])],
      fn: (q, k, v) => h.scaledDotProductAttention(q, k, v, { isCausal }), bound: 1e-4 });
  }
}
BIG.push({ id: 'softmax (65,129)', inputs: () => [rn([65, 129])], fn: (x) => h.softmax(x, -1) });
BIG.push({ id: 'layerNorm (63,129)', inputs: () => [rn([63, 129]), rn([129]), rn([129])], fn: (x, w, b) => h.layerNorm(x, [129], w, b), bound: 1e-4 });
BIG.push({ id: 'rmsNorm (63,129)', inputs: () => [rn([63, 129]), rn([129])], fn: (x, w) => h.rmsNorm(x, [129], w), bound: 1e-4 });
BIG.push({ id: 'gelu+add+sum (129,65)', inputs: () => [rn([129, 65]), rn([65])], fn: (x, b) => h.sum(h.gelu(h.add(x, b)), 0) });

function runBig(backend: h.BackendName, c: BigCase, data: Tensor[]): Record<string, Float64Array> {
  h.setBackend(backend);
  const inputs = data.map((t) => h.tensor(t.data.slice(), [...t.shape], { requiresGrad: true }));
  const out = c.fn(...inputs);
  const up = h.tensor(Float32Array.from({ length: out.size }, (_, i) => Math.sin(i)), [...out.shape]);
  out.backward(up);
  const res: Record<string, Float64Array> = { output: Float64Array.from(out.data as ArrayLike<number>) };
  inputs.forEach((t, i) => {
    assert.ok(t.grad !== null, `${c.id}: input ${i} got no gradient on the ${backend} backend`);
    res[`grad ${i}`] = Float64Array.from(t.grad.data as ArrayLike<number>);
  });
  return res;
}

for (const c of BIG) {
  test(`${c.id}: js and native agree`, { skip }, () => {
    const data = c.inputs();
    assertSame(runBig('js', c, data), runBig('native', c, data), c.id, c.bound ?? 1e-5);
  });
}

test('edge shapes on both backends: a 17-dim permute (the native layer takes ≤ 16 dims), linear with 0 inputs', { skip }, () => {
  for (const backend of ['js', 'native'] as const) {
    h.setBackend(backend);
    const shape = Array.from({ length: 17 }, (_, i) => (i === 3 ? 3 : i === 15 ? 2 : 1));
    const x = h.tensor(Float32Array.from({ length: 6 }, (_, i) => i)).reshape(shape);
    const perm = shape.map((_, i) => i).reverse();
    const y = x.permute(perm);
    assert.deepEqual([...y.data], [0, 2, 4, 1, 3, 5], backend);
    // inFeatures = 0: every output is the bias (nothing is left uninitialized)
    const out = h.linear(h.zeros([5000, 0]), h.zeros([4, 0]), h.tensor([1, 2, 3, 4]));
    assert.deepEqual(out.shape, [5000, 4]);
    for (let i = 0; i < out.size; i++) assert.equal(out.data[i], (i % 4) + 1, `${backend} linear[${i}]`);
  }
  h.setBackend(initial);
});
