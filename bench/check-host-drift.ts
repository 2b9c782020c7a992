/**
 * Does the host memory probe (bench/check-host.ts) move with the rows that the FMA probe does not
 * explain? Round after round for --minutes, in one process: the FMA probe (1 thread), the host
 * memory probe (a streaming copy, no heed code) at three sizes, and heed's rows that the guard
 * judges against the peak: the fused attention forward B32 H12 L32 d64 on ORT's (B, L, H·d) layout
 * (the tenth session's false alarm), B1 H12 L512 d64, and sgemm 1024³ (compute-bound: a control),
 * all on 1 thread, timed as bench/index.ts's quick pass times them (timeIt, median of calls).
 * Prints, per row, the spread of its ratio to the peak and of its ratio to each probe size over the
 * rounds, and their correlation: a reference that moves with the host leaves the row's ratio to
 * it steadier than its ratio to the peak.
 *
 *   node --import tsx bench/check-host-drift.ts [--minutes 5] [--out file.json]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { readArgs } from './args.ts';
import { hostProbe } from './check-host.ts';
import { nk, nativeLoad, filled } from './native-util.ts';
import { gflopsOf, median, randomFloats, timeIt } from './peers/common.ts';
import { heedForward, type Kernels } from './peers/ort-mha.ts';
import { spreadOf } from './check.ts';

const flags = readArgs(import.meta.url, {
  minutes: { kind: 'number', default: 5, min: 0.1, help: 'how long to keep measuring rounds' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
if (!nk || !nativeLoad) throw new Error('bench/check-host-drift.ts needs the native addon (npm run build:native)');
const kern = nk as Kernels;
nativeLoad.setThreads(1);

const SIZES = { '1 MiB': 2 ** 20, '8 MiB': 8 * 2 ** 20, '64 MiB': 64 * 2 ** 20 } as const;
type Size = keyof typeof SIZES;
const attn = (B: number, H: number, L: number) => {
  const s = { B, H, L, d: 64, causal: false }, n = B * L * H * 64;
  const h = heedForward(kern, s, randomFloats(n, 3), randomFloats(n, 4), randomFloats(n, 5));
  return { name: `attention fwd B${B} H${H} L${L} d64`, call: h.call, flop: 4 * B * H * L * L * 64 };
};
const N = 1024, a = filled(N * N, 1), b = filled(N * N, 2), c = new Float32Array(N * N);
const gemm = { name: 'sgemm 1024x1024x1024', flop: 2 * N ** 3,
  call: () => kern.sgemm!({ a, b, c, m: N, n: N, k: N, batch: 1, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, transA: false, transB: false, bias: null, activation: 0 }) };
const ROWS = [attn(32, 12, 32), attn(1, 12, 512), gemm];

interface Round { t: number; peak: number; probe: Record<Size, number>; gflops: Record<string, number> }
const rounds: Round[] = [];
const load0 = loadavg();
const end = performance.now() + flags.minutes * 60e3;
while (performance.now() < end) {
  const probe = Object.fromEntries(Object.entries(SIZES).map(([k, bytes]) => [k, hostProbe(9, bytes)])) as Record<Size, number>;
  const peak = Math.max(nativeLoad.peakFlops(1), nativeLoad.peakFlops(1));
  const gflops: Record<string, number> = {};
  for (const r of ROWS) gflops[r.name] = gflopsOf(r.flop, await timeIt(r.call, { quick: true }));
  // the probe again after the rows: the round's probe is the mean of the two, like the guard's
  for (const [k, bytes] of Object.entries(SIZES) as [Size, number][]) probe[k] = (probe[k] + hostProbe(9, bytes)) / 2;
  rounds.push({ t: Date.now(), peak, probe, gflops });
}
const load1 = loadavg();

const corr = (xs: number[], ys: number[]) => {
  const mx = xs.reduce((s, x) => s + x, 0) / xs.length, my = ys.reduce((s, y) => s + y, 0) / ys.length;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < xs.length; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; syy += (ys[i] - my) ** 2; }
  return sxy / Math.sqrt(sxx * syy);
};
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
console.log(`${new Date().toISOString()} ${rounds.length} rounds over ${flags.minutes} min, 1 thread; load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}`);
const peaks = rounds.map((r) => r.peak);
console.log(`FMA probe: median ${median(peaks).toFixed(0)} GFLOP/s, spread ±${pct(spreadOf(peaks))}`);
for (const k of Object.keys(SIZES) as Size[]) {
  const p = rounds.map((r) => r.probe[k]);
  console.log(`host memory probe ${k}: median ${median(p).toFixed(1)} GB/s, spread ±${pct(spreadOf(p))}`);
}
console.log('\n| row | median GFLOP/s | ratio to peak: spread | ' + (Object.keys(SIZES) as Size[]).map((k) => `ratio to probe ${k}: spread | corr(row/peak, probe ${k})`).join(' | ') + ' |');
console.log('|---|---:|---:|' + (Object.keys(SIZES) as Size[]).map(() => '---:|---:|').join(''));
const summary: Record<string, unknown> = {};
for (const r of ROWS) {
  const g = rounds.map((x) => x.gflops[r.name]);
  const toPeak = rounds.map((x) => x.gflops[r.name] / x.peak);
  const cells: string[] = [];
  const s: Record<string, number> = { medianGflops: median(g), spreadToPeak: spreadOf(toPeak) };
  for (const k of Object.keys(SIZES) as Size[]) {
    const toProbe = rounds.map((x) => x.gflops[r.name] / x.probe[k]);
    const c = corr(toPeak, rounds.map((x) => x.probe[k]));
    s[`spreadToProbe ${k}`] = spreadOf(toProbe);
    s[`corr ${k}`] = c;
    cells.push(`±${pct(spreadOf(toProbe))} | ${c.toFixed(2)}`);
  }
  summary[r.name] = s;
  console.log(`| ${r.name} | ${median(g).toFixed(1)} | ±${pct(spreadOf(toPeak))} | ${cells.join(' | ')} |`);
}
if (flags.out) {
  writeFileSync(flags.out, JSON.stringify({ date: new Date().toISOString(), command: `node --import tsx ${process.argv.slice(1).join(' ')}`, load: [load0, load1], summary, rounds }, null, 1) + '\n');
  console.log(`wrote ${flags.out}`);
}
