/**
 * The tensor pool's reuse rule (src/tensor/storage-pool.ts): a scope takes back buffers of the sizes
 * released before, and at close the pool keeps only the sizes asked for in this scope and the one
 * before, so a size that stops recurring (a batch padded to another length) leaves the pool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStorageScope, pooledBytes, clearStoragePool, poolMode, setPoolMode, storageStats } from '../../src/tensor/storage-pool.js';
import { alloc, allocUninit } from '../../src/tensor/dtype.js';

const none = { hasBuffer: () => false };

test('the pool keeps the sizes of the last two scopes, per dtype, and serves them again', () => {
  const prev = setPoolMode('on');
  try {
    clearStoragePool();
    const step = (sizes: [number, 'float32' | 'int32'][]) => {
      const s = openStorageScope();
      const got = sizes.map(([n, dtype]) => (dtype === 'float32' ? allocUninit(dtype, n) : alloc(dtype, n)));
      s.close(none);
      return got;
    };
    const sizes: [number, 'float32' | 'int32'][] = [[1000, 'float32'], [3000, 'float32'], [50, 'int32']];
    step(sizes);
    assert.equal(pooledBytes(), 0, 'after one scope no size has recurred yet');
    const second = step(sizes);
    const third = step(sizes); // served from the pool: the second scope's buffers
    third.forEach((b, i) => assert.equal(b, second[i], `buffer ${i} reused`));
    assert.equal(pooledBytes(), 4 * 1000 + 4 * 3000 + 4 * 50);
    // 3000 and the int32 size are not asked for now: asked two scopes running they stay, then they go
    step([[1000, 'float32']]);
    assert.equal(pooledBytes(), 4 * 1000, 'only the size asked in this scope and the one before remains');
    // the same length in another dtype is another size
    const s0 = storageStats();
    step([[1000, 'int32']]);
    assert.equal(storageStats().reused - s0.reused, 0, 'an int32 request is not served a float32 buffer');
  } finally {
    setPoolMode(prev);
    clearStoragePool();
  }
  assert.equal(poolMode(), prev);
});
