/**
 * The garbage collector in the training step's steady state (issue 16: the JS heap a step allocates
 * drives the scavenger, whose pauses count outside the kernels): the bench/train.ts G2P step (d 256,
 * B 64) warmed up `--warm` steps, then every collection during `--steps` steps, by kind, with its
 * pause (perf_hooks 'gc' entries: wall time, so a loaded machine stretches them).
 *
 *   HEED_NUM_THREADS=1 node --import tsx bench/js-gc-steps.ts [--warm 150] [--steps 100]
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { heedStep, makeTrainBatch } from './train.ts';
import { setNumThreads, setBackend, backendInfo } from '../src/backend/registry.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  warm: { kind: 'int', default: 150, min: 0, help: 'untimed warm-up steps (150: the JIT\'s steady state)' },
  steps: { kind: 'int', default: 100, min: 1, help: 'steps observed' },
});
if (backendInfo().nativeAvailable) setBackend('native');
setNumThreads(1);
const h = await heedStep(makeTrainBatch());
for (let i = 0; i < flags.warm; i++) h.step();
const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor (scavenge)', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};
const gcs: { kind: string; ms: number }[] = [];
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ kind: KINDS[(e as unknown as { detail: { kind: number } }).detail.kind] ?? 'other', ms: e.duration });
});
obs.observe({ entryTypes: ['gc'] });
const load0 = loadavg()[0];
for (let i = 0; i < flags.steps; i++) h.step();
await new Promise((r) => setTimeout(r, 50)); // the observer's entries arrive asynchronously
obs.disconnect();
const total = gcs.reduce((a, g) => a + g.ms, 0);
console.log(`${gcs.length} collections over ${flags.steps} steps (after ${flags.warm}); ${total.toFixed(2)} ms in all = ${(total / flags.steps).toFixed(3)} ms per step (wall); load ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}`);
for (const kind of new Set(gcs.map((g) => g.kind))) {
  const ms = gcs.filter((g) => g.kind === kind).map((g) => g.ms).sort((a, b) => a - b);
  console.log(`  ${kind}: ${ms.length}, pauses ${ms.map((x) => x.toFixed(2)).join(' ')} ms`);
}
