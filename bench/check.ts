/**
 * The regression guard behind `npm run bench -- --check`.
 *
 * Absolute times on a shared 2-core machine swing by 2× from minute to minute, so the guard
 * never compares milliseconds across runs. It compares *ratios taken inside one run*:
 *
 *   - for a heed row with a FLOP count: its fraction of the FMA peak measured in the same run;
 *   - for a heed row beside a peer row (same workload, same thread count): peer ms / heed ms.
 *
 * A row regresses when a ratio fell by more than `tolerance` (15%) against the committed
 * baseline (`bench/results/baseline.json`, written by `npm run bench -- --quick --write-baseline`).
 * Rows present in only one of the two runs are listed, not judged.
 *
 * A single quick pass is noisy on sub-millisecond rows, so bench/index.ts confirms a flagged
 * ratio before reporting it: it re-runs the modules that measured the ratio's rows
 * (`modulesOf`) and keeps each row's best pass.
 */
import type { BenchRow } from './peers/common.ts';

export interface RunRecord { peak: Record<string, number>; rows: BenchRow[] }

/**
 * Parses a baseline file's text as a RunRecord. A file that is not JSON, or lacks `peak` and `rows`,
 * is an Error naming the file and the fix (write a new baseline), never a bare JSON.parse message.
 */
export function parseBaseline(text: string, file: string): RunRecord {
  const fix = 'Fix: write a new one with `npm run bench -- --quick --write-baseline` on a quiet machine (or restore it with git checkout).';
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`bench --check: ${file} is not valid JSON (${(err as Error).message}). ${fix}`);
  }
  const r = v as Partial<RunRecord> | null;
  if (r === null || typeof r !== 'object' || typeof r.peak !== 'object' || r.peak === null || !Array.isArray(r.rows)) {
    throw new Error(`bench --check: ${file} holds no bench run (expected an object with 'peak' and 'rows', as --write-baseline writes). ${fix}`);
  }
  return r as RunRecord;
}

/** One ratio of one heed row: what it is relative to, and its value. */
export interface Ratio { workload: string; threads: number; against: string; value: number }

export interface Regression { workload: string; threads: number; against: string; baseline: number; now: number; change: number }

export interface CheckReport { compared: number; regressions: Regression[]; onlyInBaseline: string[]; onlyNow: string[] }

const isHeed = (r: BenchRow) => r.impl.startsWith('heed') && !r.impl.includes('js backend') && !r.impl.includes('composed');

/** Every within-run ratio of a run's heed rows, keyed by `workload|threads|against`. */
export function ratios(run: RunRecord): Map<string, Ratio> {
  const out = new Map<string, Ratio>();
  const finite = run.rows.filter((r) => Number.isFinite(r.ms) && r.ms > 0);
  for (const h of finite.filter(isHeed)) {
    if (h.workload.includes('peak')) continue;
    const add = (against: string, value: number) => {
      if (Number.isFinite(value) && value > 0) out.set(`${h.workload}|${h.threads}|${against}`, { workload: h.workload, threads: h.threads, against, value });
    };
    const peak = run.peak[String(h.threads)] ?? run.peak['1'];
    if (h.gflops !== undefined && peak) add('peak', h.gflops / peak);
    for (const p of finite) {
      if (p.workload === h.workload && p.threads === h.threads && !p.impl.startsWith('heed')) add(p.impl, p.ms / h.ms);
    }
  }
  return out;
}

/** Compare this run's ratios with the baseline's; `tolerance` 0.15 flags a fall of more than 15%. */
export function compareRuns(baseline: RunRecord, now: RunRecord, tolerance = 0.15): CheckReport {
  const before = ratios(baseline);
  const after = ratios(now);
  const regressions: Regression[] = [];
  let compared = 0;
  for (const [key, b] of before) {
    const a = after.get(key);
    if (!a) continue;
    compared++;
    const change = a.value / b.value - 1;
    if (change < -tolerance) regressions.push({ workload: b.workload, threads: b.threads, against: b.against, baseline: b.value, now: a.value, change });
  }
  regressions.sort((x, y) => x.change - y.change);
  return {
    compared,
    regressions,
    onlyInBaseline: [...before.keys()].filter((k) => !after.has(k)),
    onlyNow: [...after.keys()].filter((k) => !before.has(k)),
  };
}

/**
 * The bench modules to run again to re-measure these regressions: the modules that measured
 * the heed row and, for a ratio to a peer, the peer's row (rows carry `module`).
 */
export function modulesOf(regressions: Regression[], rows: BenchRow[]): Set<string> {
  const out = new Set<string>();
  for (const g of regressions) {
    for (const r of rows) {
      if (r.workload !== g.workload || r.threads !== g.threads || r.module === undefined) continue;
      if (isHeed(r) || r.impl === g.against) out.add(r.module);
    }
  }
  return out;
}

/** How the report was confirmed: ratios flagged by the first pass, and the confirmation passes run. */
export interface Confirmation { flaggedFirst: number; confirmations: number }

/** The report as Markdown. */
export function formatCheck(report: CheckReport, tolerance = 0.15, confirmed?: Confirmation): string {
  const fmt = (r: { against: string }, v: number) => (r.against === 'peak' ? `${(100 * v).toFixed(0)}% of peak` : `${v.toFixed(2)}× ${r.against}`);
  const lines = [`\n### Regression check against bench/results/baseline.json\n`,
    `${report.compared} within-run ratios compared; a ratio that fell by more than ${(100 * tolerance).toFixed(0)}% is a regression.`];
  if (confirmed && confirmed.flaggedFirst > 0) {
    lines.push(`The first pass flagged ${confirmed.flaggedFirst}; ${confirmed.confirmations} confirmation pass${confirmed.confirmations === 1 ? '' : 'es'} re-measured their modules (best pass kept), and ${report.regressions.length} stayed down.`);
  }
  if (report.regressions.length === 0) lines.push('\nNo regressions.');
  else {
    lines.push('', '| workload | threads | relative to | baseline | now | change |', '|---|---:|---|---:|---:|---:|');
    for (const r of report.regressions) lines.push(`| ${r.workload} | ${r.threads} | ${r.against} | ${fmt(r, r.baseline)} | ${fmt(r, r.now)} | ${(100 * r.change).toFixed(0)}% |`);
  }
  if (report.onlyInBaseline.length) lines.push(`\nIn the baseline but not measured now (${report.onlyInBaseline.length}): ${report.onlyInBaseline.slice(0, 8).join('; ')}${report.onlyInBaseline.length > 8 ? '; …' : ''}`);
  if (report.onlyNow.length) lines.push(`\nNew since the baseline (${report.onlyNow.length}): ${report.onlyNow.slice(0, 8).join('; ')}${report.onlyNow.length > 8 ? '; …' : ''}`);
  return lines.join('\n');
}
