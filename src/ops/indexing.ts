/**
 * Indexing ops: indexSelect, gather, maskedFill, where, embedding.
 * Index tensors are int32 and range-checked; an out-of-range index is an IndexError, never a silent read.
 */
import { Tensor } from '../tensor/tensor.js';
import { k } from '../backend/registry.js';
import { record } from '../autograd/node.js';
import { normDim, broadcastShapes, broadcastsTo } from '../tensor/shape.js';
import { alloc } from '../tensor/dtype.js';
import { DTypeError, IndexError, ShapeError, fmtShape } from '../errors.js';
import { requireFloat, splitAt, floatTensor, f32, type TensorLike } from './util.js';
import { expand } from './shape.js';
import { sumToShape } from './sum-to-shape.js';

function requireIndex(index: Tensor, op: string, arg: string): Int32Array {
  if (index.dtype !== 'int32') {
    throw new DTypeError(`${op}: ${arg} must be an int32 tensor, received ${index.dtype}. Fix: create it with { dtype: 'int32' } or convert it with toInt().`);
  }
  return index.data as Int32Array;
}

function checkRange(idx: Int32Array, size: number, op: string, arg: string, fix = 'Fix: indices count from 0; negative indices are not supported.'): void {
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    if (v < 0 || v >= size) {
      throw new IndexError(`${op}: ${arg} holds ${v} at flat position ${i}, out of range for a dim of size ${size}; expected 0 ≤ index < ${size}. ${fix}`);
    }
  }
}

/** Rows (or slices) of x along dim picked by a 1-D index. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim(dim, x.ndim, 'indexSelect');
  const idx = requireIndex(index, 'indexSelect', 'index');
  if (index.ndim !== 1) throw new ShapeError(`indexSelect: index must be 1-D, received shape ${fmtShape(index.shape)}.`);
  const size = x.shape[d];
  checkRange(idx, size, 'indexSelect', 'index');
  const [outer, , inner] = splitAt(x.shape, d);
  const shape = [...x.shape];
  shape[d] = idx.length;
  const out = alloc(x.dtype, outer * idx.length * inner);
  if (inner === 1) {
    // element gather (im2col in Conv1d/Conv2d): a plain loop; a subarray per element costs ~30× more
    const xd = x.data;
    for (let o = 0; o < outer; o++) {
      const src = o * size, dst = o * idx.length;
      for (let i = 0; i < idx.length; i++) out[dst + i] = xd[src + idx[i]];
    }
  } else {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < idx.length; i++) {
        const src = (o * size + idx[i]) * inner;
        out.set(x.data.subarray(src, src + inner) as ArrayLike<number>, (o * idx.length + i) * inner);
      }
    }
  }
  const y = new Tensor(out, shape);
  return record(y, 'indexSelect', [x], (g) => {
    const gx = floatTensor(g.dtype, x.shape), gxd = gx.data, gd = g.data;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < idx.length; i++) {
        const dst = (o * size + idx[i]) * inner, src = (o * idx.length + i) * inner;
        for (let j = 0; j < inner; j++) gxd[dst + j] += gd[src + j];
      }
    }
    return [gx];
  });
}

/** out[i][j][k] = x[i][index[i][j][k]][k] for dim = 1 (torch.gather). index has x's ndim. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim(dim, x.ndim, 'gather');
  const idx = requireIndex(index, 'gather', 'index');
  if (index.ndim !== x.ndim) {
    throw new ShapeError(`gather: index has ${index.ndim} dims (shape ${fmtShape(index.shape)}), expected ${x.ndim} like input ${fmtShape(x.shape)}.`);
  }
  for (let i = 0; i < x.ndim; i++) {
    if (i !== d && index.shape[i] > x.shape[i]) {
      throw new ShapeError(`gather: index shape ${fmtShape(index.shape)} is larger than input ${fmtShape(x.shape)} at dim ${i}.`);
    }
  }
  checkRange(idx, x.shape[d], 'gather', 'index');
  // offsets: for index position (o, i, j) read x at (o', idx, j) where o/j are multi-indices into x
  const positions = new Int32Array(idx.length);
  const ishape = index.shape, xstr = stridesFor(x.shape);
  const mi = new Array<number>(ishape.length).fill(0);
  for (let p = 0; p < idx.length; p++) {
    let off = 0;
    for (let a = 0; a < ishape.length; a++) off += (a === d ? idx[p] : mi[a]) * xstr[a];
    positions[p] = off;
    for (let a = ishape.length - 1; a >= 0; a--) { if (++mi[a] < ishape[a]) break; mi[a] = 0; }
  }
  const out = alloc(x.dtype, idx.length);
  for (let p = 0; p < idx.length; p++) out[p] = x.data[positions[p]];
  const y = new Tensor(out, index.shape);
  return record(y, 'gather', [x], (g) => {
    const gx = floatTensor(g.dtype, x.shape);
    for (let p = 0; p < positions.length; p++) gx.data[positions[p]] += g.data[p];
    return [gx];
  });
}

function stridesFor(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) { st[i] = s; s *= shape[i]; }
  return st;
}

function maskView(mask: Tensor, shape: readonly number[], op: string, xname: string): Uint8Array {
  if (mask.dtype !== 'bool') {
    throw new DTypeError(`${op}: mask must be a bool tensor, received ${mask.dtype}. Fix: build it with a comparison (eq, lt, ...) or tensor(data, shape, { dtype: 'bool' }).`);
  }
  if (!broadcastsTo(mask.shape, shape)) {
    throw new ShapeError(`${op}: mask has shape ${fmtShape(mask.shape)}, expected a shape that broadcasts to ${xname}'s shape ${fmtShape(shape)} ` +
      `(each mask dim, aligned from the right, equal to ${xname}'s or 1). Fix: reshape or unsqueeze the mask, e.g. to ${fmtShape(shape.map((s, i) => (i === shape.length - 1 ? s : 1)))}.`);
  }
  return expand(mask, shape).data as Uint8Array;
}

/** x with `value` wherever mask is true. mask broadcasts to x. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  requireFloat(x, 'maskedFill', 'input');
  const m = maskView(mask, x.shape, 'maskedFill', 'input');
  const out = floatTensor(x.dtype, x.shape);
  for (let i = 0; i < x.size; i++) out.data[i] = m[i] ? value : x.data[i];
  return record(out, 'maskedFill', [x], (g) => {
    const gx = floatTensor(g.dtype, x.shape);
    for (let i = 0; i < x.size; i++) gx.data[i] = m[i] ? 0 : g.data[i];
    return [gx];
  });
}

/** Elementwise choice: a where cond is true, else b. All three broadcast. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const ta = a instanceof Tensor ? a : floatTensor(b instanceof Tensor ? b.dtype : 'float32', []);
  if (!(a instanceof Tensor)) ta.data[0] = a;
  const tb = b instanceof Tensor ? b : floatTensor(ta.dtype, []);
  if (!(b instanceof Tensor)) tb.data[0] = b;
  requireFloat(ta, 'where', 'a');
  requireFloat(tb, 'where', 'b');
  const shape = broadcastShapes(broadcastShapes(cond.shape, ta.shape, 'where', ['cond', 'a']), tb.shape, 'where', ['cond/a', 'b']);
  const c = maskView(cond, shape, 'where', 'output');
  const ea = expand(ta, shape).data, eb = expand(tb, shape).data;
  const out = floatTensor(ta.dtype === 'float64' || tb.dtype === 'float64' ? 'float64' : 'float32', shape);
  for (let i = 0; i < out.size; i++) out.data[i] = c[i] ? ea[i] : eb[i];
  return record(out, 'where', [ta, tb], (g) => {
    const ga = floatTensor(g.dtype, shape), gb = floatTensor(g.dtype, shape);
    for (let i = 0; i < g.size; i++) { if (c[i]) ga.data[i] = g.data[i]; else gb.data[i] = g.data[i]; }
    return [sumToShape(ga, ta.shape), sumToShape(gb, tb.shape)];
  });
}

export interface EmbeddingOptions {
  /** Rows with this index get no gradient (as torch's padding_idx; negative counts from the end). */
  paddingIdx?: number;
}

