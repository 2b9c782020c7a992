/**
 * The training step's storage-scope close, part by part, this tree against another checkout (issue
 * 16), in ONE process: each tree's bench/train.ts G2P step (d 256, B 64) run as stepScope runs it
 * (open, zeroGrad, forward, backward, AdamW, close) with the close split into its two parts, timed on
 * the main thread's CPU clock right after the AdamW kernel (cold caches, as in a training run):
 * `liveBuffers` (the cached liveness walk revalidated, the gradients' buffers collected) and the
 * scope's `close` (every recorded storage released or carried). Both trees warmed up `--warm` steps,
 * then `--rounds` rounds of `--steps` steps per tree, the order rotating every round.
 *
 *   HEED_NUM_THREADS=1 node --import tsx bench/js-close-ab.ts --base /tmp/heed-main [--warm 150] [--rounds 12] [--steps 8] [--out f.json]
 *
 * Prints per tree the medians over rounds (each round's value the mean over its steps) and the
 * median of the rounds' paired differences.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { readArgs } from './args.ts';
import { median } from './peers/common.ts';

const flags = readArgs(import.meta.url, {
  base: { kind: 'string', default: '/tmp/heed-main', help: 'the other checkout of heed (src/, bench/ and its build/Release/heed.node)' },
  warm: { kind: 'int', default: 150, min: 0, help: 'untimed warm-up steps per tree (150: the JIT\'s steady state)' },
  rounds: { kind: 'int', default: 12, min: 1, help: 'interleaved rounds' },
  steps: { kind: 'int', default: 8, min: 1, help: 'timed steps per tree per round' },
  out: { kind: 'string', default: '', help: 'also write the rounds and medians here (JSON)' },
});
const here = resolve(import.meta.dirname, '..');
const base = resolve(flags.base);

interface Arm { name: string; step: () => void; liveNs: number; closeNs: number }
let cpuNs = (): number => Number(process.hrtime.bigint());

async function load(name: string, dir: string): Promise<Arm> {
  const reg = await import(`${dir}/src/backend/registry.ts`);
  reg.setBackend('native');
  reg.setNumThreads(1);
  const { nativeLoad } = await import(`${dir}/bench/native-util.ts`);
  cpuNs = () => nativeLoad.threadCpuNs();
  const { openStorageScope } = await import(`${dir}/src/tensor/storage-pool.ts`);
  const { liveBuffers } = await import(`${dir}/src/tensor/live-storages.ts`);
  const train = await import(`${dir}/bench/train.ts`);
  const h = await train.heedStep(train.makeTrainBatch());
  const arm: Arm = { name, step: () => undefined, liveNs: 0, closeNs: 0 };
  arm.step = () => {
    const scope = openStorageScope();
    h.opt.zeroGrad();
    const loss = h.lossOf();
    loss.backward();
    h.opt.step();
    const t0 = cpuNs();
    const live = liveBuffers(null, [h.model, h.opt]);
    const t1 = cpuNs();
    scope.close(live);
    const t2 = cpuNs();
    arm.liveNs += t1 - t0;
    arm.closeNs += t2 - t1;
  };
  return arm;
}

const arms = [await load('base', base), await load('this', here)];
const loadBefore = loadavg();
for (let i = 0; i < flags.warm; i++) for (const a of arms) a.step();
const rows: { round: number; tree: string; liveUs: number; closeUs: number }[] = [];
for (let r = 0; r < flags.rounds; r++) {
  for (let j = 0; j < 2; j++) {
    const a = arms[(r + j) % 2];
    a.liveNs = 0;
    a.closeNs = 0;
    for (let s = 0; s < flags.steps; s++) a.step();
    rows.push({ round: r, tree: a.name, liveUs: a.liveNs / 1e3 / flags.steps, closeUs: a.closeNs / 1e3 / flags.steps });
  }
}
type Key = 'liveUs' | 'closeUs';
const of = (tree: string, key: Key) => rows.filter((x) => x.tree === tree).map((x) => x[key]);
const paired = (key: Key) => median(Array.from({ length: flags.rounds }, (_, r) => {
  const b = rows.find((x) => x.round === r && x.tree === 'base')!, t = rows.find((x) => x.round === r && x.tree === 'this')!;
  return t[key] - b[key];
}));
const lower = (key: Key) => Array.from({ length: flags.rounds }, (_, r) => {
  const b = rows.find((x) => x.round === r && x.tree === 'base')!, t = rows.find((x) => x.round === r && x.tree === 'this')!;
  return t[key] < b[key] ? 1 : 0;
}).reduce((a: number, b: number) => a + b, 0);
const summary = {
  base: { liveUs: median(of('base', 'liveUs')), closeUs: median(of('base', 'closeUs')) },
  this: { liveUs: median(of('this', 'liveUs')), closeUs: median(of('this', 'closeUs')) },
  pairedLiveDiffUs: paired('liveUs'), pairedCloseDiffUs: paired('closeUs'), roundsLiveLower: lower('liveUs'), roundsCloseLower: lower('closeUs'),
};
for (const t of ['base', 'this'] as const) console.log(`${t.padEnd(4)}: liveBuffers ${summary[t].liveUs.toFixed(1)} µs, close ${summary[t].closeUs.toFixed(1)} µs (CPU, medians of ${flags.rounds} rounds × ${flags.steps} steps)`);
console.log(`this − base, median of paired differences: liveBuffers ${summary.pairedLiveDiffUs.toFixed(1)} µs (${summary.roundsLiveLower} of ${flags.rounds} rounds lower), close ${summary.pairedCloseDiffUs.toFixed(1)} µs (${summary.roundsCloseLower} lower); load ${loadBefore.map((l) => l.toFixed(1)).join(' ')} → ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
if (flags.out) {
  writeFileSync(flags.out, `${JSON.stringify({ command: `HEED_NUM_THREADS=1 node --import tsx bench/js-close-ab.ts ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(), base, here, clock: 'main thread CPU time (threadCpuNs)', loadavgBefore: loadBefore, loadavgAfter: loadavg(), summary, rows }, null, 2)}\n`);
}
