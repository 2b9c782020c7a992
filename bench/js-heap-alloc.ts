/**
 * What the training step allocates on the JS heap, by the function that allocates it (issue 16: the
 * step's objects drive the scavenger, whose pauses count outside the kernels). V8's sampling heap
 * profiler (node:inspector, objects later collected by minor and major GCs included) over `--steps`
 * steps of the bench/train.ts G2P step (d 256, B 64) after `--warm` steps; a builtin (Set.add,
 * Array.slice, ...) is listed with the function that called it.
 *
 *   HEED_NUM_THREADS=1 node --import tsx bench/js-heap-alloc.ts [--warm 150] [--steps 16] [--interval 256] [--top 40]
 */
import { Session } from 'node:inspector/promises';
import { heedStep, makeTrainBatch } from './train.ts';
import { setNumThreads, setBackend, backendInfo } from '../src/backend/registry.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  warm: { kind: 'int', default: 150, min: 0, help: 'untimed warm-up steps (150: the JIT\'s steady state)' },
  steps: { kind: 'int', default: 16, min: 1, help: 'sampled training steps' },
  interval: { kind: 'int', default: 256, min: 1, help: 'the sampler\'s mean bytes between samples' },
  top: { kind: 'int', default: 40, min: 1, help: 'functions listed' },
});
if (backendInfo().nativeAvailable) setBackend('native');
setNumThreads(1);
const h = await heedStep(makeTrainBatch());
for (let i = 0; i < flags.warm; i++) h.step();
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', { samplingInterval: flags.interval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
for (let i = 0; i < flags.steps; i++) h.step();
const { profile } = await session.post('HeapProfiler.stopSampling');
session.disconnect();
interface Node { callFrame: { functionName: string; url: string }; selfSize: number; children: Node[] }
const bytes = new Map<string, number>();
let total = 0;
const visit = (n: Node, caller: string): void => {
  const own = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*?\/(src|bench)\//, '$1/')}`.trim();
  const key = n.callFrame.url === '' ? `${own} < ${caller}` : own;
  bytes.set(key, (bytes.get(key) ?? 0) + n.selfSize);
  total += n.selfSize;
  for (const c of n.children) visit(c, own);
};
visit(profile.head as Node, '');
console.log(`JS heap allocated (sampled), per step: ${(total / flags.steps / 1024).toFixed(1)} KB over ${flags.steps} steps after ${flags.warm}`);
console.log('| function (builtin < caller) | KB/step |\n|---|---:|');
for (const [key, b] of [...bytes].sort((x, y) => y[1] - x[1]).slice(0, flags.top)) console.log(`| ${key} | ${(b / flags.steps / 1024).toFixed(1)} |`);
