/**
 * Tensor creation: from data, constants, ranges and random draws.
 *
 *   tensor([[1, 2], [3, 4]])                      // float32 (2, 2)
 *   tensor([0, 2, 1], { dtype: 'int32' })         // shape inferred, or: tensor(data, [3], { dtype })
 *   randn([4, 8], { requiresGrad: true })
 */
import { Tensor, type NestedArray, checkDType } from './tensor.js';
import { type DType, type Storage, alloc, dtypeOf } from './dtype.js';
import { type Shape, numel, assertValidShape } from './shape.js';
import { ShapeError, ValueError, DTypeError, fmtShape } from '../errors.js';
import { defaultGenerator, type Generator } from './rng.js';

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

function flatten(data: NestedArray, shape: number[], dim: number, out: number[]): void {
  if (dim === shape.length) {
    if (Array.isArray(data)) throw new ShapeError(`tensor: ragged nested array: received a nested array at depth ${dim}, expected a number (the first row sets the depth). Fix: give every row the same nesting depth.`);
    if (typeof data !== 'number' && typeof data !== 'boolean') {
      throw new DTypeError(`tensor: received ${data === null ? 'null' : typeof data} ${describeLeaf(data)}in the data, expected numbers or booleans. Fix: convert the values first, e.g. data.map(Number).`);
    }
    out.push(typeof data === 'boolean' ? (data ? 1 : 0) : data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new ShapeError(`tensor: ragged nested array at depth ${dim}: expected ${shape[dim]} elements (like the first row), received ${Array.isArray(data) ? data.length : 'a scalar'}. ` +
      'Fix: pad every row to the same length (and mask the padding), or build one tensor per row.');
  }
  for (const d of data) flatten(d, shape, dim + 1, out);
}

function checkInteger(values: ArrayLike<number>, dtype: DType): void {
  if (dtype !== 'int32' && dtype !== 'int8' && dtype !== 'bool') return;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v)) {
      throw new DTypeError(`tensor: value ${v} at flat index ${i} is not an integer, but dtype is ${dtype}. Fix: round the data or use dtype 'float32'.`);
    }
  }
}

function describeLeaf(v: unknown): string {
  return typeof v === 'string' ? `${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)} ` : '';
}

const CREATE_OPTION_KEYS: readonly string[] = ['dtype', 'requiresGrad'];

/** Throws unless `options` is an object with only the keys of CreateOptions. */
function checkCreateOptions(options: unknown, op: string): CreateOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValueError(`${op}: options must be an object like { dtype: 'int32' }, received ${Array.isArray(options) ? 'an array' : options === null ? 'null' : typeof options}.`);
  }
  for (const key of Object.keys(options)) {
    if (!CREATE_OPTION_KEYS.includes(key)) {
      const fix = key === 'shape' ? ` Fix: pass the shape as the second argument: ${op}(data, [2, 3], { dtype }).` : '';
      throw new ValueError(`${op}: unknown option '${key.slice(0, 40)}'; valid options are ${CREATE_OPTION_KEYS.join(', ')}.${fix}`);
    }
  }
  return options as CreateOptions;
}

/**
 * Creates a tensor from nested arrays, a typed array or a flat array.
 *
 *   tensor([[1, 2], [3, 4]])                       // float32, shape inferred: (2, 2)
 *   tensor([[1, 2], [3, 4]], { dtype: 'int32' })   // options without a shape
 *   tensor([1, 2, 3, 4], [2, 2], { dtype: 'int32' })
 *   tensor(new Int32Array([1, 2, 3]))              // int32, shape (3,), no copy
 *
 * Without a shape, the shape is inferred from the nesting (a typed array is one-dimensional).
 * With a typed array and no dtype, the dtype follows the array (Float32Array → float32, Int32Array → int32, ...);
 * nested booleans give bool, other nested data float32. A typed array of the requested dtype is used without copying.
 */
