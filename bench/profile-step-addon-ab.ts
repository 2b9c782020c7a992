/**
 * bench/profile-step.ts with two addon builds of this tree (HEED_NATIVE_PATH), at 1 and 2 threads,
 * as separate processes in interleaved rounds: each round runs both addons at both thread counts, the
 * addons' order alternating (A B, B A, …) and the thread counts' too, so a shared machine's drift hits
 * all four arms alike. Prints per addon the medians over rounds of the step time and the GEMM kernels'
 * ms/step at 1 and 2 threads, and the median over rounds of each round's 1T / 2T ratio.
 * Wall clock by default (what the 2-thread target is about; on a loaded machine it says little), --cpu
 * for the process CPU clock.
 *
 *   node --import tsx bench/profile-step-addon-ab.ts --base old/heed.node [--new build/Release/heed.node] [--rounds 6] [--steps 8] [--cpu] [--out f.json]
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
  steps: { kind: 'int', default: 8, min: 1, help: 'bench/profile-step.ts --steps' },
  cpu: { kind: 'bool', help: 'time on the process CPU clock (bench/profile-step.ts --cpu)' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const basePath = flags.base;
if (!basePath) throw new Error('profile-step-addon-ab: --base <old heed.node> is required');
const addons = { base: resolve(basePath), new: resolve(flags.new ?? join(here, 'build', 'Release', 'heed.node')) };
const rounds = flags.rounds, steps = String(flags.steps);
const cpu = flags.cpu;
const tmp = mkdtempSync(join(os.tmpdir(), 'profile-step-addon-ab-'));
const GEMMS = ['sgemm', 'linearFused', 'linearBackward'];

interface Run { stepMs: number; outsideMs: number; rows: { n: string; ms: number; calls: number }[] }
type Arm = 'base' | 'new';
const runs: Record<string, Run[]> = {};
const load0 = os.loadavg();
for (let r = 0; r < rounds; r++) {
  const arms: Arm[] = r % 2 === 0 ? ['base', 'new'] : ['new', 'base'];
  const threads = r % 4 < 2 ? [1, 2] : [2, 1];
  for (const arm of arms) for (const t of threads) {
    const out = join(tmp, `${arm}-${t}-${r}.json`);
    const p = spawnSync(process.execPath, ['--import', 'tsx', 'bench/profile-step.ts', ...(cpu ? ['--cpu'] : []), '--threads', String(t), '--steps', steps, '--json', out],
      { cwd: here, encoding: 'utf8', env: { ...process.env, HEED_QUIET: '1', HEED_NATIVE_PATH: addons[arm] } });
    if (p.status !== 0) throw new Error(`profile-step with ${addons[arm]} failed: ${p.stderr}`);
    (runs[`${arm} ${t}`] ??= []).push(JSON.parse(readFileSync(out, 'utf8')) as Run);
  }
}
const load1 = os.loadavg();
const med = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const gemmMs = (x: Run) => x.rows.filter((row) => GEMMS.includes(row.n)).reduce((s, row) => s + row.ms, 0);
const kernelMs = (x: Run, n: string) => x.rows.find((row) => row.n === n)?.ms ?? 0;
console.log(`${new Date().toISOString()} d 256, ${cpu ? 'process CPU clock' : 'wall clock'}, ${rounds} interleaved rounds × ${steps} steps per arm and thread count; load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}`);
console.log('| addon | step 1T ms | step 2T ms | 1T / 2T (median of rounds) | GEMMs 1T → 2T ms | sgemm | linearFused | linearBackward |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
const summary: Record<string, unknown> = {};
for (const arm of ['base', 'new'] as Arm[]) {
  const one = runs[`${arm} 1`], two = runs[`${arm} 2`];
  const ratio = med(one.map((x, i) => x.stepMs / two[i].stepMs));
  const k = (n: string) => `${med(one.map((x) => kernelMs(x, n))).toFixed(2)} → ${med(two.map((x) => kernelMs(x, n))).toFixed(2)}`;
  console.log(`| ${arm} | ${med(one.map((x) => x.stepMs)).toFixed(1)} | ${med(two.map((x) => x.stepMs)).toFixed(1)} | ${ratio.toFixed(3)} | ${med(one.map(gemmMs)).toFixed(1)} → ${med(two.map(gemmMs)).toFixed(1)} | ${k('sgemm')} | ${k('linearFused')} | ${k('linearBackward')} |`);
  summary[arm] = { addon: addons[arm], step1T: med(one.map((x) => x.stepMs)), step2T: med(two.map((x) => x.stepMs)), ratio, gemm1T: med(one.map(gemmMs)), gemm2T: med(two.map(gemmMs)) };
}
const outFile = flags.out;
if (outFile) writeFileSync(outFile, JSON.stringify({ command: `node --import tsx ${process.argv.slice(1).join(' ')}`, date: new Date().toISOString(), clock: cpu ? 'process CPU' : 'wall', load: [load0, load1], rounds, steps: Number(steps), summary, raw: runs }, null, 1) + '\n');
