/**
 * Method forms of the ops on Tensor: x.add(y), x.matmul(w).relu(), x.sum(-1), ...
 * Declared by module augmentation so the tensor layer does not import the ops layer.
 */
import { Tensor } from '../tensor/tensor.js';
import * as ops from './index.js';
import type { TensorLike } from './util.js';
import type { Dims, ReduceOptions, VarOptions } from './reduce.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
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
    gelu(options?: ops.GeluOptions): Tensor;
    silu(): Tensor;
    abs(): Tensor;
    sum(dims?: Dims, options?: ReduceOptions): Tensor;
    mean(dims?: Dims, options?: ReduceOptions): Tensor;
    max(dims?: Dims, options?: ReduceOptions): Tensor;
    min(dims?: Dims, options?: ReduceOptions): Tensor;
    argmax(dim?: number, options?: ReduceOptions): Tensor;
    logsumexp(dims?: Dims, options?: ReduceOptions): Tensor;
    var(dims?: Dims, options?: VarOptions): Tensor;
    reshape(shape: readonly number[]): Tensor;
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
    float(): Tensor;
    int(): Tensor;
  }
}

const P = Tensor.prototype;
P.add = function (o) { return ops.add(this, o); };
P.sub = function (o) { return ops.sub(this, o); };
P.mul = function (o) { return ops.mul(this, o); };
P.div = function (o) { return ops.div(this, o); };
P.pow = function (o) { return ops.pow(this, o); };
P.neg = function () { return ops.neg(this); };
P.exp = function () { return ops.exp(this); };
P.log = function () { return ops.log(this); };
P.sqrt = function () { return ops.sqrt(this); };
P.tanh = function () { return ops.tanh(this); };
P.sigmoid = function () { return ops.sigmoid(this); };
P.relu = function () { return ops.relu(this); };
P.gelu = function (o) { return ops.gelu(this, o); };
P.silu = function () { return ops.silu(this); };
P.abs = function () { return ops.abs(this); };
P.sum = function (d, o) { return ops.sum(this, d, o); };
P.mean = function (d, o) { return ops.mean(this, d, o); };
P.max = function (d, o) { return ops.max(this, d, o); };
P.min = function (d, o) { return ops.min(this, d, o); };
P.argmax = function (d, o) { return ops.argmax(this, d, o); };
P.logsumexp = function (d, o) { return ops.logsumexp(this, d, o); };
P.var = function (d, o) { return ops.variance(this, d, o); };
P.reshape = function (s) { return ops.reshape(this, s); };
P.view = function (s) { return ops.reshape(this, s); };
P.flatten = function (a, b) { return ops.flatten(this, a, b); };
P.permute = function (p) { return ops.permute(this, p); };
P.transpose = function (a, b) { return ops.transpose(this, a, b); };
P.unsqueeze = function (d) { return ops.unsqueeze(this, d); };
P.squeeze = function (d) { return ops.squeeze(this, d); };
P.expand = function (s) { return ops.expand(this, s); };
P.narrow = function (d, s, l) { return ops.narrow(this, d, s, l); };
P.matmul = function (o) { return ops.matmul(this, o); };
P.softmax = function (d) { return ops.softmax(this, d); };
P.logSoftmax = function (d) { return ops.logSoftmax(this, d); };
P.maskedFill = function (m, v) { return ops.maskedFill(this, m, v); };
P.float = function () { return ops.toFloat(this); };
P.int = function () { return ops.toInt(this); };
