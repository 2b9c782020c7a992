/**
 * Negative sampling for implicit-feedback recommendation: items drawn uniformly from 1..numItems
 * (0 is padding), with replacement, rejecting the items in an exclusion set (a user's history).
 * This is kang205/SASRec's `random_neq`, used both for the training negatives (one per position,
 * excluding the user's whole train sequence) and for SASRec's evaluation protocol (100 negatives
 * excluding the user's train part; see src/train/next-item-eval.ts for that protocol's quirks).
 *
 * All randomness comes from the given seeded Generator, so a protocol's negatives are reproducible.
 */
import { ValueError } from '../errors.js';
import type { Generator } from '../tensor/rng.js';

/** A uniform draw from 1..numItems not in `exclude`. Throws when `exclude` covers every item (rejection would never end). */
export function sampleNegative(numItems: number, exclude: ReadonlySet<number>, rng: Generator): number {
  if (!Number.isInteger(numItems) || numItems < 1) throw new ValueError(`sampleNegative: numItems is ${numItems}, expected a positive integer.`);
  let covered = 0;
  if (exclude.size >= numItems) {
    for (const i of exclude) if (i >= 1 && i <= numItems) covered++;
    if (covered >= numItems) throw new ValueError(`sampleNegative: the exclusion set covers all ${numItems} items, so no negative exists.`);
  }
  for (;;) {
    const i = 1 + rng.randint(numItems);
    if (!exclude.has(i)) return i;
  }
}

/** `count` independent draws of sampleNegative (with replacement), as an Int32Array. */
export function sampleNegatives(count: number, numItems: number, exclude: ReadonlySet<number>, rng: Generator): Int32Array {
  if (!Number.isInteger(count) || count < 0) throw new ValueError(`sampleNegatives: count is ${count}, expected an integer ≥ 0.`);
  const out = new Int32Array(count);
  for (let k = 0; k < count; k++) out[k] = sampleNegative(numItems, exclude, rng);
  return out;
}
