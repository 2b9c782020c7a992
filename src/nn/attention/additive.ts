/**
 * AdditiveAttention (Bahdanau et al. 2015): score(q, k) = vᵀ tanh(Wq·q + Wk·k).
 *
 *   const attn = new AdditiveAttention(32, 48, 64);
 *   const { output, weights } = attn.forward(decState, encStates);   // (B, L, Dv), (B, L, S)
 *
 * Letters: B batch, L queries, S keys, Dq query size, Dk key size, A attention size, Dv value size.
 */
import { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { Linear } from '../linear.js';
import { add, tanh } from '../../ops/elementwise.js';
import { matmul } from '../../ops/matmul.js';
import { unsqueeze, reshape } from '../../ops/shape.js';
import { ShapeError, fmtShape } from '../../errors.js';
import { resolveMask, maskedSoftmax } from '../../ops/attention-mask.js';
import { isRecording, reportAttention } from './recorder.js';

export interface SimpleAttentionCallOptions {
  /** (B, S) bool, true = padding key (PyTorch convention). */
  keyPaddingMask?: Tensor | null;
}

export interface SimpleAttentionOutput {
  /** (B, L, Dv). */
  output: Tensor;
  /** (B, L, S), rows sum to 1 over unmasked keys. */
  weights: Tensor;
}

export class AdditiveAttention extends Module {
  queryProj: Linear;
  keyProj: Linear;
  v: Linear;

  /**
   * Args:
   *   queryDim: Dq.  keyDim: Dk.  attnDim: A, the hidden size of the scoring MLP.
   */
  constructor(queryDim: number, keyDim: number, attnDim: number) {
    super();
    this.queryProj = new Linear(queryDim, attnDim, { bias: false });
    this.keyProj = new Linear(keyDim, attnDim, { bias: true });
    this.v = new Linear(attnDim, 1, { bias: false });
  }

  /**
   * Args:
   *   query: (B, L, Dq), or (B, Dq) for one decoder state (then output is (B, 1, Dv)).
   *   keys: (B, S, Dk).  values: (B, S, Dv), default keys.
   */
  override forward(query: Tensor, keys: Tensor, values: Tensor = keys, o: SimpleAttentionCallOptions = {}): SimpleAttentionOutput {
    if (query.ndim === 2) query = unsqueeze(query, 1); // (B, 1, Dq)
    checkQkv('AdditiveAttention', query, keys, values);
    const [B, L] = query.shape, S = keys.shape[1];
    const q = unsqueeze(this.queryProj.call(query), 2); // (B, L, 1, A)
    const k = unsqueeze(this.keyProj.call(keys), 1); // (B, 1, S, A)
    const scores = reshape(this.v.call(tanh(add(q, k))), [B, L, S]); // (B, L, S)
    const w = paddedSoftmax('AdditiveAttention', scores, o.keyPaddingMask); // (B, L, S)
    if (isRecording()) reportAttention(this, unsqueeze(w, 1), 'cross');
    return { output: matmul(w, values), weights: w }; // (B, L, Dv), (B, L, S)
  }
}

/** Softmax over the keys with padded keys masked, through the one mask module. scores (B, L, S) → (B, L, S). */
export function paddedSoftmax(op: string, scores: Tensor, keyPaddingMask: Tensor | null | undefined): Tensor {
  const [B, L, S] = scores.shape;
  const s4 = reshape(scores, [B, 1, L, S]); // (B, 1, L, S): one head
  return reshape(maskedSoftmax(s4, resolveMask(op, { keyPaddingMask }, s4.shape)), [B, L, S]); // (B, L, S)
}

/** Checks (B, L, ·), (B, S, ·), (B, S, ·). */
export function checkQkv(op: string, q: Tensor, k: Tensor, v: Tensor): void {
  if (q.ndim !== 3 || k.ndim !== 3 || v.ndim !== 3 || k.shape[0] !== q.shape[0] || v.shape[0] !== q.shape[0] || v.shape[1] !== k.shape[1]) {
    throw new ShapeError(`${op}: query ${fmtShape(q.shape)}, keys ${fmtShape(k.shape)}, values ${fmtShape(v.shape)}; expected (B, L, Dq), (B, S, Dk), (B, S, Dv) with the same B and S.`);
  }
}
