/**
 * Shape ops: reshape/view, flatten, transpose/permute, squeeze/unsqueeze, expand,
 * cat, stack, split/chunk, narrow. Tensors are always contiguous, so reshape
 * shares storage and every other op copies.
 */
import { Tensor } from '../tensor/tensor.js';
import { k } from '../backend/registry.js';
import { record } from '../autograd/node.js';
import { numel, normDim, broadcastStrides, sameShape } from '../tensor/shape.js';
import { alloc, allocUninit } from '../tensor/dtype.js';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { splitAt } from './util.js';
import { sumToShape } from './sum-to-shape.js';

/**
 * A tensor with the same data and a new shape. One dim may be −1 (inferred).
 * Shares storage with the input (contiguous tensors make view and reshape the same op).
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const out = [...shape];
  const inferAt = out.indexOf(-1);
  if (out.filter((s) => s === -1).length > 1) {
    throw new ShapeError(`reshape: shape ${fmtShape(shape)} has more than one -1; only one dim can be inferred.`);
  }
  if (inferAt >= 0) {
    const known = out.reduce((a, s) => (s === -1 ? a : a * s), 1);
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(`reshape: cannot reshape a tensor of shape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}: ` +
        `the known dims do not divide ${x.size}. Fix: check the sizes of the other dims.`);
    }
    out[inferAt] = x.size / known;
  }
  for (const s of out) {
    if (!Number.isInteger(s) || s < 0) throw new ShapeError(`reshape: invalid size ${s} in ${fmtShape(shape)}; expected non-negative integers or one -1.`);
  }
  if (numel(out) !== x.size) {
    throw new ShapeError(`reshape: cannot reshape a tensor of shape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)} (${numel(out)} elements); ` +
      `expected a shape with ${x.size} elements. Fix: check the sizes, or pass -1 for one dim to infer it.`);
  }
  if (sameShape(out, x.shape)) return x;
  const y = new Tensor(x.data, out);
  return record(y, 'reshape', [x], (g) => [reshape(g, x.shape)], true); // deferrable: a view
}

/** Alias of reshape (tensors are contiguous). */
export const view = reshape;

/** Flattens dims startDim..endDim into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normDim(startDim, x.ndim, 'flatten', 'startDim'), e = normDim(endDim, x.ndim, 'flatten', 'endDim');
  if (s > e) throw new ValueError(`flatten: startDim ${startDim} comes after endDim ${endDim}.`);
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** Reorders dims: out.shape[i] = x.shape[perm[i]]. Copies. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.ndim) {
    throw new ShapeError(`permute: perm ${fmtShape(perm)} has ${perm.length} entries, expected ${x.ndim} for input of shape ${fmtShape(x.shape)}.`);
  }
  const p = perm.map((d) => normDim(d, x.ndim, 'permute', 'perm'));
  if (new Set(p).size !== p.length) throw new ValueError(`permute: perm ${fmtShape(perm)} repeats a dim; expected a permutation of 0..${x.ndim - 1}.`);
  if (p.every((d, i) => d === i)) return x;
  const shape = p.map((d) => x.shape[d]);
  const out = allocUninit(x.dtype, x.size); // every element is written
  k.permute({ x: x.data as Float32Array, out: out as Float32Array, shape: x.shape, perm: p });
  const y = new Tensor(out, shape);
  const inverse = new Array<number>(p.length);
  p.forEach((d, i) => { inverse[d] = i; });
  return record(y, 'permute', [x], (g) => [permute(g, inverse)]);
}

/** Swaps two dims (copies). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const a = normDim(dim0, x.ndim, 'transpose', 'dim0'), b = normDim(dim1, x.ndim, 'transpose', 'dim1');
  const perm: number[] = [];
  for (let i = 0; i < x.ndim; i++) perm.push(i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/** Inserts a size-1 dim at `dim`. */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim(dim, x.ndim + 1, 'unsqueeze');
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return reshape(x, shape);
}

/** Removes size-1 dims (all of them, or the given ones). */
export function squeeze(x: Tensor, dims?: number | readonly number[]): Tensor {
  const ds = dims === undefined ? x.shape.map((_, i) => i) : (typeof dims === 'number' ? [dims] : dims).map((d) => normDim(d, x.ndim, 'squeeze'));
  return reshape(x, x.shape.filter((s, i) => !(s === 1 && ds.includes(i))));
}

