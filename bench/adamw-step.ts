/**
 * The AdamW optimizer step of the G2P training step (d 256, the model of bench/train.ts), alone:
 * its kernel calls per step and its time at 1 and 2 threads, on the CPU clock, against the same
 * work done by ONE adamwStep call over one flat buffer of the same total size (the bound of a
 * multi-tensor step that splits all parameters over the pool by elements: what torch's
 * `fused`/`foreach` AdamW does with one launch over a list of tensors).
 *
 *   node --import tsx bench/adamw-step.ts [--rounds 9] [--steps 20] [--out bench/results/file.json]
 *   node --import tsx bench/adamw-step.ts --train [--rounds 11] [--steps 8] [--out ...]
 *       the whole training step of bench/train.ts (heedStep) A/B: two copies of the model in one process,
 *       one whose AdamW runs adamwStepMulti (now), one whose optimizer step is the per-parameter loop
 *       (before), interleaved in every round at 1 and 2 threads; medians and paired differences
 *   node --import tsx bench/adamw-step.ts --binding [--rounds 41]
 *       what an array-list argument costs at the binding: scaleInPlaceMulti over 0, 90 and 360 one-value
 *       entries, and one adamwStepMulti over 90 one-value tensors against 90 adamwStep calls (1 thread, main-thread CPU)
 *
 * Arms, interleaved in every round (so the load of other jobs falls on all of them alike):
 *   perTensor  the AdamW step as it ran before the eighth session: one adamwStep call per parameter
 *              (the optimizer's loop, with its own moments and step count)
 *   multi      AdamW.step() now: one adamwStepMulti call over the lists of every parameter, gradient
 *              and moment (split over the pool by total element count)
 *   oneCall    one adamwStep call over flat param/grad/m/v arrays holding as many values (the bound)
 *   normPerTensor the Trainer's global gradient norm as it ran before: one sumSquares call per parameter
 *   gradNorm   gradNorm() now (src/train/optim/clip.ts): one sumSquaresMulti call over the gradients
 *   normOneCall one sumSquares call over a flat gradient holding as many values
 * Clocks per step: wall (performance.now), the main thread's CPU time (the serial part: binding,
 * JS, the caller's share of pool jobs) and the process CPU time (every thread's work).
 */
import { writeFileSync } from 'node:fs';
import { readArgs } from './args.ts';
import { markWeightsChanged } from '../src/nn/weights-version.ts';
import { heedStep, makeTrainBatch } from './train.ts';
import { loadavg } from 'node:os';
import { k, setBackend, setNumThreads } from '../src/backend/registry.ts';
import { nativeLoad } from './native-util.ts';
import { median } from './peers/common.ts';
import { TRAIN_CFG } from './train.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { manualSeed } from '../src/tensor/rng.ts';
import { Seq2SeqTransformer } from '../src/models/seq2seq.ts';
import { AdamW } from '../src/train/optim/index.ts';
import { gradNorm } from '../src/train/optim/clip.ts';
import { sumSquaresResult } from '../src/backend/js/optim.ts';

const flags = readArgs(import.meta.url, {
  rounds: { kind: 'int', min: 1, help: 'interleaved rounds (default 9; 11 with --train, 41 with --binding)' },
  steps: { kind: 'int', min: 1, help: 'optimizer steps per round (default 20; 8 with --train)' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
  train: { kind: 'bool', help: 'A/B inside the real training step' },
  binding: { kind: 'bool', help: 'the binding cost of one call' },
});
if (!nativeLoad) throw new Error('bench/adamw-step.ts needs the native addon (npm run build:native)');
const addon = nativeLoad;
setBackend('native');
const rounds = flags.rounds ?? 9;
const steps = flags.steps ?? 20;
const out = flags.out;

if (flags.train) {
  await trainAB();
  process.exit(0);
}
if (flags.binding) {
  bindingCost();
  process.exit(0);
}

const c = TRAIN_CFG;
manualSeed(0);
const model = new Seq2SeqTransformer({
  srcVocabSize: c.srcVocab, tgtVocabSize: c.tgtVocab, dModel: c.dModel, numHeads: c.heads, numEncoderLayers: c.encLayers,
  numDecoderLayers: c.decLayers, dimFeedforward: c.ff, dropout: c.dropout, activation: 'relu', normFirst: true, maxLen: 48,
});
const named = model.namedParameters().filter(([, t]) => t.requiresGrad);
let seed = 1;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5) * 1e-2;
for (const [, p] of named) p.grad = new Tensor(Float32Array.from({ length: p.size }, rnd), [...p.shape]);
const opt = new AdamW(model, { lr: c.lr, weightDecay: c.weightDecay });
const total = named.reduce((s, [, p]) => s + p.size, 0);
const sizes = named.map(([, p]) => p.size);

