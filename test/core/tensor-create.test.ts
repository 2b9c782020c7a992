/** heed.tensor(data, options) without a shape infers it; a wrong second argument gets an error that names the fix. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor } from '../../src/tensor/creation.ts';
import { DTypeError, ShapeError, ValueError } from '../../src/errors.ts';

test('tensor(data, { dtype }) infers the shape from the nesting', () => {
  const t = tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'int32' });
  assert.equal(t.dtype, 'int32');
  assert.deepEqual([...t.shape], [2, 3]);
  assert.deepEqual(Array.from(t.data), [1, 2, 3, 4, 5, 6]);
  const g = tensor([0.5, 1.5], { requiresGrad: true });
  assert.equal(g.requiresGrad, true);
  assert.equal(g.dtype, 'float32');
  assert.equal(tensor(new Int32Array([1, 2]), { dtype: 'float32' }).dtype, 'float32');
  assert.equal(tensor([true, false], {}).dtype, 'bool');
});

test('tensor(data, shape, options) and tensor(data, undefined, options) still work', () => {
  assert.deepEqual([...tensor([1, 2, 3, 4], [2, 2], { dtype: 'int32' }).shape], [2, 2]);
  assert.equal(tensor([1, 2], undefined, { dtype: 'int32' }).dtype, 'int32');
});

test('a wrong second argument, an unknown option or non-numeric data is a typed error naming the fix', () => {
  assert.throws(() => tensor([1, 2], { shape: [2] } as never), (e: Error) => e instanceof ValueError && /unknown option 'shape'.*second argument/.test(e.message));
  assert.throws(() => tensor([1, 2], { dtype: 'int32' } as never, { dtype: 'int32' }), (e: Error) => e instanceof ShapeError && /followed by options/.test(e.message));
  assert.throws(() => tensor([1, 2], 2 as never), (e: Error) => e instanceof ShapeError && /received number/.test(e.message));
  assert.throws(() => tensor([1, 2], [2], [] as never), (e: Error) => e instanceof ValueError && /an array/.test(e.message));
  assert.throws(() => tensor([1, 2], { dtype: 'int64' as never }), (e: Error) => e instanceof DTypeError && /int32/.test(e.message));
  assert.throws(() => tensor(['a', 'b'] as never), (e: Error) => e instanceof DTypeError && /received string "a"/.test(e.message));
  assert.throws(() => tensor([1, null] as never), (e: Error) => e instanceof DTypeError && /received null/.test(e.message));
});
