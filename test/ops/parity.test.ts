/**
 * PyTorch parity: every op's output and input gradients against PyTorch 1.13, computed in
 * float64 from the same float32 inputs (test/fixtures/ops/ops.json, written by
 * tools/fixtures/make_op_fixtures.py). heed runs in float32 on every available backend.
 *
 * Error measure: |heed − torch| / max(1, |torch|), elementwise, bound 1e-5 for every op
 * (no op needed a looser one). The largest error seen is printed at the end.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { fixtures, runCase, unpack, toTensor, type OpCase, type PackedTensor } from './fixtures.ts';
import { assertDropoutStatistics } from './dropout-stats.ts';
import { nativeSkip } from '../requirements.ts';

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
  // PyTorch gave every input in c.grads a gradient (zeros where it has no effect); heed must
  // too: a null grad means the op's backward dropped it, which is a bug, not a zero.
  for (const [name, g] of Object.entries(c.grads)) {
    const got = inputs[name].grad;
    assert.ok(got !== null, `${c.id}: input '${name}' got no gradient on ${backend}; PyTorch gives it one`);
    compare(got.data, g, c, `grad ${name}`, backend);
  }
}

/** js always; native unless the addon is missing and not required (then its tests skip, saying why). */
const ALL_BACKENDS: h.BackendName[] = ['js', 'native'];
const skipOn = (backend: h.BackendName): string | false => (backend === 'native' ? nativeSkip : false);
const backends = ALL_BACKENDS.filter((b) => skipOn(b) === false);
const initial = h.getBackend();
after(() => {
  h.setBackend(initial);
  const ops = [...worstPerOp.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)
    .map(([op, e]) => `${op} ${e.toExponential(2)}`).join(', ');
  console.log(`parity vs PyTorch ${fixtures.torch}: ${fixtures.cases.length} cases on ${backends.join('+')}; ` +
    `largest error ${worst.err.toExponential(3)} at ${worst.id} ${worst.what} (${worst.backend}); worst ops: ${ops}`);
});

for (const backend of ALL_BACKENDS) {
  const byOp = new Map<string, OpCase[]>();
  for (const c of fixtures.cases) byOp.set(c.op, [...(byOp.get(c.op) ?? []), c]);
  describe(`PyTorch parity on the ${backend} backend`, { skip: skipOn(backend) }, () => {
    for (const [op, cases] of byOp) {
      test(`${op} matches PyTorch (outputs and gradients) on the ${backend} backend`, () => {
        h.setBackend(backend);
        for (const c of cases) checkCase(c, backend);
      });
    }
  });
}

test('every exported op has PyTorch parity fixtures (dropout is checked by statistics)', async () => {
  const ops = await import('../../src/ops/index.ts');
  const covered = new Set(fixtures.cases.map((c) => c.op));
  const missing = Object.entries(ops).filter(([n, v]) => typeof v === 'function' && !covered.has(n) && n !== 'dropout').map(([n]) => n);
  assert.deepEqual(missing, [], `ops without parity fixtures: ${missing.join(', ')}. Add cases to tools/fixtures/make_op_fixtures.py.`);
  // a differentiable op's gradients are compared only where a fixture carries PyTorch's
  const withGrads = new Set(fixtures.cases.filter((c) => c.grads && Object.keys(c.grads).length > 0).map((c) => c.op));
  const noGrads = ops.DIFFERENTIABLE_OPS.filter((n) => n !== 'dropout' && !withGrads.has(n));
  assert.deepEqual(noGrads, [], `differentiable ops whose fixtures have no PyTorch gradients: ${noGrads.join(', ')}`);
});

for (const backend of ALL_BACKENDS) {
  test(`dropout keeps each element with probability 1 − p and scales it by 1/(1 − p) on the ${backend} backend`, { skip: skipOn(backend) }, () => {
    h.setBackend(backend);
    try {
      // values in ±[0.5, 1.5): no zeros, so a 0 output is a dropped element
      const gen = new h.Generator(11);
      const x = h.tensor(Float32Array.from({ length: 40_000 }, () => (gen.uniform() < 0.5 ? -1 : 1) * (0.5 + gen.uniform())), [200, 200]);
      for (const p of [0.1, 0.3, 0.5, 0.9]) {
        h.manualSeed(7);
        const y = h.dropout(x, p);
        assertDropoutStatistics(x, y, p, `dropout p=${p} (${backend})`);
        h.manualSeed(7);
        assert.deepEqual(h.dropout(x, p).data, y.data, 'same seed, same mask');
      }
      h.manualSeed(7);
      const y = h.dropout(x, 0.3);
      assert.ok(Math.abs(h.mean(h.div(y, x)).item() - 1) < 0.02, 'E[y/x] = 1: inverted dropout keeps the expectation');
      h.manualSeed(8);
      assert.notDeepEqual(h.dropout(x, 0.3).data, y.data, 'another seed, another mask');
      const a = h.dropout(x, 0.3, { generator: new h.Generator(3) });
      assert.deepEqual(h.dropout(x, 0.3, { generator: new h.Generator(3) }).data, a.data, 'an explicit generator repeats too');
    } finally {
      h.setBackend(initial);
    }
  });
}

test('dropout draws the same mask on both backends for the same seed', { skip: nativeSkip }, () => {
  const x = h.ones([64, 65]);
  const run = (backend: h.BackendName): Float32Array => {
    h.setBackend(backend);
    h.manualSeed(21);
    return Float32Array.from(h.dropout(x, 0.4).data);
  };
  try {
    assert.deepEqual(run('native'), run('js'));
  } finally {
    h.setBackend(initial);
  }
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
