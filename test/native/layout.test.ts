/** Native permute, reduceAxis and dropout equal the reference kernels. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, ref, rng, randn, assertClose } from './helpers.js';

test('permute: every permutation of 2-, 3- and 4-d shapes, with the last dim kept and moved', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(11);
  const perms = (n: number): number[][] => (n === 1 ? [[0]] : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)])));
  for (const shape of [[3, 5], [1, 7], [2, 3, 4], [4, 1, 33], [2, 3, 5, 7], [2, 17, 4, 64]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = randn(n, r);
    for (const perm of perms(shape.length)) {
      const yr = new Float32Array(n), yn = new Float32Array(n).fill(NaN);
      ref.permute({ x, out: yr, shape, perm });
      nk.permute!({ x, out: yn, shape, perm });
      assert.deepEqual(yn, yr, `permute ${shape} by ${perm}`);
    }
  }
  assert.throws(() => nk.permute!({ x: new Float32Array(6), out: new Float32Array(6), shape: [2, 3], perm: [1, 1] }), /permutation/);
  assert.throws(() => nk.permute!({ x: new Float32Array(5), out: new Float32Array(6), shape: [2, 3], perm: [1, 0] }), /x/);
});

test('reduceAxis: sum, max and min over outer/size/inner layouts, with NaN propagating', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(12);
  for (const [outer, size, inner] of [[1, 700, 256], [3, 5, 1], [2, 1000, 1], [4, 17, 33], [1, 1, 1000], [5, 0, 3], [1, 64, 17]]) {
    const x = randn(outer * size * inner, r, 3);
    for (const op of [0, 1, 2]) {
      const yr = new Float32Array(outer * inner), yn = new Float32Array(outer * inner).fill(NaN);
      ref.reduceAxis({ op, x, out: yr, outer, size, inner });
      nk.reduceAxis!({ op, x, out: yn, outer, size, inner });
      assertClose(yn, yr, `reduceAxis op${op} (${outer}, ${size}, ${inner})`, 1e-5, 1e-4);
    }
  }
  const x = Float32Array.from([1, NaN, 3, 4, 5, 6, 7, 8, -1, 2, 9, 0, 1, 1, 1, 1, 1, 1]); // (1, 18, 1) and (6, 3, 1)
  for (const [outer, size] of [[1, 18], [6, 3]]) for (const op of [1, 2]) {
    const yr = new Float32Array(outer), yn = new Float32Array(outer);
    ref.reduceAxis({ op, x, out: yr, outer, size, inner: 1 });
    nk.reduceAxis!({ op, x, out: yn, outer, size, inner: 1 });
    assert.deepEqual(yn, yr, `NaN op${op} (${outer}, ${size}, 1)`);
    assert.ok(Number.isNaN(yn[0]));
  }
  const cols = Float32Array.from([1, 2, NaN, 4, 5, 6]); // (1, 2, 3): NaN in column 2 of row 0
  const yn = new Float32Array(3);
  nk.reduceAxis!({ op: 1, x: cols, out: yn, outer: 1, size: 2, inner: 3 });
  assert.deepEqual([...yn].map(String), ['4', '5', 'NaN']);
});

test('dropout: the native mask equals the reference bit for bit, for several p and seeds', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(13);
  for (const n of [1, 15, 16, 17, 1000, 70001]) for (const p of [0, 0.1, 0.5, 0.9, 1]) for (const seed of [0, 1, 0xdeadbeef, 0xffffffff]) {
    const x = randn(n, r);
    const yr = new Float32Array(n), yn = new Float32Array(n).fill(NaN);
    ref.dropout({ x, out: yr, p, seed });
    nk.dropout!({ x, out: yn, p, seed });
    assert.deepEqual(yn, yr, `dropout n${n} p${p} seed${seed}`);
  }
  const x = new Float32Array(100000).fill(1), y = new Float32Array(100000);
  nk.dropout!({ x, out: y, p: 0.3, seed: 7 });
  const kept = y.filter((v) => v !== 0).length / y.length;
  assert.ok(Math.abs(kept - 0.7) < 0.01, `kept ${kept}`);
  assert.ok(Math.abs(y.find((v) => v !== 0)! - 1 / 0.7) < 1e-6);
  assert.throws(() => nk.dropout!({ x, out: y, p: 1.5, seed: 7 }), /p/);
});

test('reduceAxis sums in float64 like the reference: 1e8 + 100 ones − 1e8 is 100, across and along rows', (t) => {
  const nk = native(t);
  if (!nk) return;
  const col = Float32Array.from({ length: 102 }, (_, i) => (i === 0 ? 1e8 : i === 101 ? -1e8 : 1));
  const two = new Float32Array(204);
  col.forEach((v, i) => { two[2 * i] = v; two[2 * i + 1] = -v; });
  for (const [x, outer, size, inner] of [[col, 1, 102, 1], [two, 1, 102, 2]] as const) {
    const yr = new Float32Array(inner), yn = new Float32Array(inner);
    ref.reduceAxis({ op: 0, x, out: yr, outer, size, inner });
    nk.reduceAxis!({ op: 0, x, out: yn, outer, size, inner });
    assert.equal(yr[0], 100);
    assert.deepEqual(yn, yr, `inner ${inner}`);
  }
});
