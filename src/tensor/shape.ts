/** Shape helpers: sizes, strides, dim normalization, broadcasting. */
import { ShapeError, IndexError, fmtShape } from '../errors.js';

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  // An indexed loop: for-of allocates an iterator (and a result per element) wherever it is not
  // optimized, and numel runs for nearly every op (bench/js-share.ts, BENCHMARKS.md).
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

/** Row-major strides in elements. */
export function stridesOf(shape: Shape): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) { st[d] = s; s *= shape[d]; }
  return st;
}

/** Normalizes a possibly negative dim; throws IndexError naming the op when out of range. */
export function normDim(dim: number, ndim: number, op: string, arg = 'dim'): number {
  const lo = ndim === 0 ? -1 : -ndim, hi = ndim === 0 ? 0 : ndim - 1;
  if (!Number.isInteger(dim) || dim < lo || dim > hi) {
    throw new IndexError(`${op}: ${arg}=${dim} is out of range for a tensor with ${ndim} dims; expected an integer in [${lo}, ${hi}]. ` +
      `Fix: dims count from 0, and negative dims from the end (-1 is the last).`);
  }
  return dim < 0 ? dim + Math.max(ndim, 1) : dim;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a === b) return true; // one frozen shape shared by both tensors (the common case): nothing to read
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether shapes a and b agree on their first n dims (n ≤ 0: nothing to compare). No slices: shapes are frozen arrays, whose slice() is V8's slow path. */
export function sameLead(a: Shape, b: Shape, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `shape` ends with `tail` (tail no longer than shape). No slices, as sameLead. */
export function endsWith(shape: Shape, tail: Shape): boolean {
  const off = shape.length - tail.length;
  for (let i = 0; i < tail.length; i++) if (shape[off + i] !== tail[i]) return false;
  return true;
}

/** NumPy broadcasting of two shapes. */
export function broadcastShapes(a: Shape, b: Shape, op: string, names: [string, string] = ['a', 'b']): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1, db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes ${fmtShape(a)} (${names[0]}) and ${fmtShape(b)} (${names[1]}) do not broadcast: ` +
        `dim ${i - n} is ${da} vs ${db}; expected equal sizes or 1. Fix: reshape or unsqueeze one input.`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** True when `from` broadcasts to exactly `to` (each dim of `from`, aligned right, equals `to`'s or is 1). */
export function broadcastsTo(from: Shape, to: Shape): boolean {
  if (from.length > to.length) return false;
  const off = to.length - from.length;
  for (let i = 0; i < from.length; i++) if (from[i] !== 1 && from[i] !== to[i + off]) return false;
  return true;
}

/** Strides to read a tensor of `shape` as if it had `outShape` (0 on broadcast dims). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const st = stridesOf(shape);
  const off = outShape.length - shape.length;
  return outShape.map((_, i) => (i < off || shape[i - off] === 1 ? 0 : st[i - off]));
}

export function assertValidShape(shape: Shape, op: string): void {
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) {
      throw new ShapeError(`${op}: shape ${fmtShape(shape)} has an invalid size ${s}; expected non-negative integers.`);
    }
  }
}
