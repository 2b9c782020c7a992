/**
 * The kernel registry.
 *
 * Every kernel is declared once, by its spec (./specs, format in ./spec.ts): its name and
 * each argument's role, dtype and length rule. From the specs come the kernel table's
 * types (./table.ts: `KernelTable`, `Params<N>`), the native structs and checks (native/README.md),
 * and here the native calls and their fallbacks to the reference (./call.ts). The
 * TypeScript references in ./js implement every spec; the native backend (./native)
 * overrides any subset. Checked at load: spec names are unique, every spec has a
 * reference and every reference a spec, and a native kernel without a reference is an error.
 *
 * Ops call `k.<name>({ ...named args })`. `k` is one object mutated in place by
 * setBackend, so a reference taken at import time stays valid.
 *
 * Backend choice: HEED_BACKEND=js|native forces one. The default is native when
 * the addon loaded, else js with a one-line notice on stderr.
 */
import * as js from './js/index.js';
import * as specModule from './specs/index.js';
import type { KernelName, KernelTable } from './table.js';
import type { KernelSpec } from './spec.js';
import { nativeCall, type ObjectKernel } from './call.js';
import { loadNative, type FlatKernel, type NativeLoad } from './native/load.js';
import { BackendError } from '../errors.js';

export type { KernelName, KernelTable, Params } from './table.js';
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

/**
 * The specs by kernel name, checked: each spec is exported under its own name (so names
 * are unique), every spec has a reference, and every reference has a spec.
 */
export function indexSpecs(specExports: Record<string, KernelSpec>, references: Record<string, unknown>): Map<string, KernelSpec> {
  const byName = new Map<string, KernelSpec>();
  for (const [exported, spec] of Object.entries(specExports)) {
    if (spec.name !== exported) throw new BackendError(`kernel spec exported as '${exported}' is named '${spec.name}'; export each spec under its own name, and give every kernel a unique name.`);
    byName.set(spec.name, spec);
  }
  for (const name of byName.keys()) {
    if (typeof references[name] !== 'function') throw new BackendError(`kernel '${name}' has a spec but no reference; write it in src/backend/js and export it from src/backend/js/index.ts.`);
  }
  for (const name of Object.keys(references)) {
    if (!byName.has(name)) throw new BackendError(`src/backend/js exports '${name}', which has no kernel spec; declare it in src/backend/specs.`);
  }
  return byName;
}

/**
 * The addon's flat kernels as kernels taking their parameter object: `plain` calls native
 * always (tests compare it with the reference), `guarded` first takes the spec's fallbacks
 * to the reference. A native kernel without a spec, hence without a reference, is an error.
 */
export function bindNative(
  raw: Record<string, FlatKernel>, index: ReadonlyMap<string, KernelSpec>, references: Record<string, unknown>,
): { plain: Record<string, ObjectKernel>; guarded: Record<string, ObjectKernel> } {
  const plain: Record<string, ObjectKernel> = {}, guarded: Record<string, ObjectKernel> = {};
  for (const [name, fn] of Object.entries(raw)) {
    const spec = index.get(name);
    if (spec === undefined) {
      throw new BackendError(`native backend: kernel '${name}' has no spec and no TypeScript reference; every kernel must be declared in src/backend/specs and written in src/backend/js first.`);
    }
    plain[name] = nativeCall(spec, fn);
    guarded[name] = nativeCall(spec, fn, references[name] as ObjectKernel);
  }
  return { plain, guarded };
}

const specs: ReadonlyMap<string, KernelSpec> = indexSpecs(specModule as Record<string, KernelSpec>, js);

// A compile-time check that every reference matches its spec's parameter object.
const reference: KernelTable = Object.freeze({ ...js } satisfies KernelTable);

/** The active kernel table. Always complete: missing overrides fall back to the reference. */
export const k: KernelTable = { ...reference };

let native: NativeLoad | undefined;
let active: BackendName = 'js';
/** Native kernels taking their parameter object: without fallbacks (for tests), and with them. */
let nativePlain: Partial<KernelTable> = {};
let nativeWithFallbacks: Partial<KernelTable> = {};

function nativeLoad(): NativeLoad {
  if (native === undefined) {
    native = loadNative();
    if (native.ok) {
      const bound = bindNative(native.kernels, specs, reference);
      nativePlain = bound.plain as Partial<KernelTable>;
      nativeWithFallbacks = bound.guarded as Partial<KernelTable>;
    }
  }
  return native;
}

