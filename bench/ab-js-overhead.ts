/**
 * The per-op JavaScript overhead, A/B in one process: this tree against another checkout of heed
 * (`--base <dir>`: a copy of src/ and bench/ with its own build/Release/heed.node), each loaded as its
 * own module graph, their calls interleaved round by round in a rotating order on the process CPU
 * clock, so both see the same machine load (issue 16: the per-op JS of a training step and of a
 * batch-1 request).
 *
 *   HEED_NUM_THREADS=1 node --import tsx bench/ab-js-overhead.ts --base /tmp/heed-base [--rounds 12] [--only dispatch] [--out f.json]
 *
 * Phase 1, CPU time per call (medians over rounds), no instrumentation:
 *   step   the bench/train.ts G2P training step (d 256, B 64), in its storage scope;
 *   spam   one spam request (EncoderClassifier d64, 150 tokens) under inferenceMode;
 *   g2p    the g2p encoder on one 8-letter word (Seq2SeqTransformer d256) under inferenceMode;
 *   empty  inferenceMode(() => null, model) on each model: the scope's own cost;
 *   dispatch add 64 / matmul 8x8 / softmax 64, with and without grad (bench/dispatch.ts's ops).
 * Phase 2, the step's outside-kernel share: every kernel of both trees wrapped with a CPU-clock timer
 * (as bench/profile-step.ts --cpu), the GEMM FLOPs counted from the calls, % of the FMA peak probe
 * timed on the same clock in this process.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  base: { kind: 'string', default: '/tmp/heed-base', help: 'the other checkout of heed (src/, bench/ and its build/Release/heed.node)' },
  rounds: { kind: 'int', default: 12, min: 1, help: 'interleaved rounds' },
  only: { kind: 'string', default: '', help: 'only the workloads whose name contains this' },
  out: { kind: 'string', help: 'raw results file (default bench/results/ab-js-overhead-<date>.json)' },
});
const base = resolve(flags.base);
const rounds = flags.rounds;
const out = flags.out ?? `bench/results/ab-js-overhead-${new Date().toISOString().slice(0, 16).replace(':', '')}.json`;
const here = resolve(new URL('..', import.meta.url).pathname);
const median = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];
const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

interface Tree {
  name: string;
  step: () => void;
  spam: () => unknown; g2p: () => unknown; emptySpam: () => unknown; emptyG2p: () => unknown;
  dispatch: [string, () => unknown][];
  k: Record<string, (p: Record<string, unknown>) => unknown>;
  peakFlops: (threads: number) => number;
}

async function load(name: string, dir: string): Promise<Tree> {
  const reg = await import(`${dir}/src/backend/registry.ts`);
  reg.setBackend('native');
  reg.setNumThreads(1);
  const heed = await import(`${dir}/src/index.ts`);
  const { inferenceMode } = await import(`${dir}/src/autograd/inference.ts`);
  const train = await import(`${dir}/bench/train.ts`);
  const { loadNative } = await import(`${dir}/src/backend/native/load.ts`);
  const step = (await train.heedStep(train.makeTrainBatch())).step as () => void;
  heed.manualSeed(0);
  const mail = heed.tensor(Array.from({ length: 150 }, (_, i) => 5 + ((i * 37) % 15990)), [1, 150], { dtype: 'int32' });
  const spamModel = new heed.models.EncoderClassifier({ vocabSize: 16000, numClasses: 2, dModel: 64, numHeads: 4, numLayers: 2, dimFeedforward: 256, maxLen: 256, pooling: 'mean' }).eval();
  const word = heed.tensor([3, 4, 5, 6, 7, 8, 9, 10], [1, 8], { dtype: 'int32' });
  const g2pModel = new heed.models.Seq2SeqTransformer({ srcVocabSize: 30, tgtVocabSize: 44 }).eval();
  const d = (rg: boolean) => {
    const a = heed.randn([64], { requiresGrad: rg }), b = heed.randn([64], { requiresGrad: rg });
    const m = heed.randn([8, 8], { requiresGrad: rg }), n = heed.randn([8, 8], { requiresGrad: rg });
    const tag = rg ? ' +grad' : '';
    return [[`add 64${tag}`, () => heed.add(a, b)], [`matmul 8x8${tag}`, () => heed.matmul(m, n)], [`softmax 64${tag}`, () => heed.softmax(a, -1)]] as [string, () => unknown][];
  };
  const nat = loadNative();
  return {
    name, step,
    spam: () => inferenceMode(() => spamModel.forward(mail), spamModel),
    g2p: () => inferenceMode(() => g2pModel.encode(word).memory, g2pModel),
    emptySpam: () => inferenceMode(() => null, spamModel),
    emptyG2p: () => inferenceMode(() => null, g2pModel),
    dispatch: [...d(false), ...d(true)],
    k: reg.k,
    peakFlops: nat.ok ? nat.peakFlops : () => NaN,
  };
}

/** CPU ms of `reps` calls of f, per call. */
function timeCpu(f: () => unknown, reps: number): number {
  const c0 = cpuMs();
  for (let i = 0; i < reps; i++) f();
  return (cpuMs() - c0) / reps;
}

