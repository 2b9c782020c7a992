/**
 * LSTM (Hochreiter & Schmidhuber 1997) with torch.nn.LSTM's math and gate order (i, f, g, o):
 *
 *   gates = x_t·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh           (B, 4H) = [i | f | g | o]
 *   c' = σ(f)·c + σ(i)·tanh(g)        h' = σ(o)·tanh(c')
 *
 * Unidirectional, one or more layers, dropout between layers while training.
 * Parameter names: PyTorch weight_ih_l0 / weight_hh_l0 / bias_ih_l0 / bias_hh_l0 →
 * weightIhL0 / weightHhL0 / biasIhL0 / biasHhL0 (a key copy).
 *
 * Letters: B batch, T time, I inputSize, H hiddenSize, N numLayers.
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { linear } from '../ops/matmul.js';
import { add, mul, sigmoid, tanh } from '../ops/elementwise.js';
import { narrow, reshape, stack, transpose } from '../ops/shape.js';
import { dropout } from '../ops/dropout.js';
import { floatTensor } from '../ops/util.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import { uniform } from './init.js';
import { checkPositiveInt } from './linear.js';
import { ShapeError, fmtShape } from '../errors.js';

export interface LSTMOptions {
  numLayers?: number;
  bias?: boolean;
  /** (B, T, I) when true (default here; PyTorch's default is false), (T, B, I) when false. */
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last (default 0). */
  dropout?: number;
}

export interface LSTMState {
  /** (N, B, H). */
  h: Tensor;
  /** (N, B, H). */
  c: Tensor;
}

export class LSTM extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly dropoutP: number;

  /** Init as PyTorch: every weight and bias ~ U(−1/√H, 1/√H). */
  constructor(inputSize: number, hiddenSize: number, options: LSTMOptions = {}) {
    super();
    checkPositiveInt('LSTM', 'inputSize', inputSize);
    checkPositiveInt('LSTM', 'hiddenSize', hiddenSize);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = options.numLayers ?? 1;
    checkPositiveInt('LSTM', 'numLayers', this.numLayers);
    this.batchFirst = options.batchFirst ?? true;
    this.dropoutP = options.dropout ?? 0;
    const H = hiddenSize, b = 1 / Math.sqrt(H);
    for (let l = 0; l < this.numLayers; l++) {
      const inp = l === 0 ? inputSize : H;
      this.registerParameter(`weightIhL${l}`, uniform(empty([4 * H, inp]), -b, b)); // (4H, I)
      this.registerParameter(`weightHhL${l}`, uniform(empty([4 * H, H]), -b, b)); // (4H, H)
      if (options.bias ?? true) {
        this.registerParameter(`biasIhL${l}`, uniform(empty([4 * H]), -b, b)); // (4H)
        this.registerParameter(`biasHhL${l}`, uniform(empty([4 * H]), -b, b)); // (4H)
      }
    }
  }

  private param(name: string): Parameter | null {
    return ((this as unknown as Record<string, Parameter | undefined>)[name]) ?? null;
  }

  /**
   * Args:
   *   x: (B, T, I) (or (T, B, I) when batchFirst is false).
   *   state: initial { h, c }, each (N, B, H); zeros by default.
   * Returns: { output (B, T, H) — the last layer's h at every step; h, c (N, B, H) final states }.
   */
  override forward(x: Tensor, state: LSTMState | null = null): { output: Tensor; h: Tensor; c: Tensor } {
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize) {
      throw new ShapeError(`LSTM: input has shape ${fmtShape(x.shape)}, expected ${this.batchFirst ? '(B, T, I)' : '(T, B, I)'} with I = inputSize = ${this.inputSize}.`);
    }
    if (!this.batchFirst) x = transpose(x, 0, 1); // (B, T, I)
    const [B, T] = x.shape, H = this.hiddenSize;
    if (state && (state.h.shape.join() !== [this.numLayers, B, H].join() || state.c.shape.join() !== [this.numLayers, B, H].join())) {
      throw new ShapeError(`LSTM: state h ${fmtShape(state.h.shape)} / c ${fmtShape(state.c.shape)}, expected [${this.numLayers}, ${B}, ${H}] (N, B, H).`);
    }
    const hs: Tensor[] = [], cs: Tensor[] = [];
    let seq = x; // (B, T, I)
    for (let l = 0; l < this.numLayers; l++) {
      let h = state ? reshape(narrow(state.h, 0, l, 1), [B, H]) : floatTensor(x.dtype, [B, H]); // (B, H)
      let c = state ? reshape(narrow(state.c, 0, l, 1), [B, H]) : floatTensor(x.dtype, [B, H]); // (B, H)
      const xw = linear(seq, this.param(`weightIhL${l}`)!, this.param(`biasIhL${l}`)); // (B, T, 4H)
      const outs: Tensor[] = [];
      for (let t = 0; t < T; t++) {
        const gates = add(reshape(narrow(xw, 1, t, 1), [B, 4 * H]), linear(h, this.param(`weightHhL${l}`)!, this.param(`biasHhL${l}`))); // (B, 4H)
        const i = sigmoid(narrow(gates, 1, 0, H)), f = sigmoid(narrow(gates, 1, H, H)); // (B, H)
        const g = tanh(narrow(gates, 1, 2 * H, H)), o = sigmoid(narrow(gates, 1, 3 * H, H)); // (B, H)
        c = add(mul(f, c), mul(i, g)); // (B, H)
        h = mul(o, tanh(c)); // (B, H)
        outs.push(h);
      }
      hs.push(h);
      cs.push(c);
      seq = stack(outs, 1); // (B, T, H)
      if (l < this.numLayers - 1 && this.dropoutP > 0) seq = dropout(seq, this.dropoutP, { training: this.training }); // (B, T, H)
    }
    const output = this.batchFirst ? seq : transpose(seq, 0, 1); // (B, T, H) or (T, B, H)
    return { output, h: stack(hs, 0), c: stack(cs, 0) }; // (N, B, H) each
  }
}
