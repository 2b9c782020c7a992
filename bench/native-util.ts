/**
 * Shared bits of the native-kernel benchmarks (gemm, attention, norms, peak): the
 * row type the harness (bench/index.ts) collects, the native kernel table, and a
 * median-of-runs timer.
 */
import { createRequire } from 'node:module';
import { loadNative, type FlatKernel } from '../src/backend/native/load.js';
import type { BenchRow } from './peers/common.ts';
import { nativeKernels, bindNative, kernelSpecs, referenceKernels } from '../src/backend/registry.js';

export type { BenchRow } from './peers/common.js';

const loaded = loadNative();
export const nativeLoad = loaded.ok ? loaded : undefined;
/**
 * The native kernels taking their named parameter object, with no fallback to the reference
 * (the addon's own table is flat, spec-ordered calls since the kernel specs; see src/backend/call.ts).
 */
export const nk = loaded.ok ? nativeKernels() : undefined;

/** Thread counts to measure: 1 and the pool's full size (at most 2 here). */
export function threadCounts(): number[] {
  if (!nativeLoad) return [];
  const max = nativeLoad.threads();
  return max > 1 ? [1, max] : [1];
}

export function withThreads<T>(threads: number, fn: () => T): T {
  const before = nativeLoad!.threads();
  nativeLoad!.setThreads(threads);
  try {
    return fn();
  } finally {
    nativeLoad!.setThreads(before);
  }
}

/** Median wall time in ms of fn over enough runs to fill ~budgetMs (after one warm-up). */
export function timeMs(fn: () => void, budgetMs = 300, maxRuns = 50): number {
  fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < budgetMs && times.length < maxRuns)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export function filled(n: number, seed = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

export const skipped = (workload: string): BenchRow[] => [
  { workload, impl: 'heed-native', threads: 0, ms: NaN, note: 'native addon not built' },
];

/** Per-kernel time and call count, accumulated while `on` is set (see `timeKernelCalls`). */
export interface KernelTimer { on: boolean; time: Map<string, { ms: number; calls: number }> }

/**
 * Wraps every function of a backend's kernel table (`k` from src/backend/registry.ts) with a timer,
 * so a profile can split a step's time by kernel; the rest of the step is "outside kernels".
 * `now` is the clock in ms: wall time by default, or `cpuNowMs` (the process's CPU time, which a
 * preempted thread does not accumulate) on a loaded machine.
 */
export function timeKernelCalls(kernels: object, now: () => number = () => performance.now()): KernelTimer {
  const timer: KernelTimer = { on: false, time: new Map() };
  const table = kernels as Record<string, (...a: unknown[]) => unknown>;
  for (const name of Object.keys(table)) {
    const fn = table[name];
    table[name] = (...a: unknown[]) => {
      if (!timer.on) return fn(...a);
      const t0 = now();
      try { return fn(...a); } finally {
        const e = timer.time.get(name) ?? { ms: 0, calls: 0 };
        e.ms += now() - t0;
        e.calls++;
        timer.time.set(name, e);
      }
    };
  }
  return timer;
}

/** The process's CPU time (user + system, all threads) in ms: a clock for timeKernelCalls that ignores preemption. */
export function cpuNowMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Plain kernel calls by name (the bound native table of one addon build). */
export type KernelArm = Record<string, (p: Record<string, unknown>) => void>;

/**
 * One addon build's kernels on one thread, bound to this tree's specs: path null for this tree's
 * build, else another heed.node file (an A/B arm in one process: bench/norm-dropout-ab.ts,
 * bench/fold-backward-ab.ts).
 */
export function loadKernelArm(path: string | null): KernelArm {
  if (path === null) {
    const n = loadNative();
    if (!n.ok) throw new Error(n.error);
    n.setThreads(1);
    return bindNative(n.kernels, kernelSpecs(), referenceKernels() as Record<string, unknown>).plain as KernelArm;
  }
  const addon = createRequire(import.meta.url)(path) as { kernels: Record<string, FlatKernel>; setNumThreads: (n: number) => void };
  addon.setNumThreads(1);
  return bindNative(addon.kernels, kernelSpecs(), referenceKernels() as Record<string, unknown>).plain as KernelArm;
}
