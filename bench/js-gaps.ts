/**
 * The training step's JavaScript gap by gap: every kernel call bracketed by the main thread's CPU
 * clock, and the JS between two consecutive kernel calls (or part boundaries) listed with its
 * neighbours, medians over steps. Shows which stretch of JS is left, and whether it runs right
 * after a kernel (cold) or inside a deferred stretch (warm).
 *
 *   node --import tsx bench/js-gaps.ts [--threads 1] [--steps 12] [--warm 3] [--top 30]
 *
 * --warm 150 measures the JIT's steady state (V8 optimizes the step's JS after 100–160 steps).
 */
import { heedStep, makeTrainBatch } from './train.ts';
import { k, setBackend, setNumThreads } from '../src/backend/registry.ts';
import { nativeLoad } from './native-util.ts';
import { median } from './peers/common.ts';
import { stepScope } from '../src/train/step-memory.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  threads: { kind: 'int', default: 1, min: 1, help: 'pool threads' },
  steps: { kind: 'int', default: 12, min: 1, help: 'timed training steps' },
  warm: { kind: 'int', default: 3, min: 0, help: 'untimed warm-up steps' },
  top: { kind: 'int', default: 30, min: 1, help: 'largest gaps listed' },
  kernels: { kind: 'string', default: 'real', choices: ['real', 'noop'], help: 'noop: every kernel returns at once (the JS alone, in cache; values are garbage)' },
  prof: { kind: 'string', default: '', help: 'also write a V8 CPU profile of the steps here' },
  series: { kind: 'bool', help: 'print the per-step gap totals over the run' },
});
if (!nativeLoad) throw new Error('needs the native addon');
setBackend('native');
setNumThreads(flags.threads);
const steps = flags.steps, top = flags.top;
/** --kernels noop: every kernel returns at once (the JS alone, in cache; values are garbage). */
const noop = flags.kernels === 'noop';
const cpuNs = () => nativeLoad!.threadCpuNs();

let events: { name: string; t0: number; t1: number }[] = [];
let on = false;
const table = k as unknown as Record<string, (p: unknown) => unknown>;
const real = { ...table };
for (const name of Object.keys(table)) {
  const fn = noop ? () => undefined : table[name];
  table[name] = (p: unknown) => {
    if (!on) return fn(p);
    const t0 = cpuNs();
    try { return fn(p); } finally { events.push({ name, t0, t1: cpuNs() }); }
  };
}
const mark = (name: string) => { const t = cpuNs(); events.push({ name: `|${name}`, t0: t, t1: t }); };
if (noop) for (const name of Object.keys(table)) { const wrapped = table[name]; table[name] = (p: unknown) => (on ? wrapped(p) : real[name](p)); }
const h = await heedStep(makeTrainBatch());
const gaps = new Map<string, number[]>();
const totals: number[] = [];
const profPath = flags.prof;
const session = new Session();
let profCpu = 0;
for (let s = -flags.warm; s < steps; s++) {
  if (s === 0 && profPath) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 50 });
    await session.post('Profiler.start');
    profCpu = cpuNs();
  }
  events = [];
  on = true;
  mark('open');
  const scope = stepScope(h.model, h.opt);
  h.opt.zeroGrad();
  mark('forward');
  const loss: Tensor = h.lossOf();
  mark('backward');
  loss.backward();
  mark('optim');
  h.opt.step();
  mark('close');
  scope.close();
  mark('end');
  on = false;
  if (s < 0) continue;
  const seen = new Map<string, number>();
  let tot = 0;
  for (let i = 1; i < events.length; i++) {
    const a = events[i - 1], b = events[i];
    const base = `${a.name} → ${b.name}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const key = `${base} #${n}`;
    const g = (b.t0 - a.t1) / 1e3;
    tot += g;
    if (!gaps.has(key)) gaps.set(key, []);
    gaps.get(key)!.push(g);
  }
  totals.push(tot);
}
if (profPath) {
  const ms = (cpuNs() - profCpu) / 1e6;
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(profPath, JSON.stringify(profile));
  writeFileSync(`${profPath}.json`, JSON.stringify({ workload: 'step', iters: steps, cpuMsPerIter: ms / steps }));
}
if (flags.series) {
  const bin = Math.max(1, Math.floor(totals.length / 12));
  const parts: string[] = [];
  for (let i = 0; i < totals.length; i += bin) parts.push(`${i}:${(median(totals.slice(i, i + bin)) / 1e3).toFixed(2)}`);
  console.log(`JS ms per step by step index (median of ${bin}): ${parts.join(' ')}`);
}
const rows = [...gaps].map(([key, v]) => ({ key, us: median(v) })).sort((a, b) => b.us - a.us);
console.log(`JS between kernels (incl. the timing wrapper), median per step: ${(median(totals) / 1e3).toFixed(2)} ms; ${rows.length} gaps`);
let sum = 0;
for (const r of rows) sum += r.us;
console.log(`sum of gap medians ${(sum / 1e3).toFixed(2)} ms`);
for (const r of rows.slice(0, top)) console.log(`${r.us.toFixed(1).padStart(8)} µs  ${r.key}`);
