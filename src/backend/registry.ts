/**
 * The kernel registry.
 *
 * Kernels are looked up by name. The TypeScript reference kernels in ./js define
 * the names and signatures: the registry is derived from that barrel, never kept
 * by hand. A second backend (./native) may override any subset of them; a name it
 * offers that the reference does not have is an error at load.
 *
 * Ops call `k.<name>(...)`. `k` is one object mutated in place by setBackend, so
 * a reference taken at import time stays valid.
 *
 * Backend choice: HEED_BACKEND=js|native forces one. The default is native when
 * the addon loaded, else js with a one-line notice on stderr.
 */
import * as js from './js/index.js';
import { loadNative, type NativeLoad } from './native/load.js';
import { BackendError } from '../errors.js';

type Js = typeof js;
/** The table of every kernel, typed by its reference implementation. */
export type KernelTable = { [K in keyof Js]: Js[K] };
export type KernelName = keyof KernelTable;
export type BackendName = 'js' | 'native';

export interface BackendInfo {
  /** The active backend. */
  backend: BackendName;
  /** Instruction set the native kernels were dispatched to, or 'none' on js. */
  isa: string;
  /** Threads the native pool runs (1 on js). */
  threads: number;
  /** Whether the native addon is loaded at all, and why not when it is not. */
  nativeAvailable: boolean;
  nativeError?: string;
  /** Kernels the active backend overrides. */
  overridden: KernelName[];
}

const reference: KernelTable = Object.freeze({ ...js });

/** The active kernel table. Always complete: missing overrides fall back to the reference. */
export const k: KernelTable = { ...reference };

let native: NativeLoad | undefined;
let active: BackendName = 'js';

function nativeLoad(): NativeLoad {
  if (native === undefined) {
    native = loadNative();
    if (native.ok) {
      for (const name of Object.keys(native.kernels)) {
        if (!(name in reference)) {
          throw new BackendError(`native backend: kernel '${name}' has no TypeScript reference; every kernel must be defined in src/backend/js first.`);
        }
      }
    }
  }
  return native;
}

type AnyFn = (...args: unknown[]) => unknown;

/**
 * Elementwise kernels whose calls are cheaper on the reference below this many elements:
 * crossing into the addon costs more than a short JS loop (bench/dispatch: add of 64 floats
 * 0.71 µs native vs 0.44 µs js). Value: argument index of the output array.
 */
const SMALL_ELEMENTWISE = 256;
const OUTPUT_ARG: Partial<Record<KernelName, number>> = { binarySame: 3, unary: 2, unaryBackward: 4 };

/** permute also moves int32 and uint8 data (ids, masks); the native kernel copies float32 only. */
const FLOAT32_ONLY_ARG: Partial<Record<KernelName, number>> = { permute: 0 };
/** The native layer takes shapes of at most 16 dims; higher ranks run on the reference. Value: the shape argument. */
const SHAPE_ARG: Partial<Record<KernelName, number>> = { permute: 2, binaryBroadcast: 6 };
const NATIVE_MAX_DIMS = 16;

/**
 * Wraps a native kernel: float64 (used by gradcheck) runs on the reference kernel, since
 * native kernels take float32 only; so do other typed arrays where FLOAT32_ONLY_ARG says,
 * shapes of more than 16 dims, and small elementwise calls (see SMALL_ELEMENTWISE).
 */
function withFallbacks(name: KernelName, nativeFn: AnyFn, referenceFn: AnyFn): AnyFn {
  const out = OUTPUT_ARG[name];
  const f32Only = FLOAT32_ONLY_ARG[name];
  const shapeArg = SHAPE_ARG[name];
  return (...args: unknown[]) => {
    if (out !== undefined && (args[out] as Float32Array).length < SMALL_ELEMENTWISE) return referenceFn(...args);
    if (f32Only !== undefined && !(args[f32Only] instanceof Float32Array)) return referenceFn(...args);
    if (shapeArg !== undefined && (args[shapeArg] as readonly number[]).length > NATIVE_MAX_DIMS) return referenceFn(...args);
    for (const a of args) if (a instanceof Float64Array) return referenceFn(...args);
    return nativeFn(...args);
  };
}

/** Switches every op to the given backend's kernels. */
export function setBackend(name: BackendName): void {
  if (name !== 'js' && name !== 'native') {
    throw new BackendError(`setBackend: received '${String(name)}', expected 'js' or 'native'.`);
  }
  Object.assign(k, reference);
  if (name === 'native') {
    const n = nativeLoad();
    if (!n.ok) {
      throw new BackendError(`setBackend('native'): the native addon is not available (${n.error}). Fix: run 'npm run build:native', or use setBackend('js').`);
    }
    for (const [kname, fn] of Object.entries(n.kernels)) {
      (k as Record<string, unknown>)[kname] = withFallbacks(kname as KernelName, fn as AnyFn, (reference as Record<string, unknown>)[kname] as AnyFn);
    }
  }
  active = name;
}

export function getBackend(): BackendName {
  return active;
}

export function backendInfo(): BackendInfo {
  const n = nativeLoad();
  const overridden = active === 'native' && n.ok ? (Object.keys(n.kernels) as KernelName[]) : [];
  return {
    backend: active,
    isa: active === 'native' && n.ok ? n.isa() : 'none',
    threads: active === 'native' && n.ok ? n.threads() : 1,
    nativeAvailable: n.ok,
    ...(n.ok ? {} : { nativeError: n.error }),
    overridden,
  };
}

/** The reference kernels, for tests that compare a backend against them. */
export function referenceKernels(): KernelTable {
  return reference;
}

/** The native kernels alone, or undefined when the addon did not load. */
export function nativeKernels(): Partial<KernelTable> | undefined {
  const n = nativeLoad();
  return n.ok ? n.kernels : undefined;
}

/** Native thread-pool size; a no-op error on js. */
export function setNumThreads(threads: number): void {
  const n = nativeLoad();
  if (!n.ok) throw new BackendError(`setNumThreads: the native addon is not available (${n.error}).`);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new BackendError(`setNumThreads: received ${threads}, expected a positive integer.`);
  }
  n.setThreads(threads);
}

function initialBackend(): void {
  const forced = process.env.HEED_BACKEND;
  if (forced !== undefined && forced !== '') {
    if (forced !== 'js' && forced !== 'native') {
      throw new BackendError(`HEED_BACKEND='${forced}': expected 'js' or 'native'. Fix: unset it, or set it to one of those.`);
    }
    setBackend(forced);
    return;
  }
  const n = nativeLoad();
  if (n.ok) {
    setBackend('native');
  } else {
    if (process.env.HEED_QUIET !== '1') {
      process.stderr.write(`heed: native addon not loaded (${n.error}); using the TypeScript backend.\n`);
    }
    setBackend('js');
  }
}

initialBackend();

/** True when the active backend overrides the named kernel (e.g. a fused native path exists). */
export function isOverridden(name: KernelName): boolean {
  return active === 'native' && native !== undefined && native.ok && name in native.kernels;
}
