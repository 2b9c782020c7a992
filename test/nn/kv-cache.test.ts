// KVCache: decoding appends into a buffer with room to grow (no per-token copy of the cache) and
// attention reads its first `length` rows in place; with gradients it concatenates instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { nn } from '../../src/index.ts';
import { maxDiff } from '../tensors.ts';

/** Decodes x (B, T, E) one position at a time through `cache`; returns the outputs (B, T, E). */
function decode(attn: nn.MultiheadAttention, x: h.Tensor, cache: nn.KVCache, needWeights = false): h.Tensor {
  const steps: h.Tensor[] = [];
  for (let t = 0; t < x.shape[1]; t++) {
    const xt = h.narrow(x, 1, t, 1);
    steps.push(attn.forward(xt, xt, xt, { isCausal: true, kvCache: cache, needWeights }).output);
  }
  return h.cat(steps, 1);
}

test('a decoding cache grows by doubling, holds every key, and decoding equals the full causal forward', () => {
  h.manualSeed(5);
  for (const numKvHeads of [4, 2]) {
    const attn = new nn.MultiheadAttention(32, 4, { numKvHeads });
    attn.eval();
    const x = h.randn([3, 40, 32]);
    h.noGrad(() => {
      const full = attn.forward(x, x, x, { isCausal: true }).output;
      const cache = new nn.KVCache();
      const capacities = new Set<number>();
      const steps: h.Tensor[] = [];
      for (let t = 0; t < 40; t++) {
        const xt = h.narrow(x, 1, t, 1);
        steps.push(attn.forward(xt, xt, xt, { isCausal: true, kvCache: cache }).output);
        capacities.add(cache.capacity);
        assert.equal(cache.length, t + 1);
        assert.ok(cache.capacity >= cache.length);
      }
      assert.deepEqual([...capacities], [1, 16, 32, 64], 'one buffer per doubling, not one per token');
      assert.ok(maxDiff(h.cat(steps, 1), full) < 1e-5, `numKvHeads=${numKvHeads}`);
      // the cached keys, read back, are the projections of every position
      assert.deepEqual(cache.k!.shape, [3, numKvHeads, 40, 8]);
      assert.deepEqual(cache.v!.shape, [3, numKvHeads, 40, 8]);
    });
  }
});

test('needWeights and the composed (js) path read only the cached keys of a buffer with spare room', () => {
  h.manualSeed(6);
  const attn = new nn.MultiheadAttention(16, 2);
  attn.eval();
  const x = h.randn([2, 20, 16]);
  h.noGrad(() => {
    const full = attn.forward(x, x, x, { isCausal: true }).output;
    assert.ok(maxDiff(decode(attn, x, new nn.KVCache(), true), full) < 1e-5);
    const before = h.getBackend();
    h.setBackend('js');
    try {
      assert.ok(maxDiff(decode(attn, x, new nn.KVCache()), full) < 1e-5);
    } finally {
      h.setBackend(before);
    }
  });
});

test('reorder keeps the chosen batch rows of a grown cache, in order', () => {
  h.manualSeed(7);
  const cache = new nn.KVCache();
  const k = h.randn([3, 2, 20, 4]), v = h.randn([3, 2, 20, 4]);
  h.noGrad(() => {
    for (let t = 0; t < 20; t++) cache.append(h.narrow(k, 2, t, 1), h.narrow(v, 2, t, 1));
    cache.reorder(h.tensor(Int32Array.from([2, 0, 2]), [3], { dtype: 'int32' }));
  });
  const want = h.indexSelect(k, 0, h.tensor(Int32Array.from([2, 0, 2]), [3], { dtype: 'int32' }));
  assert.equal(maxDiff(cache.k!, want), 0);
  assert.equal(cache.length, 20);
});

test('with gradients the cache concatenates, so a gradient reaches keys cached earlier (prefix tuning)', () => {
  h.manualSeed(8);
  const prefix = h.randn([1, 2, 3, 4]);
  prefix.requiresGrad = true;
  const cache = new nn.KVCache();
  cache.append(prefix, prefix);
  const [k] = cache.append(h.randn([1, 2, 2, 4]), h.randn([1, 2, 2, 4]));
  assert.deepEqual(k.shape, [1, 2, 5, 4]);
  h.sum(k).backward();
  assert.ok(prefix.grad !== null && prefix.grad.data.every((g) => g === 1), 'd sum(k) / d prefix = 1');
});

test('a cache refuses keys of another batch or head layout, with the shapes in the message', () => {
  const cache = new nn.KVCache();
  h.noGrad(() => cache.append(h.zeros([2, 2, 1, 4]), h.zeros([2, 2, 1, 4])));
  assert.throws(() => h.noGrad(() => cache.append(h.zeros([3, 2, 1, 4]), h.zeros([3, 2, 1, 4]))), /KVCache\.append: new keys \[3, 2, 1, 4\].*expected \[2, 2, T, 4\]/);
  assert.throws(() => h.scaledDotProductAttention(h.zeros([1, 1, 1, 4]), h.zeros([1, 1, 4, 4]), h.zeros([1, 1, 4, 4]), { kvLength: 5 }), /kvLength=5, expected an integer in \[0, 4\]/);
});
