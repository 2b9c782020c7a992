/**
 * The machine's fp32 FMA peak, measured by the native `peakFlops(threads)` probe
 * (independent FMA chains on the widest vector registers). Other benchmarks
 * report their GFLOP/s as a fraction of this.
 */
import { nativeLoad, threadCounts, skipped, type BenchRow } from './native-util.js';

export type { BenchRow };

export async function run(_opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  if (!nativeLoad) return skipped('fp32 FMA peak');
  const rows: BenchRow[] = [];
  for (const threads of threadCounts()) {
    const gflops = Math.max(nativeLoad.peakFlops(threads), nativeLoad.peakFlops(threads));
    rows.push({ workload: 'fp32 FMA peak', impl: `heed-native (${nativeLoad.isa()})`, threads, ms: 0, gflops });
  }
  return rows;
}

/** Peak GFLOP/s per thread count, measured once per process. */
let cache: Map<number, number> | undefined;
export function peakGflops(threads: number): number {
  if (!nativeLoad) return NaN;
  cache ??= new Map();
  if (!cache.has(threads)) cache.set(threads, nativeLoad.peakFlops(threads));
  return cache.get(threads)!;
}
