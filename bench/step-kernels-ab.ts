/**
 * The G2P training step's non-GEMM kernels (d 256: rows 768 encoder / 704 decoder, widths 256 and
 * 1024), old addon against new, interleaved round by round in one process on the process CPU clock
 * (a loaded machine hits both arms alike), one thread. Each case runs on operands that are warm
 * (the same buffers every call: in L2) and cold (a ring of buffer sets larger than the last-level
 * cache, as in the step, where the GEMMs between two such kernels evict their operands).
 *
 *   node --import tsx bench/step-kernels-ab.ts --old /path/to/old/heed.node [--rounds 15] [--out file.json]
 *
 * Cases whose fused kernel the old addon lacks run the old path there (the dropout or ReLU backward,
 * then reduceAxis for the bias gradient), as the old src/ops/linear-fused.ts did.
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { bindNative, kernelSpecs, referenceKernels } from '../src/backend/registry.ts';
import { loadNative, type FlatKernel } from '../src/backend/native/load.ts';
import { cpuNowMs } from './native-util.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  old: { kind: 'string', default: '', help: 'the old heed.node (required)' },
  rounds: { kind: 'int', default: 15, min: 1, help: 'interleaved rounds' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
const oldPath = flags.old;
if (!oldPath) throw new Error('step-kernels-ab: --old <path to the old heed.node> is required');
const rounds = flags.rounds;

type Kern = Record<string, (p: Record<string, unknown>) => void>;
function arm(path: string | null): { k: Kern; setThreads: (n: number) => void } {
  if (path === null) {
    const n = loadNative();
    if (!n.ok) throw new Error(n.error);
    return { k: bindNative(n.kernels, kernelSpecs(), referenceKernels() as Record<string, unknown>).plain as Kern, setThreads: n.setThreads };
  }
  const addon = createRequire(import.meta.url)(path) as { kernels: Record<string, FlatKernel>; setNumThreads: (n: number) => void };
  return { k: bindNative(addon.kernels, kernelSpecs(), referenceKernels() as Record<string, unknown>).plain as Kern, setThreads: addon.setNumThreads };
}
const arms = { old: arm(oldPath), new: arm(null) };
for (const a of Object.values(arms)) a.setThreads(1);

const fill = (n: number, seed: number) => {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = s / 4294967296 - 0.5; }
  return a;
};
// one operand set per case: the step's shapes
const R = 768, D = 256, F = 1024;
interface Set { [name: string]: Float32Array }
const makeSet = (seed: number): Set => ({
  x: fill(R * D, seed), dy: fill(R * D, seed + 1), dx: new Float32Array(R * D), dxAdd: fill(R * D, seed + 2), y: new Float32Array(R * D),
  h: fill(R * F, seed + 3), dh: fill(R * F, seed + 4), dz: new Float32Array(R * F),
  w: fill(D, seed + 5), b: fill(D, seed + 6), mean: new Float32Array(R), rstd: new Float32Array(R).fill(1), dw: new Float32Array(D), db: new Float32Array(D), dbF: new Float32Array(F),
});
const warm = [makeSet(1)];
// ~13 MB per set; 6 sets exceed this machine's share of the L3 (the ring is walked in order)
const cold = Array.from({ length: 6 }, (_, i) => makeSet(10 * i + 7));

interface Case { name: string; bytes: number; run: (k: Kern, s: Set) => void }
const has = (k: Kern, name: string) => typeof k[name] === 'function';
const cases: Case[] = [
  { name: 'layerNormForward 768×256', bytes: 8 * R * D, run: (k, s) => k.layerNormForward({ x: s.x, weight: s.w, bias: s.b, y: s.y, mean: s.mean, rstd: s.rstd, rows: R, cols: D, eps: 1e-5 }) },
  { name: 'layerNormBackward +dxAdd 768×256', bytes: 16 * R * D, run: (k, s) => k.layerNormBackward({ x: s.x, weight: s.w, mean: s.mean, rstd: s.rstd, dy: s.dy, dyAdd: null, dx: s.dx, dxAdd: s.dxAdd, dweight: s.dw, dbias: s.db, rows: R, cols: D }) },
  { name: 'dropout backward + bias grad 768×256', bytes: 8 * R * D, run: (k, s) => {
    if (has(k, 'dropoutBackwardBias')) k.dropoutBackwardBias({ dy: s.dy, dz: s.dx, dbias: s.db, rows: R, cols: D, p: 0.1, seed: 5 });
    else { k.dropout({ x: s.dy, out: s.dx, p: 0.1, seed: 5 }); k.reduceAxis({ op: 0, x: s.dx, out: s.db, outer: 1, size: R, inner: D }); }
  } },
  { name: 'ReLU-dropout backward + bias grad 768×1024', bytes: 12 * R * F, run: (k, s) => {
    if (has(k, 'reluDropoutBackwardBias')) k.reluDropoutBackwardBias({ y: s.h, dy: s.dh, dz: s.dz, dbias: s.dbF, rows: R, cols: F, scale: 1.1 });
    else { k.reluDropoutBackward({ y: s.h, dy: s.dh, dz: s.dz, scale: 1.1 }); k.reduceAxis({ op: 0, x: s.dz, out: s.dbF, outer: 1, size: R, inner: F }); }
  } },
  { name: 'reduceAxis (bias grad) 768×256', bytes: 4 * R * D, run: (k, s) => k.reduceAxis({ op: 0, x: s.dy, out: s.db, outer: 1, size: R, inner: D }) },
];

const samples: Record<string, Record<string, number[]>> = {};
const reps = 12;
for (let r = 0; r < rounds; r++) {
  for (const c of cases) for (const [temp, sets] of [['warm', warm], ['cold', cold]] as const) {
    const key = `${c.name} (${temp})`;
    samples[key] ??= { old: [], new: [] };
    const order = r % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const);
    for (const a of order) {
      const k = arms[a].k;
      for (let i = 0; i < sets.length; i++) c.run(k, sets[i]); // touch the ring once
      const t0 = cpuNowMs();
      for (let i = 0; i < reps; i++) c.run(k, sets[i % sets.length]);
      samples[key][a].push((cpuNowMs() - t0) / reps);
    }
  }
}
const med = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
const rows = Object.entries(samples).map(([key, s]) => {
  const c = cases.find((x) => key.startsWith(x.name))!;
  const o = med(s.old), n = med(s.new);
  return { kernel: key, bytesPerCall: c.bytes, oldUs: +(o * 1000).toFixed(1), newUs: +(n * 1000).toFixed(1), oldGBs: +(c.bytes / o / 1e6).toFixed(1), newGBs: +(c.bytes / n / 1e6).toFixed(1), speedup: +(o / n).toFixed(2) };
});
console.log(`old ${oldPath} vs new (this tree), 1 thread, CPU clock, median of ${rounds}; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('| kernel | old µs | new µs | old GB/s | new GB/s | old / new |\n|---|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.kernel} | ${r.oldUs} | ${r.newUs} | ${r.oldGBs} | ${r.newGBs} | ${r.speedup}× |`);
const out = flags.out;
if (out) writeFileSync(out, JSON.stringify({ command: process.argv.slice(1).join(' '), date: new Date().toISOString(), loadavg: os.loadavg(), cpu: os.cpus()[0]?.model, rounds, rows }, null, 2) + '\n');
