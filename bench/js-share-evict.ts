/**
 * Why the training step's JavaScript costs what it costs: the d 256 G2P step (bench/train.ts) with its
 * kernels replaced, measured on the main thread's CPU clock with the kernels' own time left out.
 *
 *   noop       every kernel returns at once: the JS alone, with its code and objects in cache
 *   evict<N>   every kernel streams through an N MB buffer instead (and does nothing else): the JS after
 *              an eviction of the caches, as after a real kernel, without the kernel's arithmetic
 *   real       the kernels themselves
 *
 * The three arms alternate round by round in one process; the step's values are garbage in the noop
 * and evict arms (only the JS matters there). If `real` reads like `evict16` and far above `noop`, the
 * JS between kernels is bound by refetching its code and data from memory after each kernel, and what
 * cuts it is touching less (fewer ops, or running the JS back to back: src/backend/registry.ts
 * deferKernels), not fewer instructions.
 *
 *   HEED_NUM_THREADS=1 node --import tsx bench/js-share-evict.ts [--rounds 4] [--steps 12] [--mb 1,4,16] [--out f.json]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { heedStep, makeTrainBatch } from './train.ts';
import { k, setBackend, setNumThreads } from '../src/backend/registry.ts';
import { nativeLoad } from './native-util.ts';
import { median } from './peers/common.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  rounds: { kind: 'int', default: 4, min: 1, help: 'interleaved rounds' },
  steps: { kind: 'int', default: 12, min: 1, help: 'timed training steps per arm' },
  mb: { kind: 'numbers', default: [1, 4, 16], min: 0, help: 'MB of cache evicted between steps, per arm' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
if (!nativeLoad) throw new Error('bench/js-share-evict.ts needs the native addon (npm run build:native)');
setBackend('native');
setNumThreads(1);
const rounds = flags.rounds, steps = flags.steps, out = flags.out;
const sizes = flags.mb;
const cpuNs = () => nativeLoad!.threadCpuNs();

const h = await heedStep(makeTrainBatch());
for (let i = 0; i < 3; i++) h.step();
const table = k as unknown as Record<string, (p: unknown) => void>;
const real = { ...table };
let kernelNs = 0;
const buffers = new Map(sizes.map((mb) => [mb, new Float64Array(mb * 131072)]));
const evictor = (buf: Float64Array) => () => {
  const t0 = cpuNs();
  let s = 0;
  for (let i = 0; i < buf.length; i += 8) s += buf[i]; // one load per 64-byte line
  buf[0] = s * 0;
  kernelNs += cpuNs() - t0;
};
const arms: [string, (name: string) => (p: unknown) => void][] = [
  ['noop', () => () => undefined],
  ...sizes.map((mb): [string, (name: string) => (p: unknown) => void] => [`evict${mb}`, () => evictor(buffers.get(mb)!)]),
  ['real', (name) => (p) => { const t0 = cpuNs(); real[name](p); kernelNs += cpuNs() - t0; }],
];
const js = new Map<string, number[]>(arms.map(([a]) => [a, []]));
const loads = [loadavg()[0]];
for (let r = 0; r < rounds; r++) {
  for (const [arm, make] of r % 2 === 0 ? arms : [...arms].reverse()) {
    for (const name of Object.keys(real)) table[name] = make(name);
    for (let i = 0; i < 2; i++) h.step(); // settle
    for (let i = 0; i < steps; i++) {
      kernelNs = 0;
      const c0 = cpuNs();
      h.step();
      js.get(arm)!.push((cpuNs() - c0 - kernelNs) / 1e6);
    }
  }
  loads.push(loadavg()[0]);
}
Object.assign(table, real);
const summary = arms.map(([arm]) => ({ arm, jsMsMedian: median(js.get(arm)!), steps: js.get(arm)!.length }));
console.log(`JS per d 256 step, main-thread CPU, kernels' own time left out (medians of ${rounds} × ${steps} steps; load ${loads.map((l) => l.toFixed(1)).join(' → ')})`);
for (const s of summary) console.log(`${s.arm.padEnd(8)} ${s.jsMsMedian.toFixed(2)} ms`);
if (out) {
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: `HEED_NUM_THREADS=1 node --import tsx bench/js-share-evict.ts ${process.argv.slice(2).join(' ')}`, loads, summary, samples: Object.fromEntries(js) }, null, 1));
  console.log(`wrote ${out}`);
}
