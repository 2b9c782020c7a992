/**
 * Where the training step's pool jobs lose wall time against their CPU-clock replay: the G2P step
 * (bench/train.ts, d 256, batch 64) on 2 threads with the pool's profile counters on
 * (native/threadpool.h PoolProfile), read before and after every kernel call, summed per kernel.
 *
 *   node --import tsx bench/pool-step.ts [--threads 2] [--steps 16] [--d 256] [--shapes] [--out <file>.json]
 *
 * --shapes: a row per kernel and shape (its size arguments) instead of per kernel.
 *
 * Per kernel, ms per step (wall = CLOCK_MONOTONIC, cpu = the threads' CPU clocks):
 *   - call: the kernel calls' wall time (performance.now around each call);
 *   - est (printed after the table, and in the JSON): the call on the CPU clock: at 1 thread its CPU
 *     time, at 2 its caller's CPU outside pool jobs + the jobs' makespan; run --threads 1 and 2 for
 *     the kernels' 2-thread scaling in the real step (operands where the step left them, in one
 *     core's cache or the other's), not in a replay;
 *   - taskCpu: Σ CPU time of its pool jobs' tasks, both threads (against 1 thread's: what a split adds,
 *     such as cache lines fetched from the other core);
 *   - jobWall: Σ over its pool jobs of publish → the caller's return; makespan: the same jobs' tasks
 *     replayed on the CPU clock onto the pool's threads as if all were free (the idle-machine time);
 *     lost = jobWall − makespan, the wall time the pool loses, split into:
 *   - wake: publish → a worker's first claim (mean µs per joined job; the worker starts that late);
 *   - wait: the caller's wall time from finding no task left to the last task done (the barrier);
 *   - callerInfl / workerInfl: the tasks' wall time over their CPU time on the caller / the workers
 *     (time a thread was off its core, or a clock read's cost, inside a task);
 *   - joined: % of jobs a worker took part in; slept: % whose publish found a worker asleep;
 *     late: % of the joined jobs whose worker started more than 20 µs after the publish;
 *   - gap: mean wall µs from the pool's previous job's end to this job's publish (the pool idle: the
 *     JavaScript and serial kernels between jobs); gap>spin: % of jobs after a gap longer than an idle
 *     worker's spin budget (HEED_POOL_SPIN_US), i.e. that found it asleep by design;
 *   - callerOff / workerOff: ms the tasks' wall time exceeds their CPU time on each side;
 *     callerRest: the caller's job time outside its tasks and its wait (publishing, claiming, the
 *     profile's clock reads); imbalance: the replay's makespan over a perfect split of the task CPU.
 *     jobWall = caller task wall + wait + callerRest; lost ≈ callerOff + (the wait the replay does not
 *     have: the worker's late start and its off-core time) + callerRest.
 * Profiling itself reads the thread CPU clock twice per task and twice per job (a system call on some
 * VMs, ≈ 1 µs), so the kernels run slower than unprofiled; compare the rows, not the step time.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { heedStep, makeTrainBatch, TRAIN_CONFIGS } from './train.ts';
import { k, setBackend, setNumThreads, backendInfo } from '../src/backend/registry.ts';
import { nativeLoad } from './native-util.ts';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  threads: { kind: 'int', default: 2, min: 1, help: 'pool threads' },
  steps: { kind: 'int', default: 16, min: 1, help: 'profiled training steps' },
  d: { kind: 'int', default: 256, choices: TRAIN_CONFIGS.map((c) => c.dModel), help: 'the training step\'s model width (bench/train.ts TRAIN_CONFIGS)' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
  shapes: { kind: 'bool', help: 'one row per kernel and shape (its size arguments), not per kernel' },
});
if (!nativeLoad || !backendInfo().nativeAvailable) throw new Error('pool-step: the native addon is not built (npm run build:native)');
const native = nativeLoad;
setBackend('native');
const threads = flags.threads;
setNumThreads(threads);
const steps = flags.steps;
const cfg = TRAIN_CONFIGS.find((c) => c.dModel === flags.d) ?? TRAIN_CONFIGS[0];
const out = flags.out;
// --shapes: one row per kernel and shape (its size arguments), not per kernel
const byShape = flags.shapes;
const shapeOf = (p: unknown) => {
  const o = p as Record<string, unknown>;
  const dims = ['batch', 'rows', 'cols', 'n', 'count', 'dim', 'classes', 'outer', 'size', 'inner', 'm', 'k', 'outF', 'inF']
    .filter((f) => typeof o?.[f] === 'number').map((f) => `${f} ${o[f]}`);
  return dims.length ? ` (${dims.join(', ')})` : '';
};

// PoolProfile fields, in the order the binding writes them into a Float64Array of 15
const F = { jobs: 0, tasks: 1, taskCpu: 2, workerTaskCpu: 3, callerInJobCpu: 4, makespan: 5, joined: 6, threadCpu: 7,
  jobWall: 8, wake: 9, wait: 10, callerTaskWall: 11, workerTaskWall: 12, slept: 13, late: 14, gap: 15, gapsOverSpin: 16, sleeps: 17, spinWall: 18 } as const;
const N = 19;
interface Row { calls: number; callWallNs: number; d: Float64Array }
const rows = new Map<string, Row>();
const a = new Float64Array(N), b = new Float64Array(N);
let on = false;
type Fn = (p: unknown) => unknown;
const table = k as unknown as Record<string, Fn>;
for (const name of Object.keys(table)) {
  const fn = table[name];
  if (typeof fn !== 'function') continue;
  table[name] = (p: unknown) => {
    if (!on) return fn(p);
    const key = byShape ? `${name}${shapeOf(p)}` : name;
    native.poolProfile(null, a);
    const t0 = performance.now();
    try { return fn(p); } finally {
      const t1 = performance.now();
      native.poolProfile(null, b);
      const r = rows.get(key) ?? { calls: 0, callWallNs: 0, d: new Float64Array(N) };
      r.calls++;
      r.callWallNs += (t1 - t0) * 1e6;
      for (let i = 0; i < N; i++) r.d[i] += b[i] - a[i];
      rows.set(key, r);
    }
  };
}

native.poolProfile(true, a);
const h = await heedStep(makeTrainBatch(), cfg);
for (let i = 0; i < 3; i++) h.step();
const a0 = new Float64Array(N);
native.poolProfile(null, a0);
on = true;
const t0 = performance.now();
for (let i = 0; i < steps; i++) h.step();
const stepMs = (performance.now() - t0) / steps;
on = false;
native.poolProfile(null, b);
native.poolProfile(false, a);

const ms = (ns: number) => ns / 1e6 / steps;
const list = [...rows.entries()].map(([name, r]) => {
  const d = r.d, jobs = d[F.jobs], joined = d[F.joined];
  const callerTaskCpu = d[F.taskCpu] - d[F.workerTaskCpu];
  return {
    name, calls: r.calls / steps, callMs: ms(r.callWallNs), jobs: jobs / steps,
    // the call's CPU on the caller (1 thread: all of it), its part outside pool jobs, and the
    // CPU-clock estimate of the call on idle threads: that serial part + the jobs' makespan
    callerCpuMs: ms(d[F.threadCpu]), serialCpuMs: ms(d[F.threadCpu] - d[F.callerInJobCpu]),
    estMs: ms(d[F.threadCpu] - d[F.callerInJobCpu] + d[F.makespan]),
    taskCpuMs: ms(d[F.taskCpu]), jobWallMs: ms(d[F.jobWall]), makespanMs: ms(d[F.makespan]), lostMs: ms(d[F.jobWall] - d[F.makespan]),
    wakeUs: joined > 0 ? d[F.wake] / joined / 1e3 : 0, wakeMs: ms(d[F.wake]), waitMs: ms(d[F.wait]),
    callerTaskWallMs: ms(d[F.callerTaskWall]), callerTaskCpuMs: ms(callerTaskCpu),
    workerTaskWallMs: ms(d[F.workerTaskWall]), workerTaskCpuMs: ms(d[F.workerTaskCpu]),
    joinedPct: jobs > 0 ? (100 * joined) / jobs : 0, sleptPct: jobs > 0 ? (100 * d[F.slept]) / jobs : 0,
    latePct: joined > 0 ? (100 * d[F.late]) / joined : 0,
    tasksPerJob: jobs > 0 ? d[F.tasks] / jobs : 0,
    // the caller's job time = its tasks' wall + its barrier wait + the rest (publishing, claiming, profiling's clock reads)
    callerRestMs: ms(d[F.jobWall] - d[F.callerTaskWall] - d[F.wait]),
    callerOffMs: ms(d[F.callerTaskWall] - callerTaskCpu), workerOffMs: ms(d[F.workerTaskWall] - d[F.workerTaskCpu]),
    // the replay's own imbalance: its makespan over a perfect split of the tasks' CPU time
    imbalanceMs: ms(d[F.makespan] - d[F.taskCpu] / threads),
    gapUs: jobs > 0 ? d[F.gap] / jobs / 1e3 : 0, gapOverSpinPct: jobs > 0 ? (100 * d[F.gapsOverSpin]) / jobs : 0,
  };
}).sort((x, y) => y.callMs - x.callMs);
const f = (x: number, p = 2) => x.toFixed(p);
console.log(`${new Date().toISOString()} pool-step (${process.env.HEED_NATIVE_PATH ?? 'this tree\'s addon'}): d ${cfg.dModel}, ${backendInfo().threads} threads, ${steps} steps, step ${f(stepMs, 1)} ms wall (profiled); load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('| kernel | calls | call ms | jobs | tasks/job | taskCpu ms | jobWall ms | makespan ms | lost ms | wake µs/job | wake ms | wait ms | callerInfl | workerInfl | joined% | slept% | late% | gap µs | gap>spin% | callerOff ms | workerOff ms | callerRest ms | imbalance ms |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const tot = { calls: 0, callMs: 0, jobs: 0, taskCpuMs: 0, jobWallMs: 0, makespanMs: 0, lostMs: 0, wakeMs: 0, waitMs: 0, callerOffMs: 0, workerOffMs: 0, callerRestMs: 0, imbalanceMs: 0 };
for (const r of list) {
  if (r.jobs === 0 && threads > 1) continue;
  for (const key of Object.keys(tot) as (keyof typeof tot)[]) tot[key] += r[key];
  console.log(`| ${r.name} | ${f(r.calls, 0)} | ${f(r.callMs)} | ${f(r.jobs, 0)} | ${f(r.tasksPerJob, 1)} | ${f(r.taskCpuMs)} | ${f(r.jobWallMs)} | ${f(r.makespanMs)} | ${f(r.lostMs)} | ${f(r.wakeUs, 1)} | ${f(r.wakeMs)} | ${f(r.waitMs)} | ${f(r.callerTaskWallMs / r.callerTaskCpuMs, 3)} | ${f(r.workerTaskWallMs / r.workerTaskCpuMs, 3)} | ${f(r.joinedPct, 0)} | ${f(r.sleptPct, 0)} | ${f(r.latePct, 0)} | ${f(r.gapUs, 0)} | ${f(r.gapOverSpinPct, 0)} | ${f(r.callerOffMs)} | ${f(r.workerOffMs)} | ${f(r.callerRestMs)} | ${f(r.imbalanceMs)} |`);
}
console.log(`| all pool kernels | ${f(tot.calls, 0)} | ${f(tot.callMs)} | ${f(tot.jobs, 0)} | | ${f(tot.taskCpuMs)} | ${f(tot.jobWallMs)} | ${f(tot.makespanMs)} | ${f(tot.lostMs)} | ${f((tot.wakeMs * 1e3) / tot.jobs, 1)}* | ${f(tot.wakeMs)} | ${f(tot.waitMs)} | | | | | | | | ${f(tot.callerOffMs)} | ${f(tot.workerOffMs)} | ${f(tot.callerRestMs)} | ${f(tot.imbalanceMs)} |`);
console.log('(* wake µs/job over all jobs, not only joined ones)');
console.log(`worker sleeps: ${f((b[F.sleeps] - a0[F.sleeps]) / steps, 1)} per step, each after a spin of ${f(b[F.sleeps] > a0[F.sleeps] ? (b[F.spinWall] - a0[F.spinWall]) / (b[F.sleeps] - a0[F.sleeps]) / 1e3 : 0, 0)} µs wall (mean)`);
console.log(`CPU clock per kernel (1 thread: the call's CPU; ${threads} threads: serial part + makespan), ms/step: ` +
  list.filter((r) => r.estMs > 0.01).map((r) => `${r.name} ${f(r.estMs)}`).join(', '));
if (out) writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), load: os.loadavg(), threads, steps, stepMs, spinUs: process.env.HEED_POOL_SPIN_US ?? 'default', workerSleepsPerStep: (b[F.sleeps] - a0[F.sleeps]) / steps, workerSpinWallUs: b[F.sleeps] > a0[F.sleeps] ? (b[F.spinWall] - a0[F.spinWall]) / (b[F.sleeps] - a0[F.sleeps]) / 1e3 : 0, rows: list }, null, 2));
