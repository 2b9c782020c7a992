/**
 * Losses: crossEntropy, nllLoss, mseLoss, binaryCrossEntropyWithLogits, with PyTorch's semantics.
 *
 * Class dimension is dim 1: input (N, C) with target (N), or (N, C, d1, ...) with target (N, d1, ...).
 * Targets are int32 class indices; rows whose target equals ignoreIndex (default −100)
 * contribute nothing, and 'mean' divides by the number of rows that count.
 *
 *   crossEntropy = (1 − ε) · nll(logSoftmax(x), t) + ε · mean_c(−logSoftmax(x)_c)    (ε = labelSmoothing)
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/node.js';
import { k } from '../backend/registry.js';
import { DTypeError, ShapeError, ValueError, IndexError, fmtShape } from '../errors.js';
import { requireFloat, floatTensor, f32 } from './util.js';
import { logSoftmax } from './softmax.js';
import { permute, reshape } from './shape.js';
import { abs, add, exp, log, mul, relu, sub } from './elementwise.js';
import { sum, mean } from './reduce.js';
import { sameShape } from '../tensor/shape.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface NllOptions {
  ignoreIndex?: number;
  reduction?: Reduction;
  /** Per-class weights (C). */
  weight?: Tensor | null;
}

export interface CrossEntropyOptions extends NllOptions {
  labelSmoothing?: number;
}

function checkReduction(r: string, op: string): Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') throw new ValueError(`${op}: reduction='${r}', expected 'mean', 'sum' or 'none'.`);
  return r;
}

/** Moves the class dim last and flattens: (N, C, d...) → (N·d..., C); target (N, d...) → (N·d...). */
function flattenClassDim(input: Tensor, target: Tensor, op: string): [Tensor, Int32Array, number[]] {
  requireFloat(input, op, 'input');
  if (target.dtype !== 'int32') {
    throw new DTypeError(`${op}: target must hold int32 class indices, received ${target.dtype} with shape ${fmtShape(target.shape)}. Fix: create targets with { dtype: 'int32' } (probability targets are not supported).`);
  }
  if (input.ndim < 1) throw new ShapeError(`${op}: input must have a class dim, received a scalar.`);
  if (input.ndim === 1) {
    if (target.ndim !== 0) throw new ShapeError(`${op}: input (C) = ${fmtShape(input.shape)} needs a scalar target, received ${fmtShape(target.shape)}.`);
    return [reshape(input, [1, input.shape[0]]), target.data as Int32Array, []];
  }
  const expected = input.ndim === 2 ? [input.shape[0]] : [input.shape[0], ...input.shape.slice(2)];
  if (!sameShape(target.shape, expected)) {
    throw new ShapeError(`${op}: input has shape ${fmtShape(input.shape)} (class dim 1), so target must have shape ${fmtShape(expected)}; received ${fmtShape(target.shape)}. ` +
      'Fix: for sequence logits (B, T, C), pass input.permute([0, 2, 1]) or flatten both to (B·T, C) and (B·T).');
  }
  const C = input.shape[1];
  if (input.ndim === 2) return [input, target.data as Int32Array, expected];
  const perm = [0, ...Array.from({ length: input.ndim - 2 }, (_, i) => i + 2), 1];
  return [reshape(permute(input, perm), [-1, C]), target.data as Int32Array, expected];
}

/** Negative log-likelihood of log-probabilities (N, C) at integer targets. */
export function nllLoss(input: Tensor, target: Tensor, options: NllOptions = {}): Tensor {
  const [logp, t, rowShape] = flattenClassDim(input, target, 'nllLoss');
  const reduction = checkReduction(options.reduction ?? 'mean', 'nllLoss');
  const ignore = options.ignoreIndex ?? -100;
  const [N, C] = logp.shape;
  const w = options.weight ?? null;
  if (w !== null && (w.ndim !== 1 || w.shape[0] !== C)) throw new ShapeError(`nllLoss: weight has shape ${fmtShape(w.shape)}, expected [${C}].`);
  const rowWeight = new Float64Array(N);
  let total = 0;
  for (let i = 0; i < N; i++) {
    const c = t[i];
    if (c === ignore) continue;
    if (c < 0 || c >= C) {
      throw new IndexError(`nllLoss: target ${c} at position ${i} is out of range for ${C} classes; expected 0 ≤ target < ${C} or ignoreIndex (${ignore}).`);
    }
    rowWeight[i] = w ? w.data[c] : 1;
    total += rowWeight[i];
  }
  const scale = reduction === 'mean' ? (total > 0 ? 1 / total : NaN) : 1;
  const perRow = floatTensor(logp.dtype, [N]);
  for (let i = 0; i < N; i++) if (rowWeight[i] !== 0) perRow.data[i] = -rowWeight[i] * logp.data[i * C + t[i]];
  let out: Tensor;
  if (reduction === 'none') {
    out = new Tensor(perRow.data, rowShape);
  } else {
    let s = 0;
    for (let i = 0; i < N; i++) s += perRow.data[i];
    out = floatTensor(logp.dtype, []);
    out.data[0] = s * scale;
  }
  return record(out, 'nllLoss', [logp], (g) => {
    // d loss / d logp[i, t_i] = −w_i · g (· 1/total for mean)
    const gx = floatTensor(g.dtype, logp.shape);
    for (let i = 0; i < N; i++) {
      if (rowWeight[i] === 0) continue;
      const gi = reduction === 'none' ? g.data[i] : g.data[0];
      gx.data[i * C + t[i]] = -rowWeight[i] * gi * scale;
    }
    return [gx];
  });
}

