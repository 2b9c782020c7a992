/**
 * The timing loop of the compression table's children (bench/compress.ts and its onnxruntime
 * children, bench/compress-onnx.ts and bench/compress-onnx-tag.ts), in a module of its own: the
 * children import it, and importing bench/compress.ts from a module that bench/compress.ts itself
 * imports while its top-level await runs would wait on that await forever (Node exits with 13).
 */
import { median } from './peers/common.ts';

/**
 * Untimed calls before a timed loop. A request's JavaScript runs in V8's lower tiers until V8 has
 * seen it often enough to optimize it (on a loaded machine its compiler threads also wait for a
 * core): digits requests took 0.62 ms of CPU at p50 over calls 11–210, 0.21–0.25 ms from call 811
 * on (bench/results/request-warmup-2026-12-05.json, load 16–18), so the old 10-call warm-up timed
 * V8's tiers, not heed. Calls stop early after WARMUP_MS (g2p's slow rows). Serving processes
 * answer thousands of requests; the table is their steady state. onnxruntime's children warm up
 * the same way.
 */
export const WARMUP_CALLS = 500;
export const WARMUP_MS = 4000;

/** CPU time of this process so far (ms): user + system, every thread (onnxruntime's included). */
export const cpuMs = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };

/**
 * p50 of `calls` timed calls of f after the warm-up, on the wall clock and on the process CPU clock
 * (on a loaded machine the wall clock also counts the time a call waited for a core).
 */
export async function p50(f: () => unknown, calls = 200): Promise<{ wall: number; cpu: number }> {
  for (let i = 0, t0 = performance.now(); i < WARMUP_CALLS && performance.now() - t0 < WARMUP_MS; i++) await f();
  const wall: number[] = [], cpu: number[] = [];
  for (let i = 0; i < calls; i++) {
    const c0 = cpuMs(), t0 = performance.now();
    await f();
    wall.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
  }
  return { wall: median(wall), cpu: median(cpu) };
}
