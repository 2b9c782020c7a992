/**
 * Length-bucketed, seedable, resumable batching of variable-length sequences.
 *
 * How an epoch is planned (the "pool" scheme of torchtext's BucketIterator / fairseq):
 *   1. permute the example indices with the seeded generator (identity when shuffle=false);
 *   2. cut the permutation into pools of `poolSize` examples and sort each pool by length,
 *      so a batch holds sequences of similar length and padding stays small;
 *   3. cut each sorted pool greedily into batches of at most `batchSize` sequences and at
 *      most `maxTokens` padded tokens (B × longest length in the batch);
 *   4. shuffle the order of the batches (when shuffle=true).
 * The plan depends only on the lengths, the options and the generator state at the start of
 * the epoch, so `state()` = (epoch, position, that generator state) restores it exactly.
 *
 * The iterator yields example indices; `padSequences` turns the chosen sequences into a
 * (B, T) Int32Array filled with the pad id plus a (B,) Int32Array of lengths.
 *
 * Letters: B = sequences in a batch, T = longest sequence in the batch.
 */

import { CheckpointError, ValueError } from '../errors.js';
import { Generator } from '../tensor/rng.js';
import { PAD_ID } from './vocab.js';

/** Sequences padded into one (B, T) array, with their true lengths. */
export interface PaddedBatch {
  /** Row-major (B, T) token ids, padded with the pad id. */
  data: Int32Array;
  /** (B,) true length of each row. */
  lengths: Int32Array;
  shape: [number, number];
}

/** Pads sequences into one (B, T) array; T is the longest length (or `padTo` when larger). */
export function padSequences(sequences: readonly ArrayLike<number>[], padId = PAD_ID, padTo = 0): PaddedBatch {
  let T = padTo;
  for (const s of sequences) T = Math.max(T, s.length);
  const B = sequences.length;
  const data = new Int32Array(B * T).fill(padId); // (B, T)
  const lengths = new Int32Array(B); // (B,)
  sequences.forEach((s, b) => {
    data.set(s, b * T);
    lengths[b] = s.length;
  });
  return { data, lengths, shape: [B, T] };
}

/** How BatchIterator cuts an epoch into batches. */
export interface BatchingOptions {
  /** Most sequences per batch. At least one of batchSize / maxTokens is required. */
  batchSize?: number;
  /** Most padded tokens per batch, B × T (fairseq's --max-tokens). */
  maxTokens?: number;
  /** Shuffle examples and batch order each epoch. Default true; use false for evaluation. */
  shuffle?: boolean;
  /** Seed of the batching generator. Default 0. */
  seed?: number;
  /** Examples sorted by length together. Default 4096: small enough to keep batches varied across epochs. */
  poolSize?: number;
  /** Drop a final batch smaller than batchSize in each pool. Default false. */
  dropLast?: boolean;
}

/** Where a BatchIterator is, as saved in trainer_state.json; `loadState` resumes from it exactly. */
export interface BatchIteratorState {
  epoch: number;
  /** Batches of `epoch` already returned. */
  position: number;
  /** Generator state at the start of `epoch`. */
  rngState: number[];
  /** Number of examples, checked on restore. */
  numExamples: number;
}

/**
 * Yields batches of example indices, epoch after epoch, planned as the file header describes.
 *
 *   const it = new BatchIterator(examples.map((e) => e.length), { batchSize: 32, seed: 0 });
 *   const idx = it.next();                                   // Int32Array of example indices
 *   const batch = padSequences([...idx].map((i) => examples[i]));  // (B, T) ids + lengths
 *   const saved = it.state();  ...  it.loadState(saved);     // resume mid-epoch
 */
export class BatchIterator {
  private readonly lengths: Int32Array;
  private readonly opts: Required<Omit<BatchingOptions, 'batchSize' | 'maxTokens'>> & { batchSize: number; maxTokens: number };
  private readonly rng: Generator;
  private epochStartState: number[];
  private plan: Int32Array[];
  /** Epoch being iterated (0-based). */
  epoch = 0;
  /** Batches of the current epoch already returned. */
  position = 0;