/**
 * Cross entropy of unnormalized logits against integer targets, with label smoothing.
 * Without class weights it runs the fused kernel (one pass for log-sum-exp and the loss,
 * one for the gradient, no (N, C) log-probability tensor); with weights it composes
 * logSoftmax and nllLoss.
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const eps = options.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new ValueError(`crossEntropy: labelSmoothing=${eps}, expected a value in [0, 1].`);
  const [logits, t, rowShape] = flattenClassDim(input, target, 'crossEntropy');
  const reduction = checkReduction(options.reduction ?? 'mean', 'crossEntropy');
  if (options.weight) {
    if (eps !== 0) throw new ValueError('crossEntropy: labelSmoothing with class weights is not implemented; use one or the other.');
    const nll = nllLoss(logSoftmax(logits, 1), new Tensor(t, [t.length]), { ...options, reduction });
    return reduction === 'none' ? reshape(nll, rowShape) : nll;
  }
  const ignore = options.ignoreIndex ?? -100;
  const [N, C] = logits.shape;
  let count = 0;
  for (let i = 0; i < N; i++) {
    const c = t[i];
    if (c === ignore) continue;
    if (c < 0 || c >= C) {
      throw new IndexError(`crossEntropy: target ${c} at position ${i} is out of range for ${C} classes; expected 0 ≤ target < ${C} or ignoreIndex (${ignore}).`);
    }
    count++;
  }
  const losses = floatTensor(logits.dtype, [N]), lse = floatTensor(logits.dtype, [N]);
  k.crossEntropyForward({ logits: f32(logits), targets: t, losses: f32(losses), lse: f32(lse), rows: N, classes: C, ignoreIndex: ignore, labelSmoothing: eps });
  let out: Tensor;
  if (reduction === 'none') {
    out = new Tensor(losses.data, rowShape);
  } else {
    let s = 0;
    for (let i = 0; i < N; i++) s += losses.data[i];
    out = floatTensor(logits.dtype, []);
    out.data[0] = reduction === 'mean' ? s / count : s; // mean over no rows is NaN, as torch
  }
  return record(out, 'crossEntropy', [logits], (g) => {
    // dx_rc = dLoss_r · (softmax(x_r)_c − (1 − ε)·[c = t_r] − ε / C)
    const dLoss = floatTensor(g.dtype, [N]);
    for (let i = 0; i < N; i++) dLoss.data[i] = reduction === 'none' ? g.data[i] : reduction === 'mean' ? g.data[0] / count : g.data[0];
    const dx = floatTensor(g.dtype, [N, C]);
    k.crossEntropyBackward({ logits: f32(logits), targets: t, lse: f32(lse), dLoss: f32(dLoss), dLogits: f32(dx), rows: N, classes: C, ignoreIndex: ignore, labelSmoothing: eps });
    return [dx];
  });
}

/** Mean squared error. */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  requireFloat(input, 'mseLoss', 'input');
  requireFloat(target, 'mseLoss', 'target');
  if (!sameShape(input.shape, target.shape)) {
    throw new ShapeError(`mseLoss: input has shape ${fmtShape(input.shape)} but target has ${fmtShape(target.shape)}; expected equal shapes. Fix: reshape the target (heed does not broadcast it, to avoid silent (N, 1) vs (N) mistakes).`);
  }
  const reduction = checkReduction(options.reduction ?? 'mean', 'mseLoss');
  const d = sub(input, target);
  const sq = mul(d, d);
  return reduction === 'none' ? sq : reduction === 'sum' ? sum(sq) : mean(sq);
}

/**
 * Binary cross-entropy on logits (PyTorch's `binary_cross_entropy_with_logits`), composed from
 * primitives in the overflow-safe form
 *   ℓ(x, z) = max(x, 0) − x·z + log(1 + exp(−|x|))
 * (= −z·log σ(x) − (1 − z)·log(1 − σ(x)) without computing σ). `weight` (same shape) scales each
 * term, e.g. a 0/1 mask over padding; 'mean' divides by the number of elements, as PyTorch.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: { reduction?: Reduction; weight?: Tensor | null } = {}): Tensor {
  requireFloat(input, 'binaryCrossEntropyWithLogits', 'input');
  requireFloat(target, 'binaryCrossEntropyWithLogits', 'target');
  for (const [name, t] of [['target', target], ['weight', options.weight ?? null]] as const) {
    if (t && !sameShape(input.shape, t.shape)) {
      throw new ShapeError(`binaryCrossEntropyWithLogits: input has shape ${fmtShape(input.shape)} but ${name} has ${fmtShape(t.shape)}; expected equal shapes. Fix: reshape the ${name}.`);
    }
  }
  const reduction = checkReduction(options.reduction ?? 'mean', 'binaryCrossEntropyWithLogits');
  let l = add(sub(relu(input), mul(input, target)), log(add(exp(mul(abs(input), -1)), 1)));
  if (options.weight) l = mul(l, options.weight);
  return reduction === 'none' ? l : reduction === 'sum' ? sum(l) : mean(l);
}
