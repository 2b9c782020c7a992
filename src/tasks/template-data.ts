/**
 * What the file-driven templates (classify, tag, seq2seq) share: the --train / --valid / --test
 * config keys, the hash split of train when no validation file is given, warnings about labels
 * unseen in training, vocabularies with a frequency cut-off, and defaults chosen from the data's
 * size (printed at start, saved in config.json).
 */
import { ConfigError } from '../errors.js';
import { hashSplit } from '../data/split.js';
import type { ConfigSchema } from '../models/config.js';

export interface FileConfig {
  /** Training file (required). */
  train: string;
  /** Validation file; '' = a 10% hash split of train. */
  valid: string;
  /** Test file for `heed eval --split test`; '' = none. */
  test: string;
  /** A Hugging Face tokenizer (tokenizer.json, vocab.txt, or a vocab.json + merges.txt directory) to read text with; '' = the template's own (characters or words). See template-tokenizer.ts. */
  tokenizerFile: string;
}

export const FILE_SCHEMA: ConfigSchema<FileConfig> = { train: 'string', valid: 'string', test: 'string', tokenizerFile: 'string' };
export const FILE_DEFAULTS: Readonly<FileConfig> = Object.freeze({ train: '', valid: '', test: '', tokenizerFile: '' });

/**
 * The sizes every template leaves at 0 (chosen from the data's size in loadData) and the training
 * keys they share: 32 examples a batch, validation every 250 steps, no label smoothing.
 */
export const AUTO_SIZE_DEFAULTS = Object.freeze({
  dModel: 0, numHeads: 4, numLayers: 0, dimFeedforward: 0, maxLen: 0,
  batchSize: 32, maxSteps: 0, warmupSteps: 100, evalEvery: 250, labelSmoothing: 0,
});

/** Checks --train is given. */
export function checkFiles(task: string, c: FileConfig): void {
  if (c.train === '') throw new ConfigError(`heed train ${task}: --train <file> is required. Example: heed train ${task} --train data/train.${task === 'tag' ? 'conll' : task === 'seq2seq' ? 'tsv' : 'csv'}`);
}

/**
 * train/valid from a file pair, or from train alone by a hash of each example's key (10% valid):
 * deterministic, stable when the file grows, and identical examples stay on one side.
 */
export function splitTrainValid<E>(train: readonly E[], valid: readonly E[] | null, key: (e: E) => string): { train: E[]; valid: E[]; split: boolean } {
  if (valid !== null) return { train: [...train], valid: [...valid], split: false };
  const t: E[] = [], v: E[] = [];
  for (const e of train) (hashSplit(key(e), 90, 10) === 'train' ? t : v).push(e);
  return { train: t, valid: v, split: true };
}

/** "3 × 'spam', 1 × 'other'" of labels outside `known`, or null when every label is known. */
export function unseenLabels(labels: Iterable<string>, known: ReadonlySet<string>): { count: number; text: string } | null {
  const counts = new Map<string, number>();
  for (const l of labels) if (!known.has(l)) counts.set(l, (counts.get(l) ?? 0) + 1);
  if (counts.size === 0) return null;
  const list = [...counts].sort((a, b) => b[1] - a[1]);
  const total = list.reduce((n, [, c]) => n + c, 0);
  return { count: total, text: list.slice(0, 8).map(([l, c]) => `${c} × '${l}'`).join(', ') + (list.length > 8 ? `, … (${list.length} labels)` : '') };
}

/** Tokens that occur at least `minFreq` times, most frequent first (ties alphabetical), at most `max`. */
export function frequentTokens(sequences: Iterable<readonly string[]>, minFreq: number, max = Infinity): string[] {
  const counts = new Map<string, number>();
  for (const s of sequences) for (const t of s) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].filter(([, n]) => n >= minFreq).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, max).map(([t]) => t);
}

/**
 * Fills the keys of `c` that are 0 ("choose from the data") with `chosen`, and returns the line
 * that says so (`defaults from the data: dModel 128, maxSteps 2000, ...`).
 */
export function applyDataDefaults<C extends object>(c: C, chosen: Partial<Record<keyof C, number>>): string {
  const set: string[] = [];
  for (const [k, v] of Object.entries(chosen) as [keyof C & string, number][]) {
    if ((c as Record<string, unknown>)[k] === 0) {
      (c as Record<string, unknown>)[k] = v;
      set.push(`${k} ${v}`);
    }
  }
  return set.length > 0 ? `defaults from the data (saved in config.json): ${set.join(', ')}` : 'every size was given; no defaults chosen from the data';
}

/** Steps for about `epochs` passes over `n` examples in batches of `batch`, within [lo, hi]. */
export function stepsFor(n: number, batch: number, epochs: number, lo = 200, hi = 20000): number {
  return Math.max(lo, Math.min(hi, Math.round((epochs * n) / batch / 50) * 50));
}

/** The largest of `values` (−∞ when empty): a loop, since Math.max(...xs) overflows the stack on large files. */
export function maxOf(values: Iterable<number>): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return m;
}
