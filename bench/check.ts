/**
 * The regression guard behind `npm run bench -- --check`.
 *
 * Absolute times on a shared 2-core machine swing by 2× from minute to minute, so the guard
 * never compares milliseconds across runs. It compares *ratios taken inside one pass*:
 *
 *   - for a heed row with a FLOP count: its fraction of the FMA peak measured in the same pass;
 *   - for a heed row beside a peer row (same workload, same thread count): peer ms / heed ms.
 *
 * The baseline (`bench/results/baseline.json`, format BASELINE_FORMAT) is written from several
 * quick passes (`npm run bench -- --quick --repeat 3 --write-baseline`). For each ratio it stores
 * every pass's value, their median and their spread (the median relative distance of a pass
 * from the median: with 3 passes, the smaller of the two non-zero ones). A check:
 *
 *   1. runs one quick pass, and takes each ratio's value in it;
 *   2. re-measures, `confirm` more times (default 2), the modules of every ratio that fell by more
 *      than half its tolerance (a "suspect"), so each suspect has the median of 1 + confirm passes;
 *   3. judges each ratio by the change of its median against the baseline's median, with a
 *      per-row tolerance max(15%, k × spread) (k = 3). A row whose tolerance would exceed
 *      `maxTolerance` (30%) cannot resolve a 15% regression: it is listed as "too noisy to guard",
 *      neither passed nor failed;
 *   4. asks the heed row's other references before it calls a fall against a peer a regression.
 *      A heed row usually has several ratios (to the peak, to each peer), and heed getting slower
 *      lowers all of them by the same factor; a peer that ran faster than in the baseline lowers
 *      only its own. So a peer ratio beyond its tolerance is set apart ("fell against one reference
 *      only"), not failed, when the same row's ratio to the peak held (fell by no more than half
 *      its tolerance), or, for a row without one, when two or more other peer ratios held (see
 *      corroborate). No peer sets apart a fall against the peak (step 5 asks the memory probe). Each
 *      reference is a ratio within a pass. The eighth session's check on unchanged code failed on
 *      two such rows (ORT's bimodal conv, −73%; PyTorch's composed attention at L 128, −80%);
 *   5. tells a slower host from a slower heed for the ratios to the peak. This VM's memory runs in a
 *      fast and a slow mode minutes apart while the FMA probe reads the same, so a row's ratio to the
 *      peak moves with the host (the tenth session's quiet check on unchanged code failed on attention
 *      B32 H12 L32, 51% → 42% of peak; its baseline's three passes read 51, 54 and 38%). Every pass
 *      measures a heed-free streaming copy beside each module (bench/check-host.ts), and every heed
 *      row with a FLOP count gets a second ratio, to that memory probe. A ratio to the peak is judged
 *      on the check passes whose memory probe over FMA probe reads like the baseline's (within half
 *      the row's tolerance; all passes when none or all do: sameHostMode), a choice that never reads
 *      the row's time. A row that fell against the peak with no pass in the baseline's host mode is
 *      re-measured in a later minute, up to hostRetries (2) more passes. A ratio to the memory probe
 *      is judged like a peer's (its fall counts unless the row held against the peak). With
 *      hostWitness, a fall against the peak is also set apart ("fell against the peak with the host")
 *      when the same row held against the memory probe; off by default, because a heed slower while
 *      the host's memory is slower holds against the probe too (bench/check-sim.ts).
 *
 * Every judged ratio carries a `reason`, and the printed report says why each re-measured ratio
 * passed or failed.
 *
 * Why the median of per-pass ratios, on both sides, and not the best pass:
 *   - A ratio has noise on both sides of the fraction: a busy moment while the peer runs makes heed
 *     look better, one while heed runs makes it look worse. Noise is one-sided for a time, but not
 *     for a ratio, so "the best ratio" is the luckiest pass, and "best heed time / best peer time"
 *     is the luckiest pair. Both are extreme values: their centre moves with the number of passes
 *     taken (the best of 3 is systematically above the best of 1), so a 3-pass baseline and a
 *     1-pass check would not be like with like, and their spread is larger than the median's. The
 *     sixth session's single-pass baseline flagged 33 of 236 unchanged ratios by 15–77% against
 *     best-of-3 confirmations for exactly this reason (BENCHMARKS.md, "The `--check` baseline,
 *     renewed").
 *   - The median of per-pass ratios has the same centre whether it is taken over 1, 3 or 5 passes
 *     (for noise that is symmetric in the ratio); fewer passes only widen it. So a check with
 *     fewer passes than the baseline still compares like with like, and the widening is what the
 *     per-row tolerance, measured from the baseline's own passes, covers. A single bad pass out of
 *     three moves the median not at all.
 *   - The spread is a median too (of the distances from the median) for the same reason: with the
 *     largest distance, one busy pass out of three made a steady row "too noisy", and a third to a
 *     half of the rows went unguarded in the simulation with busy moments (bench/check-sim.ts).
 *     k = 3 puts the tolerance near 2σ of Gaussian noise; in that simulation, with 5% noise per time
 *     and one time in ten 1.3–2× slower, unchanged code flags 4% of the ratios (the sixth session's
 *     guard: 7%, and 13% of the workloads against 4%) and a 20% fall is caught on 83% of the
 *     workloads (80%). `--confirm 4` halves those false alarms again, at about twice the check's
 *     confirmation time.
 *   - The tolerance uses the baseline's spread only: a check's suspects are, by selection, the
 *     rows whose first pass was low, so their own spread is biased upward and would let a real
 *     regression widen its own tolerance.
 *
 * A ratio of the baseline that the check did not measure (its module failed, or a workload was
 * renamed) is an error, not a pass: the check cannot vouch for it. With `--only`, ratios of modules
 * that did not run are out of scope, not missing.
 */
