/**
 * bench/profile-step.ts in two source trees (an old checkout with its own addon, and this one),
 * run alternately as separate processes (old, new, new, old, ...) on the process CPU clock, one
 * thread, so that a shared machine's load hits both alike; prints the medians of the step time, its
 * % of the FMA peak (probed in each process) and every kernel's ms/step, old → new.
 *
 *   node --import tsx bench/profile-step-ab.ts --old-tree /path/to/old/checkout [--runs 5] [--steps 8] [--out file.json]
 *
 * The old tree needs its addon built (build/Release/heed.node) and a profile-step.ts with --json:
 * this script copies its own bench/profile-step.ts there first (the kernel names are the addon's).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import os from 'node:os';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  'old-tree': { kind: 'string', default: '', help: 'the other checkout (required)' },
  runs: { kind: 'int', default: 5, min: 1, help: 'alternating runs per arm' },
  steps: { kind: 'int', default: 8, min: 1, help: 'bench/profile-step.ts --steps' },
  d: { kind: 'int', default: 256, choices: [256, 128], help: 'bench/profile-step.ts --d' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
const oldTree = flags.oldTree;
if (!oldTree) throw new Error('profile-step-ab: --old-tree <path of the old checkout> is required');
const runs = flags.runs, steps = String(flags.steps), d = String(flags.d);
const here = join(dirname(fileURLToPath(import.meta.url)), '..');
copyFileSync(join(here, 'bench', 'profile-step.ts'), join(oldTree, 'bench', 'profile-step.ts'));
const tmp = mkdtempSync(join(tmpdir(), 'profile-step-ab-'));

interface Run { stepMs: number; pctPeak: number; peakGflops: number; outsideMs: number; rows: { n: string; ms: number; calls: number }[] }
const results: Record<'old' | 'new', Run[]> = { old: [], new: [] };
for (let r = 0; r < runs; r++) {
  for (const which of (r % 2 === 0 ? ['old', 'new'] : ['new', 'old']) as ('old' | 'new')[]) {
    const tree = which === 'old' ? oldTree : here, out = join(tmp, `${which}-${r}.json`);
    const p = spawnSync(process.execPath, ['--import', 'tsx', 'bench/profile-step.ts', '--cpu', '--shapes', '--threads', '1', '--steps', steps, '--d', d, '--json', out], { cwd: tree, encoding: 'utf8', env: { ...process.env, HEED_QUIET: '1' } });
    if (p.status !== 0) throw new Error(`profile-step in ${tree} failed: ${p.stderr}`);
    results[which].push(JSON.parse(readFileSync(out, 'utf8')) as Run);
  }
}
const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const summary = (rs: Run[]) => ({ stepMs: med(rs.map((x) => x.stepMs)), pctPeak: med(rs.map((x) => x.pctPeak)), outsideMs: med(rs.map((x) => x.outsideMs)) });
const names = [...new Set([...results.old, ...results.new].flatMap((x) => x.rows.map((row) => row.n)))];
const kernel = (rs: Run[], n: string) => ({ ms: med(rs.map((x) => x.rows.find((row) => row.n === n)?.ms ?? 0)), calls: med(rs.map((x) => x.rows.find((row) => row.n === n)?.calls ?? 0)) });
const rows = names.map((n) => ({ kernel: n, old: kernel(results.old, n), new: kernel(results.new, n) })).sort((a, b) => b.old.ms + b.new.ms - a.old.ms - a.new.ms);
const so = summary(results.old), sn = summary(results.new);
console.log(`d ${d}, 1 thread, CPU clock, median of ${runs} runs × ${steps} steps each arm; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`step: ${so.stepMs.toFixed(1)} → ${sn.stepMs.toFixed(1)} ms; % of FMA peak ${so.pctPeak.toFixed(1)}% → ${sn.pctPeak.toFixed(1)}%; outside kernels ${so.outsideMs.toFixed(1)} → ${sn.outsideMs.toFixed(1)} ms`);
console.log('| kernel | old ms/step (calls) | new ms/step (calls) |\n|---|---:|---:|');
for (const r of rows) console.log(`| ${r.kernel} | ${r.old.ms.toFixed(2)} (${r.old.calls}) | ${r.new.ms.toFixed(2)} (${r.new.calls}) |`);
const outFile = flags.out;
if (outFile) writeFileSync(outFile, JSON.stringify({ command: process.argv.slice(1).join(' '), date: new Date().toISOString(), loadavg: os.loadavg(), cpu: os.cpus()[0]?.model, runs, steps: Number(steps), old: so, new: sn, rows, raw: results }, null, 2) + '\n');
