/**
 * How much the training step's state (operands evicted by the kernels between two GEMMs) slows its
 * GEMM calls: every sgemm, linearFused and linearBackward call of the step (bench/train.ts's heedStep,
 * d 256, batch 64, 1 thread) runs twice in place, and both runs are timed on the calling thread's CPU
 * clock; the first run meets the step's caches, the second the caches the first left (its operands
 * warm). Each call is idempotent (beta 0, no output aliases an input), so the step computes the same.
 * Prints per call shape the first and the second run's µs, their ratio, and the sums per step.
 *
 *   node --import tsx bench/gemm-step-twice.ts [--steps 8] [--out f.json]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { heedStep, makeTrainBatch, TRAIN_CONFIGS } from './train.ts';
import { k, setBackend, setNumThreads } from '../src/backend/registry.ts';
import { nativeLoad } from './native-util.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  steps: { kind: 'int', default: 8, min: 1, help: 'training steps recorded' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
if (!nativeLoad) throw new Error('bench/gemm-step-twice.ts needs the native addon (npm run build:native)');
const steps = flags.steps;
const out = flags.out;
setBackend('native');
setNumThreads(1);
type Params = Record<string, unknown>;
const table = k as unknown as Record<string, (p: Params) => unknown>;
const n = (p: Params, key: string) => p[key] as number;
const keyOf = (name: string, p: Params) =>
  name === 'sgemm' ? `sgemm ${n(p, 'm')}×${n(p, 'n')}×${n(p, 'k')} ${p.transA ? 'T' : 'N'}${p.transB ? 'T' : 'N'}`
    : name === 'linearFused' ? `linearFused ${n(p, 'rows')}×${n(p, 'outF')}×${n(p, 'inF')} NT`
      : `linearBackward ${n(p, 'rows')}×${n(p, 'inF')}×${n(p, 'outF')} NN ‖ ${n(p, 'outF')}×${n(p, 'inF')}×${n(p, 'rows')} TN`;
const acc = new Map<string, { first: number[]; again: number[] }>();
let on = false;
for (const name of ['sgemm', 'linearFused', 'linearBackward']) {
  const fn = table[name];
  table[name] = (p) => {
    if (!on) return fn(p);
    const t0 = nativeLoad!.threadCpuNs();
    fn(p);
    const t1 = nativeLoad!.threadCpuNs();
    const r = fn(p);
    const t2 = nativeLoad!.threadCpuNs();
    const e = acc.get(keyOf(name, p)) ?? { first: [], again: [] };
    e.first.push(t1 - t0);
    e.again.push(t2 - t1);
    acc.set(keyOf(name, p), e);
    return r;
  };
}
const h = await heedStep(makeTrainBatch(), TRAIN_CONFIGS[0]);
for (let i = 0; i < 3; i++) h.step();
const load0 = loadavg();
on = true;
for (let i = 0; i < steps; i++) h.step();
on = false;
const load1 = loadavg();
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
console.log(`${new Date().toISOString()} load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}; ${steps} steps, 1 thread, thread CPU clock`);
console.log('| call | calls/step | first µs | again µs | first/again |\n|---|---:|---:|---:|---:|');
const rows = [...acc.entries()].sort((a, b) => sum(b[1].first) - sum(a[1].first)).map(([key, e]) => {
  const first = sum(e.first) / e.first.length / 1e3, again = sum(e.again) / e.again.length / 1e3;
  console.log(`| ${key} | ${e.first.length / steps} | ${first.toFixed(0)} | ${again.toFixed(0)} | ${(first / again).toFixed(3)} |`);
  return { key, callsPerStep: e.first.length / steps, firstUs: first, againUs: again, samplesFirstNs: e.first, samplesAgainNs: e.again };
});
const A = sum([...acc.values()].map((e) => sum(e.first))) / steps / 1e6, B = sum([...acc.values()].map((e) => sum(e.again))) / steps / 1e6;
console.log(`per step: first ${A.toFixed(2)} ms, again ${B.toFixed(2)} ms (first/again ${(A / B).toFixed(3)})`);
if (out) {
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: `node --import tsx ${process.argv.slice(1).join(' ')}`, load: [load0, load1], steps, firstMsPerStep: A, againMsPerStep: B, rows }, null, 1) + '\n');
  console.log(`wrote ${out}`);
}
