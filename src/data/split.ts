/**
 * Deterministic dataset splits by hashing a stable key (a word, a message checksum).
 *
 * A hash split never changes when the dataset grows or is reordered, needs no stored index
 * files, and puts every example with the same key in the same split (so alternate
 * pronunciations of a word, or duplicate e-mails, cannot leak from train into test).
 *
 * Hash: FNV-1a, 32-bit (http://www.isthe.com/chongo/tech/comp/fnv/), over the key's UTF-8
 * bytes; offset basis 2166136261, prime 16777619. Bucket = hash mod 100.
 */

export type SplitName = 'train' | 'valid' | 'test';

/** FNV-1a 32-bit hash of the UTF-8 bytes of `key`, as an unsigned integer. */
export function fnv1a32(key: string): number {
  const bytes = new TextEncoder().encode(key);
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Assigns `key` to a split: bucket = fnv1a32(key) mod 100; bucket < trainPercent → train,
 * < trainPercent + validPercent → valid, else test. Defaults give 90 / 5 / 5.
 */
export function hashSplit(key: string, trainPercent = 90, validPercent = 5): SplitName {
  const bucket = fnv1a32(key) % 100;
  if (bucket < trainPercent) return 'train';
  if (bucket < trainPercent + validPercent) return 'valid';
  return 'test';
}
