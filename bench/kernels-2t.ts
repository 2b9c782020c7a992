/**
 * The G2P training step's non-GEMM kernels at their real shapes, on 1 and 2 threads: what each costs
 * per step, how many bytes it moves against a streaming-bandwidth roofline, and how it splits over
 * the pool's threads. One command, JSON out, so the lead can re-run it on a quiet machine:
 *
 *   node --import tsx bench/kernels-2t.ts [--rounds 16] [--d 256] [--out bench/results/kernels-2t.json] [--old <heed.node>] [--list]
 *
 * --list: also print the recorded calls in step order (kernel, shape, op code).
 * --old: also replay the sequence on an older build of the addon, the two arms alternating round by
 * round (an A/B on the same operands and the same clocks; the old arm's rows go to `old` in the JSON).
 *
 * How: one real training step (bench/train.ts heedStep, the G2P model) runs with every kernel call
 * recorded; the calls of the kernels below are kept with a private copy of their operands, in step
 * order. They are then replayed:
 *   - cold: the whole recorded sequence in step order, so each call's operands were last touched
 *     several MB earlier (in the step the GEMMs between them evict them the same way);
 *   - on 1 and 2 threads alternately, round by round (a loaded machine hits both alike);
 *   - through the binding's plain calls (no argument checks in JS), so the figures are the native
 *     code's plus the N-API binding's.
 * Clocks: the main thread's CPU clock (CLOCK_THREAD_CPUTIME_ID) for 1T; for 2T the pool's profiling
 * counters (native/threadpool.h PoolProfile): every pool task is timed on its own thread's CPU clock,
 * and each job's tasks replayed onto 2 free threads (its makespan). Per kernel:
 *   - ms1T: CPU ms per step at 1 thread (Σ over its calls of the median per call);
 *   - share: % of the 1-thread step (timed on the same clock in this process);
 *   - bytes / GB/s / roofline: bytes each call touches (every typed-array operand once), the rate
 *     reached, and the time at the machine's streaming bandwidth (a native add over buffers larger
 *     than the L3, measured here) — the floor for operands that come from memory; the same add on
 *     2 threads (serial + makespan) gives the bandwidth two cores share, so streamEff2T is the 2T
 *     efficiency a purely memory-bound kernel can reach;
 *   - parallel: pool jobs per call (0: below the kernel's threshold, it ran on the caller) and tasks
 *     per job; threshold: the rule the kernel splits by (from its source);
 *   - est2T: serial part (caller CPU outside pool jobs) + makespan; eff = ms1T / (2 · est2T);
 *     balance = Σ task CPU / (2 · makespan) (1 = both threads busy to the end); inflation = (serial +
 *     Σ task CPU) at 2T / ms1T (work a split adds: partial sums, cache lines moving between cores);
 *   - joined: % of the 2T pool jobs a worker took part in (under load a late worker leaves the
 *     caller to run the tasks one after another, which makes them look cheaper than two cores at once);
 *   - wall2T: the wall-clock 1T/2T ratio of the same replays (meaningful only on a quiet machine).
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { execSync } from 'node:child_process';
import { heedStep, makeTrainBatch, TRAIN_CONFIGS } from './train.ts';
import { k, setBackend, setNumThreads, backendInfo, bindNative, kernelSpecs, referenceKernels } from '../src/backend/registry.ts';
import { nativeLoad } from './native-util.ts';
import { POOL_PROFILE_FIELDS, type FlatKernel } from '../src/backend/native/load.ts';
import { createRequire } from 'node:module';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  rounds: { kind: 'int', default: 16, min: 1, help: 'interleaved rounds' },
  d: { kind: 'int', default: 256, choices: TRAIN_CONFIGS.map((c) => c.dModel), help: 'the training step\'s model width (bench/train.ts TRAIN_CONFIGS)' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
  old: { kind: 'string', default: '', help: 'another build\'s heed.node to A/B against' },
  list: { kind: 'bool', help: 'list the recorded calls' },
});
if (!nativeLoad || !backendInfo().nativeAvailable) throw new Error('kernels-2t: the native addon is not built (npm run build:native)');
setBackend('native');
const rounds = flags.rounds;
const cfg = TRAIN_CONFIGS.find((c) => c.dModel === flags.d) ?? TRAIN_CONFIGS[0];
const out = flags.out;
const maxThreads = Math.min(2, nativeLoad.threads() > 1 ? nativeLoad.threads() : os.availableParallelism());

/** The kernels this bench replays, with the rule each splits by (native/*.cpp). */
const SPLIT_RULES: Record<string, string> = {
  layerNormForward: 'row_split.h: rows in an even number of ≥ 32K-float tasks, serial below 64K floats',
  layerNormBackward: 'row_split.h: rows in an even number of ≥ 32K-float tasks, serial below 64K floats; per-task dw/db partials',
  dropoutBackwardBias: 'column_sums.h: rows in an even number of ≥ 64K-float tasks, serial below 128K floats; float64 partials',
  reluDropoutBackward: 'row_split.h flat: an even number of ≥ 32K-float tasks on the output\'s cache lines',
  geluDropout: 'row_split.h flat: an even number of ≥ 32K-float tasks on the output\'s cache lines',
  geluDropoutBackward: 'row_split.h flat: an even number of ≥ 32K-float tasks on the output\'s cache lines',
  dropout: 'layout.cpp: 32K-float chunks (not this helper\'s file)',
  crossEntropyForward: 'row_split.h: rows in an even number of ≥ 8K-float tasks (an exp per element)',
  crossEntropyBackward: 'row_split.h: rows in an even number of ≥ 8K-float tasks (an exp per element)',
  embeddingForward: 'row_split.h: rows in an even number of ≥ 32K-float tasks',
  embeddingBackward: 'embedding.cpp: columns split over the pool when count·dim ≥ 64K (rows may repeat)',
  binarySame: 'row_split.h flat: an even number of ≥ 32K-float tasks on the output\'s cache lines',
  binaryBroadcast: 'row_split.h: rows of the last dim in an even number of ≥ 32K-float tasks',
  unary: 'row_split.h flat: an even number of ≥ 32K-float tasks on the output\'s cache lines',
  unaryBackward: 'row_split.h flat: an even number of ≥ 32K-float tasks on the output\'s cache lines',
  softmaxForward: 'row_split.h: rows in an even number of ≥ 16K-float tasks',
  softmaxBackward: 'row_split.h: rows in an even number of ≥ 16K-float tasks',
  reduceAxis: 'layout.cpp via column_sums.h (reported; not this helper\'s kernel)',
  permute: 'layout.cpp (reported; not this helper\'s kernel)',
  adamwStep: 'optim.cpp (reported; helper step\'s kernel)',
  attentionForwardStrided: 'attention.cpp (reported; helper attn\'s kernel)',
  attentionBackwardStrided: 'attention.cpp (reported; helper attn\'s kernel)',
};
const SKIP = new Set(['sgemm', 'linearFused']);