import { ValueError } from '../src/errors.ts';
import type { BenchRow } from './peers/common.ts';
import { HOST_PROBE } from './check-host.ts';

export { HOST_PROBE };

/** The command that writes a baseline in the current format. */
export const WRITE_BASELINE = 'npm run bench -- --quick --repeat 3 --write-baseline';
/** The `format` field of a baseline.json this code reads and writes. */
export const BASELINE_FORMAT = 'heed-bench-baseline/2';
/** Fewest passes a baseline needs for a median and a spread. */
export const MIN_BASELINE_PASSES = 3;

/** A baseline file that cannot be used: not JSON, an older format, a field missing or out of range. */
export class BaselineError extends ValueError {
  override readonly code: string = 'HEED_BENCH_BASELINE';
}

/** A check that cannot vouch for every baseline ratio: some were not measured. */
export class MissingRowsError extends ValueError {
  override readonly code: string = 'HEED_BENCH_MISSING';
  constructor(message: string, readonly keys: string[]) {
    super(message);
  }
}

/**
 * One pass over the modules: its measured peak per thread count, its rows and, per module, the host
 * memory probe (bench/check-host.ts, GB/s) measured beside that module (before and after it).
 */
export interface RunRecord { peak: Record<string, number>; rows: BenchRow[]; host?: Record<string, number> }

/** One ratio of one heed row in one pass: what it is relative to, its value, the modules that measured it. */
export interface Ratio { workload: string; threads: number; against: string; value: number; modules: string[] }

/** A ratio over several passes. `spread` = the median over passes of |value / median − 1|. */
export interface RatioStats { workload: string; threads: number; against: string; modules: string[]; values: number[]; median: number; spread: number }

/** What `--write-baseline` stores (format BASELINE_FORMAT). */
export interface Baseline {
  format: typeof BASELINE_FORMAT;
  passes: number;
  /** Ratio key `workload|threads|against` → its statistics over the passes. */
  ratios: Record<string, RatioStats>;
  started?: string;
  options?: unknown;
  machine?: unknown;
  /** The best-of-passes peak and rows, for people reading the file; the check does not use them. */
  peak?: Record<string, number>;
  rows?: BenchRow[];
}

export interface CheckOptions {
  /** Ask the heed row's other references before calling a fall a regression (step 4 above; default true). */
  corroborate?: boolean;
  /**
   * Also set apart a fall against the peak when the row held against the host memory probe (default
   * false: on simulated runs it halves the false alarms again but misses up to 6% more of a heed 25%
   * slower, when heed and the host's memory are slower at once; bench/check-sim.ts).
   */
  hostWitness?: boolean;
  /** More passes of the suspects whose ratio to the peak fell with no pass in the baseline's host mode, a later minute each (default 2). */
  hostRetries?: number;
  /** Smallest fall that is a regression (0.15). */
  tolerance?: number;
  /** A row's tolerance is max(tolerance, k × its baseline spread) (k = 3). */
  k?: number;
  /** A row whose tolerance would exceed this (0.30) is too noisy to guard. */
  maxTolerance?: number;
  /** The modules the check ran (`--only`): baseline ratios measured by other modules are out of scope. */
  ran?: Set<string>;
}

/** One baseline ratio judged against the check's passes. */
export interface Judged {
  key: string; workload: string; threads: number; against: string; modules: string[];
  baseline: number; spread: number; now: number; passesNow: number; tolerance: number; change: number;
  /** A peak ratio's passes against the baseline's host mode (sameHostMode): how many were in it, of how many with a memory probe. */
  hostMode?: { like: number; of: number };
  /** Why the ratio passed, failed, was set apart or was not judged, in words. */
  reason: string;
}

