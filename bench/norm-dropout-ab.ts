/**
 * layerNormBackwardDropout at the G2P step's shapes (rows 704 and 768 × 256, with and without the
 * pre-norm residual gradient dxAdd, and dz: the step's 10 calls), old addon
 * against this tree's, interleaved round by round in one process on the process CPU clock, one
 * thread, on warm operands (one buffer set, in L2) and cold ones (a ring of sets larger than the
 * last-level cache, as in the step). The kernel bench/step-kernels-ab.ts does not cover.
 *
 *   node --import tsx bench/norm-dropout-ab.ts --old /path/to/old/heed.node [--rounds 15] [--out file.json]
 *
 * Both addons are called through this tree's specs: the old one must take the same arguments (the
 * dz bias sums, dzBias, were removed in the twelfth session, so a build before that one does not).
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { cpuNowMs, filled, loadKernelArm, type KernelArm } from './native-util.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  old: { kind: 'string', default: '', help: 'the old heed.node (required)' },
  rounds: { kind: 'int', default: 15, min: 1, help: 'interleaved rounds' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
const oldPath = flags.old;
if (!oldPath) { console.error('norm-dropout-ab: --old <path to the old heed.node> is required'); process.exit(2); }
const rounds = flags.rounds;

type Kern = KernelArm;
const arm = loadKernelArm;
const arms = { old: arm(oldPath), new: arm(null) };

const D = 256;
const makeSet = (R: number, seed: number) => ({
  x: filled(R * D, seed), dy: filled(R * D, seed + 1), dxAdd: filled(R * D, seed + 2), dx: new Float32Array(R * D), dz: new Float32Array(R * D),
  w: filled(D, seed + 3), mean: filled(R, seed + 4), rstd: new Float32Array(R).fill(1.1), dw: new Float32Array(D), db: new Float32Array(D),
});
type Set = ReturnType<typeof makeSet>;
const cases = [704, 768].flatMap((R) => [true, false].map((add) => ({
  name: `layerNormBackwardDropout ${R}×${D}${add ? ' +dxAdd' : ''}`, bytes: 4 * R * D * (add ? 5 : 4),
  warm: [makeSet(R, 1)], cold: Array.from({ length: 8 }, (_, i) => makeSet(R, 10 * i + 7)),
  run: (k: Kern, s: Set) => k.layerNormBackwardDropout({
    x: s.x, weight: s.w, mean: s.mean, rstd: s.rstd, dy: s.dy, dyAdd: null, dx: s.dx, dxAdd: add ? s.dxAdd : null,
    dweight: s.dw, dbias: s.db, rows: R, cols: D, dz: s.dz, p: 0.1, seed: 12345,
  }),
})));

// the two addons' outputs compared first (they may differ in the last bits where the compiler contracts
// a different multiply-add into an FMA; the tests hold each to the reference within its tolerance)
const OUTS = ['dx', 'dz', 'dweight', 'dbias'];
for (const c of cases) {
  const out = (['old', 'new'] as const).map((a) => { const s = makeSet(c.warm[0].x.length / D, 3); c.run(arms[a], s); return [s.dx, s.dz, s.dw, s.db]; });
  out[0].forEach((v, i) => { let d = 0, n = 0; v.forEach((x, j) => { const e = Math.abs(x - out[1][i][j]); if (e > 0) n++; d = Math.max(d, e / Math.max(1e-6, Math.abs(x))); }); if (n) console.log(`${c.name}: ${OUTS[i]}: ${n} of ${v.length} values differ between the addons, max relative difference ${d.toExponential(2)}`); });
}
const samples: Record<string, { old: number[]; new: number[] }> = {};
const reps = 16;
for (let r = 0; r < rounds; r++) {
  for (const c of cases) for (const temp of ['warm', 'cold'] as const) {
    const sets = c[temp], key = `${c.name} (${temp})`;
    samples[key] ??= { old: [], new: [] };
    for (const a of r % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const)) {
      for (const s of sets) c.run(arms[a], s);
      const t0 = cpuNowMs();
      for (let i = 0; i < reps; i++) c.run(arms[a], sets[i % sets.length]);
      samples[key][a].push((cpuNowMs() - t0) / reps);
    }
  }
}
const med = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
const rows = Object.entries(samples).map(([key, s]) => {
  const c = cases.find((x) => key.startsWith(x.name + ' ('))!;
  const o = med(s.old), n = med(s.new);
  const wins = s.old.filter((x, i) => s.new[i] < x).length;
  return { kernel: key, bytesPerCall: c.bytes, oldUs: +(o * 1000).toFixed(1), newUs: +(n * 1000).toFixed(1), oldGBs: +(c.bytes / o / 1e6).toFixed(1), newGBs: +(c.bytes / n / 1e6).toFixed(1), speedup: +(o / n).toFixed(3), newFasterRounds: wins };
});
console.log(`old ${oldPath} vs new (this tree), 1 thread, CPU clock, median of ${rounds} interleaved rounds; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('| call | old µs | new µs | old GB/s | new GB/s | old / new | rounds new faster |\n|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.kernel} | ${r.oldUs} | ${r.newUs} | ${r.oldGBs} | ${r.newGBs} | ${r.speedup}× | ${r.newFasterRounds}/${rounds} |`);
if (flags.out) writeFileSync(flags.out, JSON.stringify({ command: process.argv.slice(1).join(' '), date: new Date().toISOString(), loadavg: os.loadavg(), cpu: os.cpus()[0]?.model, rounds, rows }, null, 2) + '\n');