// ---- record one step's calls ----------------------------------------------------------------------
type Params = Record<string, unknown>;
type KernelFn = (p: Params) => unknown;
const table = k as unknown as Record<string, KernelFn>;
const originals = new Map<string, KernelFn>();
interface Call { name: string; params: Params; bytes: number }
const recorded: Call[] = [];
let recording = false;
const clone = (p: Params): { params: Params; bytes: number } => {
  const c: Params = {};
  let bytes = 0;
  for (const [key, v] of Object.entries(p)) {
    if (ArrayBuffer.isView(v)) {
      const a = (v as unknown as { slice(): ArrayBufferView }).slice();
      c[key] = a;
      bytes += a.byteLength;
    } else if (Array.isArray(v) && v.length > 0 && v.every((x) => ArrayBuffer.isView(x))) {
      // a list of operands (adamwStepMulti's params, grads, moments): each copied, as the step's
      // pooled buffers are reused (or released, length 0) after the step
      const list = (v as unknown as { slice(): ArrayBufferView }[]).map((x) => x.slice());
      c[key] = list;
      for (const a of list) bytes += a.byteLength;
    } else c[key] = v;
  }
  return { params: c, bytes };
};
for (const name of Object.keys(table)) {
  if (SKIP.has(name) || typeof table[name] !== 'function') continue;
  const fn = table[name];
  originals.set(name, fn);
  table[name] = (p: Params) => {
    if (recording && p && typeof p === 'object') {
      const r = fn(p);
      // after the call, so that outputs hold real values for the in-place kernels (adamw's moments)
      const { params, bytes } = clone(p);
      recorded.push({ name, params, bytes });
      return r;
    }
    return fn(p);
  };
}

