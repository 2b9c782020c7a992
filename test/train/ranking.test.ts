// Ranking metrics (HR@k, NDCG@k, ranks, top-k), the negative sampler and the next-item protocol, on hand-worked cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hitRateAtK, ndcgAtK, rankAmong, fullRank, topK } from '../../src/train/metrics/ranking.js';
import { sampleNegative, sampleNegatives } from '../../src/data/negative-sampling.js';
import { historyAndTarget, rankNextItems, summarizeRanks, type NextItemScorer } from '../../src/train/next-item-eval.js';
import type { SequenceSplit } from '../../src/data/movietweetings.js';
import { Generator } from '../../src/tensor/rng.js';
import { ValueError } from '../../src/errors.js';
import { binaryCrossEntropyWithLogits, tensor } from '../../src/index.js';

test('HR@10 and NDCG@10 of hand-worked ranks: hits below 10 only, each discounted by log2(rank + 2)', () => {
  const ranks = [0, 1, 9, 10, 50];
  assert.equal(hitRateAtK(ranks, 10), 3 / 5);
  // (1/log2(2) + 1/log2(3) + 1/log2(11)) / 5 = (1 + 0.6309298 + 0.2890648) / 5
  assert.ok(Math.abs(ndcgAtK(ranks, 10) - 0.3839989) < 1e-6, String(ndcgAtK(ranks, 10)));
  assert.equal(hitRateAtK(ranks, 1), 1 / 5);
  assert.equal(ndcgAtK(ranks, 1), 1 / 5);
  assert.equal(hitRateAtK([], 10), 0);
  assert.throws(() => hitRateAtK(ranks, 0), ValueError);
});

test('a rank counts only the candidates scored strictly higher; full ranking skips padding and the history', () => {
  assert.equal(rankAmong(0.5, [0.9, 0.5, 0.1, 0.7]), 2); // the tie at 0.5 does not count against the target
  assert.throws(() => rankAmong(NaN, [1]), /NaN/);
  //            item: 0    1    2    3    4    5
  const scores = [9, 0.8, 0.9, 0.3, 0.95, 0.1];
  assert.equal(fullRank(scores, 1), 2); // items 2 and 4 beat it; padding (item 0) never counts
  assert.equal(fullRank(scores, 1, [4, 4, 1]), 1); // item 4 is in the history: not a competitor
  assert.deepEqual(topK(scores, 2, new Set([0, 4])).map((r) => r.index), [2, 1]);
});

test('binaryCrossEntropyWithLogits equals −z·log σ(x) − (1 − z)·log(1 − σ(x)), even for large |x|', () => {
  const x = [2, -1, 0, 40, -40];
  const z = [1, 0, 0.5, 0, 1];
  const out = binaryCrossEntropyWithLogits(tensor(x), tensor(z), { reduction: 'none' }).toArray() as number[];
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const expected = [-Math.log(sig(2)), -Math.log(1 - sig(-1)), Math.log(2), 40, 40];
  out.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-4, `${i}: ${v} vs ${expected[i]}`));
});

test('the negative sampler never returns a history item or padding, covers every other item, and is seeded', () => {
  const exclude = new Set([1, 2, 3, 5, 8]);
  const draws = sampleNegatives(2000, 10, exclude, new Generator(3));
  const seen = new Set(draws);
  assert.deepEqual([...seen].sort((a, b) => a - b), [4, 6, 7, 9, 10]);
  assert.deepEqual(sampleNegatives(50, 10, exclude, new Generator(3)), draws.subarray(0, 50));
  assert.throws(() => sampleNegative(3, new Set([1, 2, 3]), new Generator(0)), /covers all 3 items/);
});

/** Users 0..2 over 6 items; user 2 has fewer than 3 events so it has no valid/test item. */
const SPLIT: SequenceSplit = {
  numItems: 6, itemIds: ['', 'a', 'b', 'c', 'd', 'e', 'f'], userIds: ['u1', 'u2', 'u3'],
  train: [Int32Array.from([1, 2]), Int32Array.from([3]), Int32Array.from([4, 5])],
  valid: Int32Array.from([3, 4, 0]), test: Int32Array.from([4, 6, 0]),
};

test('the protocol reads train for validation and train + validation for test, and skips users without a target', () => {
  assert.deepEqual([...historyAndTarget(SPLIT, 0, 'test').history], [1, 2, 3]);
  assert.equal(historyAndTarget(SPLIT, 0, 'valid').target, 3);
  const histories: number[][] = [];
  const oracle: NextItemScorer = {
    scoreAll: (hs, users) => {
      const out = new Float32Array(hs.length * 7);
      hs.forEach((h, b) => {
        histories.push([...h]);
        out[b * 7 + SPLIT.test[users[b]]] = 1; // the test item scores highest
      });
      return out;
    },
  };
  const r = rankNextItems(SPLIT, oracle, { split: 'test', numNegatives: 20, seed: 1 });
  assert.deepEqual([...r.users], [0, 1]);
  assert.deepEqual(histories, [[1, 2, 3], [3, 4]]);
  assert.deepEqual([...r.sampled], [0, 0]);
  assert.deepEqual([...r.full], [0, 0]);
  const s = summarizeRanks(r);
  assert.equal(s.hr10, 1);
  assert.equal(s.fullNdcg10, 1);
  // a scorer that ranks the target last: full rank = items outside the history, minus the target
  const worst: NextItemScorer = { scoreAll: (hs, users) => Float32Array.from({ length: hs.length * 7 }, (_, i) => (i % 7 === SPLIT.test[users[Math.floor(i / 7)]] ? -1 : 1)) };
  const w = rankNextItems(SPLIT, worst, { split: 'test', numNegatives: 20, seed: 1 });
  assert.deepEqual([...w.full], [6 - 3 - 1, 6 - 2 - 1]);
  assert.equal(summarizeRanks(w, 10, (target) => target === 6).users, 1);
});

test('the sampled protocol draws test negatives from outside the train part only (SASRec\'s quirk: the validation item may be drawn)', () => {
  // user 0: train {1, 2}, valid 3, test 4. Score the validation item above the target, train items higher still.
  const scorer: NextItemScorer = { scoreAll: (hs) => Float32Array.from({ length: hs.length * 7 }, (_, i) => [0, 9, 9, 2, 1, 0, 0][i % 7]) };
  const r = rankNextItems({ ...SPLIT, train: [SPLIT.train[0]], valid: SPLIT.valid.subarray(0, 1), test: SPLIT.test.subarray(0, 1) }, scorer, { split: 'test', numNegatives: 100, seed: 0 });
  assert.ok(r.sampled[0] >= 1, 'the validation item was drawn as a negative and beats the target');
  assert.ok(r.sampled[0] < 100, 'train items (scored 9) are never drawn');
  assert.equal(r.full[0], 0, 'full ranking excludes the input history (train + validation)');
});
