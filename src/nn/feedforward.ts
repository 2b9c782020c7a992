/**
 * FeedForward: the position-wise MLP of a Transformer block.
 *
 *   relu / gelu:  fc2(dropout(act(fc1(x))))
 *   swiglu:       fc2(dropout(silu(fc1(x)) ⊙ gate(x)))      (Shazeer 2020, LLaMA's w1/w3/w2)
 *
 * Letters: N any leading dims, D model dim, F hidden dim.
 */
import { Tensor } from '../tensor/tensor.js';
import { relu, gelu, silu, mul } from '../ops/elementwise.js';
import { Module } from './module.js';
import { Linear } from './linear.js';
import { Dropout } from './dropout.js';
import { linearActivation } from '../ops/matmul.js';
import { ConfigError } from '../errors.js';

export type Activation = 'relu' | 'gelu' | 'gelu_tanh' | 'swiglu';
export const ACTIVATIONS: readonly Activation[] = ['relu', 'gelu', 'gelu_tanh', 'swiglu'];

/** Applies a pointwise activation by name (swiglu is not pointwise and is handled by FeedForward). */
export function activate(x: Tensor, name: Exclude<Activation, 'swiglu'>): Tensor {
  if (name === 'relu') return relu(x);
  if (name === 'gelu') return gelu(x);
  if (name === 'gelu_tanh') return gelu(x, { approximate: 'tanh' });
  throw new ConfigError(`activation='${String(name)}', expected one of ${ACTIVATIONS.join(', ')}.`);
}

/**
 * activate(layer.call(x), name), with the activation fused into the GEMM when the layer is a plain
 * Linear without forward hooks and the activation is relu or gelu (ops/matmul.ts linearActivation
 * fuses only when nothing is taped). Quantized, LoRA-wrapped or hooked layers take the two-step path.
 * x (N…, in) → (N…, out).
 */
export function linearThenActivate(layer: Module, x: Tensor, name: Exclude<Activation, 'swiglu'>): Tensor {
  if (layer instanceof Linear && !layer.hasForwardHooks && (name === 'relu' || name === 'gelu') && Object.getPrototypeOf(layer) === Linear.prototype) {
    layer.checkInput(x);
    return linearActivation(x, layer.weight, layer.bias, name);
  }
  return activate((layer as Linear).call(x), name);
}

export interface FeedForwardOptions {
  activation?: Activation;
  dropout?: number;
  bias?: boolean;
}

export class FeedForward extends Module {
  readonly activation: Activation;
  fc1: Linear;
  gate: Linear | null;
  fc2: Linear;
  dropout: Dropout;

  /**
   * Args:
   *   dModel: input and output size D.
   *   dimFeedforward: hidden size F.
   *   options.activation: 'relu' (default), 'gelu', 'gelu_tanh' or 'swiglu'.
   *   options.dropout: dropout after the activation (default 0).
   *   options.bias: biases in the linears (default true).
   */
  constructor(dModel: number, dimFeedforward: number, options: FeedForwardOptions = {}) {
    super();
    const act = options.activation ?? 'relu';
    if (!ACTIVATIONS.includes(act)) throw new ConfigError(`FeedForward: activation='${String(act)}', expected one of ${ACTIVATIONS.join(', ')}.`);
    this.activation = act;
    const bias = options.bias ?? true;
    this.fc1 = new Linear(dModel, dimFeedforward, { bias });
    this.gate = act === 'swiglu' ? new Linear(dModel, dimFeedforward, { bias }) : null;
    this.fc2 = new Linear(dimFeedforward, dModel, { bias });
    this.dropout = new Dropout(options.dropout ?? 0);
  }

  /** x (N…, D) → (N…, D). */
  override forward(x: Tensor): Tensor {
    const a = this.gate ? mul(silu(this.fc1.call(x)), this.gate.call(x)) : linearThenActivate(this.fc1, x, this.activation as Exclude<Activation, 'swiglu'>); // (N…, F)
    return this.fc2.call(this.dropout.call(a)); // (N…, D)
  }
}