/*
 * Deferred kernel calls. While deferring, every entry of `k` is a stub that queues the entry it
 * replaced (a native kernel, or whatever a benchmark wrapped around it) with its parameter object;
 * flushKernels() puts the entries back and runs the queue in call order. The autograd engine defers
 * while the backward closures of ops that read no tensor values in JavaScript run (GradFn.deferrable:
 * their JS only allocates outputs and calls kernels), so that JS runs back to back with its code and
 * objects in cache, and the kernels then run back to back: a kernel that streams megabytes evicts
 * the JS that would otherwise run between it and the next one (BENCHMARKS.md, "eighth session, js").
 * A kernel reads and writes only the arrays of its parameter object, so running it later, in the
 * same order, computes the same values as long as nothing reads or writes those arrays in between;
 * the engine flushes before any other closure runs and before it returns.
 */
const queuedFns: (ObjectKernel | undefined)[] = [];
const queuedParams: (Record<string, unknown> | undefined)[] = [];
/**
 * The calls queued (entries [0, queued) of the two arrays). The arrays keep their capacity from flush
 * to flush, their entries cleared after running (emptied by `length = 0`, they were regrown, ~1 KB
 * of garbage, every training step).
 */
let queued = 0;
/** Whether the table holds the queueing stubs; `saved` then holds the entries they replaced (the stubs queue these). */
let deferring = false;
let saved: Record<string, ObjectKernel> = {};
/**
 * The two swaps of the table's entries, generated as source over the kernel names (each property
 * access then has a fixed name, not one looked up by a string per entry: ~15 µs a swap otherwise).
 */
let swapIn: ((table: Record<string, ObjectKernel>, saved: Record<string, ObjectKernel>, stubs: Record<string, ObjectKernel>) => void) | null = null;
let swapOut: ((table: Record<string, ObjectKernel>, saved: Record<string, ObjectKernel>) => void) | null = null;
let stubs: Record<string, ObjectKernel> | null = null;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Turns deferral on (kernel calls through `k` are queued) or off (they run; the queue stays until
 * flushKernels). Only the native backend defers; on js, kernels always run at once. Returns whether
 * it was on.
 */
export function deferKernels(on: boolean): boolean {
  const was = deferring;
  if (on === was || (on && active !== 'native')) return was;
  const table = k as unknown as Record<string, ObjectKernel>;
  if (swapIn === null || swapOut === null || stubs === null) {
    const names = Object.keys(table);
    for (const name of names) if (!IDENTIFIER.test(name)) throw new BackendError(`deferKernels: the kernel table holds '${name}', expected an identifier (a kernel spec's name). Fix: name the kernel as its spec in src/backend/specs.`);
    const made: Record<string, ObjectKernel> = {};
    for (const name of names) {
      made[name] = (p) => {
        if (queued < queuedFns.length) {
          queuedFns[queued] = saved[name];
          queuedParams[queued] = p;
        } else {
          queuedFns.push(saved[name]);
          queuedParams.push(p);
        }
        queued++;
      };
    }
    stubs = made;
    // `saved` gets every name at once, in the table's order (one object shape from the start).
    saved = { ...table };
    // Source built from the kernel table's own names, each checked to be an identifier (above).
    swapIn = new Function('t', 's', 'q', names.map((n) => `s.${n} = t.${n}; t.${n} = q.${n};`).join('\n')) as typeof swapIn;
    swapOut = new Function('t', 's', names.map((n) => `t.${n} = s.${n};`).join('\n')) as typeof swapOut;
  }
  if (on) swapIn!(table, saved, stubs!);
  else swapOut!(table, saved);
  deferring = on;
  return was;
}

/** Turns deferral off and runs every queued kernel call, in order. */
export function flushKernels(): void {
  deferKernels(false);
  if (queued === 0) return;
  const n = queued;
  try {
    for (let i = 0; i < n; i++) queuedFns[i]!(queuedParams[i]!);
  } finally {
    // no parameter object (nor the arrays it names) is kept past its call
    for (let i = 0; i < n; i++) {
      queuedFns[i] = undefined;
      queuedParams[i] = undefined;
    }
    queued = 0;
  }
}

/** Switches every op to the given backend's kernels. */
export function setBackend(name: BackendName): void {
  if (name !== 'js' && name !== 'native') {
    throw new BackendError(`setBackend: received '${String(name)}', expected 'js' or 'native'.`);
  }
  flushKernels(); // queued calls run on the backend they were made on
  Object.assign(k, reference);
  if (name === 'native') {
    const n = nativeLoad();
    if (!n.ok) {
      throw new BackendError(`setBackend('native'): the native addon is not available (${n.error}). Fix: run 'npm run build:native', or use setBackend('js').`);
    }
    Object.assign(k, nativeWithFallbacks);
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

/** The native kernels alone (no fallbacks), or undefined when the addon did not load. */
export function nativeKernels(): Partial<KernelTable> | undefined {
  const n = nativeLoad();
  return n.ok ? nativePlain : undefined;
}

/** Every kernel spec, by name. */
export function kernelSpecs(): ReadonlyMap<string, KernelSpec> {
  return specs;
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
