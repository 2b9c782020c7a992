/** Small helpers shared by the ops: argument checks and output allocation. */
import { Tensor } from '../tensor/tensor.js';
import { type DType, type FloatStorage, isFloat, alloc, allocUninit } from '../tensor/dtype.js';
import { DTypeError, ShapeError, fmtShape } from '../errors.js';
import { scalar } from '../tensor/creation.js';
import { numel } from '../tensor/shape.js';

export type TensorLike = Tensor | number;

/** Throws a DTypeError unless t is a float tensor. */
export function requireFloat(t: Tensor, op: string, arg: string): void {
  if (!isFloat(t.dtype)) {
    throw new DTypeError(`${op}: ${arg} must be a float tensor, received ${t.dtype} with shape ${fmtShape(t.shape)}. Fix: convert it with .float().`);
  }
}

export function requireTensor(t: unknown, op: string, arg: string): asserts t is Tensor {
  if (!(t instanceof Tensor)) {
    throw new DTypeError(`${op}: ${arg} must be a Tensor, received ${t === null ? 'null' : typeof t}.`);
  }
}

export function requireNonEmpty(t: Tensor, op: string, arg: string): void {
  if (t.size === 0) {
    throw new ShapeError(`${op}: ${arg} is empty (shape ${fmtShape(t.shape)}); expected at least one element, since ${op} of no values is undefined. ` +
      'Fix: check for empty batches before reducing, or use sum/mean, which are defined on empty input.');
  }
}

/** A float tensor from a number, with the dtype of its partner. */
export function lift(x: TensorLike, like: DType): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== 'number') throw new DTypeError(`expected a Tensor or a number, received ${typeof x}.`);
  return scalar(x, isFloat(like) ? like : 'float32');
}

export function floatTensor(dtype: DType, shape: readonly number[]): Tensor {
  return new Tensor(alloc(isFloat(dtype) ? dtype : 'float32', numel(shape)), shape);
}

/** Like floatTensor, but its contents are undefined: only for outputs a kernel writes in full. */
export function emptyFloatTensor(dtype: DType, shape: readonly number[]): Tensor {
  return new Tensor(allocUninit(isFloat(dtype) ? dtype : 'float32', numel(shape)), shape);
}

/** The data of a float tensor, typed for the kernels (float64 runs on the reference kernels only). */
export function f32(t: Tensor): Float32Array {
  return t.data as FloatStorage as Float32Array;
}

/** (outer, size, inner) view of a tensor around one dim. */
export function splitAt(shape: readonly number[], dim: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < dim; i++) outer *= shape[i];
  for (let i = dim + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape.length === 0 ? 1 : shape[dim], inner];
}
