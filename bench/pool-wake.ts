/**
 * The thread pool's wake-up cost (bench/pool-wake.cpp, linked against native/threadpool.cpp), in one
 * command: compiles the probe into the OS temp directory, runs it, prints a table and writes the JSON
 * with the machine's load before and after.
 *
 *   node --import tsx bench/pool-wake.ts [--jobs 150] [--work 200] [--gaps 0,20,50,100,300,1000]
 *        [--spins 0,20,50,72,200,300] [--out bench/results/pool-wake-<date>.json]
 *
 * Columns: spin = HEED_POOL_SPIN_US (an idle worker's spin before it sleeps), gap = the caller's busy
 * time between jobs (the JS between two kernels), joined = tasks a worker ran per job (at most 1: the
 * caller takes the first at once), wake p50/p90 = publish → the worker's task start (wall clock),
 * job p50 = the job's wall time (ideal `work`, serial 2 × `work`), caller overhead = the caller's CPU
 * per job beyond its gap and its tasks (publishing, the futex wake, waiting), worker idle CPU = the
 * workers' CPU per job beyond their tasks (spinning). The wall-clock columns mean something only on
 * a quiet machine; the CPU columns hold on a loaded one.
 *
 * The probe has two more modes, run directly: `--tiny` (a 2-task job's overhead with a hot worker:
 * jobs of 2 × work ns, gap ns apart; wall clock, with the 10th percentiles over the jobs a worker took
 * part in) and `--stress [jobs]` (every task of every job runs exactly once; test/native/pool-stress.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readArgs } from './args.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const flags = readArgs(import.meta.url, {
  jobs: { kind: 'int', min: 1, help: 'jobs per row (default 150, the probe\'s)' },
  work: { kind: 'number', min: 0, help: 'µs of work per task (default 200)' },
  gaps: { kind: 'numbers', min: 0, help: 'the caller\'s busy µs between jobs (default 0,20,50,100,300,1000)' },
  spins: { kind: 'numbers', min: 0, help: 'HEED_POOL_SPIN_US values (default 0,20,50,72,200,300)' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
const bin = join(tmpdir(), `heed-pool-wake-${process.pid}`);
execFileSync('g++', ['-O2', '-std=c++17', `-I${join(root, 'native')}`, join(root, 'bench', 'pool-wake.cpp'), join(root, 'native', 'threadpool.cpp'), '-o', bin, '-lpthread'], { stdio: 'inherit' });
const load0 = loadavg();
// the probe's own flags, passed on when given (it keeps its defaults for the others)
const args = (['jobs', 'work', 'gaps', 'spins'] as const).flatMap((k) => (flags[k] === undefined || (Array.isArray(flags[k]) && flags[k].length === 0) ? [] : [`--${k}`, String(flags[k])]));
const res = JSON.parse(execFileSync(bin, args, { encoding: 'utf8' })) as { jobs: number; workUs: number; rows: Record<string, number>[] };
const load1 = loadavg();
console.log(`${new Date().toISOString()} load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}; ${res.jobs} jobs of 2 × ${res.workUs} µs per row`);
console.log('| spin µs | gap µs | joined | wake p50 / p90 µs | job p50 µs | caller overhead CPU µs/job | worker idle CPU µs/job |\n|---:|---:|---:|---:|---:|---:|---:|');
for (const r of res.rows)
  console.log(`| ${r.spinUs} | ${r.gapUs} | ${r.joined.toFixed(2)} | ${r.latencyP50Us.toFixed(0)} / ${r.latencyP90Us.toFixed(0)} | ${r.wallP50Us.toFixed(0)} | ${r.callerOverheadCpuUs.toFixed(1)} | ${r.workerIdleCpuPerJobUs.toFixed(1)} |`);
const out = flags.out;
if (out) {
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command: process.argv.slice(1).join(' '), load: [load0, load1], ...res }, null, 1));
  console.log(`wrote ${out}`);
}
