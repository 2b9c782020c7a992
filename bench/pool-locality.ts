/**
 * Does a memory-bound kernel find its rows in its own core's cache? The forward's pattern in the G2P
 * step (d 256, 704 rows): a row-split GEMM (linearFused, 704×256 out: two row slabs, the caller's
 * first) writes y, then layerNormForward reads y in 6 row tasks and writes z, then a second
 * layerNormForward reads z. On this VM a core reads 720 KB another core just wrote ~3× slower than
 * its own (bench/pool-xcore.cpp), so which thread runs which rows of consecutive kernels matters.
 *
 *   node --import tsx bench/pool-locality.ts [--rounds 200] [--old <heed.node>] [--out <file>.json]
 *
 * 2 threads, the pool's profile counters on: per norm call, the CPU time of its tasks summed over
 * both threads (taskCpuNs) — what reading the other core's lines adds — and its replayed makespan.
 * With --old, the same sequence on an older addon, the arms alternating call sequence by sequence.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { nativeLoad } from './native-util.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  rounds: { kind: 'int', default: 200, min: 1, help: 'interleaved rounds' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
  old: { kind: 'string', default: '', help: 'another build\'s heed.node to A/B against' },
});
if (!nativeLoad) throw new Error('pool-locality: the native addon is not built (npm run build:native)');
const rounds = flags.rounds;
const out = flags.out;
type Flat = (...a: unknown[]) => unknown;
interface Addon { kernels: Record<string, Flat>; setNumThreads: (n: number) => void; poolProfile: (on: boolean | null, o: Float64Array) => void }
const req = createRequire(import.meta.url);
const here = process.env.HEED_NATIVE_PATH || fileURLToPath(new URL('../build/Release/heed.node', import.meta.url));
const arms: { name: string; addon: Addon }[] = [{ name: 'new', addon: req(here) as Addon }];
if (flags.old) arms.push({ name: 'old', addon: req(flags.old) as Addon });

const rows = 704, cols = 256;
const rnd = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
const x = rnd(rows * cols), w = rnd(cols * cols), bias = rnd(cols), g = rnd(cols).map((v) => 1 + v), b = rnd(cols);
const y = new Float32Array(rows * cols), z = new Float32Array(rows * cols), z2 = new Float32Array(rows * cols);
const mean = new Float32Array(rows), rstd = new Float32Array(rows);
// flat argument order = the spec's field order (kernel_specs.gen.h)
const linear = (a: Addon) => a.kernels.linearFused(x, w, y, rows, cols, cols, bias, 0, 0, 0, null);
const norm = (a: Addon, src: Float32Array, dst: Float32Array) => a.kernels.layerNormForward(src, g, b, dst, mean, rstd, rows, cols, 1e-5);

const P = 8, snapA = new Float64Array(P), snapB = new Float64Array(P);
const samples = new Map(arms.map((a) => [a.name, { norm1Cpu: [] as number[], norm2Cpu: [] as number[], norm1Span: [] as number[], norm2Span: [] as number[], joined: 0 }]));
for (const a of arms) { a.addon.setNumThreads(2); a.addon.poolProfile(true, snapA); }
for (let r = 0; r < rounds; r++) {
  for (const a of r % 2 ? [...arms].reverse() : arms) {
    const s = samples.get(a.name)!;
    linear(a.addon);
    a.addon.poolProfile(null, snapA);
    norm(a.addon, y, z);
    a.addon.poolProfile(null, snapB);
    s.norm1Cpu.push((snapB[2] - snapA[2]) / 1e3); s.norm1Span.push((snapB[5] - snapA[5]) / 1e3); s.joined += snapB[6] - snapA[6];
    a.addon.poolProfile(null, snapA);
    norm(a.addon, z, z2);
    a.addon.poolProfile(null, snapB);
    s.norm2Cpu.push((snapB[2] - snapA[2]) / 1e3); s.norm2Span.push((snapB[5] - snapA[5]) / 1e3); s.joined += snapB[6] - snapA[6];
  }
}
for (const a of arms) { a.addon.poolProfile(false, snapA); a.addon.setNumThreads(1); }
// 1 thread: the same norms' CPU time on the caller
const one = new Map<string, number[]>();
for (const a of arms) {
  const t: number[] = [];
  for (let r = 0; r < rounds / 4; r++) {
    linear(a.addon);
    a.addon.poolProfile(null, snapA);
    norm(a.addon, y, z);
    a.addon.poolProfile(null, snapB);
    t.push((snapB[7] - snapA[7]) / 1e3);
  }
  one.set(a.name, t);
}
const med = (xs: number[]) => { const v = [...xs].sort((p, q) => p - q); return v[v.length >> 1]; };
const report = {
  bench: 'pool-locality', date: new Date().toISOString(), load: os.loadavg(), rounds, rows, cols,
  arms: arms.map((a) => {
    const s = samples.get(a.name)!;
    return { arm: a.name, norm1TaskCpuUs: med(s.norm1Cpu), norm2TaskCpuUs: med(s.norm2Cpu), norm1MakespanUs: med(s.norm1Span), norm2MakespanUs: med(s.norm2Span),
      joinedPct: (100 * s.joined) / (2 * rounds), oneThreadCpuUs: med(one.get(a.name)!) };
  }),
};
console.log(`${report.date} pool-locality: linearFused ${rows}×${cols} then two layerNormForward, 2 threads, ${rounds} rounds; load ${report.load.map((l) => l.toFixed(2)).join(' ')}`);
console.log('| arm | norm after the GEMM: task CPU µs (both threads) | makespan µs | norm after the norm: task CPU µs | makespan µs | worker joined % | 1 thread, norm after the GEMM, CPU µs |\n|---|---:|---:|---:|---:|---:|---:|');
for (const r of report.arms) console.log(`| ${r.arm} | ${r.norm1TaskCpuUs.toFixed(1)} | ${r.norm1MakespanUs.toFixed(1)} | ${r.norm2TaskCpuUs.toFixed(1)} | ${r.norm2MakespanUs.toFixed(1)} | ${r.joinedPct.toFixed(0)} | ${r.oneThreadCpuUs.toFixed(1)} |`);
if (out) writeFileSync(out, JSON.stringify(report, null, 2));
