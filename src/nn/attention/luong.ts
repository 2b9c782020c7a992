/**
 * LuongAttention (Luong et al. 2015), three scores:
 *   'dot':     score = qᵀ k                       (Dq = Dk)
 *   'general': score = qᵀ W k                     (W: Dk → Dq)
 *   'concat':  score = vᵀ tanh(W [q; k])          (W: Dq + Dk → A)
 *
 * Letters: B batch, L queries, S keys, Dq, Dk, Dv sizes, A concat hidden size.
 */
import { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { Linear } from '../linear.js';
import { tanh } from '../../ops/elementwise.js';
import { matmul } from '../../ops/matmul.js';
import { unsqueeze, reshape, transpose, expand, cat } from '../../ops/shape.js';
import { ConfigError } from '../../errors.js';
import { checkQkv, paddedSoftmax, type SimpleAttentionCallOptions, type SimpleAttentionOutput } from './additive.js';
import { isRecording, reportAttention } from './recorder.js';

export type LuongScore = 'dot' | 'general' | 'concat';

export class LuongAttention extends Module {
  readonly score: LuongScore;
  W: Linear | null;
  v: Linear | null;

  /**
   * Args:
   *   score: 'dot', 'general' or 'concat'.
   *   queryDim: Dq.  keyDim: Dk (default Dq).  attnDim: A for 'concat' (default Dq).
   */
  constructor(score: LuongScore, queryDim: number, keyDim = queryDim, attnDim = queryDim) {
    super();
    if (!['dot', 'general', 'concat'].includes(score)) throw new ConfigError(`LuongAttention: score='${String(score)}', expected 'dot', 'general' or 'concat'.`);
    if (score === 'dot' && keyDim !== queryDim) throw new ConfigError(`LuongAttention: 'dot' needs keyDim === queryDim, received ${keyDim} and ${queryDim}. Fix: use 'general'.`);
    this.score = score;
    this.W = score === 'general' ? new Linear(keyDim, queryDim, { bias: false }) : score === 'concat' ? new Linear(queryDim + keyDim, attnDim, { bias: false }) : null;
    this.v = score === 'concat' ? new Linear(attnDim, 1, { bias: false }) : null;
  }

  /** query (B, L, Dq) or (B, Dq); keys (B, S, Dk); values (B, S, Dv) → { output (B, L, Dv), weights (B, L, S) }. */
  override forward(query: Tensor, keys: Tensor, values: Tensor = keys, o: SimpleAttentionCallOptions = {}): SimpleAttentionOutput {
    if (query.ndim === 2) query = unsqueeze(query, 1); // (B, 1, Dq)
    checkQkv('LuongAttention', query, keys, values);
    const [B, L] = query.shape, S = keys.shape[1];
    let scores: Tensor;
    if (this.score === 'dot') scores = matmul(query, transpose(keys, 1, 2)); // (B, L, S)
    else if (this.score === 'general') scores = matmul(query, transpose(this.W!.call(keys), 1, 2)); // (B, L, S)
    else {
      const qe = expand(unsqueeze(query, 2), [B, L, S, query.shape[2]]); // (B, L, S, Dq)
      const ke = expand(unsqueeze(keys, 1), [B, L, S, keys.shape[2]]); // (B, L, S, Dk)
      scores = reshape(this.v!.call(tanh(this.W!.call(cat([qe, ke], -1)))), [B, L, S]); // (B, L, S)
    }
    const w = paddedSoftmax('LuongAttention', scores, o.keyPaddingMask); // (B, L, S)
    if (isRecording()) reportAttention(this, unsqueeze(w, 1), 'cross');
    return { output: matmul(w, values), weights: w }; // (B, L, Dv), (B, L, S)
  }
}
