/**
 * DataLoader: PyTorch's DataLoader for in-memory examples, over BatchIterator (./batching.ts):
 * seeded shuffling, bucketing by length (batches of similar lengths, at most `batchSize` examples
 * and `maxTokens` padded tokens), and a `collate` that turns a batch of examples into what the
 * model reads (padSequences for token ids, say). Iterating it yields one epoch; iterating again
 * yields the next, reshuffled. state() / loadState() resume mid-epoch exactly.
 *
 *   const loader = new DataLoader(pairs, {
 *     batchSize: 32, seed: 0, lengthOf: (p) => p.src.length,
 *     collate: (batch) => padSequences(batch.map((p) => p.src)),
 *   });
 *   for (const { data, shape } of loader) ...
 */
import { BatchIterator, type BatchingOptions, type BatchIteratorState } from './batching.js';
import { ValueError } from '../errors.js';

export interface DataLoaderOptions<E, B> extends BatchingOptions {
  /** Length of an example, for bucketing and maxTokens (default 1: batches of batchSize). */
  lengthOf?: (example: E) => number;
  /** Turns the examples of a batch into the batch (default: the array of examples). */
  collate?: (examples: E[]) => B;
}

export class DataLoader<E, B = E[]> implements Iterable<B> {
  private readonly batches: BatchIterator;
  private readonly collate: (examples: E[]) => B;

  constructor(readonly dataset: readonly E[], options: DataLoaderOptions<E, B>) {
    if (!Array.isArray(dataset) || dataset.length === 0) throw new ValueError(`DataLoader: dataset must be a non-empty array of examples, received ${Array.isArray(dataset) ? 'an empty array' : typeof dataset}.`);
    const { lengthOf, collate, ...batching } = options;
    this.batches = new BatchIterator(dataset.map((e) => (lengthOf ? lengthOf(e) : 1)), batching);
    this.collate = collate ?? ((examples) => examples as unknown as B);
  }

  /** Batches in the current epoch. */
  get numBatches(): number {
    return this.batches.numBatches;
  }

  /** The epoch being iterated (0-based). */
  get epoch(): number {
    return this.batches.epoch;
  }

  /** The next batch, starting the next epoch after the last one. */
  next(): B {
    return this.collate(Array.from(this.batches.next(), (i) => this.dataset[i]));
  }

  /** The rest of the current epoch (or the whole next one, when this one is done). */
  *[Symbol.iterator](): IterableIterator<B> {
    for (const idx of this.batches) yield this.collate(Array.from(idx, (i) => this.dataset[i]));
  }

  state(): BatchIteratorState {
    return this.batches.state();
  }

  loadState(state: BatchIteratorState): void {
    this.batches.loadState(state);
  }
}