export interface CheckReport {
  compared: number;
  /** Fell by more than their tolerance, worst first. */
  regressions: Judged[];
  /** Guarded and within tolerance. */
  passed: Judged[];
  /** Tolerance above maxTolerance: a 15% fall cannot be told from the row's noise. */
  tooNoisy: Judged[];
  /** Fell beyond their tolerance, but the same heed row held against its other references: the reference moved. Not failed. */
  oneReference: Judged[];
  /** Fell against the peak beyond their tolerance, but held against the host memory probe measured beside them: the host's memory was slower. Not failed. */
  slowerHost: Judged[];
  /** The baseline has host memory probe ratios (written since bench/check-host.ts). */
  hostInBaseline: boolean;
  /** In the baseline, in scope, but not measured by the check. */
  missing: string[];
  /** Measured now, not in the baseline. */
  onlyNow: string[];
  tolerance: number; k: number; maxTolerance: number;
}

const isHeed = (r: BenchRow) => r.impl.startsWith('heed') && !r.impl.includes('js backend') && !r.impl.includes('composed');
const keyOf = (r: { workload: string; threads: number; against: string }) => `${r.workload}|${r.threads}|${r.against}`;

/** Every within-pass ratio of a pass's heed rows, keyed by `workload|threads|against`. */
export function ratios(run: RunRecord): Map<string, Ratio> {
  const out = new Map<string, Ratio>();
  const finite = run.rows.filter((r) => Number.isFinite(r.ms) && r.ms > 0);
  for (const h of finite.filter(isHeed)) {
    if (h.workload.includes('peak')) continue;
    // every module with a heed row for this workload and thread count: re-measuring the ratio re-runs them all
    const heedModules = [...new Set(finite.filter((r) => isHeed(r) && r.workload === h.workload && r.threads === h.threads && r.module !== undefined).map((r) => r.module!))];
    const add = (against: string, value: number, peerModule?: string) => {
      if (!(Number.isFinite(value) && value > 0)) return;
      const modules = [...new Set([...heedModules, ...(peerModule === undefined ? [] : [peerModule])])].sort();
      out.set(keyOf({ workload: h.workload, threads: h.threads, against }), { workload: h.workload, threads: h.threads, against, value, modules });
    };
    const peak = run.peak[String(h.threads)] ?? run.peak['1'];
    if (h.gflops !== undefined && peak) add('peak', h.gflops / peak);
    // the host memory probe measured beside the row's own module, in the same minute (a witness for the peak ratio)
    const host = h.module === undefined ? undefined : run.host?.[h.module];
    if (h.gflops !== undefined && host) add(HOST_PROBE, h.gflops / host);
    for (const p of finite) {
      if (p.workload === h.workload && p.threads === h.threads && !p.impl.startsWith('heed')) add(p.impl, p.ms / h.ms, p.module);
    }
  }
  return out;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The median relative distance of the values from their median (0 for one value). */
export function spreadOf(xs: readonly number[], med = median(xs)): number {
  return median(xs.map((x) => Math.abs(x / med - 1)));
}

/** Each ratio's values over the passes (a pass that lacks the ratio adds nothing), median and spread. */
export function ratioStats(passes: readonly RunRecord[]): Map<string, RatioStats> {
  const out = new Map<string, RatioStats>();
  for (const pass of passes) {
    for (const [key, r] of ratios(pass)) {
      const s = out.get(key);
      if (s) { s.values.push(r.value); s.modules = [...new Set([...s.modules, ...r.modules])].sort(); }
      else out.set(key, { workload: r.workload, threads: r.threads, against: r.against, modules: r.modules, values: [r.value], median: NaN, spread: NaN });
    }
  }
  for (const s of out.values()) { s.median = median(s.values); s.spread = spreadOf(s.values, s.median); }
  return out;
}

/** The baseline of several passes (at least MIN_BASELINE_PASSES). */
export function makeBaseline(passes: readonly RunRecord[], extra: Omit<Baseline, 'format' | 'passes' | 'ratios'> = {}): Baseline {
  if (passes.length < MIN_BASELINE_PASSES) {
    throw new BaselineError(`bench --write-baseline: got ${passes.length} pass${passes.length === 1 ? '' : 'es'}, expected at least ${MIN_BASELINE_PASSES} (a median and a spread need several). Fix: run \`${WRITE_BASELINE}\`.`);
  }
  return { format: BASELINE_FORMAT, passes: passes.length, ...extra, ratios: Object.fromEntries(ratioStats(passes)) };
}

/**
 * Parses a baseline file's text. Not JSON, not a bench baseline, the older single-pass format,
 * too few passes, or a ratio entry without positive values: a BaselineError
 * naming the file, what it found and the command that writes a good one.
 */
export function parseBaseline(text: string, file: string): Baseline {
  const fix = `Fix: write a new one with \`${WRITE_BASELINE}\` on a quiet machine (about 13 minutes) and commit it.`;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new BaselineError(`bench --check: ${file} is not valid JSON (${(err as Error).message}). ${fix}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new BaselineError(`bench --check: ${file} holds ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}, expected a baseline object (format '${BASELINE_FORMAT}'). ${fix}`);
  }
  const b = v as Record<string, unknown>;
  if (b.format === undefined && typeof b.peak === 'object' && Array.isArray(b.rows)) {
    throw new BaselineError(`bench --check: ${file} is an older single-pass baseline (rows of one pass, no median or spread per ratio), which flags unchanged code as slower. Fix: write a new one with \`${WRITE_BASELINE}\` on a quiet machine (about 13 minutes) and commit it.`);
  }
  if (b.format !== BASELINE_FORMAT) {
    throw new BaselineError(`bench --check: ${file} has format ${JSON.stringify(b.format)}, expected '${BASELINE_FORMAT}'. ${fix}`);
  }
  if (typeof b.passes !== 'number' || !(b.passes >= MIN_BASELINE_PASSES)) {
    throw new BaselineError(`bench --check: ${file} was written from ${JSON.stringify(b.passes)} passes, expected at least ${MIN_BASELINE_PASSES}. ${fix}`);
  }
  if (b.ratios === null || typeof b.ratios !== 'object' || Array.isArray(b.ratios) || Object.keys(b.ratios).length === 0) {
    throw new BaselineError(`bench --check: ${file} has no 'ratios' (expected an object of ratio key → median and spread). ${fix}`);
  }
  for (const [key, s] of Object.entries(b.ratios as Record<string, Partial<RatioStats> | null>)) {
    const ok = s !== null && typeof s === 'object' && typeof s.workload === 'string' && typeof s.threads === 'number' && typeof s.against === 'string'
      && Array.isArray(s.modules) && Array.isArray(s.values) && s.values.length > 0 && s.values.every((v) => typeof v === 'number' && v > 0 && Number.isFinite(v));
    if (!ok) throw new BaselineError(`bench --check: ${file}: ratio '${key}' is ${JSON.stringify(s)}, expected {workload, threads, against, modules, values: positive numbers, median, spread}. ${fix}`);
    // The median and spread are recomputed from the stored values, so the rule lives in this file, not in old baselines.
    s.median = median(s.values!);
    s.spread = spreadOf(s.values!, s.median);
  }
  return b as unknown as Baseline;
}

