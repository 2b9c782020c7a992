/**
 * Element types. float32 is the working type; float64 exists so gradcheck can
 * run central differences without float32 rounding (reference backend only);
 * int32 holds indices and targets; bool holds masks (1 = true); int8 holds
 * quantized weights.
 */
import { DTypeError } from '../errors.js';

export type DType = 'float32' | 'float64' | 'int32' | 'bool' | 'int8';
export type FloatDType = 'float32' | 'float64';
export type Storage = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array;
export type FloatStorage = Float32Array | Float64Array;

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool', 'int8'];

export function alloc(dtype: DType, n: number): Storage {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int32': return new Int32Array(n);
    case 'bool': return new Uint8Array(n);
    case 'int8': return new Int8Array(n);
    default: throw new DTypeError(`alloc: received dtype '${String(dtype)}', expected one of ${DTYPES.join(', ')}.`);
  }
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