const shapeOf = (p: Params) => ['rows', 'cols', 'n', 'count', 'dim', 'classes', 'outer', 'size', 'inner']
  .filter((f) => typeof p[f] === 'number').map((f) => `${f} ${p[f]}`).join(' ');
setNumThreads(1);
const h = await heedStep(makeTrainBatch(), cfg);
for (let i = 0; i < 3; i++) h.step();
recording = true;
h.step();
recording = false;
for (const [name, fn] of originals) table[name] = fn;
if (flags.list) for (const c of recorded) console.log(c.name, shapeOf(c.params), c.params.op ?? '');

// ---- clocks --------------------------------------------------------------------------------------
const F = Object.fromEntries(POOL_PROFILE_FIELDS.map((f, i) => [f, i])) as Record<(typeof POOL_PROFILE_FIELDS)[number], number>;
const snapA = new Float64Array(POOL_PROFILE_FIELDS.length), snapB = new Float64Array(POOL_PROFILE_FIELDS.length);
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[s.length >> 1] : NaN; };

// the step at 1 thread on the main thread's CPU clock (the step's own kernels run on it alone)
const stepMs: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = nativeLoad.threadCpuNs();
  h.step();
  stepMs.push((nativeLoad.threadCpuNs() - t0) / 1e6);
}
const step1T = median(stepMs);

// streaming bandwidth: a native add over three 16 MB operands (well past the L3). 1 thread on the
// main thread's CPU clock; 2 threads as the kernels below (serial part + the pool's makespan), which
// is what two cores sharing the memory bus give: the roofline of a memory-bound kernel's 2T split.
const bwN = 4 << 20;
const bwA = new Float32Array(bwN).fill(1), bwB = new Float32Array(bwN).fill(2), bwO = new Float32Array(bwN);
const addOnce = () => originals.get('binarySame')!({ op: 0, a: bwA, b: bwB, out: bwO, n: bwN });
const bw1: number[] = [], bw2: number[] = [];
const pa = new Float64Array(POOL_PROFILE_FIELDS.length), pb = new Float64Array(POOL_PROFILE_FIELDS.length);
nativeLoad.poolProfile(true, pa);
for (let i = 0; i < 7; i++) {
  for (const threads of [1, maxThreads]) {
    setNumThreads(threads);
    nativeLoad.poolProfile(null, pa);
    addOnce();
    nativeLoad.poolProfile(null, pb);
    const d = (f: number) => pb[f] - pa[f];
    const [tc, cij, mk] = ['threadCpuNs', 'callerInJobCpuNs', 'makespanNs'].map((f) => POOL_PROFILE_FIELDS.indexOf(f as never));
    (threads === 1 ? bw1 : bw2).push(threads === 1 ? d(tc) : d(tc) - d(cij) + d(mk));
  }
}
nativeLoad.poolProfile(false, pa);
setNumThreads(1);
const streamGBs = (3 * 4 * bwN) / median(bw1), streamGBs2T = (3 * 4 * bwN) / median(bw2);

// what a split costs the caller outside its tasks: the serial part (caller CPU outside pool jobs)
// of a 2-task add (2 × kSplitFloats floats, the smallest job row_split.h splits) at 2 threads,
// against the whole CPU time of a 16-float add (the binding and dispatch alone)
const tinyA = new Float32Array(16), tinyO = new Float32Array(16), jobN = 2 << 15;
const jobA = new Float32Array(jobN), jobO = new Float32Array(jobN);
const tinyNs: number[] = [], jobSerialNs: number[] = [];
nativeLoad.poolProfile(true, pa);
const [tcI, cijI] = ['threadCpuNs', 'callerInJobCpuNs'].map((f) => POOL_PROFILE_FIELDS.indexOf(f as never));
for (let i = 0; i < 301; i++) {
  setNumThreads(1);
  nativeLoad.poolProfile(null, pa);
  originals.get('binarySame')!({ op: 0, a: tinyA, b: tinyA, out: tinyO, n: 16 });
  nativeLoad.poolProfile(null, pb);
  tinyNs.push(pb[tcI] - pa[tcI]);
  setNumThreads(maxThreads);
  nativeLoad.poolProfile(null, pa);
  originals.get('binarySame')!({ op: 0, a: jobA, b: jobA, out: jobO, n: jobN });
  nativeLoad.poolProfile(null, pb);
  jobSerialNs.push(pb[tcI] - pa[tcI] - (pb[cijI] - pa[cijI]));
}
nativeLoad.poolProfile(false, pa);
setNumThreads(1);
const callUs = median(tinyNs) / 1e3, splitSerialUs = median(jobSerialNs) / 1e3;