/**
 * A peak ratio's check passes taken in the baseline's host mode. Each pass's host mode is its memory
 * probe over its FMA probe (the row's ratio to the peak over its ratio to the memory probe, both beside
 * the row's module); the baseline's is the median of its passes'. The passes whose mode is within
 * HELD × the row's tolerance of the baseline's are the ones judged, when some but not all are: the
 * choice reads only the two heed-free probes, never the row's time, so it cannot favour a slower heed.
 * Undefined when the baseline or the passes have no memory probe for the row.
 */
function sameHostMode(baseline: Baseline, perPass: Map<string, Ratio>[], b: RatioStats, tol: number): { values: number[]; note: string; like: number; of: number } | undefined {
  const hostKey = keyOf({ workload: b.workload, threads: b.threads, against: HOST_PROBE });
  const bh = baseline.ratios[hostKey];
  // the baseline's passes: a row's peak and memory-probe ratios come from the same passes, in order
  if (!bh || bh.values.length !== b.values.length) return undefined;
  const baseMode = median(b.values.map((v, i) => v / bh.values[i]));
  const pairs = perPass.flatMap((m) => {
    const p = m.get(keyOf({ workload: b.workload, threads: b.threads, against: 'peak' })), h = m.get(hostKey);
    return p && h ? [{ value: p.value, mode: p.value / h.value / baseMode - 1 }] : [];
  });
  if (pairs.length === 0) return undefined;
  const like = pairs.filter((x) => Math.abs(x.mode) <= HELD * tol);
  const others = pairs.filter((x) => Math.abs(x.mode) > HELD * tol).map((x) => `${x.mode < 0 ? '−' : '+'}${pct(Math.abs(x.mode))}`).join(', ');
  const counts = { like: like.length, of: pairs.length };
  if (like.length === pairs.length) return { values: pairs.map((x) => x.value), note: '', ...counts };
  if (like.length === 0) return { values: pairs.map((x) => x.value), note: `; the host memory probe against the FMA probe read ${others} from the baseline's in every pass: the host's memory in another mode`, ...counts };
  return { values: like.map((x) => x.value), note: ` in the baseline's host mode; ${plural(pairs.length - like.length, 'pass', 'passes')} left out, whose memory probe against the FMA probe read ${others} from the baseline's`, ...counts };
}

