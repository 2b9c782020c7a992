/**
 * Reductions over any set of dims, with keepDim: sum, mean, max, min, argmax,
 * logsumexp, var. Multi-dim reductions reduce one axis at a time.
 *
 *   sum(x, [0, 2], { keepDim: true })   // (A, B, C) → (1, B, 1)
 */
import { Tensor } from '../tensor/tensor.js';
import { k } from '../backend/registry.js';
import { record } from '../autograd/node.js';
import { normDim } from '../tensor/shape.js';
import { alloc } from '../tensor/dtype.js';
import { requireFloat, requireNonEmpty, f32, splitAt, floatTensor } from './util.js';
import { ReduceOp } from '../backend/js/reduce.js';
import { expand, reshape } from './shape.js';
import { mul, sub, div, exp, add, log } from './elementwise.js';

export interface ReduceOptions {
  keepDim?: boolean;
}

export type Dims = number | readonly number[] | undefined;

/** Normalized, sorted, unique dims; undefined means all. */
export function reduceDims(dims: Dims, ndim: number, op: string): number[] {
  if (dims === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof dims === 'number' ? [dims] : [...dims];
  const out = [...new Set(list.map((d) => normDim(d, ndim, op)))];
  return out.sort((a, b) => a - b);
}

function reducedShape(shape: readonly number[], dims: number[], keepDim: boolean): number[] {
  const out: number[] = [];
  shape.forEach((s, i) => {
    if (dims.includes(i)) { if (keepDim) out.push(1); } else out.push(s);
  });
  return out;
}

/** Reduces x over dims with a kernel reduce op, no autograd. Output keeps dims as size 1. */
function reduceRaw(x: Tensor, dims: number[], op: number): Tensor {
  let cur: Tensor = x;
  for (const d of dims) {
    const shape = [...cur.shape];
    const [outer, size, inner] = splitAt(shape, d);
    shape[d] = 1;
    const out = floatTensor(cur.dtype, shape);
    k.reduceAxis({ op, x: f32(cur), out: f32(out), outer, size, inner });
    cur = out;
  }
  return cur;
}

/** Sum of elements over dims (all dims by default). */
export function sum(x: Tensor, dims?: Dims, options: ReduceOptions = {}): Tensor {
  requireFloat(x, 'sum', 'input');
  const ds = reduceDims(dims, x.ndim, 'sum');
  const keep = reduceRaw(x, ds, ReduceOp.sum);
  const out = new Tensor(keep.data, reducedShape(x.shape, ds, options.keepDim ?? false));
  // d sum / dx = 1: broadcast the gradient back over the reduced dims
  return record(out, 'sum', [x], (g) => [expand(reshape(g, keep.shape), x.shape)]);
}

/** Mean over dims. */
export function mean(x: Tensor, dims?: Dims, options: ReduceOptions = {}): Tensor {
  requireFloat(x, 'mean', 'input');
  const ds = reduceDims(dims, x.ndim, 'mean');
  let count = 1;
  for (const d of ds) count *= x.shape[d];
  return div(sum(x, ds, options), count);
}

function extremum(x: Tensor, dims: Dims, options: ReduceOptions, op: number, name: string): Tensor {
  requireFloat(x, name, 'input');
  requireNonEmpty(x, name, 'input');
  const ds = reduceDims(dims, x.ndim, name);
  const keep = reduceRaw(x, ds, op);
  const out = new Tensor(keep.data, reducedShape(x.shape, ds, options.keepDim ?? false));
  // gradient flows to the positions equal to the extremum, split evenly among ties (as torch.amax)
  return record(out, name, [x], (g) => {
    const m = expand(keep, x.shape);
    const hit = floatTensor(x.dtype, x.shape);
    for (let i = 0; i < hit.size; i++) hit.data[i] = x.data[i] === m.data[i] ? 1 : 0;
    const count = expand(reduceRaw(hit, ds, ReduceOp.sum), x.shape);
    return [div(mul(hit, expand(reshape(g, keep.shape), x.shape)), count)];
  });
}

/** Maximum over dims (amax semantics: values only; ties share the gradient). */
export function max(x: Tensor, dims?: Dims, options: ReduceOptions = {}): Tensor {
  return extremum(x, dims, options, ReduceOp.max, 'max');
}

/** Minimum over dims. */
export function min(x: Tensor, dims?: Dims, options: ReduceOptions = {}): Tensor {
  return extremum(x, dims, options, ReduceOp.min, 'min');
}

/** Index of the maximum along one dim (over the flattened tensor when dim is undefined). int32, not differentiable. */
export function argmax(x: Tensor, dim?: number, options: ReduceOptions = {}): Tensor {
  requireFloat(x, 'argmax', 'input');
  requireNonEmpty(x, 'argmax', 'input');
  if (dim === undefined) {
    const out = new Int32Array(1);
    k.argmaxAxis({ x: f32(x), out, outer: 1, size: x.size, inner: 1 });
    return new Tensor(out, options.keepDim ? x.shape.map(() => 1) : []);
  }
  const d = normDim(dim, x.ndim, 'argmax');
  const [outer, size, inner] = splitAt(x.shape, d);
  const out = alloc('int32', outer * inner) as Int32Array;
  k.argmaxAxis({ x: f32(x), out, outer, size, inner });
  return new Tensor(out, reducedShape(x.shape, [d], options.keepDim ?? false));
}

/** log Σ exp(x) over dims, computed stably as m + log Σ exp(x − m). */
export function logsumexp(x: Tensor, dims?: Dims, options: ReduceOptions = {}): Tensor {
  requireFloat(x, 'logsumexp', 'input');
  const ds = reduceDims(dims, x.ndim, 'logsumexp');
  const m = reduceRaw(x, ds, ReduceOp.max);
  for (let i = 0; i < m.size; i++) if (!Number.isFinite(m.data[i])) m.data[i] = 0;
  const shifted = sub(x, expand(m, x.shape));
  const s = sum(exp(shifted), ds, { keepDim: true });
  const lse = add(log(s), m);
  return options.keepDim ? lse : reshape(lse, reducedShape(x.shape, ds, false));
}

export interface VarOptions extends ReduceOptions {
  /** Bessel's correction: 1 (default, unbiased, as torch.var) or 0. */
  correction?: number;
}

/** Variance over dims: Σ (x − mean)² / (N − correction). */
export function variance(x: Tensor, dims?: Dims, options: VarOptions = {}): Tensor {
  requireFloat(x, 'var', 'input');
  const ds = reduceDims(dims, x.ndim, 'var');
  let count = 1;
  for (const d of ds) count *= x.shape[d];
  const c = options.correction ?? 1;
  const centered = sub(x, mean(x, ds, { keepDim: true }));
  return div(sum(mul(centered, centered), ds, { keepDim: options.keepDim ?? false }), Math.max(count - c, 0));
}
