/**
 * The training step's JavaScript outside kernels, this tree against another checkout (issue 16),
 * in ONE process: each tree's module graph loaded on its own (`--base <dir>`: a copy of src/ and
 * bench/ with a build/Release/heed.node), the bench/train.ts G2P step (d 256, B 64) of each warmed up
 * to the JIT's steady state (`--warm` steps each, interleaved), then `--rounds` rounds of `--steps`
 * steps per tree, the order of the trees rotating every round. Every kernel of both trees is wrapped
 * with the main thread's CPU clock (as bench/profile-step.ts --cpu, same wrapper in both), so a step
 * splits into kernels and "outside kernels"; both trees see the same machine load minute by minute.
 *
 *   HEED_NUM_THREADS=1 node --import tsx bench/js-step-ab.ts --base /tmp/heed-main [--warm 150] [--rounds 8] [--steps 8] [--threads 1] [--out f.json]
 *
 * Prints and writes per tree the medians over rounds of: step CPU ms, kernels ms, outside kernels ms
 * (each round's value is the mean over its steps), and the paired difference per round.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { readArgs } from './args.ts';
import { median } from './peers/common.ts';

const flags = readArgs(import.meta.url, {
  base: { kind: 'string', default: '/tmp/heed-main', help: 'the other checkout of heed (src/, bench/ and its build/Release/heed.node)' },
  warm: { kind: 'int', default: 150, min: 0, help: 'untimed warm-up steps per tree (150: the JIT\'s steady state)' },
  rounds: { kind: 'int', default: 8, min: 1, help: 'interleaved rounds' },
  steps: { kind: 'int', default: 8, min: 1, help: 'timed steps per tree per round' },
  threads: { kind: 'int', default: 1, min: 1, help: 'pool threads' },
  out: { kind: 'string', default: '', help: 'also write the rounds and medians here (JSON)' },
});
const here = resolve(import.meta.dirname, '..');
const base = resolve(flags.base);

interface Arm { name: string; step: () => void; kernelNs: number }
const cpuNs = { fn: (): number => Number(process.hrtime.bigint()) };

async function load(name: string, dir: string): Promise<Arm> {
  const reg = await import(`${dir}/src/backend/registry.ts`);
  reg.setBackend('native');
  reg.setNumThreads(flags.threads);
  const { nativeLoad } = await import(`${dir}/bench/native-util.ts`);
  cpuNs.fn = () => nativeLoad.threadCpuNs();
  const arm: Arm = { name, step: () => undefined, kernelNs: 0 };
  const table = reg.k as Record<string, (p: unknown) => unknown>;
  for (const kname of Object.keys(table)) {
    const fn = table[kname];
    table[kname] = (p: unknown) => {
      const t0 = cpuNs.fn();
      try { return fn(p); } finally { arm.kernelNs += cpuNs.fn() - t0; }
    };
  }
  const train = await import(`${dir}/bench/train.ts`);
  arm.step = (await train.heedStep(train.makeTrainBatch())).step as () => void;
  return arm;
}

const arms = [await load('base', base), await load('this', here)];
const loadBefore = loadavg();
for (let i = 0; i < flags.warm; i++) for (const a of arms) a.step();
const rows: { round: number; tree: string; stepMs: number; kernelMs: number; outsideMs: number }[] = [];
for (let r = 0; r < flags.rounds; r++) {
  for (let j = 0; j < 2; j++) {
    const a = arms[(r + j) % 2];
    a.kernelNs = 0;
    const t0 = cpuNs.fn();
    for (let s = 0; s < flags.steps; s++) a.step();
    const stepMs = (cpuNs.fn() - t0) / 1e6 / flags.steps, kernelMs = a.kernelNs / 1e6 / flags.steps;
    rows.push({ round: r, tree: a.name, stepMs, kernelMs, outsideMs: stepMs - kernelMs });
  }
}
const of = (tree: string, key: 'stepMs' | 'kernelMs' | 'outsideMs') => rows.filter((x) => x.tree === tree).map((x) => x[key]);
const diffs = (key: 'stepMs' | 'outsideMs') => Array.from({ length: flags.rounds }, (_, r) => {
  const b = rows.find((x) => x.round === r && x.tree === 'base')!, t = rows.find((x) => x.round === r && x.tree === 'this')!;
  return t[key] - b[key];
});
const summary = {
  base: { stepMs: median(of('base', 'stepMs')), kernelMs: median(of('base', 'kernelMs')), outsideMs: median(of('base', 'outsideMs')) },
  this: { stepMs: median(of('this', 'stepMs')), kernelMs: median(of('this', 'kernelMs')), outsideMs: median(of('this', 'outsideMs')) },
  pairedOutsideDiffMs: median(diffs('outsideMs')), pairedStepDiffMs: median(diffs('stepMs')),
};
for (const t of ['base', 'this'] as const) console.log(`${t.padEnd(4)}: step ${summary[t].stepMs.toFixed(2)} ms CPU, kernels ${summary[t].kernelMs.toFixed(2)}, outside kernels ${summary[t].outsideMs.toFixed(3)} ms (medians of ${flags.rounds} rounds × ${flags.steps} steps)`);
console.log(`this − base, median of the rounds' paired differences: outside kernels ${summary.pairedOutsideDiffMs.toFixed(3)} ms, step ${summary.pairedStepDiffMs.toFixed(2)} ms; load ${loadBefore.map((l) => l.toFixed(1)).join(' ')} → ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
if (flags.out) {
  writeFileSync(flags.out, `${JSON.stringify({ command: `HEED_NUM_THREADS=${flags.threads} node --import tsx bench/js-step-ab.ts ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(), base, here, clock: 'main thread CPU time (threadCpuNs)', loadavgBefore: loadBefore, loadavgAfter: loadavg(), summary, rows }, null, 2)}\n`);
}
