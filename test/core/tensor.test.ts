/** The tensor layer: creation and dtype inference, shapes, and the seeded generator. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';

test('tensor infers float32 from numbers, bool from booleans, and keeps a typed array of the asked dtype without copying', () => {
  assert.equal(h.tensor([[1, 2], [3, 4]]).dtype, 'float32');
  assert.deepEqual([...h.tensor([[1, 2], [3, 4]]).shape], [2, 2]);
  assert.equal(h.tensor([true, false]).dtype, 'bool');
  const data = new Int32Array([1, 2, 3]);
  const t = h.tensor(data);
  assert.equal(t.dtype, 'int32');
  assert.equal(t.data, data);
  assert.deepEqual(h.tensor([[true], [false]]).toArray(), [[true], [false]]);
  assert.equal(h.tensor(5).ndim, 0);
  assert.equal(h.tensor(5).item(), 5);
});

test('creation helpers give the documented values', () => {
  assert.deepEqual(Array.from(h.arange(5).data), [0, 1, 2, 3, 4]);
  assert.equal(h.arange(5).dtype, 'int32');
  assert.equal(h.arange(0, 1, 0.25).dtype, 'float32');
  assert.deepEqual(Array.from(h.arange(0, 1, 0.25).data), [0, 0.25, 0.5, 0.75]);
  assert.deepEqual(Array.from(h.eye(2, 3).data), [1, 0, 0, 0, 1, 0]);
  assert.deepEqual(Array.from(h.full([2], 7, { dtype: 'int32' }).data), [7, 7]);
  assert.throws(() => h.full([2], 0.5, { dtype: 'int32' }), h.DTypeError);
  assert.throws(() => h.zeros([2, -1]), h.ShapeError);
  assert.throws(() => h.randint(3, 3, [2]), h.ValueError);
});

test('manualSeed makes rand, randn and randint repeat; getRngState/setRngState resume mid-stream', () => {
  h.manualSeed(42);
  const a = h.randn([100]), b = h.rand([10]), c = h.randint(0, 7, [20]);
  h.manualSeed(42);
  assert.deepEqual(h.randn([100]).data, a.data);
  assert.deepEqual(h.rand([10]).data, b.data);
  assert.deepEqual(h.randint(0, 7, [20]).data, c.data);
  h.randn([3]); // leaves a spare Box–Muller normal in the state
  const state = h.getRngState();
  const next = h.randn([5]);
  h.setRngState(state);
  assert.deepEqual(h.randn([5]).data, next.data);
});

test('the generator is uniform on [0, 1) and standard normal to within sampling error', () => {
  const g = new h.Generator(1);
  const n = 100_000;
  let su = 0, min = 1, max = 0, sn = 0, sn2 = 0;
  for (let i = 0; i < n; i++) {
    const u = g.uniform(); su += u; min = Math.min(min, u); max = Math.max(max, u);
    const z = g.normal(); sn += z; sn2 += z * z;
  }
  assert.ok(min >= 0 && max < 1);
  assert.ok(Math.abs(su / n - 0.5) < 0.005);
  assert.ok(Math.abs(sn / n) < 0.02);
  assert.ok(Math.abs(sn2 / n - 1) < 0.02);
  const counts = new Array(5).fill(0);
  for (let i = 0; i < 50_000; i++) counts[g.randint(5)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `randint bucket ${c}`);
});

test('reshape shares storage; other shape ops copy and leave the input untouched', () => {
  const x = h.arange(0, 6, 1, { dtype: 'float32' });
  const r = h.reshape(x, [2, 3]);
  assert.equal(r.data, x.data);
  const t = h.transpose(r);
  assert.deepEqual(t.toArray(), [[0, 3], [1, 4], [2, 5]]);
  assert.deepEqual(r.toArray(), [[0, 1, 2], [3, 4, 5]]);
});

test('item and backward explain what they need', () => {
  assert.throws(() => h.zeros([2]).item(), (e: Error) => e instanceof h.ShapeError && e.message.includes('sum().item()'));
  assert.throws(() => h.zeros([2]).backward(), (e: Error) => e instanceof h.AutogradError && e.message.includes('requiresGrad'));
  assert.throws(() => { h.zeros([2], { dtype: 'int32' }).requiresGrad = true; }, h.DTypeError);
});

test('allocUninit: the right type and length, its own ArrayBuffer at offset 0; zeros for small sizes and ints', async () => {
  const { allocUninit } = await import('../../src/tensor/dtype.js');
  for (const [dtype, Type] of [['float32', Float32Array], ['float64', Float64Array]] as const) {
    for (const n of [0, 5, 100000]) {
      const a = allocUninit(dtype, n);
      assert.ok(a instanceof Type);
      assert.equal(a.length, n);
      assert.equal(a.byteOffset, 0);
      assert.equal(a.buffer.byteLength, n * Type.BYTES_PER_ELEMENT);
      if (n < 1000) assert.ok(a.every((v) => v === 0));
    }
  }
  const ints = allocUninit('int32', 100000);
  assert.ok(ints instanceof Int32Array && ints.every((v) => v === 0));
});

test('a tensor shape is frozen: a mutable or typed-array shape is copied, an already frozen one is shared', () => {
  const dims = [2, 3];
  const a = new h.Tensor(new Float32Array(6), dims);
  dims[0] = 6;
  assert.deepEqual(a.shape, [2, 3], 'mutating the array passed in does not reach the tensor');
  assert.ok(Object.isFrozen(a.shape) && Array.isArray(a.shape));
  assert.equal(new h.Tensor(new Float32Array(6), a.shape).shape, a.shape);
  const b = new h.Tensor(new Float32Array(6), new Int32Array([3, 2]) as unknown as number[]);
  assert.ok(Array.isArray(b.shape) && Object.isFrozen(b.shape));
  assert.deepEqual(b.shape, [3, 2]);
  assert.throws(() => new h.Tensor(new Float32Array(6), [2, -3]), (e: unknown) => e instanceof h.ShapeError && /invalid size -3/.test((e as Error).message));
  assert.throws(() => new h.Tensor(new Float32Array(6), [2, 2]), (e: unknown) => e instanceof h.ShapeError && /needs 4/.test((e as Error).message));
});
