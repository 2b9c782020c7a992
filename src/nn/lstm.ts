/**
 * LSTM (Hochreiter & Schmidhuber 1997) with torch.nn.LSTM's math and gate order (i, f, g, o):
 *
 *   gates = x_t·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh           (B, 4H) = [i | f | g | o]
 *   c' = σ(f)·c + σ(i)·tanh(g)        h' = σ(o)·tanh(c')
 *
 * One or more layers, optionally bidirectional, dropout between layers while training; the
 * layer loop and the parameter names (weightIhL0, …, as PyTorch's weight_ih_l0) are in rnn.ts.
 *
 * Letters: B batch, T time, I inputSize, H hiddenSize, N numLayers, Dn directions (1 or 2).
 */
import { Tensor } from '../tensor/tensor.js';
import { linear } from '../ops/matmul.js';
import { add, mul, sigmoid, tanh } from '../ops/elementwise.js';
import { narrow } from '../ops/shape.js';
import { RNNBase, type CellWeights, type RNNOptions } from './rnn.js';

export type LSTMOptions = RNNOptions;

export interface LSTMState {
  /** (N·Dn, B, H), ordered layer 0 forward, layer 0 reverse, layer 1 forward, … as PyTorch. */
  h: Tensor;
  /** (N·Dn, B, H). */
  c: Tensor;
}

export class LSTM extends RNNBase {
  /** Init as PyTorch: every weight and bias ~ U(−1/√H, 1/√H). */
  constructor(inputSize: number, hiddenSize: number, options: LSTMOptions = {}) {
    super('LSTM', 4, inputSize, hiddenSize, options);
  }

  protected cell(xw: Tensor, [h, c]: Tensor[], w: CellWeights): Tensor[] {
    const H = this.hiddenSize;
    const gates = add(xw, linear(h, w.weightHh, w.biasHh)); // (B, 4H)
    const i = sigmoid(narrow(gates, 1, 0, H)), f = sigmoid(narrow(gates, 1, H, H)); // (B, H)
    const g = tanh(narrow(gates, 1, 2 * H, H)), o = sigmoid(narrow(gates, 1, 3 * H, H)); // (B, H)
    const c2 = add(mul(f, c), mul(i, g)); // (B, H)
    return [mul(o, tanh(c2)), c2]; // (B, H) each
  }

  /**
   * Args:
   *   x: (B, T, I) (or (T, B, I) when batchFirst is false).
   *   state: initial { h, c }, each (N·Dn, B, H); zeros by default.
   * Returns: { output (B, T, Dn·H) — the last layer's h at every step; h, c (N·Dn, B, H) final states }.
   */
  override forward(x: Tensor, state: LSTMState | null = null): { output: Tensor; h: Tensor; c: Tensor } {
    const { output, finals: [h, c] } = this.run(x, state ? [state.h, state.c] : null, ['h', 'c']);
    return { output, h, c };
  }
}