// ---- replay --------------------------------------------------------------------------------------
// Arms: this tree's addon, and with --old <heed.node> an older build, each replaying the whole
// sequence in turn (old first on odd rounds) in this process, each on its own pool and counters.
interface Arm { name: string; fns: Map<string, KernelFn>; setThreads: (n: number) => void; poolProfile: (on: boolean | null, o: Float64Array) => void }
// Both arms call the addon's kernels as the binding's plain calls (bindNative's `plain`: no argument
// checks in JS), so an A/B compares the native code alone; the step's registry calls add its checks.
const plainOf = (kernels: Record<string, FlatKernel>) => bindNative(kernels, kernelSpecs(), referenceKernels() as Record<string, unknown>).plain as unknown as Record<string, KernelFn>;
const plainNew = plainOf(nativeLoad.kernels);
const arms: Arm[] = [{ name: 'new', fns: new Map([...originals.keys()].map((n) => [n, plainNew[n] ?? originals.get(n)!])), setThreads: setNumThreads, poolProfile: nativeLoad.poolProfile }];
const oldPath = flags.old;
if (oldPath) {
  const addon = createRequire(import.meta.url)(oldPath) as { kernels: Record<string, FlatKernel>; setNumThreads: (n: number) => void; poolProfile: (on: boolean | null, o: Float64Array) => void };
  const plain = plainOf(addon.kernels);
  arms.push({ name: 'old', fns: new Map([...originals.keys()].map((n) => [n, plain[n]])), setThreads: addon.setNumThreads, poolProfile: addon.poolProfile });
}
interface Sample { cpu1: number[]; wall1: number[]; wall2: number[]; serial2: number[]; makespan2: number[]; taskCpu2: number[]; jobs2: number[]; tasks2: number[]; joined2: number[] }
const samplesOf = new Map(arms.map((a) => [a.name, recorded.map((): Sample => ({ cpu1: [], wall1: [], wall2: [], serial2: [], makespan2: [], taskCpu2: [], jobs2: [], tasks2: [], joined2: [] }))]));
// the cost of a snapshot pair around nothing (subtracted from every serial part)
nativeLoad.poolProfile(true, snapA);
const emptyNs: number[] = [];
for (let i = 0; i < 200; i++) {
  nativeLoad.poolProfile(null, snapA);
  nativeLoad.poolProfile(null, snapB);
  emptyNs.push(snapB[F.threadCpuNs] - snapA[F.threadCpuNs]);
}
const snapNs = median(emptyNs);
for (const a of arms) a.poolProfile(true, snapA);
for (let r = 0; r < rounds; r++) {
  for (const threads of r % 2 === 0 ? [1, maxThreads] : [maxThreads, 1]) {
    for (const a of arms) a.setThreads(threads);
    // each arm replays the whole sequence in turn (call by call, the second arm would find the
    // first's operands in cache)
    for (const a of r % 2 === 0 ? arms : [...arms].reverse()) {
      recorded.forEach((c, i) => {
        const fn = a.fns.get(c.name)!;
        const s = samplesOf.get(a.name)![i];
        const w0 = performance.now();
        a.poolProfile(null, snapA);
        fn(c.params);
        a.poolProfile(null, snapB);
        const wall = performance.now() - w0;
        const d = (f: keyof typeof F) => snapB[F[f]] - snapA[F[f]];
        if (threads === 1) {
          s.cpu1.push(Math.max(0, d('threadCpuNs') - snapNs) / 1e6);
          s.wall1.push(wall);
        } else {
          s.wall2.push(wall);
          s.serial2.push(Math.max(0, d('threadCpuNs') - d('callerInJobCpuNs') - snapNs) / 1e6);
          s.makespan2.push(d('makespanNs') / 1e6);
          s.taskCpu2.push(d('taskCpuNs') / 1e6);
          s.jobs2.push(d('jobs'));
          s.tasks2.push(d('tasks'));
          s.joined2.push(d('jobsWorkerJoined'));
        }
      });
    }
  }
}
for (const a of arms) { a.poolProfile(false, snapA); a.setThreads(1); }

