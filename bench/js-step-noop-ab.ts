/**
 * The training step's JavaScript alone, this tree against another checkout, in ONE process (issue 16):
 * as bench/js-step-ab.ts, each tree's module graph loaded on its own (`--base <dir>`) and its bench/train.ts
 * G2P step (d 256, B 64) built, but after one real step every kernel of both trees is a no-op (values are
 * garbage from then on; no JS of the step reads them), so what is timed is the step's own JS with its code
 * and objects in cache: the instructions and allocations a change removes, without the cache misses and
 * the load's noise that the real step adds (bench/js-step-ab.ts measures those, with the kernels).
 * `--warm` steps per tree, then `--rounds` rounds of `--steps` steps per tree, the order rotating every
 * round; process CPU time per step, medians over rounds, and the median of the rounds' paired differences.
 *
 *   HEED_NUM_THREADS=1 node --import tsx bench/js-step-noop-ab.ts --base /tmp/heed-main [--first base|this] [--warm 300] [--rounds 15] [--steps 200] [--out f.json]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { readArgs } from './args.ts';
import { median } from './peers/common.ts';

const flags = readArgs(import.meta.url, {
  base: { kind: 'string', default: '/tmp/heed-main', help: 'the other checkout of heed (src/, bench/ and its build/Release/heed.node)' },
  warm: { kind: 'int', default: 300, min: 0, help: 'untimed no-op-kernel steps per tree (the JIT\'s steady state)' },
  rounds: { kind: 'int', default: 15, min: 1, help: 'interleaved rounds' },
  steps: { kind: 'int', default: 200, min: 1, help: 'timed steps per tree per round' },
  first: { kind: 'string', default: 'base', choices: ['base', 'this'], help: 'which tree is loaded (and warmed) first: run both ways, the order itself moves the figures by ~20 µs' },
  out: { kind: 'string', default: '', help: 'also write the rounds and medians here (JSON)' },
});
const here = resolve(import.meta.dirname, '..');
const base = resolve(flags.base);

interface Arm { name: string; step: () => void }

async function load(name: string, dir: string): Promise<Arm> {
  const reg = await import(`${dir}/src/backend/registry.ts`);
  reg.setBackend('native');
  reg.setNumThreads(1);
  const train = await import(`${dir}/bench/train.ts`);
  const step = (await train.heedStep(train.makeTrainBatch())).step as () => void;
  step(); // one real step: every buffer allocated once, the optimizer's state made
  const table = reg.k as Record<string, unknown>;
  for (const kname of Object.keys(table)) table[kname] = () => undefined;
  return { name, step };
}

const arms = flags.first === 'base' ? [await load('base', base), await load('this', here)] : [await load('this', here), await load('base', base)];
const loadBefore = loadavg();
for (let i = 0; i < flags.warm; i++) for (const a of arms) a.step();
const rows: { round: number; tree: string; stepUs: number }[] = [];
for (let r = 0; r < flags.rounds; r++) {
  for (let j = 0; j < 2; j++) {
    const a = arms[(r + j) % 2];
    const t0 = process.cpuUsage();
    for (let s = 0; s < flags.steps; s++) a.step();
    const t = process.cpuUsage(t0);
    rows.push({ round: r, tree: a.name, stepUs: (t.user + t.system) / flags.steps });
  }
}
const of = (tree: string) => rows.filter((x) => x.tree === tree).map((x) => x.stepUs);
const diffs = Array.from({ length: flags.rounds }, (_, r) => rows.find((x) => x.round === r && x.tree === 'this')!.stepUs - rows.find((x) => x.round === r && x.tree === 'base')!.stepUs);
const summary = { baseUs: median(of('base')), thisUs: median(of('this')), pairedDiffUs: median(diffs), lowerRounds: diffs.filter((d) => d < 0).length };
console.log(`base: ${summary.baseUs.toFixed(1)} µs CPU per step of JS (no-op kernels), this: ${summary.thisUs.toFixed(1)} µs (medians of ${flags.rounds} rounds × ${flags.steps} steps)`);
console.log(`this − base, median of the rounds' paired differences: ${summary.pairedDiffUs.toFixed(1)} µs (${summary.lowerRounds} of ${flags.rounds} rounds lower); load ${loadBefore.map((l) => l.toFixed(1)).join(' ')} → ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
if (flags.out) {
  writeFileSync(flags.out, JSON.stringify({ command: process.argv.slice(1).join(' '), date: new Date().toISOString(), base, here, clock: 'process CPU time (process.cpuUsage)', loadavgBefore: loadBefore, loadavgAfter: loadavg(), summary, rows }, null, 2) + '\n');
  console.log(`wrote ${flags.out}`);
}
