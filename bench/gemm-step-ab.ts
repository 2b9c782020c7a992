/**
 * The training step's GEMM kernels (sgemm, linearFused, linearBackward) of two addon builds A/B'd
 * inside the step itself (bench/train.ts's heedStep, d 256, batch 64, 1 thread): the step runs with
 * this tree's kernels and with an older addon's (--base) alternately, step by step in the order
 * A B B A, and every GEMM call is timed on the calling thread's CPU clock. The operands arrive as the
 * step leaves them (evicted or not by the kernels in between), which a replay of the calls back to
 * back does not reproduce. Prints per arm the medians over steps of the GEMMs' CPU ms per step (in
 * all and per kernel) and the whole step's CPU ms. First, a loss check: 8 steps from the same seed
 * on each arm alone; when both arms do the same arithmetic, their losses are the same bits.
 *
 *   node --import tsx bench/gemm-step-ab.ts --base /path/to/old/heed.node [--new /path/to/new/heed.node] [--steps 24] [--threads 1] [--out f.json]
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { heedStep, makeTrainBatch, TRAIN_CONFIGS } from './train.ts';
import { k, setBackend, setNumThreads, kernelSpecs } from '../src/backend/registry.ts';
import { nativeCall } from '../src/backend/call.ts';
import { nativeLoad } from './native-util.ts';
import { median } from './peers/common.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  base: { kind: 'string', default: '', help: 'the old heed.node (required)' },
  steps: { kind: 'int', default: 24, min: 1, help: 'training steps per arm' },
  threads: { kind: 'int', default: 1, min: 1, help: 'pool threads' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
  new: { kind: 'string', default: '', help: 'the other arm from another addon file too (an A/A check with a copy of --base)' },
});
if (!nativeLoad) throw new Error('bench/gemm-step-ab.ts needs the native addon (npm run build:native)');
const basePath = flags.base;
if (!basePath) throw new Error('bench/gemm-step-ab.ts: --base <old heed.node> is required');
const steps = flags.steps;
const threads = flags.threads;
const out = flags.out;
const base = createRequire(import.meta.url)(resolve(basePath)) as Record<string, unknown>;
// --new: the other arm from another addon file too (an A/A check with a copy of --base)
const newPath = flags.new;
const other = newPath ? createRequire(import.meta.url)(resolve(newPath)) as Record<string, unknown> : null;
if (other) (other.setNumThreads as (n: number) => void)(threads);
setBackend('native');
setNumThreads(threads);
(base.setNumThreads as (n: number) => void)(threads);

type Kernel = (p: Record<string, unknown>) => unknown;
const table = k as unknown as Record<string, Kernel>;
const NAMES = ['sgemm', 'linearFused', 'linearBackward'];
const arms: Record<string, Record<string, Kernel>> = { new: {}, base: {} };
for (const name of NAMES) {
  arms.new[name] = other ? nativeCall(kernelSpecs().get(name)!, (other.kernels as Record<string, (...a: unknown[]) => void>)[name]) as Kernel : table[name];
  arms.base[name] = nativeCall(kernelSpecs().get(name)!, (base.kernels as Record<string, (...a: unknown[]) => void>)[name]) as Kernel;
}
// the thread CPU clock at 1 thread (all the work on this thread); the process clock at more
const cpuNs = threads === 1 ? () => nativeLoad!.threadCpuNs() : () => { const u = process.cpuUsage(); return (u.user + u.system) * 1e3; };
let arm = 'new';
const perStep = new Map<string, number>();
for (const name of NAMES) {
  table[name] = (p) => {
    const t0 = cpuNs();
    try { return arms[arm][name](p); } finally { perStep.set(name, (perStep.get(name) ?? 0) + cpuNs() - t0); }
  };
}
// The loss check: the step from the same seed, 8 steps on one arm, then on the other: the same losses, bit for bit
const lossCheck: Record<string, number[]> = {};
for (const a of ['base', 'new']) {
  arm = a;
  const hc = await heedStep(makeTrainBatch(), TRAIN_CONFIGS[0]);
  lossCheck[a] = [];
  for (let i = 0; i < 8; i++) { hc.step(); lossCheck[a].push(hc.loss()); }
}
const lossSame = lossCheck.base.every((x, i) => Object.is(x, lossCheck.new[i]));
const h = await heedStep(makeTrainBatch(), TRAIN_CONFIGS[0]);
for (let i = 0; i < 4; i++) { arm = i % 2 ? 'base' : 'new'; h.step(); }
const res: Record<string, { step: number[]; gemm: number[]; perKernel: Record<string, number[]>; loss: number[] }> = {};
for (const a of ['new', 'base']) res[a] = { step: [], gemm: [], perKernel: Object.fromEntries(NAMES.map((n) => [n, []])), loss: [] };
const load0 = loadavg();
for (let s = 0; s < steps; s++) {
  arm = [0, 3].includes(s % 4) ? 'new' : 'base';  // A B B A
  perStep.clear();
  const t0 = cpuNs();
  h.step();
  const t = cpuNs() - t0;
  const loss = h.loss();
  const r = res[arm];
  r.step.push(t / 1e6);
  r.gemm.push([...perStep.values()].reduce((x, y) => x + y, 0) / 1e6);
  for (const n of NAMES) r.perKernel[n].push((perStep.get(n) ?? 0) / 1e6);
  r.loss.push(loss);
}
const load1 = loadavg();
console.log(`${new Date().toISOString()} load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}; ${threads} thread(s); ${steps} steps A B B A; base ${basePath}${newPath ? `, new ${newPath}` : ''}`);
console.log('| arm | step CPU ms | GEMM CPU ms | ' + NAMES.join(' ms | ') + ' ms |');
console.log('|---|---:|---:|' + NAMES.map(() => '---:|').join(''));
for (const a of ['base', 'new']) {
  const r = res[a];
  console.log(`| ${a} | ${median(r.step).toFixed(2)} | ${median(r.gemm).toFixed(2)} | ${NAMES.map((n) => median(r.perKernel[n]).toFixed(2)).join(' | ')} |`);
}
console.log(`loss check, 8 steps from the same seed on each arm: ${lossSame ? 'the same bits' : 'DIFFERENT'} (base ${lossCheck.base.map((x) => x.toFixed(6)).join(' ')}; new ${lossCheck.new.map((x) => x.toFixed(6)).join(' ')})`);
console.log(`new/base: step ${(median(res.new.step) / median(res.base.step)).toFixed(3)}, GEMMs ${(median(res.new.gemm) / median(res.base.gemm)).toFixed(3)} (${(median(res.new.gemm) - median(res.base.gemm)).toFixed(2)} ms)`);
if (out) {
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: `node --import tsx ${process.argv.slice(1).join(' ')}`, load: [load0, load1], threads, steps, lossCheck, lossSame, res }, null, 1) + '\n');
  console.log(`wrote ${out}`);
}
