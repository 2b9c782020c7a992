/**
 * bench/pool-step.ts with two addon builds of this tree (HEED_NATIVE_PATH), as separate processes in
 * interleaved rounds (A B, B A, …), so a shared machine's drift hits both arms alike. Prints per addon
 * the medians over rounds, per GEMM kernel and over all pool kernels, of: the calls' wall time, the
 * jobs' wall time, their CPU-clock replay onto free threads (makespan), the caller's barrier wait and
 * the tasks' CPU time (ms per step), and the profiled step's wall time.
 *
 *   node --import tsx bench/pool-step-ab.ts --base old/heed.node [--new build/Release/heed.node] [--rounds 6] [--steps 16] [--threads 2] [--out f.json]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  base: { kind: 'string', default: '', help: 'the old heed.node (required)' },
  new: { kind: 'string', help: 'the new heed.node (default build/Release/heed.node)' },
  rounds: { kind: 'int', default: 6, min: 1, help: 'interleaved rounds' },
  steps: { kind: 'int', default: 16, min: 1, help: 'bench/pool-step.ts --steps' },
  threads: { kind: 'int', default: 2, min: 1, help: 'bench/pool-step.ts --threads' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const basePath = flags.base;
if (!basePath) throw new Error('pool-step-ab: --base <old heed.node> is required');
const addons = { base: resolve(basePath), new: resolve(flags.new ?? join(here, 'build', 'Release', 'heed.node')) };
const rounds = flags.rounds, steps = String(flags.steps), threads = String(flags.threads);
const tmp = mkdtempSync(join(os.tmpdir(), 'pool-step-ab-'));
const KERNELS = ['linearBackward', 'linearFused', 'sgemm'];
const FIELDS = ['callMs', 'jobWallMs', 'makespanMs', 'waitMs', 'taskCpuMs', 'estMs'] as const;

interface Row { name: string; [f: string]: number | string }
interface Run { stepMs: number; rows: Row[] }
type Arm = 'base' | 'new';
const runs: Record<Arm, Run[]> = { base: [], new: [] };
const load0 = os.loadavg();
for (let r = 0; r < rounds; r++) {
  for (const arm of (r % 2 === 0 ? ['base', 'new'] : ['new', 'base']) as Arm[]) {
    const out = join(tmp, `${arm}-${r}.json`);
    const p = spawnSync(process.execPath, ['--import', 'tsx', 'bench/pool-step.ts', '--threads', threads, '--steps', steps, '--out', out],
      { cwd: here, encoding: 'utf8', env: { ...process.env, HEED_QUIET: '1', HEED_NATIVE_PATH: addons[arm] } });
    if (p.status !== 0) throw new Error(`pool-step with ${addons[arm]} failed: ${p.stderr}`);
    runs[arm].push(JSON.parse(readFileSync(out, 'utf8')) as Run);
  }
}
const load1 = os.loadavg();
const med = (v: number[]) => { const s = [...v].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const val = (run: Run, kernel: string, f: string) => {
  const rows = kernel === 'all' ? run.rows : run.rows.filter((x) => x.name === kernel);
  return rows.reduce((s, x) => s + (Number(x[f]) || 0), 0);
};
console.log(`${new Date().toISOString()} pool-step A/B, ${threads} threads, ${rounds} interleaved rounds × ${steps} steps per arm; load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}`);
console.log(`base ${addons.base}\nnew  ${addons.new}`);
console.log(`| kernel | arm | ${FIELDS.join(' | ')} |`);
console.log(`|---|---|${FIELDS.map(() => '---:').join('|')}|`);
const summary: Record<string, Record<string, Record<string, number>>> = {};
for (const kernel of [...KERNELS, 'all']) {
  for (const arm of ['base', 'new'] as Arm[]) {
    const m = Object.fromEntries(FIELDS.map((f) => [f, med(runs[arm].map((run) => val(run, kernel, f)))]));
    (summary[kernel] ??= {})[arm] = m;
    console.log(`| ${kernel} | ${arm} | ${FIELDS.map((f) => m[f].toFixed(2)).join(' | ')} |`);
  }
}
const stepMs = { base: med(runs.base.map((x) => x.stepMs)), new: med(runs.new.map((x) => x.stepMs)) };
console.log(`profiled step ms (median): base ${stepMs.base.toFixed(1)}, new ${stepMs.new.toFixed(1)}`);
if (flags.out) writeFileSync(flags.out, JSON.stringify({ date: new Date().toISOString(), command: `node --import tsx ${process.argv.slice(1).join(' ')}`, load: [load0, load1], addons, threads: Number(threads), steps: Number(steps), rounds, summary, stepMs, runs }, null, 1) + '\n');
