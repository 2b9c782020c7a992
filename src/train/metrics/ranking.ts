/**
 * Top-k ranking metrics for next-item recommendation, from the 0-based rank of each user's true
 * item (rank r = the number of candidates scored strictly above it; ties do not count against it,
 * as in SASRec's `predictions.argsort().argsort()[0]` on distinct scores).
 *
 *   HR@k   = mean over users of [r < k]
 *   NDCG@k = mean over users of [r < k] / log2(r + 2)     (one relevant item, so IDCG = 1)
 *
 * Both average over every evaluated user, hits or not (kang205/SASRec `evaluate`).
 */
import { ValueError } from '../../errors.js';

function checkK(op: string, k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new ValueError(`${op}: k is ${k}, expected a positive integer (10 for HR@10).`);
}

/** Fraction of ranks below k; 0 for no users. */
export function hitRateAtK(ranks: ArrayLike<number>, k: number): number {
  checkK('hitRateAtK', k);
  if (ranks.length === 0) return 0;
  let hits = 0;
  for (let i = 0; i < ranks.length; i++) if (ranks[i] < k) hits++;
  return hits / ranks.length;
}

/** Mean of 1/log2(r + 2) over ranks below k (0 for the others); 0 for no users. */
export function ndcgAtK(ranks: ArrayLike<number>, k: number): number {
  checkK('ndcgAtK', k);
  if (ranks.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < ranks.length; i++) if (ranks[i] < k) sum += 1 / Math.log2(ranks[i] + 2);
  return sum / ranks.length;
}

/** The rank of `targetScore` among `others`: how many of them score strictly higher. NaN scores are a ValueError. */
export function rankAmong(targetScore: number, others: ArrayLike<number>): number {
  if (Number.isNaN(targetScore)) throw new ValueError('rankAmong: the target score is NaN; the model produced a non-finite score.');
  let r = 0;
  for (let i = 0; i < others.length; i++) if (others[i] > targetScore) r++;
  return r;
}

/**
 * The rank of item `target` in a full score row (index = item number), skipping item 0 (padding)
 * and the items in `exclude` (the user's history: items already consumed are never recommended).
 */
export function fullRank(scores: ArrayLike<number>, target: number, exclude: Iterable<number> = []): number {
  const t = scores[target];
  if (Number.isNaN(t)) throw new ValueError(`fullRank: the score of target item ${target} is NaN; the model produced a non-finite score.`);
  let r = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > t) r++;
  for (const i of new Set(exclude)) if (i !== target && i > 0 && i < scores.length && scores[i] > t) r--;
  return r;
}

/** The k highest-scoring entries of a row, best first (ties: lower index first), skipping `exclude`. */
export function topK(scores: ArrayLike<number>, k: number, exclude: ReadonlySet<number> = new Set()): { index: number; score: number }[] {
  checkK('topK', k);
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!exclude.has(i) && !Number.isNaN(scores[i])) idx.push(i);
  idx.sort((a, b) => scores[b] - scores[a] || a - b);
  return idx.slice(0, k).map((index) => ({ index, score: scores[index] }));
}
