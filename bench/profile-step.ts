/**
 * Where a training step's time goes: wraps every kernel of the active backend with a timer and
 * runs the bench/train.ts step (the G2P demo model, batch 64). Kernel time is split by name; the
 * rest of the step (autograd, allocation, op dispatch in JS) is reported as "outside kernels".
 *
 *   node --import tsx bench/profile-step.ts [--threads 1] [--steps 10]
 */
import { heedStep, makeTrainBatch } from './train.ts';
import { k, setBackend, setNumThreads, backendInfo } from '../src/backend/registry.ts';
import { timeKernelCalls } from './native-util.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
if (backendInfo().nativeAvailable) setBackend('native');
setNumThreads(arg('threads', 1));
const steps = arg('steps', 10);

const timer = timeKernelCalls(k);

const h = await heedStep(makeTrainBatch());
for (let i = 0; i < 3; i++) h.step();
timer.on = true;
const t0 = performance.now();
for (let i = 0; i < steps; i++) h.step();
const total = (performance.now() - t0) / steps;
timer.on = false;
const rows = [...timer.time.entries()].map(([n, e]) => ({ n, ms: e.ms / steps, calls: e.calls / steps })).sort((a, b) => b.ms - a.ms);
const inKernels = rows.reduce((s, r) => s + r.ms, 0);
console.log(`step ${total.toFixed(1)} ms (${backendInfo().backend}, ${backendInfo().threads} thread(s)); kernels ${inKernels.toFixed(1)} ms, outside kernels ${(total - inKernels).toFixed(1)} ms`);
console.log('| kernel | ms/step | calls/step | share |\n|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.n} | ${r.ms.toFixed(2)} | ${r.calls.toFixed(0)} | ${((100 * r.ms) / total).toFixed(1)}% |`);