/** The `format` of a `--check` run's saved passes (bench/results/latest-check.json). */
export const CHECK_RUN_FORMAT = 'heed-bench-check-run/1';

/**
 * A `--check` run as saved beside its report: every pass it measured (the first, the confirmations and
 * the host retries, in order) and the modules it ran, so that a change to the guard's rules can be
 * judged again, offline, on a real run (bench/check-rejudge.ts) instead of only on simulated ones.
 */
export interface CheckRun { format: typeof CHECK_RUN_FORMAT; started: string; baseline: string; ran: string[]; passes: RunRecord[] }

/** A saved check run that cannot be read: not JSON, another format, a field missing. */
export class CheckRunError extends ValueError {
  override readonly code: string = 'HEED_BENCH_CHECK_RUN';
}

/** Parses a saved check run's text; a CheckRunError naming the file, what it found and what to do. */
export function parseCheckRun(text: string, file: string): CheckRun {
  const fix = 'Fix: run `npm run bench -- --check`, which saves its passes to bench/results/latest-check.json.';
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new CheckRunError(`bench check run: ${file} is not valid JSON (${(err as Error).message}). ${fix}`);
  }
  const r = v as Partial<CheckRun> | null;
  if (r === null || typeof r !== 'object' || r.format !== CHECK_RUN_FORMAT) {
    throw new CheckRunError(`bench check run: ${file} has format ${JSON.stringify(r?.format)}, expected '${CHECK_RUN_FORMAT}'. ${fix}`);
  }
  const passOk = (p: Partial<RunRecord> | null) => p !== null && typeof p === 'object' && typeof p.peak === 'object' && p.peak !== null && Array.isArray(p.rows);
  if (!Array.isArray(r.passes) || r.passes.length === 0 || !r.passes.every(passOk) || !Array.isArray(r.ran) || typeof r.baseline !== 'string') {
    throw new CheckRunError(`bench check run: ${file} lacks its passes (expected 'passes': one or more {peak, rows, host}), 'ran' (module names) or 'baseline' (the file judged against). ${fix}`);
  }
  return r as CheckRun;
}

/** Judge the check's passes against the baseline, ratio by ratio (median against median). */
export function compareRuns(baseline: Baseline, passes: readonly RunRecord[], opts: CheckOptions = {}): CheckReport {
  const tolerance = opts.tolerance ?? 0.15;
  const k = opts.k ?? 3;
  const maxTolerance = opts.maxTolerance ?? 0.3;
  const now = ratioStats(passes);
  const report: CheckReport = { compared: 0, regressions: [], passed: [], tooNoisy: [], oneReference: [], slowerHost: [], missing: [], onlyNow: [], tolerance, k, maxTolerance,
    hostInBaseline: Object.values(baseline.ratios).some((b) => b.against === HOST_PROBE) };
  const inScope = (s: RatioStats) => opts.ran === undefined || s.modules.every((m) => opts.ran!.has(m));
  const perPass = passes.map((p) => ratios(p));
  for (const [key, b] of Object.entries(baseline.ratios)) {
    if (!inScope(b)) continue;
    let a = now.get(key);
    if (!a) { report.missing.push(key); continue; }
    report.compared++;
    const tol = Math.max(tolerance, k * b.spread);
    const same = b.against === 'peak' ? sameHostMode(baseline, perPass, b, tol) : undefined;
    if (same && same.values.length < a.values.length) a = { ...a, values: same.values, median: median(same.values) };
    const j: Judged = { key, workload: b.workload, threads: b.threads, against: b.against, modules: a.modules, baseline: b.median, spread: b.spread,
      now: a.median, passesNow: a.values.length, tolerance: tol, change: a.median / b.median - 1, reason: '', ...(same ? { hostMode: { like: same.like, of: same.of } } : {}) };
    const tolWhy = tol > tolerance ? `${k} × its baseline spread ±${pct(b.spread)}` : `the floor; its baseline spread is ±${pct(b.spread)}`;
    const over = `${j.passesNow === 1 ? 'one pass' : `the median of ${j.passesNow} passes`}${same?.note ?? ''}`;
    if (tol > maxTolerance) {
      j.reason = `not judged: its baseline spread ±${pct(b.spread)} makes its tolerance ${pct(tol)}, above ${pct(maxTolerance)}`;
      report.tooNoisy.push(j);
    } else if (j.change < -tol) {
      j.reason = `fell ${pct(-j.change)} (${over}), beyond its tolerance ${pct(tol)} (${tolWhy})`;
      report.regressions.push(j);
    } else {
      j.reason = `${j.change < 0 ? `fell ${pct(-j.change)}` : `rose ${pct(j.change)}`} (${over}), within its tolerance ${pct(tol)} (${tolWhy})`;
      report.passed.push(j);
    }
  }
  if (opts.corroborate ?? true) corroborate(report, opts.hostWitness ?? false);
  else for (const r of report.regressions) r.reason += '; not checked against the row\'s other references';
  report.regressions.sort((x, y) => x.change - y.change);
  report.oneReference.sort((x, y) => x.change - y.change);
  report.slowerHost.sort((x, y) => x.change - y.change);
  report.tooNoisy.sort((x, y) => y.spread - x.spread);
  report.onlyNow = [...now.keys()].filter((key) => !(key in baseline.ratios));
  return report;
}

