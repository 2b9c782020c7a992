/**
 * What every benchmark module shares: the row it reports, the options it takes, the
 * workloads (so heed and each peer run the same shapes), and median timing.
 *
 * A module exports `async function run(opts: BenchOptions): Promise<BenchRow[]>`.
 * Workload names are the join key for the heed/peer ratios in bench/index.ts, and match
 * the native kernel benchmarks (bench/gemm.ts, bench/attention.ts):
 *   sgemm NxNxN                             C = A·B, all N×N fp32
 *   attention fwd B1 H12 L<L> d64[ causal]  forward of softmax(q·kᵀ/√d [+ mask])·v
 * FLOP counts match theirs too: 2N³ for GEMM; 4·B·H·L²·d for attention, halved when causal.
 */

export interface BenchRow {
  workload: string;
  impl: string;
  threads: number;
  /** Median wall time of one call, in milliseconds. */
  ms: number;
  gflops?: number;
  gbps?: number;
  note?: string;
  /** The bench module that measured the row (bench/index.ts tags it; --check re-runs by module). */
  module?: string;
}

export interface BenchOptions {
  quick?: boolean;
  /** Workload families to run (gemm, attention, dispatch, ...); all when absent. */
  only?: string[];
  /** Thread counts to measure (default [1, 2]). */
  threads?: number[];
  /** Passes over all modules; bench/index.ts keeps each row's best (default 1). */
  repeat?: number;
  /** Compare this (quick) run's within-run ratios with bench/results/baseline.json (bench/check.ts). */
  check?: boolean;
  /** --check: re-measure the modules of ratios down by more than half their tolerance this many more times (default 2). */
  confirm?: number;
  /** Save this run's passes (3 or more) as bench/results/baseline.json, the reference for --check. */
  writeBaseline?: boolean;
  /** The baseline file --check reads and --write-baseline writes (default bench/results/baseline.json). */
  baseline?: string;
}

export const GEMM_SIZES = { full: [256, 512, 1024, 2048], quick: [256, 512, 1024] };
export const ATTN_LENGTHS = { full: [128, 512, 1024, 2048], quick: [128, 512, 2048] };
export const ATTN_SHAPE = { B: 1, H: 12, d: 64 };

export function gemmWorkload(n: number): string {
  return `sgemm ${n}x${n}x${n}`;
}

export function attnWorkload(L: number, causal: boolean): string {
  return `attention fwd B${ATTN_SHAPE.B} H${ATTN_SHAPE.H} L${L} d${ATTN_SHAPE.d}${causal ? ' causal' : ''}`;
}

export const gemmFlops = (n: number): number => 2 * n * n * n;

/** FLOPs of attention forward: the two matmuls, 4·B·H·L²·d, halved for causal (as bench/attention.ts). */
export function attnFlops(L: number, causal: boolean): number {
  const { B, H, d } = ATTN_SHAPE;
  return (4 * B * H * L * L * d) / (causal ? 2 : 1);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Rep count so that one measurement takes about `budgetMs`, between 3 and 200. */
function repsFor(firstMs: number, budgetMs: number): number {
  return Math.max(3, Math.min(200, Math.round(budgetMs / Math.max(firstMs, 1e-3))));
}

/** Median ms of fn over repeated calls, after a warm-up; the rep count adapts to the cost. */
export async function timeIt(fn: () => unknown | Promise<unknown>, opts: { quick?: boolean; budgetMs?: number } = {}): Promise<number> {
  const t0 = performance.now();
  await fn();
  const first = performance.now() - t0;
  await fn();
  const reps = repsFor(first, opts.budgetMs ?? (opts.quick ? 300 : 1500));
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    await fn();
    times.push(performance.now() - s);
  }
  return median(times);
}

export function randomFloats(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

/** The additive causal mask (L, L): 0 on and below the diagonal, −∞ above. */
export function causalMask(L: number): Float32Array {
  const m = new Float32Array(L * L);
  for (let i = 0; i < L; i++) for (let j = i + 1; j < L; j++) m[i * L + j] = -Infinity;
  return m;
}

export const gflopsOf = (flops: number, ms: number): number => flops / (ms * 1e6);

/** Whether the run asked for this workload family. */
export function wants(opts: BenchOptions, family: string): boolean {
  return opts.only === undefined || opts.only.includes(family);
}
