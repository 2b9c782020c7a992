/**
 * The training step's GEMM calls (G2P seq2seq, d 256, batch 64: sgemm, linearFused, linearBackward),
 * recorded from one step and replayed on 2 threads with two addon builds loaded in one process (this
 * tree's and --base's, each with its own pool), the arms alternating call by call in a rotating order,
 * so a shared machine's load hits both alike. Per call shape, medians over --reps runs of every call:
 *   wall      the call's wall time (performance.now): what the barrier wait and the work stealing are about
 *   callerCpu the caller's thread CPU time in the call (its tasks, and its spin at the barrier while it
 *             is on a core): the call's length without the time the caller itself was descheduled
 *   wait      the caller's barrier wait (pool profile: from finding no task left to the last task done)
 *   busy      both threads' task CPU + the caller's CPU outside the pool job (the work, stealing included)
 *   joined    % of the calls' pool jobs a worker took part in
 * and the sums per step of the medians.
 *
 *   node --import tsx bench/gemm-steal-ab.ts --base old/heed.node [--reps 40] [--only linearBackward] [--out f.json]
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { gemmCallLabel, recordStepGemmCalls, type Params } from './step-gemm-calls.ts';
import { k, setBackend, setNumThreads, kernelSpecs } from '../src/backend/registry.ts';
import { nativeCall } from '../src/backend/call.ts';
import { nativeLoad } from './native-util.ts';
import { POOL_PROFILE_FIELDS } from '../src/backend/native/load.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  base: { kind: 'string', default: '', help: 'the old heed.node (required)' },
  reps: { kind: 'int', default: 40, min: 1, help: 'runs of every recorded call per arm' },
  only: { kind: 'strings', default: [], choices: ['sgemm', 'linearFused', 'linearBackward'], help: 'replay only these kernels' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
if (!nativeLoad) throw new Error('bench/gemm-steal-ab.ts needs the native addon (npm run build:native)');
const basePath = flags.base;
if (!basePath) throw new Error('gemm-steal-ab: --base <old heed.node> is required');
const reps = flags.reps, out = flags.out;
const base = createRequire(import.meta.url)(resolve(basePath)) as Record<string, unknown>;
setBackend('native');
setNumThreads(1);

const NAMES = ['sgemm', 'linearFused', 'linearBackward'].filter((x) => flags.only.length === 0 || flags.only.includes(x));
const table = k as unknown as Record<string, (p: Params) => unknown>;
const calls = await recordStepGemmCalls(NAMES);

interface Pool { threads: (n: number) => void; profile: (on: boolean | null, out: Float64Array) => void }
const arms: Record<'base' | 'new', { pool: Pool; table: Record<string, (p: Params) => unknown> }> = {
  new: { pool: { threads: setNumThreads, profile: (on, o) => nativeLoad!.poolProfile(on, o) }, table },
  base: {
    pool: { threads: base.setNumThreads as (n: number) => void, profile: base.poolProfile as Pool['profile'] },
    table: Object.fromEntries(NAMES.map((name) => [name, nativeCall(kernelSpecs().get(name)!, (base.kernels as Record<string, (...a: unknown[]) => void>)[name]) as (p: Params) => unknown])),
  },
};
// POOL_PROFILE_FIELDS, then (addons since the ninth session, given an array of 19) the wall-clock fields bench/pool-step.ts reads
const FIELDS: readonly string[] = [...POOL_PROFILE_FIELDS, 'jobWallNs', 'wakeWallNs', 'callerWaitWallNs'];
const NF = 19;
const F = (f: string) => FIELDS.indexOf(f);
const s0 = new Float64Array(NF), s1 = new Float64Array(NF);
type Sample = { wall: number; callerCpu: number; wait: number; busy: number; joined: number };
const acc = new Map<string, { calls: number; base: Sample[]; new: Sample[] }>();
for (const c of calls) { const e = acc.get(gemmCallLabel(c)) ?? { calls: 0, base: [], new: [] }; e.calls++; acc.set(gemmCallLabel(c), e); }
for (const a of Object.values(arms)) { a.pool.threads(2); a.pool.profile(true, s0); }

const load0 = loadavg();
for (let rep = 0; rep < reps; rep++) {
  for (const [i, c] of calls.entries()) {
    const order: ('base' | 'new')[] = (rep + i) % 2 ? ['base', 'new'] : ['new', 'base'];
    for (const arm of order) {
      const { pool, table: t } = arms[arm];
      t[c.name](c.p);  // warm: the operands in this arm's threads' caches, as the other arm found them
      pool.profile(null, s0);
      const w0 = performance.now();
      t[c.name](c.p);
      const wall = performance.now() - w0;
      pool.profile(null, s1);
      const d = (f: string) => s1[F(f)] - s0[F(f)];
      const outside = d('threadCpuNs') - d('callerInJobCpuNs');
      acc.get(gemmCallLabel(c))![arm].push({ wall: wall * 1e3, callerCpu: d('threadCpuNs') / 1e3, wait: d('callerWaitWallNs') / 1e3, busy: (outside + d('taskCpuNs')) / 1e3, joined: d('jobs') > 0 ? d('jobsWorkerJoined') / d('jobs') : NaN });
    }
  }
}
const load1 = loadavg();
for (const a of Object.values(arms)) { a.pool.profile(false, s0); a.pool.threads(1); }
const med = (xs: number[]) => { const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b); return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const KEYS = ['wall', 'callerCpu', 'wait', 'busy', 'joined'] as const;
console.log(`${new Date().toISOString()} 2 threads, ${reps} reps, arms alternating call by call; load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}`);
console.log(`base ${resolve(basePath)}`);
console.log('| call | calls/step | wall µs base → new | callerCpu µs base → new | wait µs base → new | busy µs base → new | joined % base / new |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
const rows = [...acc.entries()].map(([key, e]) => {
  const m = (arm: 'base' | 'new') => Object.fromEntries(KEYS.map((f) => [f, med(e[arm].map((s) => s[f]))])) as Record<(typeof KEYS)[number], number>;
  return { key, callsPerStep: e.calls, base: m('base'), new: m('new'), samples: { base: e.base, new: e.new } };
}).sort((a, b) => b.base.wall * b.callsPerStep - a.base.wall * a.callsPerStep);
const f0 = (x: number) => x.toFixed(0);
for (const r of rows) {
  console.log(`| ${r.key} | ${r.callsPerStep} | ${f0(r.base.wall)} → ${f0(r.new.wall)} | ${f0(r.base.callerCpu)} → ${f0(r.new.callerCpu)} | ${f0(r.base.wait)} → ${f0(r.new.wait)} | ${f0(r.base.busy)} → ${f0(r.new.busy)} | ${f0(100 * r.base.joined)} / ${f0(100 * r.new.joined)} |`);
}
// paired: each call's new wall over the base wall of the same call in the same rep (run back to back)
const pairRatios = (xs: typeof rows) => xs.flatMap((r) => r.samples.new.map((s, i) => s.wall / r.samples.base[i].wall));
const totals: Record<string, Record<string, number>> = {};
for (const group of ['linearBackward', 'linearFused', 'sgemm', 'all']) {
  const xs = rows.filter((r) => group === 'all' || r.key.startsWith(group));
  if (!xs.length) continue;
  const sum = (arm: 'base' | 'new', f: (typeof KEYS)[number]) => xs.reduce((s, r) => s + r[arm][f] * r.callsPerStep, 0) / 1e3;
  totals[group] = Object.fromEntries((['wall', 'callerCpu', 'wait', 'busy'] as const).flatMap((f) => [[`${f}Base`, sum('base', f)], [`${f}New`, sum('new', f)]]));
  const t = totals[group];
  const pr = pairRatios(xs);
  t.pairedWallRatio = med(pr);
  t.pairsNewFaster = pr.filter((x) => x < 1).length / pr.length;
  console.log(`${group}, ms per step (Σ calls/step × median): wall ${t.wallBase.toFixed(2)} → ${t.wallNew.toFixed(2)}, callerCpu ${t.callerCpuBase.toFixed(2)} → ${t.callerCpuNew.toFixed(2)}, wait ${t.waitBase.toFixed(2)} → ${t.waitNew.toFixed(2)}, busy ${t.busyBase.toFixed(2)} → ${t.busyNew.toFixed(2)}; paired wall new/base median ${t.pairedWallRatio.toFixed(3)}, new faster in ${(100 * t.pairsNewFaster).toFixed(0)}% of ${pr.length} pairs`);
}
if (out) {
  // samples as [wall, callerCpu, wait, busy] µs, 0.1 µs precision, in rep order (pair i of base and new ran back to back)
  const compact = (xs: Sample[]) => xs.map((x) => [x.wall, x.callerCpu, x.wait, x.busy].map((v) => Math.round(v * 10) / 10));
  const rowsOut = rows.map((r) => ({ ...r, samples: { fields: ['wall', 'callerCpu', 'wait', 'busy'], base: compact(r.samples.base), new: compact(r.samples.new) } }));
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), base: resolve(basePath), command: `node --import tsx ${process.argv.slice(1).join(' ')}`, load: [load0, load1], reps, totals, rows: rowsOut }) + '\n');
  console.log(`wrote ${out}`);
}