const refName = (j: { against: string }) => (j.against === 'peak' ? 'the peak' : j.against === HOST_PROBE ? 'the host memory probe' : j.against);
/** A reference held when it fell by no more than this fraction of its tolerance (the one threshold of step 4). */
export const HELD = 0.5;
/** A change in units of its tolerance: −1 is a fall of exactly the tolerance. */
const units = (j: Judged) => j.change / j.tolerance;
const held = (changeInTolerances: number) => changeInTolerances > -HELD;

/**
 * Step 4: each ratio beyond its tolerance against the same heed row's other guarded ratios (same
 * workload and thread count). Heed slower lowers them all; a reference that moved lowers its own.
 *
 * A peer ratio: the witness is the row's ratio to the peak when it is guarded: the peak is heed's own
 * probe in the same pass, the same for every row, so it does not move with one peer. When it held, the
 * peer moved. A row without a guarded peak ratio needs two or more other peer ratios whose median,
 * each change in units of its tolerance, held: with one, a fall against peer A and none against peer
 * B cannot say which of A, B or heed moved.
 *
 * A peak ratio: the FMA probe does not see the host's memory speed, and this VM's memory speed has
 * modes minutes apart. The witness is the row's ratio to the host memory probe (bench/check-host.ts)
 * measured beside its module: heed-free, so it does not slow down with heed. When the row held against
 * it, the row fell with the host's memory, and the fall is set apart (slowerHost). A fall against both
 * probes is heed's. A heed 25% slower while the host's memory is 25% slower can pass this way; its
 * peer ratios, whose witness stays the peak (which fell), still count (bench/check-sim.ts measures
 * what this costs rows without a peer).
 *
 * A host-probe ratio is a witness only: its fall counts when the row fell against the peak too, and
 * is set apart when the row held against the peak (the probe read faster). Moves the ratios set apart
 * to oneReference or slowerHost.
 */
function corroborate(report: CheckReport, witness: boolean): void {
  const guarded = [...report.regressions, ...report.passed];
  const rowOf = (j: Judged) => `${j.workload}|${j.threads}`;
  const fmt = (os: Judged[]) => os.map((o) => `${refName(o)} ${o.change < 0 ? '−' : '+'}${pct(Math.abs(o.change))} (tolerance ${pct(o.tolerance)})`).join(', ');
  const kept: Judged[] = [];
  for (const r of report.regressions) {
    const refs = guarded.filter((o) => rowOf(o) === rowOf(r) && o.key !== r.key);
    const peak = refs.find((o) => o.against === 'peak');
    const host = refs.find((o) => o.against === HOST_PROBE);
    const peers = refs.filter((o) => o.against !== 'peak' && o.against !== HOST_PROBE);
    if (r.against === 'peak') {
      if (host && held(units(host)) && witness) {
        const probe = (1 + r.change) / (1 + host.change) - 1; // the memory probe against the FMA probe, now against the baseline
        r.reason += `; but the same heed row held against ${fmt([host])}, measured beside it: the host's memory was slower (the memory probe ${probe < 0 ? 'fell' : 'rose'} ${pct(Math.abs(probe))} against the FMA probe), not heed`;
        report.slowerHost.push(r);
      } else {
        r.reason += host ? (held(units(host)) ? `; the same heed row held against ${fmt([host])}, measured beside it, but a fall against the peak counts unless hostWitness is set`
          : `; the same heed row fell against ${fmt([host])} too: heed's (both probes are heed-free)`)
          : '; a fall against the peak is heed\'s unless the host memory probe measured beside the row says the host was slower, and the baseline has no guarded memory probe ratio for this row'
            + (report.hostInBaseline ? ' (too noisy to guard)' : ` (written before bench/check-host.ts: rewrite it with \`${WRITE_BASELINE}\`)`);
        kept.push(r);
      }
    } else if (peak) {
      const what = r.against === HOST_PROBE ? 'the memory probe read faster' : `${refName(r)} moved`;
      if (held(units(peak))) { r.reason += `; but the same heed row held against ${fmt([peak])}: ${what}, not heed`; report.oneReference.push(r); }
      else { r.reason += `; the same heed row fell against ${fmt([peak])} too`; kept.push(r); }
    } else if (peers.length >= 2 && held(median(peers.map(units)))) {
      r.reason += `; but the same heed row held against ${fmt(peers)}: ${refName(r)} moved, not heed`;
      report.oneReference.push(r);
    } else {
      r.reason += peers.length === 0 ? `; heed's row has no other guarded reference to tell ${r.against === HOST_PROBE ? 'a faster memory probe' : `a moving ${refName(r)}`} from a slower heed, so it counts`
        : peers.length === 1 && held(units(peers[0])) ? `; heed's row held against ${fmt(peers)}, but with two peers and no peak ratio either may have moved, so it counts`
          : `; the same heed row fell against ${fmt(peers)} too`;
      kept.push(r);
    }
  }
  report.regressions = kept;
}