// Calls per step: count the kernel calls one opt.step() makes.
let calls = 0;
const kk = k as unknown as Record<string, (p: unknown) => void>;
const realOne = kk.adamwStep, realMulti = kk.adamwStepMulti;
kk.adamwStep = (p) => { calls++; realOne(p); };
kk.adamwStepMulti = (p) => { calls++; realMulti(p); };
opt.step();
kk.adamwStep = realOne;
kk.adamwStepMulti = realMulti;

// The optimizer's loop before the multi-tensor kernel: one adamwStep per parameter, each with its group's hyper-parameters.
type PerState = Map<Tensor, { step: number; m: Float32Array; v: Float32Array }>;
const perState: PerState = new Map();
const perTensorStep = () => perTensorStepOf(opt, perState);
function perTensorStepOf(opt: AdamW, perState: PerState): void {
  for (const g of opt.paramGroups) {
    const h = g.hyper;
    for (const [, p] of g.params) {
      if (p.grad === null) continue;
      let st = perState.get(p);
      if (st === undefined) perState.set(p, (st = { step: 0, m: new Float32Array(p.size), v: new Float32Array(p.size) }));
      st.step++;
      k.adamwStep({ param: p.data as Float32Array, grad: p.grad.data as Float32Array, m: st.m, v: st.v, lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.weightDecay, step: st.step });
    }
  }
}

const params = named.map(([, p]) => p);
const sumOut = new Float32Array(2);
const flat = { param: new Float32Array(total).fill(0.1), grad: Float32Array.from({ length: total }, rnd), m: new Float32Array(total), v: new Float32Array(total) };
let flatStep = 0;
const arms: Record<string, () => void> = {
  perTensor: perTensorStep,
  multi: () => opt.step(),
  oneCall: () => k.adamwStep({ ...flat, lr: c.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: c.weightDecay, step: ++flatStep }),
  // The Trainer's global gradient norm (clip.ts, every step): one sumSquares call per parameter (before), one
  // sumSquaresMulti call over the list (now), one sumSquares over the flat gradient (the bound).
  normPerTensor: () => {
    let sq = 0;
    for (const p of params) { k.sumSquares({ x: p.grad!.data as Float32Array, out: sumOut }); sq += sumSquaresResult(sumOut); }
    if (!(sq >= 0)) throw new Error('norm');
  },
  gradNorm: () => { gradNorm(params); },
  normOneCall: () => k.sumSquares({ x: flat.grad, out: sumOut }),
};

