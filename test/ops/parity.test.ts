/**
 * PyTorch parity: every op's output and input gradients against PyTorch 1.13, computed in
 * float64 from the same float32 inputs (test/fixtures/ops/ops.json, written by
 * tools/fixtures/make_op_fixtures.py). heed runs in float32 on every available backend.
 *
 * Error measure: |heed − torch| / max(1, |torch|), elementwise, bound 1e-5 for every op
 * (no op needed a looser one). The largest error seen is printed at the end.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { fixtures, runCase, unpack, toTensor, type OpCase, type PackedTensor } from './fixtures.ts';

/** One bound for every op: float64-exact references let heed's float32 error show; the worst seen is ~2.4e-6 (matmul, K = 63). */
const BOUND = 1e-5;

interface Worst { err: number; id: string; what: string; backend: string }
const worst: Worst = { err: 0, id: '', what: '', backend: '' };
const worstPerOp = new Map<string, number>();

function compare(actual: ArrayLike<number>, expected: PackedTensor, c: OpCase, what: string, backend: string): void {
  const want = unpack(expected);
  assert.equal(actual.length, want.length, `${c.id} ${what}: ${actual.length} values, expected ${want.length}`);
  const bound = BOUND;
  for (let i = 0; i < want.length; i++) {
    const a = actual[i], b = want[i];
    if (!Number.isFinite(b)) {
      assert.ok(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)), `${c.id} ${what}[${i}]: got ${a}, expected ${b}`);
      continue;
    }
    const err = Math.abs(a - b) / Math.max(1, Math.abs(b));
    if (!(err <= bound)) assert.fail(`${c.id} ${what}[${i}] on ${backend}: got ${a}, expected ${b} (error ${err.toExponential(2)} > ${bound})`);
    if (err > worst.err) Object.assign(worst, { err, id: c.id, what, backend });
    if (err > (worstPerOp.get(c.op) ?? 0)) worstPerOp.set(c.op, err);
  }
}

function checkCase(c: OpCase, backend: string): void {
  const { inputs, outputs } = runCase(c, true);
  assert.equal(outputs.length, c.outputs.length, `${c.id}: ${outputs.length} outputs, expected ${c.outputs.length}`);
  outputs.forEach((o, i) => {
    const e = c.outputs[i];
    assert.deepEqual([...o.shape], e.shape, `${c.id} output ${i} shape`);
    assert.equal(o.dtype, e.dtype, `${c.id} output ${i} dtype`);
    compare(o.data, e, c, `output ${i}`, backend);
  });
  if (!c.upstream || !c.grads) return;
  // Σ_i ⟨out_i, up_i⟩ has gradient up_i at out_i, so one backward covers multi-output ops.
  let loss: h.Tensor | null = null;
  outputs.forEach((o, i) => {
    const up = c.upstream![i];
    if (up === null) return;
    const term = h.sum(h.mul(o, toTensor(up, false)));
    loss = loss === null ? term : h.add(loss, term);
  });
  if (outputs.length === 1) outputs[0].backward(toTensor(c.upstream[0]!, false));
  else (loss as h.Tensor | null)?.backward();
  for (const [name, g] of Object.entries(c.grads)) {
    const got = inputs[name].grad;
    const data = got === null ? new Float32Array(inputs[name].size) : got.data;
    compare(data, g, c, `grad ${name}`, backend);
  }
}

const backends: h.BackendName[] = ['js'];
if (h.backendInfo().nativeAvailable) backends.push('native');
const initial = h.getBackend();
after(() => {
  h.setBackend(initial);
  const ops = [...worstPerOp.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)
    .map(([op, e]) => `${op} ${e.toExponential(2)}`).join(', ');
  console.log(`parity vs PyTorch ${fixtures.torch}: ${fixtures.cases.length} cases on ${backends.join('+')}; ` +
    `largest error ${worst.err.toExponential(3)} at ${worst.id} ${worst.what} (${worst.backend}); worst ops: ${ops}`);
});

