/**
 * Sliding-window (local) attention (Longformer, Mistral): query i sees keys j with
 * p_i − window < j ≤ p_i (causal) or |p_i − j| < window (bidirectional), p_i as in
 * ../../ops/attention-mask.ts. It is MultiheadAttention with the slidingWindow mask form,
 * which ops.scaledDotProductAttention runs tile by tile: each query tile reads only the
 * keys of its band, so the cost is O(L · window), and no dense (L, S) band is ever built.
 *
 * Letters: B batch, L queries, S keys, E embedDim.
 */
import { Tensor } from '../../tensor/tensor.js';
import { allowedMask, type AttentionMaskOptions, type CausalAlignment } from '../../ops/attention-mask.js';
import { MultiheadAttention, type MultiheadAttentionOptions, type MultiheadAttentionCallOptions } from './multihead.js';
import { ConfigError } from '../../errors.js';

/**
 * The dense (L, S) band (true = may attend) that the window stands for: a picture for tests
 * and plots; attention never builds it.
 */
export function slidingWindowMask(L: number, S: number, window: number, causal = true, causalAlignment: CausalAlignment = 'top-left'): Tensor {
  return allowedMask({ slidingWindow: window, isCausal: causal, causalAlignment }, L, S, 'slidingWindowMask'); // (L, S)
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

  /** MultiheadAttention's masks AND the band (causal when the module is, or when the call asks). */
  protected override maskOptions(o: MultiheadAttentionCallOptions, past: number | null): AttentionMaskOptions {
    return { ...super.maskOptions({ ...o, isCausal: this.causal || (o.isCausal ?? false) }, past), slidingWindow: this.window };
  }
}
