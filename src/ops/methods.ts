/**
 * Method forms of the ops on Tensor: x.add(y), x.matmul(w).relu(), x.sum(-1), x.backward(), ...
 *
 * The Tensor class (src/tensor/tensor.ts) sits below autograd and the ops, so it cannot
 * import them. This module installs the methods on Tensor.prototype when it is evaluated,
 * and declares them on the Tensor type by module augmentation. It is part of the ops layer:
 * src/ops/index.ts imports it, so importing the ops barrel gives tensors their methods.
 *
 * The rule that keeps this from being a side door: a module that calls a Tensor method
 * imports this file, directly or through its imports (src/ops/index.ts does). It never
 * relies on an entry point having loaded it. test/core/methods.test.ts checks the rule
 * with the type checker, and imports every src module alone in a fresh process.
 *
 * This file imports the op files themselves, never src/ops/index.ts, so no import cycle forms.
 */
import { Tensor } from '../tensor/tensor.js';
import { backward } from '../autograd/engine.js';
import { add, sub, mul, div, pow, neg, exp, log, sqrt, tanh, sigmoid, relu, gelu, silu, abs, toFloat, toInt, type GeluOptions } from './elementwise.js';
import { sum, mean, max, min, argmax, logsumexp, variance, type Dims, type ReduceOptions, type VarOptions } from './reduce.js';
import { reshape, flatten, permute, transpose, unsqueeze, squeeze, expand, narrow } from './shape.js';
import { maskedFill } from './indexing.js';
import { matmul } from './matmul.js';
import { softmax, logSoftmax } from './softmax.js';
import type { TensorLike } from './util.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /**
     * Computes gradients of this tensor with respect to every leaf that requires grad.
     * A scalar (one-element) tensor needs no argument; otherwise pass the upstream gradient.
     */
    backward(gradient?: Tensor): void;
    add(other: TensorLike): Tensor;
    sub(other: TensorLike): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    pow(other: TensorLike): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    gelu(options?: GeluOptions): Tensor;
    silu(): Tensor;
    abs(): Tensor;
    sum(dims?: Dims, options?: ReduceOptions): Tensor;
    mean(dims?: Dims, options?: ReduceOptions): Tensor;
    max(dims?: Dims, options?: ReduceOptions): Tensor;
    min(dims?: Dims, options?: ReduceOptions): Tensor;
    argmax(dim?: number, options?: ReduceOptions): Tensor;
    logsumexp(dims?: Dims, options?: ReduceOptions): Tensor;
    /** Variance (the op is `variance`, since `var` is a keyword for the function form). */
    var(dims?: Dims, options?: VarOptions): Tensor;
    reshape(shape: readonly number[]): Tensor;
    /** The same as reshape: heed's tensors are always contiguous. */
    view(shape: readonly number[]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    permute(perm: readonly number[]): Tensor;
    transpose(dim0?: number, dim1?: number): Tensor;
    unsqueeze(dim: number): Tensor;
    squeeze(dims?: number | readonly number[]): Tensor;
    expand(shape: readonly number[]): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    matmul(other: Tensor): Tensor;
    softmax(dim?: number): Tensor;
    logSoftmax(dim?: number): Tensor;
    maskedFill(mask: Tensor, value: number): Tensor;
    /** A float32 copy (the tensor itself when it already is float32). */
    float(): Tensor;
    /** An int32 copy, truncating toward zero. */
    int(): Tensor;
  }
}

/** Each method's implementation, typed by its declaration above; `this` is the tensor. */
type Methods = { [K in keyof Tensor]?: Tensor[K] } & ThisType<Tensor>;

const METHODS: Methods = {
  backward(gradient) { backward(this, gradient); },
  add(o) { return add(this, o); },
  sub(o) { return sub(this, o); },
  mul(o) { return mul(this, o); },
  div(o) { return div(this, o); },
  pow(o) { return pow(this, o); },
  neg() { return neg(this); },
  exp() { return exp(this); },
  log() { return log(this); },
  sqrt() { return sqrt(this); },
  tanh() { return tanh(this); },
  sigmoid() { return sigmoid(this); },
  relu() { return relu(this); },
  gelu(o) { return gelu(this, o); },
  silu() { return silu(this); },
  abs() { return abs(this); },
  sum(d, o) { return sum(this, d, o); },
  mean(d, o) { return mean(this, d, o); },
  max(d, o) { return max(this, d, o); },
  min(d, o) { return min(this, d, o); },
  argmax(d, o) { return argmax(this, d, o); },
  logsumexp(d, o) { return logsumexp(this, d, o); },
  var(d, o) { return variance(this, d, o); },
  reshape(s) { return reshape(this, s); },
  view(s) { return reshape(this, s); },
  flatten(a, b) { return flatten(this, a, b); },
  permute(p) { return permute(this, p); },
  transpose(a, b) { return transpose(this, a, b); },
  unsqueeze(d) { return unsqueeze(this, d); },
  squeeze(d) { return squeeze(this, d); },
  expand(s) { return expand(this, s); },
  narrow(d, s, l) { return narrow(this, d, s, l); },
  matmul(o) { return matmul(this, o); },
  softmax(d) { return softmax(this, d); },
  logSoftmax(d) { return logSoftmax(this, d); },
  maskedFill(m, v) { return maskedFill(this, m, v); },
  float() { return toFloat(this); },
  int() { return toInt(this); },
};

/** The names installed here; test/core/methods.test.ts calls each on a tensor. */
export const TENSOR_METHODS: readonly string[] = Object.freeze(Object.keys(METHODS));

// Non-enumerable like class methods. A name the class itself defines is a bug here (it would
// silently replace, say, item()), so it fails at load.
for (const [name, fn] of Object.entries(METHODS)) {
  if (Object.prototype.hasOwnProperty.call(Tensor.prototype, name)) {
    throw new Error(`ops/methods: Tensor already has a property '${name}'; a method form must not replace it.`);
  }
  Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: false, enumerable: false });
}