// ---- per kernel ----------------------------------------------------------------------------------
interface Row {
  kernel: string; calls: number; shapes: string[]; ms1T: number; sharePct: number; mbPerStep: number; gbs: number; rooflineMs: number;
  rooflinePct: number; jobsPerCall: number; tasksPerJob: number; threshold: string; est2T: number; serial2T: number; eff2T: number;
  balance: number; inflation: number; workerJoinedPct: number; wall1T: number; wall2T: number; wallRatio: number;
}
function rowsOf(samples: Sample[]): Row[] {
const rows: Row[] = [];
const names = [...new Set(recorded.map((c) => c.name))];
for (const name of names) {
  const idx = recorded.map((c, i) => (c.name === name ? i : -1)).filter((i) => i >= 0);
  const sum = (f: (s: Sample) => number[]) => idx.reduce((a, i) => a + median(f(samples[i])), 0);
  const ms1T = sum((s) => s.cpu1), serial2 = sum((s) => s.serial2), makespan = sum((s) => s.makespan2), taskCpu = sum((s) => s.taskCpu2);
  const bytes = idx.reduce((a, i) => a + recorded[i].bytes, 0);
  const jobs = sum((s) => s.jobs2), tasks = sum((s) => s.tasks2);
  const allJobs = idx.reduce((a, i) => a + samples[i].jobs2.reduce((x, y) => x + y, 0), 0);
  const joined = idx.reduce((a, i) => a + samples[i].joined2.reduce((x, y) => x + y, 0), 0);
  const est2T = serial2 + makespan, wall1T = sum((s) => s.wall1), wall2T = sum((s) => s.wall2);
  const rooflineMs = bytes / streamGBs / 1e6;
  rows.push({
    kernel: name, calls: idx.length, shapes: [...new Set(idx.map((i) => shapeOf(recorded[i].params)))], ms1T, sharePct: (100 * ms1T) / step1T,
    mbPerStep: bytes / 1e6, gbs: bytes / ms1T / 1e6, rooflineMs, rooflinePct: (100 * rooflineMs) / ms1T, jobsPerCall: jobs / idx.length,
    tasksPerJob: jobs > 0 ? tasks / jobs : 0, threshold: SPLIT_RULES[name] ?? '', est2T, serial2T: serial2, eff2T: ms1T / (maxThreads * est2T),
    balance: makespan > 0 ? taskCpu / (maxThreads * makespan) : NaN, inflation: (serial2 + taskCpu) / ms1T, workerJoinedPct: allJobs > 0 ? (100 * joined) / allJobs : NaN,
    wall1T, wall2T, wallRatio: wall1T / wall2T,
  });
}
rows.sort((a, b) => b.ms1T - a.ms1T);
return rows;
}
const byArm = Object.fromEntries(arms.map((a) => [a.name, rowsOf(samplesOf.get(a.name)!)]));
const rows = byArm.new;
const total = (f: (r: Row) => number) => rows.reduce((a, r) => a + f(r), 0);
const mine = rows.filter((r) => !['reduceAxis', 'permute', 'dropout', 'adamwStep', 'attentionForwardStrided', 'attentionBackwardStrided'].includes(r.kernel));
const uptime = execSync('uptime').toString().trim();
const report = {
  bench: 'kernels-2t', date: new Date().toISOString(), uptime, cpu: os.cpus()[0]?.model, isa: nativeLoad.isa(), threads: maxThreads, rounds,
  model: `G2P seq2seq d ${cfg.dModel}, batch ${cfg.batch}`, step1TCpuMs: step1T, streamGBs, streamGBs2T,
  // the 2T efficiency a purely memory-bound kernel can reach: two cores' bandwidth over twice one core's
  streamEff2T: streamGBs2T / (maxThreads * streamGBs),
  // µs: a kernel call's binding + dispatch (a 16-float add, 1T), and the caller's CPU outside the tasks of a 2-task job at 2T
  callUs, splitSerialUs,
  totals: {
    all: { ms1T: total((r) => r.ms1T), est2T: total((r) => r.est2T), sharePct: (100 * total((r) => r.ms1T)) / step1T },
    // the kernels this helper owns: 1T, its roofline, the 2T estimate split into the caller's serial
    // part (binding, pool launch, cross-task sums) and the tasks' makespan, against ms1T / 2
    thisHelpers: {
      calls: mine.reduce((a, r) => a + r.calls, 0), ms1T: mine.reduce((a, r) => a + r.ms1T, 0), rooflineMs: mine.reduce((a, r) => a + r.rooflineMs, 0),
      est2T: mine.reduce((a, r) => a + r.est2T, 0), serial2T: mine.reduce((a, r) => a + r.serial2T, 0),
      makespan2T: mine.reduce((a, r) => a + r.est2T - r.serial2T, 0), half1T: mine.reduce((a, r) => a + r.ms1T, 0) / maxThreads,
    },
  },
  rows,
  ...(byArm.old ? { old: { path: oldPath, rows: byArm.old } } : {}),
};
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
console.log(`kernels-2t: ${report.model}; step 1T ${f(step1T, 1)} ms CPU; streaming ${f(streamGBs, 1)} GB/s 1T, ${f(streamGBs2T, 1)} GB/s ${maxThreads}T (${f(100 * report.streamEff2T, 0)}% 2T efficiency); ${rounds} rounds; ${uptime}`);
console.log(`a kernel call's binding and dispatch: ${f(callUs)} µs; the caller's time outside the tasks of a 2-task job at ${maxThreads}T: ${f(splitSerialUs)} µs (both including a ${f(snapNs / 1e3)} µs clock snapshot)`);
console.log('kernel                   calls  ms1T  share%  MB/step  GB/s  roofline%  jobs/call tasks/job  est2T  eff%  balance  inflation  joined%  wall1T/2T');
for (const r of rows) {
  console.log(`${r.kernel.padEnd(24)} ${String(r.calls).padStart(5)} ${f(r.ms1T).padStart(5)} ${f(r.sharePct, 1).padStart(6)} ${f(r.mbPerStep, 1).padStart(8)} ${f(r.gbs, 1).padStart(5)} ${f(r.rooflinePct, 0).padStart(9)}  ${f(r.jobsPerCall, 1).padStart(9)} ${f(r.tasksPerJob, 1).padStart(9)} ${f(r.est2T).padStart(6)} ${f(100 * r.eff2T, 0).padStart(5)} ${f(r.balance).padStart(8)} ${f(r.inflation).padStart(10)} ${f(r.workerJoinedPct, 0).padStart(8)}  ${f(r.wallRatio).padStart(9)}`);
}
const t = report.totals;
console.log(`all these kernels: ${f(t.all.ms1T)} ms 1T (${f(t.all.sharePct, 1)}% of the step), ${f(t.all.est2T)} ms 2T estimate (${f(t.all.ms1T / t.all.est2T)}×)`);
const m = t.thisHelpers;
console.log(`this helper's kernels (${m.calls} calls): ${f(m.ms1T)} ms 1T, roofline ${f(m.rooflineMs)} ms, 2T estimate ${f(m.est2T)} ms (${f(m.ms1T / m.est2T)}×, ${f((100 * m.ms1T) / (maxThreads * m.est2T), 0)}%) = ` +
  `serial ${f(m.serial2T)} ms (${f((1000 * m.serial2T) / m.calls, 1)} µs per call) + makespan ${f(m.makespan2T)} ms (1T / ${maxThreads} = ${f(m.half1T)} ms)`);
if (byArm.old) {
  console.log(`\nold (${oldPath}) against new, whole sequences alternating, round by round:`);
  console.log('kernel                   ms1T old   new  old/new   est2T old   new   eff% old  new   balance old  new');
  for (const r of rows) {
    const o = byArm.old.find((x) => x.kernel === r.kernel);
    if (!o) continue;
    console.log(`${r.kernel.padEnd(24)} ${f(o.ms1T).padStart(8)} ${f(r.ms1T).padStart(5)} ${f(o.ms1T / r.ms1T).padStart(8)} ${f(o.est2T).padStart(11)} ${f(r.est2T).padStart(5)} ${f(100 * o.eff2T, 0).padStart(10)} ${f(100 * r.eff2T, 0).padStart(4)} ${f(o.balance).padStart(13)} ${f(r.balance).padStart(4)}`);
  }
}
if (out) writeFileSync(out, JSON.stringify(report, null, 1) + '\n');