/**
 * The ratios to re-measure: guarded ones that fell by more than half their tolerance. Half, not
 * all of it, because one pass can also flatter a row, and a real 20% fall seen through a lucky
 * pass may show as 12%: those get their median of several passes too.
 */
export function suspects(report: CheckReport): Judged[] {
  // a host-probe ratio is a witness: its row's module is re-measured when the row's peak ratio is a suspect
  return [...report.regressions, ...report.oneReference, ...report.slowerHost, ...report.passed].filter((j) => j.against !== HOST_PROBE && !held(units(j)));
}

/** The bench modules to run again to re-measure these ratios: those of the heed row and of the peer row. */
export function modulesOf(judged: readonly { modules: string[] }[]): Set<string> {
  return new Set(judged.flatMap((j) => j.modules));
}

/**
 * The whole check: judge the passes measured so far (one quick pass), then re-measure the modules of
 * every suspect `confirm` more times (default 2) with `measure`, and judge again. A fixed number of
 * confirmation passes, not "until it looks fine", which would bias the check towards passing.
 */
export async function checkAgainst(baseline: Baseline, passes: readonly RunRecord[], measure: (modules: Set<string>) => Promise<RunRecord>,
  opts: CheckOptions & { confirm?: number } = {}): Promise<{ report: CheckReport; confirmation: Confirmation }> {
  const all = [...passes];
  const first = suspects(compareRuns(baseline, all, opts));
  const modules = modulesOf(first);
  const confirmations = first.length ? (opts.confirm ?? 2) : 0;
  for (let c = 0; c < confirmations; c++) all.push(await measure(modules));
  let report = compareRuns(baseline, all, opts);
  // a fall against the peak seen only with the host's memory in another mode than the baseline's: re-measure
  // those rows' modules in a later minute, up to hostRetries times, until a pass is in the baseline's mode
  const otherMode = (r: CheckReport) => r.regressions.filter((j) => j.against === 'peak' && j.hostMode !== undefined && j.hostMode.like === 0);
  let retries = 0;
  for (let waiting = otherMode(report); waiting.length > 0 && retries < (opts.hostRetries ?? 2); waiting = otherMode(report)) {
    all.push(await measure(modulesOf(waiting)));
    retries++;
    report = compareRuns(baseline, all, opts);
  }
  return { report, confirmation: { suspects: first.length, confirmations, modules: [...modules].sort(), keys: first.map((j) => j.key), hostRetries: retries } };
}

/** The error for baseline ratios the check did not measure, or undefined when all were measured. */
export function missingError(report: CheckReport, file = 'bench/results/baseline.json'): MissingRowsError | undefined {
  if (report.missing.length === 0) return undefined;
  const list = report.missing.slice(0, 12).join('; ') + (report.missing.length > 12 ? `; … (${report.missing.length - 12} more)` : '');
  return new MissingRowsError(`bench --check: ${report.missing.length} ratio${report.missing.length === 1 ? '' : 's'} of ${file} ${report.missing.length === 1 ? 'was' : 'were'} not measured by this run, so the check cannot vouch for ${report.missing.length === 1 ? 'it' : 'them'}: ${list}. `
    + `Expected every baseline ratio (workload|threads|relative to) to be measured again. Fix: look above for a module that failed or was skipped (a peer not installed); if a workload was renamed or removed on purpose, write a new baseline with \`${WRITE_BASELINE}\`.`, report.missing);
}

/** How the report was confirmed: ratios suspect after the first pass, and the confirmation passes run. */
export interface Confirmation { suspects: number; confirmations: number; modules: string[]; /** The suspects' ratio keys. */ keys?: string[];
  /** Passes run after the confirmations because a fall against the peak had no pass in the baseline's host mode. */ hostRetries?: number }

/** `1 row is`, `3 rows are`; a bare verb form (`is` / `are`) follows the number alone. */
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const fmtRatio = (r: { against: string }, v: number) => (r.against === 'peak' ? `${pct(v)} of peak` : `${v.toFixed(2)}× ${r.against}`);

