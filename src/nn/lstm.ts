/**
 * LSTM (Hochreiter & Schmidhuber 1997) with torch.nn.LSTM's math and gate order (i, f, g, o):
 *
 *   gates = x_t·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh           (B, 4H) = [i | f | g | o]
 *   c' = σ(f)·c + σ(i)·tanh(g)        h' = σ(o)·tanh(c')
 *
 * One or more layers, optionally bidirectional, dropout between layers while training.
 * Parameter names: PyTorch weight_ih_l0 / weight_hh_l0 / bias_ih_l0 / bias_hh_l0 (and *_reverse) →
 * weightIhL0 / weightHhL0 / biasIhL0 / biasHhL0 (and *Reverse): a key copy.
 *
 * Letters: B batch, T time, I inputSize, H hiddenSize, N numLayers, Dn directions (1 or 2).
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { linear } from '../ops/matmul.js';
import { add, mul, sigmoid, tanh } from '../ops/elementwise.js';
import { narrow, reshape, stack, transpose, cat } from '../ops/shape.js';
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
  /** Also run each layer backwards in time and concatenate (default false). */
  bidirectional?: boolean;
}

export interface LSTMState {
  /** (N·Dn, B, H), ordered layer 0 forward, layer 0 reverse, layer 1 forward, … as PyTorch. */
  h: Tensor;
  /** (N·Dn, B, H). */
  c: Tensor;
}

export class LSTM extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly dropoutP: number;
  readonly numDirections: number;

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
    this.numDirections = options.bidirectional ? 2 : 1;
    const H = hiddenSize, b = 1 / Math.sqrt(H);
    for (let l = 0; l < this.numLayers; l++) {
      const inp = l === 0 ? inputSize : H * this.numDirections;
      for (const sfx of this.suffixes()) {
        this.registerParameter(`weightIhL${l}${sfx}`, uniform(empty([4 * H, inp]), -b, b)); // (4H, I)
        this.registerParameter(`weightHhL${l}${sfx}`, uniform(empty([4 * H, H]), -b, b)); // (4H, H)
        if (options.bias ?? true) {
          this.registerParameter(`biasIhL${l}${sfx}`, uniform(empty([4 * H]), -b, b)); // (4H)
          this.registerParameter(`biasHhL${l}${sfx}`, uniform(empty([4 * H]), -b, b)); // (4H)
        }
      }
    }
  }

  private suffixes(): string[] {
    return this.numDirections === 2 ? ['', 'Reverse'] : [''];
  }

  private param(name: string): Parameter | null {
    return ((this as unknown as Record<string, Parameter | undefined>)[name]) ?? null;
  }

  /**
   * Args:
   *   x: (B, T, I) (or (T, B, I) when batchFirst is false).
   *   state: initial { h, c }, each (N·Dn, B, H); zeros by default.
   * Returns: { output (B, T, Dn·H) — the last layer's h at every step; h, c (N·Dn, B, H) final states }.
   */
  override forward(x: Tensor, state: LSTMState | null = null): { output: Tensor; h: Tensor; c: Tensor } {
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize) {
      throw new ShapeError(`LSTM: input has shape ${fmtShape(x.shape)}, expected ${this.batchFirst ? '(B, T, I)' : '(T, B, I)'} with I = inputSize = ${this.inputSize}.`);
    }
    if (!this.batchFirst) x = transpose(x, 0, 1); // (B, T, I)
    const [B, T] = x.shape, H = this.hiddenSize, N = this.numLayers * this.numDirections;
    if (state && (state.h.shape.join() !== [N, B, H].join() || state.c.shape.join() !== [N, B, H].join())) {
      throw new ShapeError(`LSTM: state h ${fmtShape(state.h.shape)} / c ${fmtShape(state.c.shape)}, expected [${N}, ${B}, ${H}] (N·Dn, B, H).`);
    }
    const hs: Tensor[] = [], cs: Tensor[] = [];
    let seq = x; // (B, T, I)
    for (let l = 0; l < this.numLayers; l++) {
      const outsByDir: Tensor[] = [];
      this.suffixes().forEach((sfx, d) => {
        const s0 = l * this.numDirections + d;
        let h = state ? reshape(narrow(state.h, 0, s0, 1), [B, H]) : floatTensor(x.dtype, [B, H]); // (B, H)
        let c = state ? reshape(narrow(state.c, 0, s0, 1), [B, H]) : floatTensor(x.dtype, [B, H]); // (B, H)
        const xw = linear(seq, this.param(`weightIhL${l}${sfx}`)!, this.param(`biasIhL${l}${sfx}`)); // (B, T, 4H)
        const outs: Tensor[] = new Array<Tensor>(T);
        for (let step = 0; step < T; step++) {
          const t = sfx ? T - 1 - step : step;
          const gates = add(reshape(narrow(xw, 1, t, 1), [B, 4 * H]), linear(h, this.param(`weightHhL${l}${sfx}`)!, this.param(`biasHhL${l}${sfx}`))); // (B, 4H)
          const i = sigmoid(narrow(gates, 1, 0, H)), f = sigmoid(narrow(gates, 1, H, H)); // (B, H)
          const g = tanh(narrow(gates, 1, 2 * H, H)), o = sigmoid(narrow(gates, 1, 3 * H, H)); // (B, H)
          c = add(mul(f, c), mul(i, g)); // (B, H)
          h = mul(o, tanh(c)); // (B, H)
          outs[t] = h;
        }
        hs.push(h);
        cs.push(c);
        outsByDir.push(stack(outs, 1)); // (B, T, H)
      });
      seq = outsByDir.length === 1 ? outsByDir[0] : cat(outsByDir, 2); // (B, T, Dn·H)
      if (l < this.numLayers - 1 && this.dropoutP > 0) seq = dropout(seq, this.dropoutP, { training: this.training }); // (B, T, Dn·H)
    }
    const output = this.batchFirst ? seq : transpose(seq, 0, 1); // (B, T, Dn·H) or (T, B, Dn·H)
    return { output, h: stack(hs, 0), c: stack(cs, 0) }; // (N·Dn, B, H) each
  }
}
