/**
 * RNNBase: what LSTM and GRU share, as torch.nn.RNNBase — the parameters of every layer and
 * direction, the layout options, and the loop over layers, directions and time. A subclass
 * supplies only its cell: how one step turns the input projection and the state into the next
 * state.
 *
 * Parameter names: PyTorch weight_ih_l0 / weight_hh_l0 / bias_ih_l0 / bias_hh_l0 (and *_reverse)
 * → weightIhL0 / weightHhL0 / biasIhL0 / biasHhL0 (and *Reverse): a key copy. Each holds the
 * G gates stacked on dim 0 in the subclass's order (LSTM i, f, g, o; GRU r, z, n).
 *
 * Letters: B batch, T time, I inputSize, H hiddenSize, G gates, N numLayers, Dn directions (1 or 2).
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { linear } from '../ops/matmul.js';
import { narrow, reshape, stack, transpose, cat } from '../ops/shape.js';
import { dropout } from '../ops/dropout.js';
import { floatTensor } from '../ops/util.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import { uniform } from './init.js';
import { checkPositiveInt } from './linear.js';
import { ShapeError, fmtShape } from '../errors.js';

export interface RNNOptions {
  numLayers?: number;
  bias?: boolean;
  /** (B, T, I) when true (default here; PyTorch's default is false), (T, B, I) when false. */
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last (default 0). */
  dropout?: number;
  /** Also run each layer backwards in time and concatenate (default false). */
  bidirectional?: boolean;
}

/** The weights one cell step uses: the hidden-to-hidden projection of its layer and direction. */
export interface CellWeights {
  weightHh: Parameter; // (G·H, H)
  biasHh: Parameter | null; // (G·H)
}

export abstract class RNNBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly dropoutP: number;
  readonly numDirections: number;

  /** Init as PyTorch: every weight and bias ~ U(−1/√H, 1/√H). gates G is 4 for LSTM, 3 for GRU. */
  constructor(kind: string, gates: number, inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    super();
    checkPositiveInt(kind, 'inputSize', inputSize);
    checkPositiveInt(kind, 'hiddenSize', hiddenSize);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = options.numLayers ?? 1;
    checkPositiveInt(kind, 'numLayers', this.numLayers);
    this.batchFirst = options.batchFirst ?? true;
    this.dropoutP = options.dropout ?? 0;
    this.numDirections = options.bidirectional ? 2 : 1;
    const H = hiddenSize, b = 1 / Math.sqrt(H);
    for (let l = 0; l < this.numLayers; l++) {
      const inp = l === 0 ? inputSize : H * this.numDirections;
      for (const sfx of this.suffixes()) {
        this.registerParameter(`weightIhL${l}${sfx}`, uniform(empty([gates * H, inp]), -b, b)); // (G·H, I)
        this.registerParameter(`weightHhL${l}${sfx}`, uniform(empty([gates * H, H]), -b, b)); // (G·H, H)
        if (options.bias ?? true) {
          this.registerParameter(`biasIhL${l}${sfx}`, uniform(empty([gates * H]), -b, b)); // (G·H)
          this.registerParameter(`biasHhL${l}${sfx}`, uniform(empty([gates * H]), -b, b)); // (G·H)
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
   * One time step of the cell.
   * Args: xw (B, G·H) the input projection x_t·W_ihᵀ + b_ih; state, each (B, H) (state[0] is h);
   *   w the hidden-to-hidden weights of this layer and direction.
   * Returns: the next state, in the same order.
   */
  protected abstract cell(xw: Tensor, state: Tensor[], w: CellWeights): Tensor[];

  /**
   * Runs every layer and direction over the sequence.
   * Args: x (B, T, I) or (T, B, I); initial: one (N·Dn, B, H) tensor per state component, or null for zeros.
   * Returns: output (B, T, Dn·H) (or (T, B, Dn·H)) and each state component's final value (N·Dn, B, H).
   */
  protected run(x: Tensor, initial: Tensor[] | null, stateNames: string[]): { output: Tensor; finals: Tensor[] } {
    const kind = this.constructor.name;
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize) {
      throw new ShapeError(`${kind}: input has shape ${fmtShape(x.shape)}, expected ${this.batchFirst ? '(B, T, I)' : '(T, B, I)'} with I = inputSize = ${this.inputSize}.`);
    }
    if (!this.batchFirst) x = transpose(x, 0, 1); // (B, T, I)
    const [B, T] = x.shape, H = this.hiddenSize, N = this.numLayers * this.numDirections;
    if (initial && initial.some((s) => s.shape.join() !== [N, B, H].join())) {
      throw new ShapeError(`${kind}: state ${stateNames.map((n, i) => `${n} ${fmtShape(initial[i].shape)}`).join(' / ')}, expected [${N}, ${B}, ${H}] (N·Dn, B, H).`);
    }
    const finals: Tensor[][] = stateNames.map(() => []);
    let seq = x; // (B, T, I)
    for (let l = 0; l < this.numLayers; l++) {
      const outsByDir: Tensor[] = [];
      this.suffixes().forEach((sfx, d) => {
        const s0 = l * this.numDirections + d;
        let state = stateNames.map((_, i) => (initial ? reshape(narrow(initial[i], 0, s0, 1), [B, H]) : floatTensor(x.dtype, [B, H]))); // each (B, H)
        const xw = linear(seq, this.param(`weightIhL${l}${sfx}`)!, this.param(`biasIhL${l}${sfx}`)); // (B, T, G·H)
        const G = xw.shape[2];
        const w: CellWeights = { weightHh: this.param(`weightHhL${l}${sfx}`)!, biasHh: this.param(`biasHhL${l}${sfx}`) };
        const outs: Tensor[] = new Array<Tensor>(T);
        for (let step = 0; step < T; step++) {
          const t = sfx ? T - 1 - step : step;
          state = this.cell(reshape(narrow(xw, 1, t, 1), [B, G]), state, w); // each (B, H)
          outs[t] = state[0];
        }
        state.forEach((s, i) => finals[i].push(s));
        outsByDir.push(stack(outs, 1)); // (B, T, H)
      });
      seq = outsByDir.length === 1 ? outsByDir[0] : cat(outsByDir, 2); // (B, T, Dn·H)
      if (l < this.numLayers - 1 && this.dropoutP > 0) seq = dropout(seq, this.dropoutP, { training: this.training }); // (B, T, Dn·H)
    }
    const output = this.batchFirst ? seq : transpose(seq, 0, 1); // (B, T, Dn·H) or (T, B, Dn·H)
    return { output, finals: finals.map((f) => stack(f, 0)) }; // each (N·Dn, B, H)
  }
}
