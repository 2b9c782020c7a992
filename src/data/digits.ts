/**
 * UCI optical digits (8×8, 1,797 images, ten classes) from `data/digits.csv.gz`.
 *
 * Source and licence: data/README.md (Alpaydin & Kaynak, UCI, CC BY 4.0, via scikit-learn).
 * Each line: 64 pixel values 0..16 (row-major 8×8), then the label 0..9.
 *
 * Images are returned as a flat Float32Array (N, 64) scaled to [0, 1] (pixel / 16) and
 * labels as an Int32Array (N,). The fixed split is stratified: for each class in label order,
 * its row indices are shuffled by one generator seeded with 0 (xoshiro128**, src/tensor/rng.ts),
 * the first round(0.8·n) go to train, the next round(0.1·n) to valid and the rest to test;
 * each split keeps ascending row order. This gives 1,438 / 179 / 180 images.
 *
 * Letters: N = images, 64 = 8 × 8 pixels.
 */

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

import { CheckpointError } from '../errors.js';
import { Generator } from '../tensor/rng.js';
import { shuffleInPlace } from './batching.js';

export const DIGITS_PIXELS = 64;
export const DIGITS_CLASSES = 10;

export interface DigitsSet {
  /** (N, 64) row-major, values in [0, 1]. */
  images: Float32Array;
  /** (N,) labels 0..9. */
  labels: Int32Array;
  /** Rows of the full file these came from. */
  indices: Int32Array;
}

export interface Digits {
  all: DigitsSet;
  train: DigitsSet;
  valid: DigitsSet;
  test: DigitsSet;
}

/** Finds data/digits.csv.gz from src/data/ (tsx) or dist/src/data/ (compiled). */
function defaultPath(): string {
  for (const rel of ['../../data/digits.csv.gz', '../../../data/digits.csv.gz']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new CheckpointError('loadDigits: data/digits.csv.gz not found next to the heed package. Fix: reinstall heed, or pass { path }.');
}

/** Parses the CSV text; any malformed line throws CheckpointError with its line number. */
export function parseDigitsCsv(text: string, source = '<text>'): DigitsSet {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const N = lines.length;
  const images = new Float32Array(N * DIGITS_PIXELS); // (N, 64)
  const labels = new Int32Array(N); // (N,)
  lines.forEach((line, n) => {
    const fail = (what: string): never => {
      throw new CheckpointError(`loadDigits: ${source} line ${n + 1}: ${what}`);
    };
    const values = line.split(',').map((v) => Number(v));
    if (values.length !== DIGITS_PIXELS + 1) fail(`expected 65 comma-separated values (64 pixels + label), received ${values.length}.`);
    values.forEach((v, k) => {
      const max = k < DIGITS_PIXELS ? 16 : 9;
      if (!Number.isInteger(v) || v < 0 || v > max) fail(`value ${k + 1} is ${JSON.stringify(line.split(',')[k])}, expected an integer in [0, ${max}] (${k < DIGITS_PIXELS ? 'pixel' : 'label'}).`);
    });
    for (let k = 0; k < DIGITS_PIXELS; k++) images[n * DIGITS_PIXELS + k] = values[k] / 16;
    labels[n] = values[DIGITS_PIXELS];
  });
  return { images, labels, indices: Int32Array.from({ length: N }, (_, i) => i) };
}

function subset(all: DigitsSet, rows: number[]): DigitsSet {
  const images = new Float32Array(rows.length * DIGITS_PIXELS); // (n, 64)
  rows.forEach((r, i) => images.set(all.images.subarray(r * DIGITS_PIXELS, (r + 1) * DIGITS_PIXELS), i * DIGITS_PIXELS));
  return { images, labels: Int32Array.from(rows, (r) => all.labels[r]), indices: Int32Array.from(rows) };
}

/** Loads, validates and splits the digits (see the header for the split). */
export function loadDigits(options: { path?: string } = {}): Digits {
  const path = options.path ?? defaultPath();
  let text: string;
  try {
    text = gunzipSync(readFileSync(path)).toString('utf8');
  } catch (err) {
    throw new CheckpointError(`loadDigits: cannot read gzip file '${path}': ${(err as Error).message}`);
  }
  const all = parseDigitsCsv(text, path);

  const rng = new Generator(0);
  const split: Record<'train' | 'valid' | 'test', number[]> = { train: [], valid: [], test: [] };
  for (let c = 0; c < DIGITS_CLASSES; c++) {
    const rows: number[] = [];
    all.labels.forEach((l, i) => l === c && rows.push(i));
    shuffleInPlace(rows, rng);
    const nTrain = Math.round(0.8 * rows.length);
    const nValid = Math.round(0.1 * rows.length);
    split.train.push(...rows.slice(0, nTrain));
    split.valid.push(...rows.slice(nTrain, nTrain + nValid));
    split.test.push(...rows.slice(nTrain + nValid));
  }
  const sorted = (rows: number[]) => rows.sort((a, b) => a - b);
  return { all, train: subset(all, sorted(split.train)), valid: subset(all, sorted(split.valid)), test: subset(all, sorted(split.test)) };
}
