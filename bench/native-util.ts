/**
 * Shared bits of the native-kernel benchmarks (gemm, attention, norms, peak): the
 * row type the harness (bench/index.ts) collects, the native kernel table, and a
 * median-of-runs timer.
 */
import { loadNative } from '../src/backend/native/load.js';
import type { BenchRow } from './peers/common.ts';
import { nativeKernels } from '../src/backend/registry.js';

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
 */
export function timeKernelCalls(kernels: object): KernelTimer {
  const timer: KernelTimer = { on: false, time: new Map() };
  const table = kernels as Record<string, (...a: unknown[]) => unknown>;
  for (const name of Object.keys(table)) {
    const fn = table[name];
    table[name] = (...a: unknown[]) => {
      if (!timer.on) return fn(...a);
      const t0 = performance.now();
      try { return fn(...a); } finally {
        const e = timer.time.get(name) ?? { ms: 0, calls: 0 };
        e.ms += performance.now() - t0;
        e.calls++;
        timer.time.set(name, e);
      }
    };
  }
  return timer;
}