for (const backend of backends) {
  const byOp = new Map<string, OpCase[]>();
  for (const c of fixtures.cases) byOp.set(c.op, [...(byOp.get(c.op) ?? []), c]);
  for (const [op, cases] of byOp) {
    test(`${op} matches PyTorch (outputs and gradients) on the ${backend} backend`, () => {
      h.setBackend(backend);
      for (const c of cases) checkCase(c, backend);
    });
  }
}

test('every exported op has PyTorch parity fixtures (dropout is checked by statistics)', async () => {
  const ops = await import('../../src/ops/index.ts');
  const covered = new Set(fixtures.cases.map((c) => c.op));
  const missing = Object.entries(ops).filter(([n, v]) => typeof v === 'function' && !covered.has(n) && n !== 'dropout').map(([n]) => n);
  assert.deepEqual(missing, [], `ops without parity fixtures: ${missing.join(', ')}. Add cases to tools/fixtures/make_op_fixtures.py.`);
});

test('dropout keeps each element with probability 1 − p, scales by 1/(1 − p), and repeats under manualSeed', () => {
  const x = h.ones([200, 250]);
  const p = 0.3;
  h.manualSeed(7);
  const y = h.dropout(x, p);
  let kept = 0;
  for (const v of y.data) {
    if (v !== 0) { kept++; assert.ok(Math.abs(v - 1 / (1 - p)) < 1e-6, `kept value ${v}, expected ${1 / (1 - p)}`); }
  }
  const n = x.size, rate = kept / n;
  const sd = Math.sqrt(p * (1 - p) / n);
  assert.ok(Math.abs(rate - (1 - p)) < 5 * sd, `keep rate ${rate}, expected ${1 - p} ± ${5 * sd}`);
  assert.ok(Math.abs(h.mean(y).item() - 1) < 0.02, 'the mean is preserved in expectation');
  h.manualSeed(7);
  assert.deepEqual(h.dropout(x, p).data, y.data, 'same seed, same mask');
  h.manualSeed(8);
  assert.notDeepEqual(h.dropout(x, p).data, y.data, 'another seed, another mask');
  const gen = new h.Generator(3);
  const a = h.dropout(x, p, { generator: gen });
  assert.deepEqual(h.dropout(x, p, { generator: new h.Generator(3) }).data, a.data, 'an explicit generator repeats too');
});

test('dropout is the identity when not training or p = 0, zero at p = 1, and its gradient reuses the mask', () => {
  const x = h.randn([5, 7], { requiresGrad: true });
  assert.equal(h.dropout(x, 0.5, { training: false }), x);
  assert.equal(h.dropout(x, 0), x);
  assert.ok(h.dropout(x, 1).data.every((v) => v === 0));
  h.manualSeed(1);
  const y = h.dropout(x, 0.4);
  y.backward(h.ones([5, 7]));
  for (let i = 0; i < x.size; i++) {
    const mask = y.data[i] === 0 ? 0 : 1 / 0.6;
    assert.ok(Math.abs(x.grad!.data[i] - mask) < 1e-6);
  }
});

test('attention: a query row with no allowed key returns zeros (PyTorch returns NaN), on both paths', () => {
  const q = h.randn([1, 1, 3, 4]), k = h.randn([1, 1, 5, 4]), v = h.randn([1, 1, 5, 4]);
  const mask = h.tensor([[1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0, 1, 1, 1, 1]], undefined, { dtype: 'bool' });
  for (const f of [h.scaledDotProductAttention, h.scaledDotProductAttentionReference]) {
    const out = f(q, k, v, { attnMask: mask });
    const row1 = Array.from(out.data.subarray(4, 8));
    assert.deepEqual(row1, [0, 0, 0, 0], `${f.name}: fully masked row`);
    assert.ok(Array.from(out.data).every(Number.isFinite), `${f.name}: no NaN anywhere`);
  }
});
