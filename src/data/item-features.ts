/**
 * Item side information as model inputs: title words and genre sets.
 *
 * - Titles are lower-cased and cut into runs of letters/digits ('The Matrix (1999)' → the,
 *   matrix, 1999; the year is a word like the others, and on MovieTweetings, where ratings cluster
 *   on the year's new films, a telling one). A title longer than `maxLen` words keeps its first
 *   maxLen − 1 words and its last (the year). Words seen in fewer than `minCount` titles map to
 *   <unk>, so a word unique to one item carries no more than that item's ID already does.
 * - Genres are a set: each item's row is the indicator of its genres divided by their number (the
 *   mean of its genre embeddings after a matmul); an item without genres has a row of zeros.
 *
 * Letters: N items (row 0 = padding, all zeros), Tt title words, G genres.
 */
import { Tensor } from '../tensor/tensor.js';
import { UNK_ID, Vocab } from './vocab.js';

/** Lower-cased runs of letters and digits. */
export function titleWords(title: string): string[] {
  return title.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w !== '');
}

/** A vocabulary of the words found in at least `minCount` titles (ids 0..3 are the specials). */
export function buildTitleVocab(titles: readonly string[], minCount = 2): Vocab {
  const count = new Map<string, number>();
  for (const t of titles) for (const w of new Set(titleWords(t))) count.set(w, (count.get(w) ?? 0) + 1);
  return Vocab.fromTokens([...count].filter(([, n]) => n >= minCount).map(([w]) => w));
}

/** (N + 1, maxLen) int32 word ids, 0-padded; titles[0] is the padding item's ''. */
export function encodeTitles(titles: readonly string[], vocab: Vocab, maxLen: number): Tensor {
  const out = new Int32Array(titles.length * maxLen); // (N + 1, Tt)
  titles.forEach((title, i) => {
    let words = titleWords(title);
    if (words.length > maxLen) words = [...words.slice(0, maxLen - 1), words[words.length - 1]];
    words.forEach((w, t) => (out[i * maxLen + t] = vocab.idOf(w) ?? UNK_ID));
  });
  return new Tensor(out, [titles.length, maxLen]);
}

/** The distinct genre names of all items, sorted. */
export function genreNames(genres: readonly (readonly string[])[]): string[] {
  return [...new Set(genres.flat())].sort();
}

/** (N + 1, G) float32: each row its genre indicator divided by the item's genre count (see the header). */
export function encodeGenres(genres: readonly (readonly string[])[], names: readonly string[]): Tensor {
  const G = Math.max(1, names.length);
  const index = new Map(names.map((n, g) => [n, g]));
  const out = new Float32Array(genres.length * G); // (N + 1, G)
  genres.forEach((set, i) => {
    const known = [...new Set(set)].filter((n) => index.has(n));
    for (const n of known) out[i * G + index.get(n)!] = 1 / known.length;
  });
  return new Tensor(out, [genres.length, G]);
}
