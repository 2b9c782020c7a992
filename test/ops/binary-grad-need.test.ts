/**
 * A binary op's backward computes only the gradients its inputs need (src/ops/elementwise.ts):
 * the constant of mul(x, √d) or the fixed table of add(x, positions) gets no product and no
 * reduction over the whole tensor, while the gradients that are needed stay as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { k } from '../../src/backend/registry.ts';
import { maxDiff } from '../tensors.ts';

/** Counts the calls of the named kernels while fn runs. */
function countCalls(names: string[], fn: () => void): Record<string, number> {
  const table = k as unknown as Record<string, (p: unknown) => unknown>;
  const counts: Record<string, number> = {};
  const saved = names.map((n) => table[n]);
  names.forEach((n, i) => { counts[n] = 0; table[n] = (p) => { counts[n]++; return saved[i](p); }; });
  try { fn(); } finally { names.forEach((n, i) => { table[n] = saved[i]; }); }
  return counts;
}

const leaf = (shape: number[], seed: number) => {
  const t = h.randn(shape, { generator: new h.Generator(seed) });
  t.requiresGrad = true;
  return t;
};

test('mul by a constant computes no gradient for the constant (no product with x, no reduction)', () => {
  const x = leaf([4, 5, 8], 1);
  const y = h.mul(x, 3);
  const g = h.randn([4, 5, 8], { generator: new h.Generator(2) });
  const calls = countCalls(['binarySame', 'binaryBroadcast', 'reduceAxis'], () => y.backward(g));
  // dx = g·3: one broadcast multiply; the constant's g·x and its sum are skipped
  assert.deepEqual(calls, { binarySame: 0, binaryBroadcast: 1, reduceAxis: 0 });
  assert.ok(maxDiff(x.grad!, h.mul(g, 3)) === 0);
});

test('add of a fixed broadcast table sums no gradient for the table', () => {
  const x = leaf([4, 5, 8], 3);
  const table = h.randn([5, 8], { generator: new h.Generator(4) }); // requiresGrad false
  const y = h.add(x, table);
  const g = h.randn([4, 5, 8], { generator: new h.Generator(5) });
  const calls = countCalls(['reduceAxis'], () => y.backward(g));
  assert.equal(calls.reduceAxis, 0);
  assert.ok(maxDiff(x.grad!, g) === 0);
});

test('sub, mul, div and pow still give every needed gradient when one side is constant or both need one', () => {
  const a = leaf([3, 4], 6), b = leaf([3, 4], 7);
  const bPos = h.add(h.abs(b.detach()), 0.5);
  for (const [name, f] of [['sub', h.sub], ['mul', h.mul], ['div', h.div]] as const) {
    // b constant: a's gradient equals the both-sides run's
    a.grad = null; b.grad = null;
    f(a, bPos).sum().backward();
    const onlyA = a.grad!;
    const bLeaf = bPos.detach(); bLeaf.requiresGrad = true;
    a.grad = null;
    f(a, bLeaf).sum().backward();
    assert.ok(maxDiff(onlyA, a.grad!) === 0, `${name}: a's gradient changed when b needs none`);
    assert.ok(bLeaf.grad !== null, `${name}: b's gradient is missing when b needs one`);
  }
  const base = h.add(h.abs(a.detach()), 0.5);
  const e = leaf([3, 4], 8);
  h.pow(base, e).sum().backward();
  // d(base^e)/de = base^e · ln base
  assert.ok(maxDiff(e.grad!, h.mul(h.pow(base, e.detach()), h.log(base))) < 1e-6);
});
