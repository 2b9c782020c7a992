/**
 * Elementwise ops with NumPy broadcasting.
 *
 * Binary: add, sub, mul, div, pow, maximum, minimum (differentiable);
 *         eq, ne, lt, le, gt, ge, logicalAnd, logicalOr (bool results).
 * Unary:  neg, exp, log, sqrt, tanh, sigmoid, relu, gelu (exact or tanh), silu, abs.
 *
 * The gradient of a broadcast input is summed back to that input's shape (sumToShape).
 */
import { Tensor } from '../tensor/tensor.js';
import { k } from '../backend/registry.js';
import { record } from '../autograd/node.js';
import { broadcastShapes, broadcastStrides, numel, sameShape } from '../tensor/shape.js';
import { promoteFloat, alloc, isFloat } from '../tensor/dtype.js';
import { BinaryOp, UnaryOp } from '../backend/js/elementwise.js';
import { DTypeError, ValueError } from '../errors.js';
import { expand } from './shape.js';
import { sumToShape } from './sum-to-shape.js';
import { type TensorLike, lift, requireFloat, f32, floatTensor, emptyFloatTensor } from './util.js';

function binaryRaw(op: number, a: Tensor, b: Tensor, name: string): Tensor {
  const dtype = promoteFloat(a.dtype, b.dtype);
  if (sameShape(a.shape, b.shape)) {
    const out = emptyFloatTensor(dtype, a.shape);
    if (a.dtype === b.dtype) k.binarySame({ op, a: f32(a), b: f32(b), out: f32(out) });
    else k.binaryBroadcast({ op, a: f32(a), aStrides: broadcastStrides(a.shape, a.shape), b: f32(b), bStrides: broadcastStrides(b.shape, b.shape), out: f32(out), outShape: a.shape });
    return out;
  }
  const shape = broadcastShapes(a.shape, b.shape, name, ['a', 'b']);
  const out = emptyFloatTensor(dtype, shape);
  k.binaryBroadcast({ op, a: f32(a), aStrides: broadcastStrides(a.shape, shape), b: f32(b), bStrides: broadcastStrides(b.shape, shape), out: f32(out), outShape: shape });
  return out;
}

/**
 * Which inputs of a binary op need a gradient. An input that needs none (a constant such as the
 * √d of an embedding scale, or a fixed positional table) gets null, and its gradient (a product and
 * a reduction over the whole tensor) is never computed.
 */
interface Need { a: boolean; b: boolean }

function binary(op: number, name: string, x: TensorLike, y: TensorLike,
  grad: (g: Tensor, a: Tensor, b: Tensor, out: Tensor, need: Need) => [Tensor | null, Tensor | null]): Tensor {
  const a = lift(x, y instanceof Tensor ? y.dtype : 'float32');
  const b = lift(y, a.dtype);
  requireFloat(a, name, 'a');
  requireFloat(b, name, 'b');
  const out = binaryRaw(op, a, b, name);
  return record(out, name, [a, b], (g) => {
    const need = { a: a.requiresGrad, b: b.requiresGrad };
    const [ga, gb] = grad(g, a, b, out, need);
    return [need.a && ga ? sumToShape(ga, a.shape) : null, need.b && gb ? sumToShape(gb, b.shape) : null];
  });
}

/** a + b */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return binary(BinaryOp.add, 'add', a, b, (g) => [g, g]);
}

/** a − b */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return binary(BinaryOp.sub, 'sub', a, b, (g, _x, _y, _out, need) => [g, need.b ? neg(g) : null]);
}

/** a · b */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  // d(ab)/da = b, d(ab)/db = a
  return binary(BinaryOp.mul, 'mul', a, b, (g, x, y, _out, need) => [need.a ? mul(g, y) : null, need.b ? mul(g, x) : null]);
}

/** a / b */
export function div(a: TensorLike, b: TensorLike): Tensor {
  // d(a/b)/da = 1/b, d(a/b)/db = −a/b² = −out/b
  return binary(BinaryOp.div, 'div', a, b, (g, _x, y, out, need) => [need.a ? div(g, y) : null, need.b ? neg(div(mul(g, out), y)) : null]);
}

/** a ** b */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  // d(a^b)/da = b·a^(b−1), d(a^b)/db = a^b · ln a
  return binary(BinaryOp.pow, 'pow', a, b, (g, x, y, out, need) => [
    need.a ? mul(g, mul(y, pow(x, sub(y, 1)))) : null,
    need.b ? mul(g, mul(out, log(x))) : null,
  ]);
}

