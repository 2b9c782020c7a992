/**
 * A/B of the training step's serial JavaScript between two trees: runs bench/js-share.ts of this
 * tree and of a base tree (a checkout of an earlier commit with its own addon, and this
 * bench/js-share.ts, bench/train.ts and bench/train-classifier.ts copied in) as separate
 * processes, alternating, so that both see the same machine load, and reports the medians per
 * workload (JS changes cannot be A/B-ed in one process as kernels can: both trees' modules would
 * share nothing but still compete for the same caches, and the tape's globals would be two).
 *
 *   node --import tsx bench/js-share-ab.ts --base /tmp/base --rounds 5 [--steps 8] [--only d256,d128,spam] [--threads 1] [--out bench/results/js-share-ab-….json]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './peers/common.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  base: { kind: 'string', default: '', help: 'a tree to compare against (required)' },
  rounds: { kind: 'int', default: 5, min: 1, help: 'alternating rounds' },
  steps: { kind: 'int', default: 8, min: 1, help: 'bench/js-share.ts --steps' },
  only: { kind: 'strings', default: ['d256', 'd128', 'spam'], choices: ['d256', 'd128', 'spam'], help: 'bench/js-share.ts --only' },
  threads: { kind: 'int', default: 1, min: 1, help: 'bench/js-share.ts --threads' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
const base = flags.base;
if (!base) throw new Error('bench/js-share-ab.ts: --base <dir> (a tree to compare against) is required');
const rounds = flags.rounds;
const steps = String(flags.steps), only = flags.only.join(','), threads = String(flags.threads);
const out = flags.out;
const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const trees = { base: resolve(base), new: here };
const tmp = mkdtempSync(join(tmpdir(), 'js-share-ab-'));

interface Row { workload: string; stepCpuMs: number; jsMs: number; jsNoClipMs: number; gcMsPerStep: number; parts: Record<string, { jsMs: number; cpuMs: number; kernelMs: number }> }
const runs: Record<'base' | 'new', Row[][]> = { base: [], new: [] };
const loads: number[][] = [loadavg()];
for (let r = 0; r < rounds; r++) {
  // alternate which tree goes first, so neither always runs right after the other's warm-up
  for (const tree of (r % 2 === 0 ? ['base', 'new'] : ['new', 'base']) as ('base' | 'new')[]) {
    const file = join(tmp, `${tree}-${r}.json`);
    const p = spawnSync(process.execPath, ['--import', 'tsx', join(trees[tree], 'bench', 'js-share.ts'), '--steps', steps, '--only', only, '--threads', threads, '--out', file],
      { cwd: trees[tree], encoding: 'utf8', env: { ...process.env, HEED_QUIET: '1' }, maxBuffer: 1 << 24 });
    if (p.status !== 0) throw new Error(`${tree} round ${r} failed:\n${p.stderr}`);
    runs[tree].push((JSON.parse(readFileSync(file, 'utf8')) as { report: Row[] }).report);
    console.log(`round ${r + 1}/${rounds} ${tree}: ${runs[tree].at(-1)!.map((w) => `${w.workload} JS ${w.jsMs.toFixed(1)} ms`).join(', ')}`);
  }
  loads.push(loadavg());
}

const summary = runs.new[0].map((w, i) => {
  const pick = (tree: 'base' | 'new', f: (x: Row) => number) => median(runs[tree].map((rs) => f(rs[i])));
  const row = (tree: 'base' | 'new') => ({
    stepCpuMs: pick(tree, (x) => x.stepCpuMs), jsMs: pick(tree, (x) => x.jsMs), jsNoClipMs: pick(tree, (x) => x.jsNoClipMs), gcMsPerStep: pick(tree, (x) => x.gcMsPerStep),
    partsJsMs: Object.fromEntries(Object.keys(w.parts).map((p) => [p, pick(tree, (x) => x.parts[p].jsMs)])),
  });
  return { workload: w.workload, base: row('base'), new: row('new') };
});
console.log(`\nmedians of ${rounds} alternating runs per tree (main-thread CPU, ms/step; load ${loads.map((l) => l[0].toFixed(1)).join(' → ')})`);
console.log('| workload | step CPU base → new | JS base → new | JS without clipping base → new | forward | backward | clip | optim | close |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|');
const f = (a: number, b: number) => `${a.toFixed(2)} → ${b.toFixed(2)}`;
for (const s of summary) {
  const p = (k: string) => f(s.base.partsJsMs[k], s.new.partsJsMs[k]);
  console.log(`| ${s.workload} | ${f(s.base.stepCpuMs, s.new.stepCpuMs)} | ${f(s.base.jsMs, s.new.jsMs)} | ${f(s.base.jsNoClipMs, s.new.jsNoClipMs)} | ${p('forward')} | ${p('backward')} | ${p('clip')} | ${p('optim')} | ${p('close')} |`);
}
if (out) {
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: process.argv.slice(1).join(' '), base: trees.base, loads, summary, runs }, null, 1));
  console.log(`\nwrote ${out}`);
}
