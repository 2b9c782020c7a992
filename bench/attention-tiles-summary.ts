/**
 * Summarises the per-query-tile CSV of `bench/attention-tile.cpp --tiles --csv FILE` (one line per
 * tile of whole forward calls): where the slow tiles are. Tiles whose wall time exceeds their
 * thread CPU time by > 20 µs (preempted) are left out of the groups; CPU µs, medians (p90 beside):
 *   first   the first tile a thread runs of a head (it transposes Kᵀ and reads the head's K and V cold)
 *   second  the tile after it
 *   last4   the head's last 4 tiles (qt < 4, which prefetch the next head's K and V when the kernel does)
 *   other   every other tile
 * and per group the median of each phase summed over the tile's key tiles (kt: Kᵀ transposition,
 * pre: the prefetch step between, qk: scores + softmax, pv: P·V, rest: setup and finish).
 *
 *   node --import tsx bench/attention-tiles-summary.ts FILE.csv [FILE.csv ...]   (prints one JSON object)
 */
import { readFileSync } from 'node:fs';
import { readArgs } from './args.ts';

const quantile = (xs: number[], f: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(f * s.length))];
};
const round = (x: number) => Math.round(x * 100) / 100;

function summarise(file: string) {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const cols = header.split(',');
  const rows = lines.map((l) => {
    const f = l.split(',');
    const o: Record<string, number> = {};
    cols.forEach((c, i) => { if (c !== 'keyTileUs') o[c] = Number(f[i]); });
    return o;
  });
  // order of tiles on each thread (by start), and the position since the thread last changed head
  const byStart = rows.map((r, i) => ({ r, i })).sort((a, b) => a.r.startUs - b.r.startUs);
  const pos = new Array<number>(rows.length);
  const last = new Map<number, { bh: number; call: number; n: number }>();
  for (const { r, i } of byStart) {
    const s = last.get(r.thread);
    const n = s && s.bh === r.bh && s.call === r.call ? s.n + 1 : 0;
    last.set(r.thread, { bh: r.bh, call: r.call, n });
    pos[i] = n;
  }
  const groups: Record<string, number[]> = { first: [], second: [], last4: [], other: [] };
  let preempted = 0;
  rows.forEach((r, i) => {
    if (r.tscUs - r.cpuUs > 20) { preempted++; return; }
    const g = r.ktNew ? 'first' : pos[i] === 1 ? 'second' : r.qt < 4 ? 'last4' : 'other';
    groups[g].push(i);
  });
  const calls = new Set(rows.map((r) => r.call)).size;
  const all = rows.filter((r) => r.tscUs - r.cpuUs <= 20).map((r) => r.cpuUs);
  const tileSum = rows.reduce((a, r) => a + r.cpuUs, 0) / calls;
  const out: Record<string, unknown> = {
    file, L: rows[0]?.L, calls, tiles: rows.length, preempted,
    threads: new Set(rows.map((r) => r.thread)).size,
    headSwitchesPerCall: round(rows.filter((r) => r.ktNew).length / calls),
    tileCpuUsSumPerCall: round(tileSum),
    tileCpuUsP10P50P90P99: [0.1, 0.5, 0.9, 0.99].map((f) => round(quantile(all, f))),
  };
  const other = quantile(groups.other.map((i) => rows[i].cpuUs), 0.5);
  for (const [g, idx] of Object.entries(groups)) {
    const med = (k: string) => round(quantile(idx.map((i) => rows[i][k]), 0.5));
    const cpu = idx.map((i) => rows[i].cpuUs);
    out[g] = {
      n: idx.length, cpuP50: round(quantile(cpu, 0.5)), cpuP90: round(quantile(cpu, 0.9)),
      overOtherP50: round(quantile(cpu, 0.5) - other),
      kt: med('ktUs'), pre: med('preUs'), qk: med('qkUs'), pv: med('pvUs'),
      rest: round(quantile(idx.map((i) => rows[i].tscUs - rows[i].ktUs - rows[i].preUs - rows[i].qkUs - rows[i].pvUs), 0.5)),
    };
  }
  // Is the rest of the tail tied to a tile? Per (head, query tile) of the `other` group: the spread of
  // their medians over calls, each tile's p90 over its own median, and the lag-1 autocorrelation of
  // consecutive tiles on a thread (a slow moment of the machine slows neighbours alike)
  const byId = new Map<string, number[]>();
  for (const i of groups.other) {
    const key = `${rows[i].bh}:${rows[i].qt}`;
    if (!byId.has(key)) byId.set(key, []);
    byId.get(key)!.push(rows[i].cpuUs);
  }
  const idMedians = [...byId.values()].map((x) => quantile(x, 0.5));
  const ownRatio = [...byId.values()].flatMap((x) => { const m = quantile(x, 0.5); return x.map((v) => v / m); });
  const lag1: number[] = [];
  for (const th of new Set(rows.map((r) => r.thread))) {
    const x = byStart.filter(({ r }) => r.thread === th && r.tscUs - r.cpuUs <= 20).map(({ r }) => r.cpuUs);
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const v = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
    let c = 0;
    for (let i = 1; i < x.length; i++) c += (x[i] - mean) * (x[i - 1] - mean);
    lag1.push(round(c / (x.length - 1) / v));
  }
  out.otherByTile = { medianP10P90: [round(quantile(idMedians, 0.1)), round(quantile(idMedians, 0.9))], ownP90OverMedian: round(quantile(ownRatio, 0.9)), lag1AutocorrPerThread: lag1 };
  // CPU µs per call above what every tile at the median of `other` would take: the head changes' cost
  const perCallExtra = Object.entries(groups).filter(([g]) => g !== 'other')
    .reduce((a, [, idx]) => a + idx.reduce((b, i) => b + rows[i].cpuUs - other, 0), 0) / calls;
  out.headChangeCpuUsPerCall = round(perCallExtra);
  return out;
}

const files = readArgs(import.meta.url, {}, { positional: { name: 'FILE.csv', help: 'the tile timings bench/attention-tile.cpp wrote (one or more)', min: 1 } })._;
console.log(JSON.stringify({ command: `node --import tsx bench/attention-tiles-summary.ts ${files.join(' ')}`, rows: files.map(summarise) }, null, 1));