const trees = [await load('before', base), await load('after', here)];
const loadBefore = loadavg();
// [name, the call, calls per timed batch, batches per round]: the dispatch ops time many short batches,
// so that the median leaves out the batches a garbage collection landed in.
const only = flags.only;
const workloads: [string, (t: Tree) => () => unknown, number, number][] = ([
  ['step', (t: Tree) => t.step, 1, 1],
  ['spam request', (t: Tree) => t.spam, 200, 1],
  ['g2p encoder request', (t: Tree) => t.g2p, 200, 1],
  ['empty inferenceMode, spam model', (t: Tree) => t.emptySpam, 2000, 1],
  ['empty inferenceMode, g2p model', (t: Tree) => t.emptyG2p, 2000, 1],
  ...trees[0].dispatch.map(([n], i) => [`dispatch ${n}`, (t: Tree) => t.dispatch[i][1], 500, 20]),
] as [string, (t: Tree) => () => unknown, number, number][]).filter(([n]) => n.includes(only));
// warm-up (JIT, pools)
for (const t of trees) for (const [, f, reps] of workloads) timeCpu(f(t), Math.min(reps, 3) * (reps > 1 ? 20 : 1));
const times = new Map<string, number[][]>(workloads.map(([n]) => [n, [[], []]]));
for (let r = 0; r < rounds; r++) {
  for (const [n, f, reps, batches] of workloads) {
    for (let j = 0; j < 2; j++) {
      const ti = (r + j) % 2; // rotate which tree goes first
      for (let b = 0; b < batches; b++) times.get(n)![ti].push(timeCpu(f(trees[ti]), reps));
    }
  }
}
const phase1 = workloads.map(([n, , reps]) => {
  const [b, a] = times.get(n)!;
  const unit = reps === 1 ? 'ms' : 'µs';
  const scale = reps === 1 ? 1 : 1000;
  return { workload: n, unit, before: median(b) * scale, after: median(a) * scale, speedup: median(b) / median(a), callsPerBatch: reps };
});
if (!workloads.some(([n]) => n === 'step')) {
  writeFileSync(out, `${JSON.stringify({ command: `HEED_NUM_THREADS=1 node --import tsx bench/ab-js-overhead.ts ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(), base, loadavgBefore: loadBefore, loadavgAfter: loadavg(), clock: 'process CPU time (process.cpuUsage), medians over batches', rounds, phase1 }, null, 2)}\n`);
}
for (const p of phase1) console.log(`${p.workload.padEnd(34)} before ${p.before.toFixed(3)} ${p.unit}  after ${p.after.toFixed(3)} ${p.unit}  ${p.speedup.toFixed(3)}×`);

if (!workloads.some(([n]) => n === 'step')) {
  console.log(`wrote ${out} (phase 1 only); load ${loadBefore.map((l) => l.toFixed(1)).join(' ')} → ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  process.exit(0);
}
// Phase 2: kernel time inside the step, CPU clock.
interface Acc { kernelMs: number; flop: number }
const acc: Acc[] = trees.map(() => ({ kernelMs: 0, flop: 0 }));
const on = { v: false };
trees.forEach((t, ti) => {
  for (const name of Object.keys(t.k)) {
    const fn = t.k[name];
    t.k[name] = (p: Record<string, unknown>) => {
      if (!on.v) return fn(p);
      const t0 = cpuMs();
      try { return fn(p); } finally {
        acc[ti].kernelMs += cpuMs() - t0;
        if (name === 'sgemm') acc[ti].flop += 2 * (p.batch as number) * (p.m as number) * (p.n as number) * (p.k as number);
        if (name === 'linearFused') acc[ti].flop += 2 * (p.rows as number) * (p.outF as number) * (p.inF as number);
      }
    };
  }
});
const stepMs: number[][] = [[], []], shares: number[][] = [[], []], flopPerStep = [0, 0];
for (let r = 0; r < rounds; r++) {
  for (let j = 0; j < 2; j++) {
    const ti = (r + j) % 2;
    acc[ti].kernelMs = 0; acc[ti].flop = 0;
    on.v = true;
    const c0 = cpuMs();
    trees[ti].step();
    const ms = cpuMs() - c0;
    on.v = false;
    stepMs[ti].push(ms);
    shares[ti].push(1 - acc[ti].kernelMs / ms);
    flopPerStep[ti] = acc[ti].flop;
  }
}
// The FMA peak on the CPU clock: the probe's FLOPs over its CPU time (median of 3).
const probe = (): number => { const w0 = performance.now(), c0 = cpuMs(); const g = trees[1].peakFlops(1); return (g * (performance.now() - w0)) / (cpuMs() - c0); };
const peak = median([probe(), probe(), probe()]);
const phase2 = trees.map((t, ti) => ({
  tree: t.name, stepCpuMsTimed: median(stepMs[ti]), outsideKernelShare: median(shares[ti]),
  gemmGflopPerStep: flopPerStep[ti] / 1e9, percentOfPeakUntimed: (100 * flopPerStep[ti]) / 1e6 / times.get('step')![ti === 0 ? 0 : 1].sort((a, b) => a - b)[rounds >> 1] / peak,
}));
for (const p of phase2) console.log(`step (kernels timed) ${p.tree}: ${p.stepCpuMsTimed.toFixed(1)} ms CPU, outside kernels ${(100 * p.outsideKernelShare).toFixed(1)}%; ${p.gemmGflopPerStep.toFixed(2)} GFLOP GEMM/step = ${p.percentOfPeakUntimed.toFixed(1)}% of the ${peak.toFixed(0)} GFLOP/s CPU-clock peak (untimed step)`);
writeFileSync(out, `${JSON.stringify({
  command: `HEED_NUM_THREADS=1 node --import tsx bench/ab-js-overhead.ts ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(),
  base, loadavgBefore: loadBefore, loadavgAfter: loadavg(), clock: 'process CPU time (process.cpuUsage), medians over rounds', rounds,
  peakGflopsCpuClock: peak, phase1, phase2,
}, null, 2)}\n`);
console.log(`wrote ${out}; load ${loadBefore.map((l) => l.toFixed(1)).join(' ')} → ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