/** The report as Markdown: the counts, then every regression, every ratio set apart and every re-measured ratio with the reason for its verdict. */
export function formatCheck(report: CheckReport, confirmed?: Confirmation, file = 'bench/results/baseline.json'): string {
  const guarded = report.regressions.length + report.passed.length + report.oneReference.length + report.slowerHost.length;
  const lines = [`\n### Regression check against ${file}\n`,
    `${report.compared} within-pass ratios compared, median against the baseline's median. A row's tolerance is max(${pct(report.tolerance)}, ${report.k} × its baseline spread); `
    + `${plural(guarded, 'row is', 'rows are')} guarded at tolerances up to ${pct(report.maxTolerance)}, ${plural(report.tooNoisy.length, 'is', 'are')} too noisy to guard (tolerance above ${pct(report.maxTolerance)}). `
    + 'A ratio beyond its tolerance is a regression when the same heed row fell against its other references too, or has none; when they held, the reference moved and the ratio is listed apart. '
    + `A ratio to the peak is judged on the passes whose ${HOST_PROBE} (measured beside the row's module) over FMA probe read like the baseline's: the FMA probe does not see the host's memory speed.`];
  if (confirmed) {
    lines.push(confirmed.suspects === 0 ? 'No ratio fell by more than half its tolerance in the first pass; nothing was re-measured.'
      : `${plural(confirmed.suspects, 'ratio', 'ratios')} fell by more than half their tolerance in the first pass; ${confirmed.confirmations} confirmation pass${confirmed.confirmations === 1 ? '' : 'es'} re-measured their modules (${confirmed.modules.join(', ')}), and each is judged by its median over the passes.`
        + (confirmed.hostRetries ? ` ${plural(confirmed.hostRetries, 'more pass', 'more passes')} re-measured the rows that fell against the peak with no pass in the baseline's host mode.` : ''));
  }
  const table = (rows: Judged[]) => ['| workload | threads | relative to | baseline (median) | spread | now (median) | passes | change | tolerance | why |', '|---|---:|---|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.workload} | ${r.threads} | ${r.against} | ${fmtRatio(r, r.baseline)} | ±${pct(r.spread)} | ${fmtRatio(r, r.now)} | ${r.passesNow} | ${pct(r.change)} | ${pct(r.tolerance)} | ${r.reason} |`)];
  if (report.regressions.length === 0) lines.push('\nNo regressions.');
  else lines.push(`\nRegressions (${report.regressions.length}):`, '', ...table(report.regressions));
  if (report.oneReference.length) {
    lines.push(`\nFell against one reference only (${report.oneReference.length}; the same heed row held against its others, so the reference moved; not failed):`, '', ...table(report.oneReference));
  }
  if (report.slowerHost.length) {
    lines.push(`\nFell against the peak with the host (${report.slowerHost.length}; the same heed row held against the host memory probe measured beside it, so the host's memory was slower; not failed):`, '', ...table(report.slowerHost));
  }
  const suspect = new Set(confirmed?.keys ?? []);
  const cleared = report.passed.filter((j) => suspect.has(j.key));
  if (cleared.length) lines.push(`\nRe-measured and passed (${cleared.length}):`, '', ...table(cleared));
  if (report.tooNoisy.length) {
    lines.push(`\nToo noisy to guard (${report.tooNoisy.length}; baseline spread ±${pct(report.maxTolerance / report.k)} or more, so a ${pct(report.tolerance)} fall cannot be told from noise; not judged):`, '',
      '| workload | threads | relative to | baseline (median) | spread | now (median) | change |', '|---|---:|---|---:|---:|---:|---:|');
    for (const r of report.tooNoisy) lines.push(`| ${r.workload} | ${r.threads} | ${r.against} | ${fmtRatio(r, r.baseline)} | ±${pct(r.spread)} | ${fmtRatio(r, r.now)} | ${pct(r.change)} |`);
  }
  const err = missingError(report, file);
  if (err) lines.push(`\n**Error:** ${err.message}`);
  const newHost = report.onlyNow.filter((key) => key.endsWith(`|${HOST_PROBE}`));
  const onlyNow = report.onlyNow.filter((key) => !key.endsWith(`|${HOST_PROBE}`));
  if (newHost.length) lines.push(`\nThe baseline has no ${HOST_PROBE} ratios (written before bench/check-host.ts), so no fall against the peak can be told from a slower host; ${newHost.length} measured now, not judged. Fix: rewrite the baseline with \`${WRITE_BASELINE}\` on a quiet machine.`);
  if (onlyNow.length) lines.push(`\nNew since the baseline, not judged (${onlyNow.length}): ${onlyNow.slice(0, 8).join('; ')}${onlyNow.length > 8 ? '; …' : ''}`);
  return lines.join('\n');
}
