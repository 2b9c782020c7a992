/**
 * Next-item evaluation on a leave-one-out split, under two protocols at once:
 *
 * - **sampled** (SASRec's, kang205/SASRec util.py `evaluate` / `evaluate_valid`): the true item is
 *   ranked against `numNegatives` (100) items drawn uniformly, with replacement, from the items
 *   NOT in the user's train part. Its quirks are kept on purpose, so figures compare with SASRec's:
 *   for test the validation item is not excluded (it may be drawn as a negative), and a negative
 *   may even equal the true item (it then ties and does not count against it).
 * - **full**: the true item is ranked against every item except padding and the items already in
 *   the input history (a recommender does not re-recommend what was consumed).
 *
 * Inputs per protocol: validation reads the train part and predicts the validation item; test
 * reads train + validation and predicts the test item. Users with no target or an empty train
 * part are skipped (as SASRec does). Negatives are drawn user by user, in user order, from one
 * generator seeded with `seed`, so they do not depend on batching or on the model.
 *
 * Letters: n users in a batch, N items (numItems; scores rows have N + 1 entries, entry 0 unused).
 */
import { ValueError } from '../errors.js';
import { Generator } from '../tensor/rng.js';
import type { SequenceSplit } from '../data/movietweetings.js';
import { sampleNegatives } from '../data/negative-sampling.js';
import { fullRank, hitRateAtK, ndcgAtK, rankAmong } from './metrics/ranking.js';

/** What a recommender must offer to be evaluated: scores of every item for a batch of histories. */
export interface NextItemScorer {
  /**
   * Args: histories: each user's input items, oldest first. users: their user indices (0-based;
   * only user-factor models such as BPR read them).
   * Returns: (n, N + 1) row-major scores; entry 0 (padding) is ignored.
   */
  scoreAll(histories: readonly Int32Array[], users: Int32Array): Float32Array;
}

export interface NextItemEvalOptions {
  split: 'valid' | 'test';
  /** Sampled negatives per user (SASRec: 100). */
  numNegatives?: number;
  /** Seed of the negatives' generator. */
  seed?: number;
  /** Users scored per scoreAll call. */
  batchSize?: number;
  /** Evaluate only the first `limit` eligible users (0 = all). */
  limit?: number;
}

/** Per evaluated user: who, what the target was, and its rank under each protocol (0 = top). */
export interface NextItemRanks {
  users: Int32Array;
  targets: Int32Array;
  sampled: Int32Array;
  full: Int32Array;
}

/** The input history and target of user u for a split (see the header). */
export function historyAndTarget(data: SequenceSplit, u: number, split: 'valid' | 'test'): { history: Int32Array; target: number } {
  const train = data.train[u];
  if (split === 'valid') return { history: train, target: data.valid[u] };
  const history = new Int32Array(train.length + 1);
  history.set(train);
  history[train.length] = data.valid[u];
  return { history, target: data.test[u] };
}

/** Ranks every eligible user's true item under both protocols (see the header). */
export function rankNextItems(data: SequenceSplit, scorer: NextItemScorer, options: NextItemEvalOptions): NextItemRanks {
  const { split } = options;
  if (split !== 'valid' && split !== 'test') throw new ValueError(`rankNextItems: split is '${String(split)}', expected 'valid' or 'test'.`);
  const numNegatives = options.numNegatives ?? 100, batchSize = options.batchSize ?? 256;
  const rng = new Generator(options.seed ?? 0);
  const users: number[] = [];
  for (let u = 0; u < data.train.length; u++) {
    if (data.train[u].length >= 1 && (split === 'valid' ? data.valid[u] : data.test[u]) > 0) users.push(u);
  }
  if (options.limit && options.limit > 0) users.length = Math.min(users.length, options.limit);
  const negatives = users.map((u) => sampleNegatives(numNegatives, data.numItems, new Set(data.train[u]), rng));
  const n = users.length, N1 = data.numItems + 1;
  const out: NextItemRanks = { users: Int32Array.from(users), targets: new Int32Array(n), sampled: new Int32Array(n), full: new Int32Array(n) };
  for (let start = 0; start < n; start += batchSize) {
    const batchUsers = out.users.subarray(start, Math.min(n, start + batchSize));
    const cases = Array.from(batchUsers, (u) => historyAndTarget(data, u, split));
    const scores = scorer.scoreAll(cases.map((c) => c.history), batchUsers); // (n, N + 1)
    if (scores.length !== cases.length * N1) {
      throw new ValueError(`rankNextItems: the scorer returned ${scores.length} scores for ${cases.length} users, expected ${cases.length} × ${N1} (every item and the padding entry).`);
    }
    cases.forEach(({ history, target }, b) => {
      const row = scores.subarray(b * N1, (b + 1) * N1);
      const i = start + b;
      out.targets[i] = target;
      out.sampled[i] = rankAmong(row[target], Array.from(negatives[i], (j) => row[j]));
      out.full[i] = fullRank(row, target, history);
    });
  }
  return out;
}

/** HR@k and NDCG@k under both protocols, over all ranked users or those `keep` selects. */
export function summarizeRanks(r: NextItemRanks, k = 10, keep?: (target: number, user: number) => boolean): Record<string, number> {
  const idx: number[] = [];
  for (let i = 0; i < r.users.length; i++) if (!keep || keep(r.targets[i], r.users[i])) idx.push(i);
  const sampled = idx.map((i) => r.sampled[i]), full = idx.map((i) => r.full[i]);
  return {
    [`hr${k}`]: hitRateAtK(sampled, k), [`ndcg${k}`]: ndcgAtK(sampled, k),
    [`fullHr${k}`]: hitRateAtK(full, k), [`fullNdcg${k}`]: ndcgAtK(full, k),
    users: idx.length,
  };
}
