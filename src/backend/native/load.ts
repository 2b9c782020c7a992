/**
 * Loads the native addon (build/Release/heed.node, built by node-gyp at install)
 * and maps its functions onto kernel names. Never throws: a missing or broken
 * addon is reported as { ok: false, error } and heed runs on the reference kernels.
 *
 * The addon takes each kernel's arguments flat, in spec order (the fields of the
 * kernel's C++ Args struct, derived ones left out); ../call.ts builds, from the spec,
 * the function that takes the named parameter object and makes that flat call.
 * The C++ sources and their layout are described in native/README.md.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A kernel as the addon exports it: the spec's args, flat, in spec order. */
export type FlatKernel = (...args: unknown[]) => void;

export type NativeLoad =
  | {
      ok: true;
      /** The addon's kernels by name, flat calls (see ../call.ts for the named-object side). */
      kernels: Record<string, FlatKernel>;
      isa: () => string;
      threads: () => number;
      setThreads: (n: number) => void;
      /** Measured fp32 FMA rate in GFLOP/s on `threads` threads (for benchmarks). */
      peakFlops: (threads: number) => number;
      /**
       * The thread pool's profiling counters, for benchmarks: `on` (a boolean) turns them on or off;
       * `out` receives, in order, the fields of POOL_PROFILE_FIELDS (native/threadpool.h PoolProfile)
       * and then the calling thread's CPU time in ns.
       */
      poolProfile: (on: boolean | null, out: Float64Array) => void;
      /** CPU time of the calling (JS main) thread, ns. */
      threadCpuNs: () => number;
    }
  | { ok: false; error: string };

/**
 * The counters native/threadpool.h's PoolProfile keeps (thread CPU time in ns; they only grow), in
 * the order poolProfile writes them, followed by the calling thread's CPU time.
 */
export const POOL_PROFILE_FIELDS = ['jobs', 'tasks', 'taskCpuNs', 'workerTaskCpuNs', 'callerInJobCpuNs', 'makespanNs', 'jobsWorkerJoined', 'threadCpuNs'] as const;

/** The package root: the nearest ancestor of this file that holds package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

export function loadNative(): NativeLoad {
  let path: string;
  try {
    // HEED_NATIVE_PATH points at another build of the addon (the ASan build of scripts/test-asan.sh).
    path = process.env.HEED_NATIVE_PATH || join(packageRoot(), 'build', 'Release', 'heed.node');
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  if (!existsSync(path)) return { ok: false, error: `${path} is missing: the native build did not run or failed` };
  let addon: Record<string, unknown>;
  try {
    addon = createRequire(import.meta.url)(path) as Record<string, unknown>;
  } catch (e) {
    return { ok: false, error: `loading ${path} failed: ${(e as Error).message}` };
  }
  return {
    ok: true,
    kernels: (addon.kernels ?? {}) as Record<string, FlatKernel>,
    isa: () => String((addon.isa as () => string)()),
    threads: () => Number((addon.getNumThreads as () => number)()),
    setThreads: (n: number) => (addon.setNumThreads as (n: number) => void)(n),
    peakFlops: (threads: number) => Number((addon.peakFlops as (t: number) => number)(threads)),
    poolProfile: (on: boolean | null, out: Float64Array) => {
      if (typeof addon.poolProfile !== 'function') throw new Error(`${path} has no poolProfile: rebuild the addon (npm run build:native)`);
      (addon.poolProfile as (on: boolean | null, out: Float64Array) => void)(on, out);
    },
    threadCpuNs: () => {
      if (typeof addon.threadCpuNs !== 'function') throw new Error(`${path} has no threadCpuNs: rebuild the addon (npm run build:native)`);
      return (addon.threadCpuNs as () => number)();
    },
  };
}
