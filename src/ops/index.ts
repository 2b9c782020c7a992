/**
 * The functional API. Every op is exported here once. Importing this barrel also installs
 * the method forms on Tensor (./methods.ts), so a module that imports the ops through it
 * may call t.add(u), t.reshape(s), t.backward(), ... The differentiable ops are listed in
 * DIFFERENTIABLE_OPS, which the gradcheck test walks (a differentiable op missing from it fails the test).
 */
import './methods.js';

export { add, sub, mul, div, pow, maximum, minimum, neg, exp, log, sqrt, tanh, sigmoid, relu, gelu, silu, abs,
  eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalNot, toFloat, toInt } from './elementwise.js';
export { sumToShape } from './sum-to-shape.js';
export type { GeluOptions } from './elementwise.js';
export { sum, mean, max, min, argmax, logsumexp, variance } from './reduce.js';
export type { Dims, ReduceOptions, VarOptions } from './reduce.js';
export { reshape, view, flatten, permute, transpose, unsqueeze, squeeze, expand, cat, stack, narrow, slice, split, chunk } from './shape.js';
export { indexSelect, gather, maskedFill, where, embedding } from './indexing.js';
export type { EmbeddingOptions } from './indexing.js';
export { matmul, linear } from './matmul.js';
export { softmax, logSoftmax } from './softmax.js';
export { layerNorm, rmsNorm, layerNormReference, rmsNormReference } from './norm.js';
export { dropout } from './dropout.js';
export { batchNorm, batchNormReference } from './batch-norm.js';
export type { BatchNormOptions } from './batch-norm.js';
export { maxPool2d, avgPool2d, adaptiveMaxPool2d, adaptiveAvgPool2d } from './pool.js';
export { im2col, conv1d, conv2d } from './conv.js';
export type { Im2colOptions, Conv1dOptions, Conv2dOptions } from './conv.js';
export type { Pool2dOptions, AvgPool2dOptions, Size2 } from './pool.js';
export type { DropoutOptions } from './dropout.js';
export { crossEntropy, nllLoss, mseLoss, binaryCrossEntropyWithLogits } from './loss.js';
export type { CrossEntropyOptions, NllOptions, Reduction } from './loss.js';
export { scaledDotProductAttention, scaledDotProductAttentionReference } from './attention.js';
export type { AttentionOptions } from './attention.js';
export type { AttentionMaskOptions, CausalAlignment, BlockLayout } from './attention-mask.js';

/** Names of the differentiable ops; test/ops/gradcheck.test.ts must cover each one. */
export const DIFFERENTIABLE_OPS = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'neg', 'exp', 'log', 'sqrt', 'tanh', 'sigmoid', 'relu', 'gelu', 'silu', 'abs', 'toFloat',
  'sum', 'mean', 'max', 'min', 'logsumexp', 'variance',
  'reshape', 'view', 'flatten', 'permute', 'transpose', 'unsqueeze', 'squeeze', 'expand', 'cat', 'stack', 'narrow', 'slice', 'split', 'chunk',
  'indexSelect', 'gather', 'maskedFill', 'where', 'embedding',
  'matmul', 'linear', 'softmax', 'logSoftmax', 'layerNorm', 'rmsNorm', 'dropout',
  'batchNorm', 'im2col', 'conv1d', 'conv2d', 'maxPool2d', 'avgPool2d', 'adaptiveMaxPool2d', 'adaptiveAvgPool2d',
  'crossEntropy', 'nllLoss', 'mseLoss', 'binaryCrossEntropyWithLogits', 'scaledDotProductAttention',
  'layerNormReference', 'rmsNormReference', 'scaledDotProductAttentionReference', 'batchNormReference',
] as const;

/**
 * The exported functions that record no gradient: comparisons and logic (bool results),
 * integer results (argmax, toInt), and sumToShape (a helper that backward passes call
 * with grad mode off). test/ops/gradcheck.test.ts fails when an exported function is in
 * neither list, so a new op cannot skip its gradient check.
 */
export const NON_DIFFERENTIABLE_OPS = [
  'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalNot', 'toInt', 'argmax', 'sumToShape',
] as const;
