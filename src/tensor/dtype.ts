/**
 * Element types. float32 is the working type; float64 exists so gradcheck can
 * run central differences without float32 rounding (reference backend only);
 * int32 holds indices and targets; bool holds masks (1 = true); int8 holds
 * quantized weights.
 */
import { DTypeError } from '../errors.js';
import { chargeAllocation } from './alloc-limit.js';
import { noteAllocation, takeFromPool } from './storage-pool.js';

export type DType = 'float32' | 'float64' | 'int32' | 'bool' | 'int8';
export type FloatDType = 'float32' | 'float64';
export type Storage = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array;
export type FloatStorage = Float32Array | Float64Array;

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool', 'int8'];

/** Zero-filled storage of n elements (a reused pool buffer is zeroed too; see storage-pool.ts). */
export function alloc(dtype: DType, n: number): Storage {
  chargeAllocation(n);
  const pooled = takeFromPool(dtype, n);
  if (pooled !== null) return pooled.fill(0);
  const s = newStorage(dtype, n);
  noteAllocation(s);
  return s;
}

function newStorage(dtype: DType, n: number): Storage {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int32': return new Int32Array(n);
    case 'bool': return new Uint8Array(n);
    case 'int8': return new Int8Array(n);
    default: throw new DTypeError(`alloc: received dtype '${String(dtype)}', expected one of ${DTYPES.join(', ')}.`);
  }
}

/** Below this many bytes, allocUninit zero-fills anyway (the fill is cheaper than a separate allocation). */
const UNINIT_MIN_BYTES = 16384;
type NodeBuffer = { allocUnsafeSlow(n: number): { buffer: ArrayBuffer; byteOffset: number } };
const nodeBuffer = (globalThis as { Buffer?: NodeBuffer }).Buffer;

/**
 * Storage whose contents are undefined (not zero-filled), for outputs a kernel overwrites
 * completely: large float buffers skip V8's zero-fill. Each has its own ArrayBuffer at
 * offset 0, like alloc's. Other dtypes, small sizes and non-Node hosts get alloc's zeros.
 */
export function allocUninit(dtype: DType, n: number): Storage {
  if (dtype !== 'float32' && dtype !== 'float64') return alloc(dtype, n);
  chargeAllocation(n);
  const pooled = takeFromPool(dtype, n);
  if (pooled !== null) return pooled; // contents undefined, as promised: no fill at any size
  const bytes = dtype === 'float32' ? 4 : 8;
  if (nodeBuffer === undefined || n * bytes < UNINIT_MIN_BYTES) {
    const s = newStorage(dtype, n);
    noteAllocation(s);
    return s;
  }
  const b = nodeBuffer.allocUnsafeSlow(n * bytes);
  const s = dtype === 'float32' ? new Float32Array(b.buffer, b.byteOffset, n) : new Float64Array(b.buffer, b.byteOffset, n);
  noteAllocation(s);
  return s;
}

export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype === 'float32' || dtype === 'float64';
}

/** The dtype of a typed array. */
export function dtypeOf(data: Storage): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array) return 'bool';
  if (data instanceof Int8Array) return 'int8';
  throw new DTypeError(`dtypeOf: unsupported storage ${Object.prototype.toString.call(data)}.`);
}

/** Result dtype of an arithmetic op on two float tensors: float64 wins. */
export function promoteFloat(a: DType, b: DType): FloatDType {
  return a === 'float64' || b === 'float64' ? 'float64' : 'float32';
}