/** Elementwise maximum; ties send the gradient to both halves equally. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return binary(BinaryOp.maximum, 'maximum', a, b, (g, x, y) => pickGrad(g, x, y, (p, q) => p > q));
}

/** Elementwise minimum. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return binary(BinaryOp.minimum, 'minimum', a, b, (g, x, y) => pickGrad(g, x, y, (p, q) => p < q));
}

function pickGrad(g: Tensor, x: Tensor, y: Tensor, wins: (p: number, q: number) => boolean): [Tensor, Tensor] {
  const xe = expand(x, g.shape).data, ye = expand(y, g.shape).data;
  const wa = floatTensor(g.dtype, g.shape), wb = floatTensor(g.dtype, g.shape);
  for (let i = 0; i < g.size; i++) {
    const p = xe[i], q = ye[i];
    wa.data[i] = wins(p, q) ? 1 : p === q ? 0.5 : 0;
    wb.data[i] = 1 - wa.data[i];
  }
  return [mul(g, wa), mul(g, wb)];
}

// ---- comparisons and logic (bool results, not differentiable) ----

function compare(name: string, x: TensorLike, y: TensorLike, f: (p: number, q: number) => boolean): Tensor {
  const a = x instanceof Tensor ? x : lift(x, 'float64');
  const b = y instanceof Tensor ? y : lift(y, 'float64');
  const shape = broadcastShapes(a.shape, b.shape, name, ['a', 'b']);
  if (b.size === 1 && a.size === numel(shape)) {
    // a tensor against one value (a padding mask: ids == padId): no odometer
    const out = alloc('bool', a.size), ad = a.data, bv = b.data[0];
    for (let i = 0; i < out.length; i++) out[i] = f(ad[i], bv) ? 1 : 0;
    return new Tensor(out, shape);
  }
  const as = broadcastStrides(a.shape, shape), bs = broadcastStrides(b.shape, shape);
  const out = alloc('bool', shape.reduce((p, q) => p * q, 1));
  const idx = new Array<number>(shape.length).fill(0);
  let ao = 0, bo = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = f(a.data[ao], b.data[bo]) ? 1 : 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]++; ao += as[d]; bo += bs[d];
      if (idx[d] < shape[d]) break;
      ao -= as[d] * shape[d]; bo -= bs[d] * shape[d]; idx[d] = 0;
    }
  }
  return new Tensor(out, shape);
}

export const eq = (a: TensorLike, b: TensorLike): Tensor => compare('eq', a, b, (p, q) => p === q);
export const ne = (a: TensorLike, b: TensorLike): Tensor => compare('ne', a, b, (p, q) => p !== q);
export const lt = (a: TensorLike, b: TensorLike): Tensor => compare('lt', a, b, (p, q) => p < q);
export const le = (a: TensorLike, b: TensorLike): Tensor => compare('le', a, b, (p, q) => p <= q);
export const gt = (a: TensorLike, b: TensorLike): Tensor => compare('gt', a, b, (p, q) => p > q);
export const ge = (a: TensorLike, b: TensorLike): Tensor => compare('ge', a, b, (p, q) => p >= q);
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => compare('logicalAnd', a, b, (p, q) => p !== 0 && q !== 0);
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => compare('logicalOr', a, b, (p, q) => p !== 0 || q !== 0);

export function logicalNot(x: Tensor): Tensor {
  const out = alloc('bool', x.size);
  for (let i = 0; i < x.size; i++) out[i] = x.data[i] === 0 ? 1 : 0;
  return new Tensor(out, x.shape);
}

// ---- unary ----

function unaryOp(op: number, name: string, x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new DTypeError(`${name}: input must be a Tensor, received ${typeof x}.`);
  requireFloat(x, name, 'input');
  const out = emptyFloatTensor(x.dtype, x.shape);
  k.unary({ op, x: f32(x), out: f32(out) });
  return record(out, name, [x], (g) => {
    const dx = emptyFloatTensor(g.dtype, x.shape);
    k.unaryBackward({ op, x: f32(x), y: f32(out), dy: f32(g), dx: f32(dx) });
    return [dx];
  });
}

export const neg = (x: Tensor): Tensor => unaryOp(UnaryOp.neg, 'neg', x);
export const exp = (x: Tensor): Tensor => unaryOp(UnaryOp.exp, 'exp', x);
export const log = (x: Tensor): Tensor => unaryOp(UnaryOp.log, 'log', x);
export const sqrt = (x: Tensor): Tensor => unaryOp(UnaryOp.sqrt, 'sqrt', x);
export const tanh = (x: Tensor): Tensor => unaryOp(UnaryOp.tanh, 'tanh', x);
export const sigmoid = (x: Tensor): Tensor => unaryOp(UnaryOp.sigmoid, 'sigmoid', x);
export const relu = (x: Tensor): Tensor => unaryOp(UnaryOp.relu, 'relu', x);
export const silu = (x: Tensor): Tensor => unaryOp(UnaryOp.silu, 'silu', x);
export const abs = (x: Tensor): Tensor => unaryOp(UnaryOp.abs, 'abs', x);

export interface GeluOptions {
  /** 'none' (exact, erf) or 'tanh' (the approximation used by GPT-2), as torch's approximate=. */
  approximate?: 'none' | 'tanh';
}

/** GELU: x·Φ(x), or its tanh approximation. */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  const a = options.approximate ?? 'none';
  if (a !== 'none' && a !== 'tanh') throw new ValueError(`gelu: approximate='${String(a)}', expected 'none' or 'tanh'.`);
  return unaryOp(a === 'tanh' ? UnaryOp.geluTanh : UnaryOp.gelu, 'gelu', x);
}

/** A float copy of a tensor (bool/int → float32). Not differentiable for non-float input. */
export function toFloat(x: Tensor, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  if (x.dtype === dtype) return x;
  const out = floatTensor(dtype, x.shape);
  out.data.set(x.data as ArrayLike<number>);
  return isFloat(x.dtype) ? record(out, 'toFloat', [x], (g) => [toFloat(g, x.dtype as 'float32' | 'float64')]) : out;
}

/** Truncating conversion to int32 (as torch .int()). */
export function toInt(x: Tensor): Tensor {
  const out = alloc('int32', x.size);
  for (let i = 0; i < x.size; i++) out[i] = Math.trunc(x.data[i]);
  return new Tensor(out, x.shape);
}