/** Looks up rows of weight (V, D) for int32 indices of any shape → (...indices.shape, D). */
export function embedding(indices: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  const idx = requireIndex(indices, 'embedding', 'indices');
  requireFloat(weight, 'embedding', 'weight');
  if (weight.ndim !== 2) throw new ShapeError(`embedding: weight must be 2-D (numEmbeddings, dim), received ${fmtShape(weight.shape)}.`);
  const [V, D] = weight.shape;
  checkRange(idx, V, 'embedding', 'indices', `Fix: the table has ${V} rows (numEmbeddings); check the vocabulary size or the tokenizer's ids.`);
  const out = floatTensor(weight.dtype, [...indices.shape, D]);
  k.embeddingForward({ weight: f32(weight), indices: idx, out: f32(out), dim: D });
  let pad = -1; // the kernel's "no padding row"
  if (options.paddingIdx !== undefined && options.paddingIdx !== null) {
    const p = options.paddingIdx;
    if (!Number.isInteger(p) || p < -V || p >= V) {
      throw new IndexError(`embedding: paddingIdx=${p} is out of range for ${V} rows; expected an integer in [${-V}, ${V - 1}].`);
    }
    pad = p < 0 ? p + V : p;
  }
  return record(out, 'embedding', [weight], (g) => {
    const gw = floatTensor(g.dtype, weight.shape);
    k.embeddingBackward({ dOut: f32(g), indices: idx, dWeight: f32(gw), dim: D, paddingIdx: pad });
    return [gw];
  });
}
