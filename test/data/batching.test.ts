import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CheckpointError, ValueError } from '../../src/errors.js';
import { BatchIterator, padSequences } from '../../src/data/batching.js';

const lengths = Array.from({ length: 103 }, (_, i) => 1 + ((i * 37) % 23));

function epoch(it: BatchIterator): number[][] {
  return [...it].map((b) => [...b]);
}

describe('padSequences', () => {
  it('pads to (B, T) with the pad id and records lengths', () => {
    const b = padSequences([new Int32Array([5, 6, 7]), new Int32Array([8]), new Int32Array([])], 0);
    assert.deepEqual(b.shape, [3, 3]);
    assert.deepEqual(b.data, new Int32Array([5, 6, 7, 8, 0, 0, 0, 0, 0]));
    assert.deepEqual(b.lengths, new Int32Array([3, 1, 0]));
    assert.deepEqual(padSequences([[1]], 9, 3).data, new Int32Array([1, 9, 9]));
  });
});

describe('BatchIterator', () => {
  it('covers every example exactly once per epoch', () => {
    const it = new BatchIterator(lengths, { batchSize: 8, seed: 1 });
    for (let e = 0; e < 3; e++) {
      const seen = epoch(it).flat().sort((a, b) => a - b);
      assert.deepEqual(seen, lengths.map((_, i) => i));
    }
  });

  it('is deterministic for a seed and differs across seeds and epochs', () => {
    const a = new BatchIterator(lengths, { batchSize: 8, seed: 7 });
    const b = new BatchIterator(lengths, { batchSize: 8, seed: 7 });
    const c = new BatchIterator(lengths, { batchSize: 8, seed: 8 });
    const a0 = epoch(a);
    assert.deepEqual(a0, epoch(b));
    assert.notDeepEqual(a0, epoch(c));
    assert.notDeepEqual(a0, epoch(a));
  });

  it('respects batchSize and maxTokens (B × longest length)', () => {
    const it = new BatchIterator(lengths, { maxTokens: 40, batchSize: 6, seed: 3 });
    for (const b of epoch(it)) {
      assert.ok(b.length <= 6);
      assert.ok(b.length * Math.max(...b.map((i) => lengths[i])) <= 40);
    }
    assert.throws(() => new BatchIterator([50], { maxTokens: 40 }), /example 0 has length 50, more than maxTokens 40/);
    assert.throws(() => new BatchIterator(lengths, {}), ValueError);
  });

  it('groups similar lengths: padding is far below a random batching', () => {
    const padded = (batches: number[][]) => batches.reduce((s, b) => s + b.length * Math.max(...b.map((i) => lengths[i])), 0);
    const bucketed = padded(epoch(new BatchIterator(lengths, { batchSize: 8, seed: 0 })));
    const inOrder = Array.from({ length: Math.ceil(lengths.length / 8) }, (_, k) => lengths.map((_, i) => i).slice(8 * k, 8 * k + 8));
    const random = padded(inOrder); // lengths are scrambled in index order
    assert.ok(bucketed < 0.8 * random, `bucketed ${bucketed} vs random ${random}`);
  });

  it('without shuffle, batches are the examples in length order', () => {
    const it = new BatchIterator([3, 1, 2, 1], { batchSize: 2, shuffle: false });
    assert.deepEqual(epoch(it), [[1, 3], [2, 0]]);
  });

  it('resumes from a saved state, mid-epoch and across epochs, through JSON', () => {
    const reference = new BatchIterator(lengths, { batchSize: 5, seed: 11 });
    const expected = Array.from({ length: 60 }, () => [...reference.next()]);
    const it = new BatchIterator(lengths, { batchSize: 5, seed: 11 });
    for (let i = 0; i < 27; i++) it.next();
    const saved = JSON.parse(JSON.stringify(it.state()));
    const resumed = new BatchIterator(lengths, { batchSize: 5, seed: 11 });
    resumed.loadState(saved);
    assert.deepEqual(Array.from({ length: 33 }, () => [...resumed.next()]), expected.slice(27));
    assert.throws(() => new BatchIterator([1, 2], { batchSize: 5 }).loadState(saved), CheckpointError);
  });
});
