/**
 * The compression trade-off table in one command (issue 15, item 5): trains what is missing with
 * short time budgets, makes every variant, measures them, and writes the raw file and the table.
 *
 *   nice -n 19 node --import tsx tools/compress-all.ts [--budget 150] [--budgets fashion=300,…] [--tasks spam,digits,g2p,tag,fashion]
 *     [--dir runs/compress-all] [--out bench/results/compress-all-<date>.json]
 *
 * Per task (trained models are reused when their directory already has a config.json):
 *   1. teacher      heed train <task> --time-limit <budget> (the task's default size; tag trains on
 *                   WNUT-17 from $HEED_NER_DIR, default /work/shared/data/ner)
 *   2. student-kd   heed train <task> --distill-from teacher, at the student size below (≤ 1/4 of the
 *                   teacher's parameters), half the budget (spam, digits, g2p: the tasks that distill)
 *   3. student      the same student size without the teacher (the control), half the budget
 *   4. variants     tools/compress-variants.ts: fp32 (copy), int8 dynamic, fp16 storage; for spam
 *                   and digits heads pruned 25% / 50% by gradient importance then fine-tuned (4 heads
 *                   per layer: 25% is the nearest whole-head fraction to 30%); for g2p and tag heads
 *                   pruned 30% / 50% by the data-free magnitude score, not fine-tuned
 *                   (with --force: a variant whose teacher was retrained since is built again)
 *   5. measure      bench/compress.ts --onnx on every variant, plus the fp32 model exported to ONNX and
 *                   run in onnxruntime-node (classifiers whole; g2p as encoder + decoder-step graphs
 *                   under a greedy loop, bench/compress-onnx.ts)
 *   6. table        tools/compress-table.ts prints the markdown table next to the raw file (.md)
 * Every training runs with HEED_NUM_THREADS=1, budgets in seconds of wall time; with --budget 150 the
 * 11 trainings take 5 × 150 + 6 × 75 = 1,200 s, and the variants and measurements about 10 more
 * minutes on a quiet core. The commands, budgets and load averages are recorded in the raw file.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nerFile } from '../bench/compress.js';

/** Student sizes: each at most a quarter of the default teacher's parameters. */
const STUDENT_FLAGS: Record<string, string[]> = {
  spam: ['--d-model', '16', '--num-heads', '2', '--dim-feedforward', '64'], // embeddings dominate: 16k × 16 vs 16k × 64
  digits: ['--d-model', '32', '--num-heads', '2', '--num-layers', '2', '--dim-feedforward', '64'],
  g2p: ['--d-model', '128', '--dim-feedforward', '512'], // 1/4 of the 256-wide teacher
};

/** Flags every training of a task needs (its data). */
const TASK_FLAGS: Record<string, () => string[]> = {
  tag: () => ['--train', nerFile('train'), '--valid', nerFile('valid')],
};

function flags(): Record<string, string> {
  const a = process.argv.slice(2);
  const out: Record<string, string> = {};
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
  return out;
}

const o = flags();
const budget = Number(o.budget ?? 150);
/** Per-task teacher budgets overriding --budget (students get half), e.g. --budgets fashion=300,tag=200. */
const budgets: Record<string, number> = Object.fromEntries((o.budgets ?? '').split(',').filter(Boolean).map((kv) => { const [t, v] = kv.split('='); return [t, Number(v)]; }));
const tasks = (o.tasks ?? 'spam,digits,g2p,tag,fashion').split(',');
const root = o.dir ?? 'runs/compress-all';
const date = new Date().toISOString().slice(0, 10);
const out = o.out ?? `bench/results/compress-all-${date}.json`;
const here = fileURLToPath(new URL('.', import.meta.url));
const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
const trainings: Record<string, { command: string; seconds: number; loadavgBefore: number[]; loadavgAfter: number[] }> = {};

/** Runs the heed CLI in a child (one thread, like the serving worker the table describes). */
function heed(args: string[]): void {
  const cli = new URL('../src/cli/main.ts', import.meta.url).href; // the sources, never a stale dist/
  const run = `import(${JSON.stringify(cli)}).then(async (m) => { process.exitCode = await m.main(process.argv.slice(1)); })`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', run, ...args],
    { stdio: 'inherit', env: { ...process.env, HEED_NUM_THREADS: '1' } });
  if (r.status !== 0) throw new Error(`compress-all: heed ${args.join(' ')} exited with ${r.status}`);
}

function train(name: string, task: string, dir: string, extra: string[], seconds: number): void {
  if (existsSync(join(dir, 'config.json'))) { log(`${name}: reusing ${dir}`); return; }
  const args = ['train', task, ...(TASK_FLAGS[task]?.() ?? []), '--out', dir, '--time-limit', String(Math.round(seconds)), '--schedule-by-time', 'true', '--progress', 'plain', ...extra];
  const before = loadavg(), t0 = performance.now();
  log(`${name}: heed ${args.join(' ')}`);
  heed(args);
  trainings[name] = { command: `heed ${args.join(' ')}`, seconds: (performance.now() - t0) / 1000, loadavgBefore: before, loadavgAfter: loadavg() };
}

mkdirSync(root, { recursive: true });
const variantArgs: string[] = ['--out', join(root, 'variants')];
const students: string[] = [];
for (const task of tasks) {
  const teacher = join(root, 'train', `${task}-teacher`);
  const seconds = budgets[task] ?? budget;
  train(`${task}-teacher`, task, teacher, [], seconds);
  variantArgs.push(`--${task}`, teacher);
  if (STUDENT_FLAGS[task] === undefined) continue; // no --distill-from: bench/compress.ts MISSING says why
  train(`${task}-student-kd`, task, join(root, 'train', `${task}-student-kd`), [...STUDENT_FLAGS[task], '--distill-from', teacher], seconds / 2);
  train(`${task}-student`, task, join(root, 'train', `${task}-student`), STUDENT_FLAGS[task], seconds / 2);
  students.push(`${task}=${join(root, 'train', `${task}-student`)}`, `${task}-kd=${join(root, 'train', `${task}-student-kd`)}`);
}
// --force: the variants are derived from the teachers above, so a variant of a retrained teacher is rebuilt, not refused.
variantArgs.push('--student', students.join(','), '--prune', 'spam,digits', '--magnitude-prune', 'g2p,tag', '--force');
log(`variants: tools/compress-variants.ts ${variantArgs.join(' ')}`);
let r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'compress-variants.ts'), ...variantArgs], { stdio: 'inherit', env: { ...process.env, HEED_NUM_THREADS: '1' } });
if (r.status !== 0) throw new Error(`compress-all: compress-variants exited with ${r.status}`);
log(`measure: bench/compress.ts --out ${out}`);
r = spawnSync(process.execPath, ['--import', 'tsx', join(here, '..', 'bench', 'compress.ts'), '--out', out, '--onnx'],
  { stdio: 'inherit', env: { ...process.env, HEED_COMPRESS_DIR: join(root, 'variants'), HEED_COMPRESS_TASKS: tasks.join(','), HEED_COMPRESS_TRAININGS: JSON.stringify({ budgetSeconds: budget, budgets, trainings }) } });
if (r.status !== 0) throw new Error(`compress-all: bench/compress.ts exited with ${r.status}`);
const table = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'compress-table.ts'), out], { encoding: 'utf8' });
if (table.status !== 0) throw new Error(`compress-all: compress-table failed: ${table.stderr}`);
writeFileSync(out.replace(/\.json$/, '.md'), table.stdout);
console.log(table.stdout);
log(`wrote ${out} and ${out.replace(/\.json$/, '.md')}`);
