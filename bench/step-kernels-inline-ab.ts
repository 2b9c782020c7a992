/**
 * The training step's non-GEMM kernels of two addon builds A/B'd inside the step itself (bench/train.ts's
 * heedStep, d 256 or --d 128, batch 64, 1 thread): as bench/gemm-step-ab.ts does for the GEMMs, the step runs with
 * this tree's kernels and with another addon's (--base) alternately, step by step in the order A B B A,
 * every call of the chosen kernels timed on the calling thread's CPU clock. Each A B B A quad gives one
 * paired difference per kernel (the two new steps' mean minus the two base steps'), so a load that
 * drifts over seconds (the other vCPU's sibling busy or not) hits both arms of a quad alike; the table
 * gives the medians of the arms and of the paired differences, and in how many quads new was faster.
 *
 *   node --import tsx bench/step-kernels-inline-ab.ts --base /path/to/old/heed.node [--new /path/to/new/heed.node]
 *     [--kernels a,b,…] [--steps 64] [--warm 150] [--d 256] [--out f.json]
 *
 * --kernels  the kernels to swap and time (default: every kernel of the step but the GEMMs sgemm,
 *            linearFused, linearBackward, which run this tree's in both arms).
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { heedStep, makeTrainBatch, TRAIN_CONFIGS } from './train.ts';
import { k, setBackend, setNumThreads, kernelSpecs } from '../src/backend/registry.ts';
import { nativeCall } from '../src/backend/call.ts';
import { nativeLoad } from './native-util.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  base: { kind: 'string', default: '', help: 'the old heed.node (required)' },
  new: { kind: 'string', help: 'the new heed.node (default: this process\'s addon)' },
  d: { kind: 'int', default: 256, choices: TRAIN_CONFIGS.map((c) => c.dModel), help: 'the model width (a bench/train.ts config)' },
  steps: { kind: 'int', default: 64, min: 0, help: 'timed steps (rounded to a multiple of 4, at least 4)' },
  warm: { kind: 'int', default: 150, min: 0, help: 'untimed warm-up steps' },
  kernels: { kind: 'string', default: '', help: 'comma-separated kernels to swap (default: every non-GEMM kernel)' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
if (!nativeLoad) { console.error('step-kernels-inline-ab: the native addon is not built (npm run build:native)'); process.exit(2); }
const native = nativeLoad;
const basePath = flags.base;
if (!basePath) { console.error('step-kernels-inline-ab: --base <old heed.node> is required'); process.exit(2); }
const cfg = TRAIN_CONFIGS.find((c) => c.dModel === flags.d);
if (!cfg) { console.error(`step-kernels-inline-ab: --d expects one of ${TRAIN_CONFIGS.map((c) => c.dModel).join(', ')}`); process.exit(2); }
const steps = Math.max(4, Math.round(flags.steps / 4) * 4), warm = flags.warm, out = flags.out;
type Addon = { kernels: Record<string, (...a: unknown[]) => void>; setNumThreads: (n: number) => void };
const load = (p: string) => createRequire(import.meta.url)(resolve(p)) as Addon;
const base = load(basePath);
const newPath = flags.new;
const other = newPath ? load(newPath) : null;
setBackend('native');
setNumThreads(1);
base.setNumThreads(1);
other?.setNumThreads(1);

type Kernel = (p: Record<string, unknown>) => unknown;
const table = k as unknown as Record<string, Kernel>;
const GEMMS = new Set(['sgemm', 'linearFused', 'linearBackward']);
const chosen = flags.kernels;
const names = (chosen ? chosen.split(',') : Object.keys(table).filter((n) => !GEMMS.has(n)))
  .filter((n) => typeof base.kernels[n] === 'function' && kernelSpecs().get(n) && !kernelSpecs().get(n)!.referenceOnly);
for (const n of chosen ? chosen.split(',') : []) if (!names.includes(n)) { console.error(`step-kernels-inline-ab: no native kernel ${n} in both addons`); process.exit(2); }
const arms: Record<'new' | 'base', Record<string, Kernel>> = { new: {}, base: {} };
for (const name of names) {
  arms.new[name] = other ? nativeCall(kernelSpecs().get(name)!, other.kernels[name]) as Kernel : table[name];
  arms.base[name] = nativeCall(kernelSpecs().get(name)!, base.kernels[name]) as Kernel;
}
const cpuNs = () => native.threadCpuNs();
let arm: 'new' | 'base' = 'new';
const perStep = new Map<string, number>();
for (const name of names) {
  table[name] = (p) => {
    const t0 = cpuNs();
    try { return arms[arm][name](p); } finally { perStep.set(name, (perStep.get(name) ?? 0) + cpuNs() - t0); }
  };
}
const h = await heedStep(makeTrainBatch(), cfg);
for (let i = 0; i < warm; i++) { arm = i % 2 ? 'base' : 'new'; h.step(); }
const seen = new Set<string>();
const res = { new: [] as Map<string, number>[], base: [] as Map<string, number>[] };
const stepMs = { new: [] as number[], base: [] as number[] };
const load0 = loadavg();
for (let s = 0; s < steps; s++) {
  arm = s % 4 === 0 || s % 4 === 3 ? 'new' : 'base'; // A B B A
  perStep.clear();
  const t0 = cpuNs();
  h.step();
  stepMs[arm].push((cpuNs() - t0) / 1e6);
  res[arm].push(new Map([...perStep].map(([n, ns]) => { seen.add(n); return [n, ns / 1e6]; })));
}
const load1 = loadavg();
const med = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
// quad q: new steps 2q and 2q + 1 of res.new, base steps 2q and 2q + 1 of res.base
const quads = steps / 4;
const paired = (get: (a: 'new' | 'base', i: number) => number) =>
  Array.from({ length: quads }, (_, q) => (get('new', 2 * q) + get('new', 2 * q + 1) - get('base', 2 * q) - get('base', 2 * q + 1)) / 2);
const rows = [...seen].map((n) => {
  const get = (a: 'new' | 'base', i: number) => res[a][i].get(n) ?? 0;
  const d = paired(get);
  return { kernel: n, baseMs: med(res.base.map((m) => m.get(n) ?? 0)), newMs: med(res.new.map((m) => m.get(n) ?? 0)), pairedDiffMs: med(d), newFasterQuads: d.filter((x) => x < 0).length };
}).sort((a, b) => b.baseMs - a.baseMs);
const all = paired((a, i) => [...res[a][i].values()].reduce((x, y) => x + y, 0));
const stepD = paired((a, i) => stepMs[a][i]);
console.log(`${new Date().toISOString()} load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}; d ${cfg.dModel}, 1 thread, thread CPU clock; ${steps} steps A B B A after ${warm} warm-up; base ${basePath}${newPath ? `, new ${newPath}` : ' , new this tree'}`);
console.log('| kernel | base ms/step | new ms/step | paired new − base ms | quads new faster |\n|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.kernel} | ${r.baseMs.toFixed(3)} | ${r.newMs.toFixed(3)} | ${r.pairedDiffMs >= 0 ? '+' : ''}${r.pairedDiffMs.toFixed(3)} | ${r.newFasterQuads}/${quads} |`);
console.log(`| all swapped kernels | ${med(res.base.map((m) => [...m.values()].reduce((x, y) => x + y, 0))).toFixed(3)} | ${med(res.new.map((m) => [...m.values()].reduce((x, y) => x + y, 0))).toFixed(3)} | ${med(all).toFixed(3)} | ${all.filter((x) => x < 0).length}/${quads} |`);
console.log(`| the whole step | ${med(stepMs.base).toFixed(2)} | ${med(stepMs.new).toFixed(2)} | ${med(stepD).toFixed(2)} | ${stepD.filter((x) => x < 0).length}/${quads} |`);
if (out) {
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), d: cfg.dModel, command: `node --import tsx bench/step-kernels-inline-ab.ts ${process.argv.slice(2).join(' ')}`, load: [load0, load1], steps, warm, kernels: names, rows, allPairedMs: med(all), stepPairedMs: med(stepD), stepMs, perStep: res.new.map((m, i) => ({ new: Object.fromEntries(m), base: Object.fromEntries(res.base[i]) })) }, null, 1) + '\n');
  console.log(`wrote ${out}`);
}
