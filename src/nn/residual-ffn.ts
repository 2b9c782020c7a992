/**
 * The position-wise FFN of a Transformer block together with the residual add that follows it:
 *
 *   residual + dropout2(linear2(dropout(act(linear1(h)))))          h, residual (B, T, D) → (B, T, D)
 *
 * When linear1/linear2 are plain Linear layers and the dropouts plain Dropout modules (no hooks, no
 * subclass such as a LoRA wrapper or a quantized layer), this runs as two fused ops
 * (ops/linear-fused.ts): linear1 with bias, ReLU and dropout in its GEMM epilogue (GELU: bias in
 * the epilogue, GELU and dropout in one pass that keeps the pre-activation for the backward), then
 * linear2 with bias, dropout and the residual add in its epilogue. Otherwise (or for the tanh GELU)
 * the same math runs op by op. Both give the same values and gradients and draw the same dropout
 * seeds (test/nn/residual-ffn.test.ts).
 */
import { Tensor } from '../tensor/tensor.js';
import { add } from '../ops/elementwise.js';
import { linearDropout } from '../ops/linear-fused.js';
import { Module } from './module.js';
import { Linear } from './linear.js';
import { Dropout } from './dropout.js';
import { linearThenActivate, type Activation } from './feedforward.js';
import type { ResidualGrad } from '../ops/residual-grad.js';

/** A Linear whose call() is exactly linear(x, weight, bias): no subclass, no forward hooks (also used by residual-attention.ts). */
export function isPlainLinear(m: Module): m is Linear {
  return m instanceof Linear && Object.getPrototypeOf(m) === Linear.prototype && !m.hasForwardHooks;
}
export function isPlainDropout(m: Module): m is Dropout {
  return m instanceof Dropout && Object.getPrototypeOf(m) === Dropout.prototype && !m.hasForwardHooks;
}

/** The FFN layers of one block (TransformerEncoderLayer / TransformerDecoderLayer fields). */
export interface FfnLayers {
  linear1: Module;
  dropout: Module;
  linear2: Module;
  /** The dropout on the FFN's output, before the residual add (dropout2 / dropout3). */
  outDropout: Module;
  activation: Exclude<Activation, 'swiglu'>;
}

/**
 * residual + FFN(h): see the file comment. h (B, T, D), residual (B, T, D) → (B, T, D).
 * link: hands the residual's gradient to the neighbouring layerNorm's backward (ops/residual-grad.ts)
 * when the fused path runs; the caller gives it only when that norm was built with the same link.
 */
export function residualFfn(f: FfnLayers, h: Tensor, residual: Tensor, link: ResidualGrad | null = null): Tensor {
  let hidden: Tensor; // (B, T, F)
  const act = f.activation;
  if ((act === 'relu' || act === 'gelu') && isPlainLinear(f.linear1) && isPlainDropout(f.dropout)) {
    f.linear1.checkInput(h);
    hidden = linearDropout(h, f.linear1.weight, f.linear1.bias, { activation: act, p: f.dropout.p, training: f.dropout.training });
  } else {
    hidden = (f.dropout as Dropout).call(linearThenActivate(f.linear1, h, act));
  }
  if (isPlainLinear(f.linear2) && isPlainDropout(f.outDropout)) {
    f.linear2.checkInput(hidden);
    return linearDropout(hidden, f.linear2.weight, f.linear2.bias, { p: f.outDropout.p, training: f.outDropout.training, residual, residualGradTo: link });
  }
  return add(residual, (f.outDropout as Dropout).call((f.linear2 as Linear).call(hidden))); // (B, T, D)
}