  /** `lengths[i]` is the length of example i (for seq2seq, the longer of source and target). */
  constructor(lengths: ArrayLike<number>, options: BatchingOptions) {
    const { batchSize = Infinity, maxTokens = Infinity, shuffle = true, seed = 0, poolSize = 4096, dropLast = false } = options;
    if (batchSize === Infinity && maxTokens === Infinity) {
      throw new ValueError('BatchIterator: give batchSize or maxTokens (or both); received neither.');
    }
    for (const [name, v] of [['batchSize', batchSize], ['maxTokens', maxTokens], ['poolSize', poolSize]] as const) {
      if (v !== Infinity && (!Number.isInteger(v) || v < 1)) throw new ValueError(`BatchIterator: ${name} must be a positive integer, received ${v}.`);
    }
    this.lengths = Int32Array.from(lengths);
    this.lengths.forEach((len, i) => {
      if (len > maxTokens) {
        throw new ValueError(`BatchIterator: example ${i} has length ${len}, more than maxTokens ${maxTokens}; it can never fit a batch. Fix: raise maxTokens or filter long examples.`);
      }
    });
    this.opts = { batchSize, maxTokens, shuffle, seed, poolSize, dropLast };
    this.rng = new Generator(seed);
    this.epochStartState = this.rng.getState();
    this.plan = this.planEpoch();
  }

  /** Batches in the current epoch. */
  get numBatches(): number {
    return this.plan.length;
  }

  /** The next batch of example indices; after the last batch of an epoch, the next epoch starts. */
  next(): Int32Array {
    if (this.position >= this.plan.length) this.startNextEpoch();
    return this.plan[this.position++];
  }

  /** Iterates over the rest of the current epoch (or the whole next one, if this one is done). */
  *[Symbol.iterator](): IterableIterator<Int32Array> {
    if (this.position >= this.plan.length) this.startNextEpoch();
    while (this.position < this.plan.length) yield this.plan[this.position++];
  }

  state(): BatchIteratorState {
    return { epoch: this.epoch, position: this.position, rngState: [...this.epochStartState], numExamples: this.lengths.length };
  }

  /** Restores a saved state: the next batch is the one that followed when it was saved. */
  loadState(state: BatchIteratorState): void {
    const ok = state && Number.isInteger(state.epoch) && state.epoch >= 0 && Number.isInteger(state.position) && state.position >= 0 && Array.isArray(state.rngState);
    if (!ok) throw new CheckpointError(`BatchIterator.loadState: expected {epoch, position, rngState, numExamples}, received ${JSON.stringify(state)}.`);
    if (state.numExamples !== this.lengths.length) {
      throw new CheckpointError(`BatchIterator.loadState: state was saved for ${state.numExamples} examples, this dataset has ${this.lengths.length}. Fix: resume with the same dataset and split.`);
    }
    this.rng.setState(state.rngState);
    this.epochStartState = this.rng.getState();
    this.plan = this.planEpoch();
    if (state.position > this.plan.length) {
      throw new CheckpointError(`BatchIterator.loadState: position ${state.position} is past the ${this.plan.length} batches of epoch ${state.epoch}. Fix: resume with the same batching options.`);
    }
    this.epoch = state.epoch;
    this.position = state.position;
  }

  private startNextEpoch(): void {
    this.epoch++;
    this.position = 0;
    this.epochStartState = this.rng.getState();
    this.plan = this.planEpoch();
  }

  private planEpoch(): Int32Array[] {
    const { batchSize, maxTokens, shuffle, poolSize, dropLast } = this.opts;
    const n = this.lengths.length;
    const order = Array.from({ length: n }, (_, i) => i);
    if (shuffle) shuffleInPlace(order, this.rng);

    const batches: Int32Array[] = [];
    for (let start = 0; start < n; start += poolSize) {
      const pool = order.slice(start, start + poolSize);
      pool.sort((a, b) => this.lengths[a] - this.lengths[b]); // stable: ties keep the shuffled order
      let batch: number[] = [];
      let longest = 0;
      for (const i of pool) {
        const grown = Math.max(longest, this.lengths[i]);
        if (batch.length > 0 && (batch.length + 1 > batchSize || (batch.length + 1) * grown > maxTokens)) {
          batches.push(Int32Array.from(batch));
          batch = [];
        }
        batch.push(i);
        longest = batch.length === 1 ? this.lengths[i] : grown;
      }
      if (batch.length > 0 && !(dropLast && batch.length < batchSize)) batches.push(Int32Array.from(batch));
    }
    if (shuffle) shuffleInPlace(batches, this.rng);
    return batches;
  }
}

/** Fisher–Yates shuffle driven by the given generator. */
export function shuffleInPlace<T>(items: T[], rng: Generator): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.randint(i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
}
