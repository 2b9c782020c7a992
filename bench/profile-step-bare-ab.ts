/**
 * The bench/train.ts G2P training step in two source trees, with no per-kernel timers: separate
 * processes alternating (old, new, new, old, ...), each timing its steps on its own CPU clock
 * (process.cpuUsage: a loaded machine's preemption is not counted; at 1 thread the step runs on the
 * main thread alone). Prints the median ms/step of each arm and new/old, the same for the mean of
 * each run's fastest quarter of steps (the steps least slowed by other jobs), and the loss after the
 * timed steps (the two trees must agree: the fusions do not change the math or the dropout draws).
 *
 *   node --import tsx bench/profile-step-bare-ab.ts --old-tree <old checkout with its addon> [--runs 6] [--steps 20] [--d 256] [--out file.json]
 *
 * A child (internal): node --import tsx bench/profile-step-bare-ab.ts --child <tree> --steps N --d D
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execSync } from 'node:child_process';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  steps: { kind: 'int', default: 20, min: 1, help: 'timed steps per run' },
  d: { kind: 'int', default: 256, choices: [256, 128], help: 'the training step\'s model width' },
  child: { kind: 'string', default: '', help: '(internal) run one arm in this checkout' },
  'old-tree': { kind: 'string', default: '', help: 'the other checkout (required)' },
  runs: { kind: 'int', default: 6, min: 1, help: 'alternating runs per arm' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
const steps = flags.steps, d = flags.d;
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

const child = flags.child;
if (child) {
  const { heedStep, makeTrainBatch, TRAIN_CONFIGS } = await import(join(child, 'bench', 'train.ts'));
  const { setBackend, setNumThreads } = await import(join(child, 'src', 'backend', 'registry.ts'));
  setBackend('native');
  setNumThreads(1);
  const cfg = TRAIN_CONFIGS.find((c: { dModel: number }) => c.dModel === d) ?? TRAIN_CONFIGS[0];
  const h = await heedStep(makeTrainBatch(), cfg);
  for (let i = 0; i < 3; i++) h.step();
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = process.cpuUsage();
    h.step();
    const u = process.cpuUsage(t0);
    ms.push((u.user + u.system) / 1e3);
  }
  const fast = [...ms].sort((a, b) => a - b).slice(0, Math.max(1, ms.length >> 2));
  console.log(JSON.stringify({ stepMs: median(ms), minMs: fast[0], fastQuarterMs: fast.reduce((a, b) => a + b, 0) / fast.length, loss: h.loss() }));
} else {
  const oldTree = flags.oldTree;
  if (!oldTree) throw new Error('profile-step-bare-ab: --old-tree <path of the old checkout> is required');
  const here = join(dirname(fileURLToPath(import.meta.url)), '..');
  const runs = flags.runs;
  const arms = { old: oldTree, new: here } as const;
  const res: Record<'old' | 'new', { stepMs: number; minMs: number; fastQuarterMs: number; loss: number }[]> = { old: [], new: [] };
  const order: ('old' | 'new')[] = [];
  for (let r = 0; r < runs; r++) order.push(...(r % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const)));
  const load0 = execSync('uptime').toString().trim();
  for (const arm of order) {
    const p = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', arms[arm], '--steps', String(steps), '--d', String(d)], { cwd: arms[arm], encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`profile-step-bare-ab: the ${arm} arm failed:\n${p.stderr}`);
    res[arm].push(JSON.parse(p.stdout.trim().split('\n').pop()!));
  }
  const load1 = execSync('uptime').toString().trim();
  const o = median(res.old.map((x) => x.stepMs)), n = median(res.new.map((x) => x.stepMs));
  console.log(`d ${d}, 1 thread, CPU clock, no kernel timers; median of ${runs} runs × ${steps} steps each arm (each run's median step)`);
  console.log(`step: old ${o.toFixed(1)} ms → new ${n.toFixed(1)} ms (new/old ${(n / o).toFixed(3)}); runs old ${res.old.map((x) => x.stepMs.toFixed(1)).join(' ')}, new ${res.new.map((x) => x.stepMs.toFixed(1)).join(' ')}`);
  const fo = median(res.old.map((x) => x.fastQuarterMs)), fn = median(res.new.map((x) => x.fastQuarterMs));
  console.log(`fastest quarter of each run's steps (less of other jobs' cache and memory contention): old ${fo.toFixed(1)} → new ${fn.toFixed(1)} ms (new/old ${(fn / fo).toFixed(3)})`);
  console.log(`loss after ${3 + steps} steps: old ${res.old[0].loss.toFixed(7)}, new ${res.new[0].loss.toFixed(7)}`);
  console.log(`load: ${load0} → ${load1}`);
  const out = flags.out;
  if (out) writeFileSync(out, JSON.stringify({ bench: 'profile-step-bare-ab', d, steps, runs, oldTree, load: [load0, load1], medianMs: { old: o, new: n }, fastQuarterMs: { old: fo, new: fn }, runsMs: res }, null, 2));
}
