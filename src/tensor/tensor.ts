/**
 * Tensor: a shape, a dtype and contiguous row-major storage in a typed array.
 *
 * Tensors are immutable in shape and never strided: a transpose is an op that
 * copies, and GEMM kernels take transpose flags instead.
 *
 * This file is the bottom of the tensor stack and imports nothing above it. The
 * methods that need a layer above (t.add(u), t.reshape(s), t.backward(), ...) are
 * installed by src/ops/methods.ts, which every module that calls them imports
 * (directly or through src/ops/index.ts); test/core/methods.test.ts checks that.
 *
 * Autograd: a tensor produced by a differentiable op from inputs that require
 * grad carries `gradFn`, the node that maps its gradient to its inputs'. See
 * src/autograd/node.ts (recording) and src/autograd/engine.ts (backward).
 */
import { type DType, type Storage, DTYPES, alloc, dtypeOf, isFloat } from './dtype.js';
import { type Shape, numel, assertValidShape } from './shape.js';
import { DTypeError, ShapeError, ValueError, AutogradError, fmtShape } from '../errors.js';

export type NestedArray = number | boolean | NestedArray[];

/**
 * The autograd node of a tensor made by a differentiable op (src/autograd/node.ts records it).
 * Declared here, beside the field that holds it, so the tensor layer needs nothing from autograd.
 */
export interface GradFn {
  /** The op's name, for error messages and graph dumps. */
  readonly name: string;
  readonly inputs: readonly Tensor[];
  /** Given d(loss)/d(output), returns d(loss)/d(input) for each input (null = no gradient). */
  backward(grad: Tensor): (Tensor | null)[];
  /**
   * True when `backward` never reads tensor values in JavaScript (it only allocates and calls
   * kernels, directly or through ops that do the same): the engine may then queue its kernels and
   * run them later, in order (src/backend/registry.ts deferKernels). Absent or false: the engine runs
   * every queued kernel before calling it.
   */
  readonly deferrable?: boolean;
}

export class Tensor {
  readonly data: Storage;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Whether gradients flow to this tensor. Settable on leaves only. */
  private _requiresGrad = false;
  /** Accumulated gradient of a leaf (or of a non-leaf after retainGrad()). */
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor; null for leaves. */
  gradFn: GradFn | null = null;
  /** Set by retainGrad() on a non-leaf so backward stores its gradient. */
  retainsGrad = false;
  /** Optional name, used in error messages and by nn.Parameter. */
  name?: string;
  /**
   * Internal to src/autograd/engine.ts: the backward pass that last visited this tensor, and its
   * index in that pass's topological order (a Set and a Map keyed by tensor cost more per node).
   */
  _bwPass = 0;
  _bwSlot = -1;

  constructor(data: Storage, shape: Shape, requiresGrad = false) {
    // One pass validates the sizes and counts the elements (every op output comes through here).
    let n = 1;
    for (let i = 0; i < shape.length; i++) {
      const s = shape[i];
      if (!Number.isInteger(s) || s < 0) assertValidShape(shape, 'Tensor'); // throws, naming the size
      n *= s;
    }
    if (data.length !== n) {
      throw new ShapeError(`Tensor: storage has ${data.length} elements but shape ${fmtShape(shape)} needs ${n}.`);
    }
    this.data = data;
    // A frozen shape (another tensor's: the common same-shape op) is shared instead of copied.
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze(Array.isArray(shape) ? shape.slice() : Array.from(shape));
    this.dtype = dtypeOf(data);
    if (requiresGrad) this.requiresGrad = true;
  }

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  set requiresGrad(value: boolean) {
    if (value && !isFloat(this.dtype)) {
      throw new DTypeError(`requiresGrad: only float tensors can require gradients; this tensor is ${this.dtype}.`);
    }
    if (!value && this.gradFn !== null) {
      throw new AutogradError('requiresGrad: cannot turn off gradients of a non-leaf tensor. Fix: use detach().');
    }
    this._requiresGrad = value;
  }

  /** Internal: marks an op output as part of the graph. */
  _setGradFn(fn: GradFn): void {
    this.gradFn = fn;
    this._requiresGrad = true;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  numel(): number {
    return this.data.length;
  }

  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1) {
      throw new ShapeError(`item: the tensor has shape ${fmtShape(this.shape)} (${this.data.length} elements), expected exactly one element. Fix: reduce it first, e.g. t.sum().item().`);
    }
    return this.data[0];
  }

  /** A copy of the values as float32. */
  toFloat32Array(): Float32Array {
    return Float32Array.from(this.data as ArrayLike<number>);
  }

  /** Nested JavaScript arrays (booleans for bool tensors). */
  toArray(): NestedArray {
    const d = this.data;
    const asValue = (i: number): number | boolean => (this.dtype === 'bool' ? d[i] !== 0 : d[i]);
    if (this.shape.length === 0) return asValue(0);
    const build = (dim: number, offset: number): NestedArray[] => {
      const n = this.shape[dim];
      const out: NestedArray[] = [];
      if (dim === this.shape.length - 1) {
        for (let i = 0; i < n; i++) out.push(asValue(offset + i));
        return out;
      }
      const stride = numel(this.shape.slice(dim + 1));
      for (let i = 0; i < n; i++) out.push(build(dim + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /** A tensor sharing this storage, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** Keeps the gradient of this non-leaf tensor after backward. */
  retainGrad(): this {
    if (!this._requiresGrad) {
      throw new AutogradError('retainGrad: this tensor does not require grad, so it will never receive one.');
    }
    this.retainsGrad = true;
    return this;
  }

  /** Clears the accumulated gradient. */
  zeroGrad(): void {
    this.grad = null;
  }

  /** A deep copy (storage copied), cut from the graph. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  toString(): string {
    return `Tensor(shape=${fmtShape(this.shape)}, dtype=${this.dtype}${this._requiresGrad ? ', requiresGrad' : ''})`;
  }
}

/** Allocates a zero-filled tensor. */
export function empty(shape: Shape, dtype: DType = 'float32'): Tensor {
  assertValidShape(shape, 'empty');
  return new Tensor(alloc(dtype, numel(shape)), shape);
}

export function checkDType(dtype: string, op: string): DType {
  if (!(DTYPES as readonly string[]).includes(dtype)) {
    const hint = dtype === 'float' ? " Fix: use 'float32'." : dtype === 'int' || dtype === 'long' || dtype === 'int64' ? " Fix: use 'int32' (heed's index type)." : dtype === 'float16' || dtype === 'bfloat16' ? ' Fix: load half-precision weights through src/io (they convert to float32).' : '';
    throw new DTypeError(`${op}: received dtype '${dtype}', expected one of ${DTYPES.join(', ')}.${hint}`);
  }
  return dtype as DType;
}

export function assertFinite(x: number, op: string, arg: string): void {
  if (!Number.isFinite(x)) throw new ValueError(`${op}: ${arg} must be a finite number, received ${x}.`);
}