type Sample = { wallMs: number; mainCpuMs: number; procCpuMs: number };
const samples: Record<string, Sample[]> = {};
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
function measure(fn: () => void): Sample {
  for (let i = 0; i < 3; i++) fn();
  const w0 = performance.now(), m0 = addon.threadCpuNs(), p0 = cpuMs();
  for (let i = 0; i < steps; i++) fn();
  const w1 = performance.now(), m1 = addon.threadCpuNs(), p1 = cpuMs();
  return { wallMs: (w1 - w0) / steps, mainCpuMs: (m1 - m0) / 1e6 / steps, procCpuMs: (p1 - p0) / steps };
}
const loadBefore = loadavg();
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? [1, 2] : [2, 1];
  for (const threads of order) {
    setNumThreads(threads);
    for (const [name, fn] of r % 2 === 0 ? Object.entries(arms) : Object.entries(arms).reverse()) {
      (samples[`${name} ${threads}T`] ??= []).push(measure(fn));
    }
  }
}
// The 2-thread step on an idle machine, estimated from the pool's profiling counters (as bench/train-threads.ts):
// serial = the main thread's CPU time outside pool jobs; makespan = the jobs' tasks, each timed on its thread's CPU
// clock, replayed in claim order onto 2 free threads; est = serial + makespan. Other jobs on the machine delay the
// worker's start, which the main thread's CPU clock counts as waiting; this estimate leaves it out.
const JOBS = 0, IN_JOB = 4, MAKESPAN = 5;
const a = new Float64Array(8), b = new Float64Array(8);
const est: Record<string, { serialMs: number; makespanMs: number; estMs: number; jobs: number }[]> = {};
setNumThreads(2);
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of r % 2 === 0 ? Object.entries(arms) : Object.entries(arms).reverse()) {
    for (let i = 0; i < 3; i++) fn();
    addon.poolProfile(true, a);
    for (let i = 0; i < steps; i++) fn();
    addon.poolProfile(false, b);
    const serialMs = (b[7] - a[7] - (b[IN_JOB] - a[IN_JOB])) / 1e6 / steps, makespanMs = (b[MAKESPAN] - a[MAKESPAN]) / 1e6 / steps;
    (est[name] ??= []).push({ serialMs, makespanMs, estMs: serialMs + makespanMs, jobs: (b[JOBS] - a[JOBS]) / steps });
  }
}
const estimate: Record<string, { serialMs: number; makespanMs: number; estMs: number; jobs: number }> = {};
for (const [name, list] of Object.entries(est)) {
  estimate[name] = { serialMs: median(list.map((x) => x.serialMs)), makespanMs: median(list.map((x) => x.makespanMs)), estMs: median(list.map((x) => x.estMs)), jobs: median(list.map((x) => x.jobs)) };
}
const summary: Record<string, Sample> = {};
console.log(`AdamW step, G2P d${c.dModel}: ${named.length} parameters, ${total} values; kernel calls per opt.step(): ${calls}`);
console.log(`sizes: ${sizes.filter((n) => n < 1 << 15).length} below 32768 values (one thread, no pool job), ${sizes.filter((n) => n >= 1 << 15).length} at or above`);
console.log('arm              wall ms   main-thread CPU ms   process CPU ms   (medians of ' + rounds + ' rounds × ' + steps + ' steps)');
for (const [key, list] of Object.entries(samples)) {
  const s = { wallMs: median(list.map((x) => x.wallMs)), mainCpuMs: median(list.map((x) => x.mainCpuMs)), procCpuMs: median(list.map((x) => x.procCpuMs)) };
  summary[key] = s;
  console.log(`${key.padEnd(16)} ${s.wallMs.toFixed(3).padStart(8)} ${s.mainCpuMs.toFixed(3).padStart(12)} ${s.procCpuMs.toFixed(3).padStart(18)}`);
}
console.log('2 threads on an idle machine, estimated from the pool profile (serial + makespan; medians):');
for (const [name, e] of Object.entries(estimate)) {
  console.log(`${name.padEnd(12)} serial ${e.serialMs.toFixed(3)} + makespan ${e.makespanMs.toFixed(3)} = ${e.estMs.toFixed(3)} ms; pool jobs/step ${e.jobs.toFixed(0)}; 1T main-thread CPU / est 2T = ${(summary[`${name} 1T`].mainCpuMs / e.estMs).toFixed(2)}x`);
}
console.log(`load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (out) {
  writeFileSync(out, `${JSON.stringify({
    command: `node --import tsx bench/adamw-step.ts ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(), isa: addon.isa(),
    parameters: named.length, values: total, sizes, optimizerCallsPerStep: calls, rounds, steps,
    clock: 'medians over interleaved rounds of: wall (performance.now), main thread CPU (threadCpuNs), process CPU (process.cpuUsage)',
    loadavgBefore: loadBefore, loadavgAfter: loadavg(), summary, estimate2T: estimate, samples, estimateSamples: est,
  }, null, 2)}\n`);
}

/** --train: the whole training step, AdamW in one adamwStepMulti call (multi) against one adamwStep per parameter (perTensor). */
async function trainAB(): Promise<void> {
  const R = flags.rounds ?? 11, N = flags.steps ?? 8;
  const batch = makeTrainBatch();
  const multi = await heedStep(batch);
  const per = await heedStep(batch);
  const perOpt = per.opt as AdamW;
  const state: PerState = new Map();
  perOpt.step = () => { perTensorStepOf(perOpt, state); markWeightsChanged(); };
  const arms: Record<string, () => void> = { multi: multi.step, perTensor: per.step };
  const rows: Record<string, Sample[]> = {};
  const est2T: Record<string, { serialMs: number; makespanMs: number; estMs: number; jobs: number }[]> = {};
  const pa = new Float64Array(8), pb = new Float64Array(8);
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  const loadBefore = loadavg();
  for (const fn of Object.values(arms)) for (let i = 0; i < 3; i++) fn();
  for (let r = 0; r < R; r++) {
    for (const threads of r % 2 ? [2, 1] : [1, 2]) {
      setNumThreads(threads);
      for (const [name, fn] of r % 2 ? Object.entries(arms).reverse() : Object.entries(arms)) {
        fn();
        const w0 = performance.now(), m0 = addon.threadCpuNs(), p0 = cpu();
        for (let i = 0; i < N; i++) fn();
        const w1 = performance.now(), m1 = addon.threadCpuNs(), p1 = cpu();
        (rows[`${name} ${threads}T`] ??= []).push({ wallMs: (w1 - w0) / N, mainCpuMs: (m1 - m0) / 1e6 / N, procCpuMs: (p1 - p0) / N });
        if (threads === 2) {
          // the idle 2-thread step from the pool profile (as bench/train-threads.ts): serial CPU outside jobs + the jobs' makespan
          addon.poolProfile(true, pa);
          for (let i = 0; i < N; i++) fn();
          addon.poolProfile(false, pb);
          const serialMs = (pb[7] - pa[7] - (pb[4] - pa[4])) / 1e6 / N, makespanMs = (pb[5] - pa[5]) / 1e6 / N;
          (est2T[name] ??= []).push({ serialMs, makespanMs, estMs: serialMs + makespanMs, jobs: (pb[0] - pa[0]) / N });
        }
      }
    }
  }
  const summary: Record<string, Sample> = {};
  console.log(`training step (bench/train.ts heedStep, d${TRAIN_CFG.dModel}) A/B: medians of ${R} interleaved rounds × ${N} steps`);
  for (const [key, list] of Object.entries(rows)) {
    summary[key] = { wallMs: median(list.map((x) => x.wallMs)), mainCpuMs: median(list.map((x) => x.mainCpuMs)), procCpuMs: median(list.map((x) => x.procCpuMs)) };
    const s = summary[key];
    console.log(`${key.padEnd(14)} wall ${s.wallMs.toFixed(2)}  main-thread CPU ${s.mainCpuMs.toFixed(2)}  process CPU ${s.procCpuMs.toFixed(2)} ms/step`);
  }
  const paired: Record<string, Sample> = {};
  for (const t of ['1T', '2T']) {
    const a = rows[`multi ${t}`], b = rows[`perTensor ${t}`];
    const d = (f: (x: Sample) => number) => median(a.map((x, i) => f(x) - f(b[i])));
    paired[t] = { wallMs: d((x) => x.wallMs), mainCpuMs: d((x) => x.mainCpuMs), procCpuMs: d((x) => x.procCpuMs) };
    console.log(`multi − perTensor ${t} (median of paired rounds): wall ${paired[t].wallMs.toFixed(3)}, main-thread CPU ${paired[t].mainCpuMs.toFixed(3)}, process CPU ${paired[t].procCpuMs.toFixed(3)} ms/step`);
  }
  const estimate: Record<string, { serialMs: number; makespanMs: number; estMs: number; jobs: number }> = {};
  for (const [name, list] of Object.entries(est2T)) {
    estimate[name] = { serialMs: median(list.map((x) => x.serialMs)), makespanMs: median(list.map((x) => x.makespanMs)), estMs: median(list.map((x) => x.estMs)), jobs: median(list.map((x) => x.jobs)) };
    const e = estimate[name];
    console.log(`${name.padEnd(10)} idle 2T estimate: serial ${e.serialMs.toFixed(2)} + makespan ${e.makespanMs.toFixed(2)} = ${e.estMs.toFixed(2)} ms/step, ${e.jobs.toFixed(0)} pool jobs/step`);
  }
  const estPaired = median(est2T.multi.map((x, i) => x.estMs - est2T.perTensor[i].estMs));
  console.log(`multi − perTensor idle 2T estimate (median of paired rounds): ${estPaired.toFixed(3)} ms/step`);
  console.log(`losses: multi ${multi.loss()}, perTensor ${per.loss()} (sanity: both train; dropout masks differ between the copies)`);
  console.log(`load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (out) {
    writeFileSync(out, `${JSON.stringify({
      command: `node --import tsx bench/adamw-step.ts ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(), isa: addon.isa(), rounds: R, steps: N,
      clock: 'medians over interleaved rounds of: wall (performance.now), main thread CPU (threadCpuNs), process CPU (process.cpuUsage); paired = median of per-round differences',
      lossMulti: multi.loss(), lossPerTensor: per.loss(), loadavgBefore: loadBefore, loadavgAfter: loadavg(), summary, pairedMultiMinusPerTensor: paired,
      estimate2T: estimate, estimate2TPairedMultiMinusPerTensor: estPaired, samples: rows, estimateSamples: est2T,
    }, null, 2)}\n`);
  }
}

/** --binding: the cost of reading array lists in the binding (kernels over one-value arrays: the work is the call). */
function bindingCost(): void {
  const R = flags.rounds ?? 41, calls = 2000;
  setNumThreads(1);
  const one = (n: number) => Array.from({ length: n }, () => new Float32Array(1));
  const P = one(90), G = one(90), M = one(90), V = one(90);
  const hyper = new Float64Array(90 * 6);
  for (let i = 0; i < 90; i++) hyper.set([1e-3, 0.9, 0.999, 1e-8, 0.01, 1], i * 6);
  const lists = { 'scaleInPlaceMulti, 0 entries': one(0), 'scaleInPlaceMulti, 90 entries': one(90), 'scaleInPlaceMulti, 360 entries': one(360) };
  const arms: Record<string, () => void> = {};
  for (const [name, xs] of Object.entries(lists)) arms[name] = () => k.scaleInPlaceMulti({ xs, alpha: 1 });
  arms['adamwStepMulti, 90 one-value tensors'] = () => k.adamwStepMulti({ params: P, grads: G, m: M, v: V, hyper });
  arms['90 adamwStep calls, one value each'] = () => {
    for (let i = 0; i < 90; i++) k.adamwStep({ param: P[i], grad: G[i], m: M[i], v: V[i], lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 });
  };
  const res: Record<string, number[]> = {};
  for (let r = 0; r < R; r++) {
    for (const [name, fn] of r % 2 ? Object.entries(arms).reverse() : Object.entries(arms)) {
      const reps = name.startsWith('scaleInPlaceMulti') ? calls : calls / 20;
      fn();
      const t0 = addon.threadCpuNs();
      for (let i = 0; i < reps; i++) fn();
      (res[name] ??= []).push((addon.threadCpuNs() - t0) / reps / 1e3);
    }
  }
  const summary: Record<string, number> = {};
  console.log(`binding cost of array lists, 1 thread, main-thread CPU µs per call (medians of ${R} interleaved rounds)`);
  for (const [name, list] of Object.entries(res)) {
    summary[name] = median(list);
    console.log(`${name.padEnd(40)} ${summary[name].toFixed(2)} µs`);
  }
  console.log(`per list entry: ${((summary['scaleInPlaceMulti, 360 entries'] - summary['scaleInPlaceMulti, 0 entries']) / 360 * 1000).toFixed(0)} ns`);
  if (out) writeFileSync(out, `${JSON.stringify({ command: `node --import tsx bench/adamw-step.ts ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(), rounds: R, loadavg: loadavg(), summaryUs: summary, samplesUs: res }, null, 2)}\n`);
}
