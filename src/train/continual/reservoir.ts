/**
 * A fixed-size replay memory filled by reservoir sampling (Vitter's Algorithm R), the buffer of
 * experience replay in continual learning (Chaudhry et al. 2019, "On Tiny Episodic Memories"):
 * after n items have been offered, each of them is in the buffer with probability capacity / n,
 * whichever task it came from, without knowing n in advance.
 *
 *   const memory = new ReservoirBuffer<number>(1000, new Generator(0));
 *   for (const i of taskExamples) memory.add(i);
 *   const replay = memory.sample(32);          // 32 stored items, drawn uniformly with replacement
 */
import { Generator } from '../../tensor/rng.js';
import { ConfigError } from '../../errors.js';

export class ReservoirBuffer<T> {
  private readonly items: T[] = [];
  /** Items offered so far. */
  seen = 0;

  /** Args: capacity (≥ 0 items; 0 stores nothing), the generator that decides what is kept. */
  constructor(readonly capacity: number, private readonly rng: Generator = new Generator(0)) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new ConfigError(`ReservoirBuffer: capacity=${capacity}; expected an integer ≥ 0.`);
  }

  get size(): number {
    return this.items.length;
  }

  /** Offers one item: kept with probability capacity / seen, replacing a uniformly chosen one. */
  add(item: T): void {
    this.seen++;
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    const j = this.rng.randint(this.seen);
    if (j < this.capacity) this.items[j] = item;
  }

  /** n stored items drawn uniformly with replacement; none when the buffer is empty. */
  sample(n: number): T[] {
    if (this.items.length === 0) return [];
    return Array.from({ length: n }, () => this.items[this.rng.randint(this.items.length)]);
  }

  /** The stored items (a copy). */
  contents(): T[] {
    return [...this.items];
  }
}