export function tensor(data: NestedArray | Storage | readonly number[], options?: CreateOptions): Tensor;
export function tensor(data: NestedArray | Storage | readonly number[], shape?: Shape, options?: CreateOptions): Tensor;
export function tensor(data: NestedArray | Storage | readonly number[], shapeOrOptions?: Shape | CreateOptions, maybeOptions?: CreateOptions): Tensor {
  let shape: Shape | undefined;
  let options: CreateOptions;
  if (shapeOrOptions === undefined || Array.isArray(shapeOrOptions)) {
    shape = shapeOrOptions as Shape | undefined;
    options = checkCreateOptions(maybeOptions, 'tensor');
  } else if (typeof shapeOrOptions === 'object' && shapeOrOptions !== null && maybeOptions === undefined && !ArrayBuffer.isView(shapeOrOptions)) {
    options = checkCreateOptions(shapeOrOptions, 'tensor');
  } else {
    throw new ShapeError(`tensor: the second argument must be a shape (an array of sizes, like [2, 3]) or an options object, received ${ArrayBuffer.isView(shapeOrOptions) ? 'a typed array' : shapeOrOptions === null ? 'null' : typeof shapeOrOptions}` +
      `${maybeOptions !== undefined && !Array.isArray(shapeOrOptions) ? ' followed by options' : ''}. Fix: tensor(data), tensor(data, { dtype }) or tensor(data, [2, 3], { dtype }).`);
  }
  let storage: Storage;
  let outShape: number[];
  if (ArrayBuffer.isView(data)) {
    const src = data as Storage;
    const dtype = options.dtype !== undefined ? checkDType(options.dtype, 'tensor') : dtypeOf(src);
    if (dtypeOf(src) === dtype) {
      storage = src;
    } else {
      checkInteger(src, dtype);
      storage = alloc(dtype, src.length);
      storage.set(src as ArrayLike<number>);
    }
    outShape = shape !== undefined ? [...shape] : [src.length];
  } else {
    const inferred = inferShape(data as NestedArray);
    const flat: number[] = [];
    flatten(data as NestedArray, inferred, 0, flat);
    const isBoolData = typeof data === 'boolean' || (Array.isArray(data) && flat.length > 0 && firstLeaf(data) === 'boolean');
    const dtype = options.dtype !== undefined ? checkDType(options.dtype, 'tensor') : isBoolData ? 'bool' : 'float32';
    checkInteger(flat, dtype);
    storage = alloc(dtype, flat.length);
    storage.set(flat);
    outShape = shape !== undefined ? [...shape] : inferred;
  }
  assertValidShape(outShape, 'tensor');
  if (numel(outShape) !== storage.length) {
    throw new ShapeError(`tensor: ${storage.length} values cannot have shape ${fmtShape(outShape)} (${numel(outShape)} elements).`);
  }
  return new Tensor(storage, outShape, options.requiresGrad ?? false);
}

function firstLeaf(data: NestedArray): string {
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    if (cur.length === 0) return 'number';
    cur = cur[0];
  }
  return typeof cur;
}

/** A tensor of one value. */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  const d = alloc(dtype, 1);
  d[0] = value;
  return new Tensor(d, []);
}

export function full(shape: Shape, value: number, options: CreateOptions = {}): Tensor {
  assertValidShape(shape, 'full');
  const dtype = checkDType(options.dtype ?? 'float32', 'full');
  if (dtype !== 'float32' && dtype !== 'float64' && !Number.isInteger(value)) {
    throw new DTypeError(`full: value ${value} is not an integer, but dtype is ${dtype}.`);
  }
  const d = alloc(dtype, numel(shape));
  if (value !== 0) d.fill(value);
  return new Tensor(d, shape, options.requiresGrad ?? false);
}

export function zeros(shape: Shape, options: CreateOptions = {}): Tensor {
  return full(shape, 0, options);
}

export function ones(shape: Shape, options: CreateOptions = {}): Tensor {
  return full(shape, 1, options);
}

export function zerosLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, ...options });
}

export function onesLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, ...options });
}

/**
 * Values from start (inclusive) to end (exclusive) by step, as torch.arange.
 * arange(5) gives [0, 1, 2, 3, 4]. Integer arguments give int32 unless dtype says otherwise.
 */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (end === undefined) { end = start; start = 0; }
  if (step === 0 || !Number.isFinite(step)) throw new ValueError(`arange: step must be a non-zero finite number, received ${step}.`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const allInt = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = checkDType(options.dtype ?? (allInt ? 'int32' : 'float32'), 'arange');
  const d = alloc(dtype, n);
  for (let i = 0; i < n; i++) d[i] = start + i * step;
  return new Tensor(d, [n], options.requiresGrad ?? false);
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  const t = zeros([n, m], options);
  for (let i = 0; i < Math.min(n, m); i++) t.data[i * m + i] = 1;
  return t;
}

/** Uniform samples in [0, 1). */
export function rand(shape: Shape, options: RandomOptions = {}): Tensor {
  const t = zeros(shape, { dtype: options.dtype ?? 'float32' });
  const g = options.generator ?? defaultGenerator;
  for (let i = 0; i < t.data.length; i++) t.data[i] = g.uniform();
  t.requiresGrad = options.requiresGrad ?? false;
  return t;
}

/** Standard normal samples. */
export function randn(shape: Shape, options: RandomOptions = {}): Tensor {
  const t = zeros(shape, { dtype: options.dtype ?? 'float32' });
  const g = options.generator ?? defaultGenerator;
  for (let i = 0; i < t.data.length; i++) t.data[i] = g.normal();
  t.requiresGrad = options.requiresGrad ?? false;
  return t;
}

/** Integers uniform in [low, high). */
export function randint(low: number, high: number, shape: Shape, options: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new ValueError(`randint: expected integers low < high, received low=${low}, high=${high}.`);
  }
  const t = zeros(shape, { dtype: 'int32' });
  const g = options.generator ?? defaultGenerator;
  for (let i = 0; i < t.data.length; i++) t.data[i] = low + g.randint(high - low);
  return t;
}
