/**
 * Sliding-window (local) attention (Longformer, Mistral): query i sees keys j with
 * i − window < j ≤ i (causal) or |i − j| < window (bidirectional). It is exactly dense
 * attention with the band mask slidingWindowMask(); the block-sparse variant
 * (./block-sparse.ts) computes only the tiles the band touches.
 *
 * Letters: B batch, L queries, S keys, E embedDim.
 */
import { Tensor } from '../../tensor/tensor.js';
import { alloc } from '../../tensor/dtype.js';
import { logicalAnd } from '../../ops/elementwise.js';
import { reshape } from '../../ops/shape.js';
import { MultiheadAttention, type MultiheadAttentionOptions, type MultiheadAttentionCallOptions, type AttentionOutput } from './multihead.js';
import { ConfigError } from '../../errors.js';

/**
 * The band mask (heed convention, true = may attend), (L, S), bottom-right aligned
 * (query i sits at position S − L + i, as with a KV cache).
 */
export function slidingWindowMask(L: number, S: number, window: number, causal = true): Tensor {
  const d = alloc('bool', L * S);
  const off = S - L;
  for (let i = 0; i < L; i++) {
    const p = i + off;
    for (let j = 0; j < S; j++) d[i * S + j] = (causal ? j <= p && p - j < window : Math.abs(p - j) < window) ? 1 : 0;
  }
  return new Tensor(d, [L, S]);
}

export interface SlidingWindowOptions extends MultiheadAttentionOptions {
  /** Keys per query (including itself). */
  window: number;
  /** Only past keys (default true). */
  causal?: boolean;
}

export class SlidingWindowAttention extends MultiheadAttention {
  readonly window: number;
  readonly causal: boolean;

  constructor(embedDim: number, numHeads: number, options: SlidingWindowOptions) {
    super(embedDim, numHeads, options);
    if (!Number.isInteger(options.window) || options.window <= 0) throw new ConfigError(`SlidingWindowAttention: window=${options.window}, expected a positive integer.`);
    this.window = options.window;
    this.causal = options.causal ?? true;
  }

  /** As MultiheadAttention.forward, with the band mask AND-ed to any attnMask. */
  override forward(query: Tensor, key: Tensor = query, value: Tensor = key, options: MultiheadAttentionCallOptions = {}): AttentionOutput {
    const L = this.batchFirst ? query.shape[1] : query.shape[0];
    const S = (this.batchFirst ? key.shape[1] : key.shape[0]) + (options.kvCache?.mode === 'append' ? options.kvCache.length : 0);
    let band = slidingWindowMask(L, S, this.window, this.causal); // (L, S)
    if (options.attnMask) {
      if (options.attnMask.dtype !== 'bool') throw new ConfigError('SlidingWindowAttention: attnMask must be bool here (it is AND-ed with the band).');
      band = logicalAnd(reshape(band, [1, 1, L, S]), options.attnMask.ndim === 3 ? reshape(options.attnMask, [options.attnMask.shape[0], 1, L, S]) : options.attnMask); // (B | 1, H | 1, L, S)
    }
    return super.forward(query, key, value, { ...options, attnMask: band });
  }
}
