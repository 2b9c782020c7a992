/**
 * The Node-API binding's cost per kernel call (native/binding.cpp): flat calls of a few kernels on
 * one-row operands (so the kernel itself does almost nothing), against a no-op native call
 * (getNumThreads), batch by batch interleaved in one process, on the main thread's CPU clock.
 * With --base <heed.node> the same calls run on a second addon too, the two arms alternating batch
 * by batch (an A/B of binding changes on the same clock).
 *
 *   node --import tsx bench/dispatch-binding.ts [--batches 200] [--base <heed.node>] [--out <file>.json]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  batches: { kind: 'int', default: 200, min: 1, help: 'timed batches per case' },
  base: { kind: 'string', default: '', help: 'another build\'s heed.node to A/B against' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
const batches = flags.batches, inner = 2000;
const req = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
type Addon = { kernels: Record<string, (...a: unknown[]) => void>; getNumThreads: () => number; threadCpuNs: () => number; setNumThreads: (n: number) => void };
const arms: { name: string; addon: Addon }[] = [{ name: 'this', addon: req(join(here, '..', 'build', 'Release', 'heed.node')) as Addon }];
const base = flags.base;
if (base) arms.unshift({ name: 'base', addon: req(base) as Addon });
for (const a of arms) a.addon.setNumThreads(1);
const f = (n: number) => new Float32Array(n);
const x = f(8), y = f(8), o = f(8), m = f(8), v = f(8), g = f(8), w = f(8), bb = f(8), mean = f(1), rstd = f(1);
const calls: Record<string, (K: Addon['kernels'], A: Addon) => void> = {
  'no-op (getNumThreads)': (_K, A) => { A.getNumThreads(); },
  'binarySame (4 args)': (K) => K.binarySame(0, x, y, o),
  'binaryBroadcast (3 int lists)': (K) => K.binaryBroadcast(0, x, [4, 1], y, [1, 0], o, [2, 4]),
  'layerNormForward (8 args)': (K) => K.layerNormForward(x, w, bb, o, mean, rstd, 1, 8, 1e-5),
  'adamwStep (10 args)': (K) => K.adamwStep(o, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 0.01, 1),
};
const res: Record<string, number[]> = {};
const load0 = loadavg();
for (let b = -20; b < batches; b++) {
  for (const arm of arms) {
    for (const [name, call] of Object.entries(calls)) {
      const K = arm.addon.kernels, A = arm.addon;
      const t0 = A.threadCpuNs();
      for (let i = 0; i < inner; i++) call(K, A);
      const t = (A.threadCpuNs() - t0) / inner;
      if (b >= 0) (res[`${arm.name}: ${name}`] ??= []).push(t);
    }
  }
}
const q = (xs: number[], p: number) => [...xs].sort((u, w2) => u - w2)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
console.log(`${new Date().toISOString()} load ${load0[0].toFixed(2)} → ${loadavg()[0].toFixed(2)}; ${batches} batches of ${inner} calls, main-thread CPU ns per call`);
console.log('| arm: call | p25 | p50 | p90 |\n|---|---:|---:|---:|');
const rows = Object.entries(res).map(([k, xs]) => ({ call: k, p25: q(xs, 0.25), p50: q(xs, 0.5), p90: q(xs, 0.9) }));
for (const r of rows) console.log(`| ${r.call} | ${r.p25.toFixed(0)} | ${r.p50.toFixed(0)} | ${r.p90.toFixed(0)} |`);
const out = flags.out;
if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: process.argv.slice(1).join(' '), load: [load0, loadavg()], batches, inner, rows }, null, 1));