/** Broadcasts to `shape` (materialized; −1 keeps a dim). The gradient sums back. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const target = shape.map((s, i) => (s === -1 ? x.shape[i - (shape.length - x.ndim)] : s));
  if (target.length < x.ndim) {
    throw new ShapeError(`expand: target ${fmtShape(shape)} has fewer dims than the input ${fmtShape(x.shape)}.`);
  }
  const off = target.length - x.ndim;
  for (let i = 0; i < x.ndim; i++) {
    if (x.shape[i] !== 1 && x.shape[i] !== target[i + off]) {
      throw new ShapeError(`expand: cannot expand shape ${fmtShape(x.shape)} to ${fmtShape(shape)}: dim ${i} is ${x.shape[i]}, expected 1 or ${target[i + off]}.`);
    }
  }
  if (sameShape(target, x.shape)) return x;
  const strides = broadcastStrides(x.shape, target);
  const out = alloc(x.dtype, numel(target));
  const idx = new Array<number>(target.length).fill(0);
  let src = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = x.data[src];
    for (let d = target.length - 1; d >= 0; d--) {
      idx[d]++;
      src += strides[d];
      if (idx[d] < target[d]) break;
      src -= strides[d] * target[d];
      idx[d] = 0;
    }
  }
  const y = new Tensor(out, target);
  return record(y, 'expand', [x], (g) => [sumToShape(g, x.shape)]);
}

/** Concatenates along an existing dim. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new ValueError('cat: received an empty list; expected at least one tensor.');
  const first = tensors[0];
  const d = normDim(dim, first.ndim, 'cat');
  let total = 0;
  tensors.forEach((t, i) => {
    if (t.ndim !== first.ndim || t.shape.some((s, j) => j !== d && s !== first.shape[j])) {
      throw new ShapeError(`cat: tensor ${i} has shape ${fmtShape(t.shape)}, expected ${fmtShape(first.shape.map((s, j) => (j === d ? -1 : s)))} (any size at dim ${d}).`);
    }
    if (t.dtype !== first.dtype) throw new DTypeError(`cat: tensor ${i} is ${t.dtype}, expected ${first.dtype} like tensor 0. Fix: convert it first (toFloat, toInt).`);
    total += t.shape[d];
  });
  const shape = [...first.shape];
  shape[d] = total;
  const [outer, , inner] = splitAt(shape, d);
  const out = allocUninit(first.dtype, numel(shape)); // every element is written below
  let offset = 0;
  for (const t of tensors) {
    const chunk = t.shape[d] * inner;
    for (let o = 0; o < outer; o++) {
      out.set(t.data.subarray(o * chunk, (o + 1) * chunk) as ArrayLike<number>, o * total * inner + offset);
    }
    offset += chunk;
  }
  const y = new Tensor(out, shape);
  return record(y, 'cat', tensors, (g) => {
    let start = 0;
    return tensors.map((t) => {
      const part = narrow(g, d, start, t.shape[d]);
      start += t.shape[d];
      return part;
    });
  });
}

/** Stacks along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new ValueError('stack: received an empty list; expected at least one tensor.');
  const d = normDim(dim, tensors[0].ndim + 1, 'stack');
  tensors.forEach((t, i) => {
    if (!sameShape(t.shape, tensors[0].shape)) {
      throw new ShapeError(`stack: tensor ${i} has shape ${fmtShape(t.shape)}, expected ${fmtShape(tensors[0].shape)} like tensor 0.`);
    }
  });
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}

/** The slice [start, start + length) of one dim. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim(dim, x.ndim, 'narrow');
  const size = x.shape[d];
  if (start < 0) start += size;
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > size) {
    throw new ShapeError(`narrow: start=${start}, length=${length} is out of range for dim ${d} of size ${size} (shape ${fmtShape(x.shape)}).`);
  }
  if (start === 0 && length === size) return x;
  const shape = [...x.shape];
  shape[d] = length;
  const [outer, , inner] = splitAt(x.shape, d);
  const out = alloc(x.dtype, numel(shape));
  for (let o = 0; o < outer; o++) {
    const src = (o * size + start) * inner;
    out.set(x.data.subarray(src, src + length * inner) as ArrayLike<number>, o * length * inner);
  }
  const y = new Tensor(out, shape);
  return record(y, 'narrow', [x], (g) => {
    const gx = alloc(g.dtype, x.size);
    for (let o = 0; o < outer; o++) {
      gx.set(g.data.subarray(o * length * inner, (o + 1) * length * inner) as ArrayLike<number>, (o * size + start) * inner);
    }
    return [new Tensor(gx, x.shape)];
  });
}

/** Python-style slice of one dim: start inclusive, end exclusive, negatives count from the end. */
export function slice(x: Tensor, dim: number, start = 0, end?: number): Tensor {
  const d = normDim(dim, x.ndim, 'slice');
  const size = x.shape[d];
  const s = Math.min(Math.max(start < 0 ? start + size : start, 0), size);
  const e = Math.min(Math.max(end === undefined ? size : end < 0 ? end + size : end, s), size);
  return narrow(x, d, s, e - s);
}

/** Splits into pieces of `sizeOrSections` along dim (the last piece may be smaller), or into the given sizes. */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  const d = normDim(dim, x.ndim, 'split');
  const size = x.shape[d];
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections <= 0) throw new ValueError(`split: split size ${sizeOrSections} must be a positive integer.`);
    sizes = [];
    for (let s = 0; s < size; s += sizeOrSections) sizes.push(Math.min(sizeOrSections, size - s));
  } else {
    sizes = [...sizeOrSections];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== size) throw new ShapeError(`split: sizes ${fmtShape(sizes)} sum to ${total}, expected dim ${d} size ${size}.`);
  }
  let start = 0;
  return sizes.map((n) => { const t = narrow(x, d, start, n); start += n; return t; });
}

/** Splits into `chunks` nearly equal pieces. */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  const d = normDim(dim, x.ndim, 'chunk');
  return split(x, Math.ceil(x.shape[d] / chunks), d);
}
