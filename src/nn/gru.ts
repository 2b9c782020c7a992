/**
 * GRU (Cho et al. 2014) with torch.nn.GRU's math and gate order (r, z, n):
 *
 *   r  = σ(x_t·W_irᵀ + b_ir + h·W_hrᵀ + b_hr)
 *   z  = σ(x_t·W_izᵀ + b_iz + h·W_hzᵀ + b_hz)
 *   n  = tanh(x_t·W_inᵀ + b_in + r ⊙ (h·W_hnᵀ + b_hn))      (r gates the hidden projection, bias included)
 *   h' = (1 − z) ⊙ n + z ⊙ h
 *
 * One or more layers, optionally bidirectional, dropout between layers while training; the
 * layer loop and the parameter names (weightIhL0 (3H, I), …, as PyTorch's weight_ih_l0) are
 * in rnn.ts, shared with LSTM.
 *
 * Letters: B batch, T time, I inputSize, H hiddenSize, N numLayers, Dn directions (1 or 2).
 */
import { Tensor } from '../tensor/tensor.js';
import { linear } from '../ops/matmul.js';
import { add, mul, sub, sigmoid, tanh } from '../ops/elementwise.js';
import { narrow } from '../ops/shape.js';
import { RNNBase, type CellWeights, type RNNOptions } from './rnn.js';

export type GRUOptions = RNNOptions;

export class GRU extends RNNBase {
  /** Init as PyTorch: every weight and bias ~ U(−1/√H, 1/√H). */
  constructor(inputSize: number, hiddenSize: number, options: GRUOptions = {}) {
    super('GRU', 3, inputSize, hiddenSize, options);
  }

  protected cell(xw: Tensor, [h]: Tensor[], w: CellWeights): Tensor[] {
    const H = this.hiddenSize;
    const hw = linear(h, w.weightHh, w.biasHh); // (B, 3H)
    const r = sigmoid(add(narrow(xw, 1, 0, H), narrow(hw, 1, 0, H))); // (B, H)
    const z = sigmoid(add(narrow(xw, 1, H, H), narrow(hw, 1, H, H))); // (B, H)
    const n = tanh(add(narrow(xw, 1, 2 * H, H), mul(r, narrow(hw, 1, 2 * H, H)))); // (B, H)
    return [add(n, mul(z, sub(h, n)))]; // (B, H): (1 − z)·n + z·h
  }

  /**
   * Args:
   *   x: (B, T, I) (or (T, B, I) when batchFirst is false).
   *   h0: initial hidden state (N·Dn, B, H), ordered layer 0 forward, layer 0 reverse, … as PyTorch; zeros by default.
   * Returns: { output (B, T, Dn·H) — the last layer's h at every step; h (N·Dn, B, H) the final states }.
   */
  override forward(x: Tensor, h0: Tensor | null = null): { output: Tensor; h: Tensor } {
    const { output, finals: [h] } = this.run(x, h0 ? [h0] : null, ['h']);
    return { output, h };
  }
}
