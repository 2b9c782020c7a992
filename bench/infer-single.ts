/**
 * Single-request inference (batch 1) for issue 15's two batch-1 goals, every variant timed
 * interleaved in one process (one call of each per round, in a rotating order, so all see the same
 * machine load):
 *   onnxruntime-node     the model exported with exportOnnx, run by onnxruntime (1 intra-op thread)
 *   heed fp32            inferenceMode (no grad, buffers pooled across calls): heed's predictor path
 *   heed int8            the same model after quantizeDynamic, under inferenceMode
 *   heed fp32 module,    the same two with the fused encoder turned off (setFusedEncoderEnabled(false)):
 *   heed int8 module     the module path, op by op, as before src/models/fused-encoder.ts
 *   heed fp32 no pool    noGrad only (every op output a fresh buffer, as before the pool), timed in
 *                        a second phase in blocks alternating with pooled blocks (its garbage would
 *                        otherwise be collected during, and billed to, the other calls)
 * Goals: heed fp32 ≥ 1× onnxruntime; heed int8 ≥ 1.8× heed fp32.
 *
 * Then the int8 breakdown: the time of every Linear layer of the model alone (fp32 Linear and its
 * QuantizedLinear copy, interleaved, on an input of the shape the model gives it), summed, against
 * the whole forward: how much of a request the int8 GEMMs can speed up at all.
 *
 * Models at the task defaults with random weights (time does not depend on their values):
 *   spam EncoderClassifier d64, 4 heads, 2 layers, FF 256, mean pooling, 16,000 words; one 150-token mail;
 *   g2p Seq2SeqTransformer encoder d256, 4 heads, 2 layers, FF 1024; one 8-letter word;
 *   digits ViT at VIT_DEFAULTS (d64, 4 heads, 2 layers, FF 128, 16 patches + CLS); one 8×8 image.
 *
 *   HEED_NUM_THREADS=1 taskset -c 1 node --import tsx bench/infer-single.ts [--rounds 2000] [--out bench/results/infer-single-<date>.json]
 *
 * --trained <variants dir> measures instead the whole request of the trained fp32 models of the
 * compression table (<dir>/{digits,spam,tag}-fp32, the 64 inputs bench/compress.ts times), to
 * split a request into the model's forward and what surrounds it (reading the input, tensors,
 * decoding, answers): per round, in rotating order, on the process CPU clock and the wall clock:
 *   heed request         predictor.predict([input]), as heed predict / serve call it
 *   heed request, plan   the same after markWeightsChanged(): the fused encoder rebuilds its plan
 *     rebuilt            (repacks q|k|v, new work buffers), as every request did while eval() bumped
 *                        weightsVersion (before 2026-12-05 15:00)
 *   heed forward         the model's forward alone on the encoded input, in inferenceMode
 *   onnxruntime forward  the exported fp32 graph on the same encoded input (1 intra-op thread)
 * and batch 64 (best of `rounds / 50` calls): heed predict on the 64 inputs against onnxruntime's
 * graph on the same encoded batches (the tagger's: the predictor's two batches of 32).
 *
 *   HEED_NUM_THREADS=1 node --import tsx bench/infer-single.ts --trained /work/compress-models/variants [--rounds 1000] [--out bench/results/infer-request-<date>.json]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import * as heed from '../src/index.js';
import { models, nn } from '../src/index.js';
import { exportOnnx } from '../src/compress/onnx/export.js';
import { quantizeDynamic } from '../src/compress/quantize-dynamic.js';
import { inferenceMode } from '../src/autograd/inference.js';
import { storageStats } from '../src/tensor/storage-pool.js';
import { setFusedEncoderEnabled } from '../src/models/fused-encoder.js';
import { nativeLoad } from './native-util.js';
import type { Module } from '../src/nn/module.js';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  rounds: { kind: 'int', default: 2000, min: 1, help: 'timed calls per case' },
  out: { kind: 'string', help: 'raw results file (default bench/results/infer-single-<date>.json, infer-request-<date>.json with --trained)' },
  only: { kind: 'string', default: '', help: 'cases whose name starts with this; with --trained, the tasks (comma-separated, default digits,spam,tag)' },
  trained: { kind: 'string', default: '', help: 'a directory of trained models: time whole requests to them' },
});
const rounds = flags.rounds;
const out = flags.out ?? `bench/results/infer-${flags.trained !== '' ? 'request' : 'single'}-${new Date().toISOString().slice(0, 10)}.json`;
const median = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];
const ms = (x: number): string => x.toFixed(4);

interface Case { name: string; build: () => Module; forward: (m: Module) => heed.Tensor; sample: heed.Tensor[]; input: string; feed: heed.Tensor }

const mail = heed.tensor(Array.from({ length: 150 }, (_, i) => 5 + ((i * 37) % 15990)), [1, 150], { dtype: 'int32' });
const word = heed.tensor([3, 4, 5, 6, 7, 8, 9, 10], [1, 8], { dtype: 'int32' });
const image = heed.tensor(Array.from({ length: 64 }, (_, i) => (i * 7) % 17), [1, 1, 8, 8]);
const cases: Case[] = [
  { name: 'spam EncoderClassifier (d64, 2 layers), 1 mail of 150 tokens', input: 'input_ids', feed: mail, sample: [mail],
    build: () => new models.EncoderClassifier({ vocabSize: 16000, numClasses: 2, dModel: 64, numHeads: 4, numLayers: 2, dimFeedforward: 256, maxLen: 256, pooling: 'mean' }),
    forward: (m) => (m as models.EncoderClassifier).forward(mail) },
  { name: 'g2p Seq2SeqTransformer encoder (d256, 2 layers), 1 word of 8 letters', input: 'src_ids', feed: word, sample: [word, heed.tensor([1], [1, 1], { dtype: 'int32' })],
    build: () => new models.Seq2SeqTransformer({ srcVocabSize: 30, tgtVocabSize: 44 }),
    forward: (m) => (m as models.Seq2SeqTransformer).encode(word).memory },
  { name: 'digits ViT (d64, 2 layers), 1 image of 8×8', input: 'pixel_values', feed: image, sample: [image],
    build: () => new models.ViT({ numClasses: 10 }),
    forward: (m) => (m as models.ViT).forward(image) },
];
const only = flags.only;

/** Every Linear's input shape in one forward (hooks removed after). */
function linearInputs(model: Module, fwd: () => unknown): { name: string; layer: nn.Linear; shape: number[] }[] {
  const found: { name: string; layer: nn.Linear; shape: number[] }[] = [];
  const hooks = model.namedModules().filter(([, l]) => l instanceof nn.Linear).map(([name, l]) =>
    l.registerForwardHook((_m, args) => { found.push({ name, layer: l as nn.Linear, shape: [...(args[0] as heed.Tensor).shape] }); }));
  heed.noGrad(fwd); // the hooks send linear1 through Linear.call (the unfused path) for this one call only
  hooks.forEach((h) => h.remove());
  return found;
}

/**
 * The one-thread FMA peak on the process CPU clock: the native probe reports GFLOP/s over its wall
 * time, which on a loaded machine includes time it waited for the core; scaled by wall / CPU time.
 */
function cpuPeakGflops(): number {
  if (!nativeLoad) return NaN;
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    const g = nativeLoad.peakFlops(1);
    const wall = performance.now() - t0, c = process.cpuUsage(c0), cpu = (c.user + c.system) / 1000;
    best = Math.max(best, g * (wall / cpu));
  }
  return best;
}

/** Runs f once; pushes its wall time and its process CPU time (ms). */
async function timeCall(f: () => unknown, wall: number[], cpu: number[]): Promise<void> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f();
  wall.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
}

async function main(): Promise<void> {
  heed.manualSeed(0);
  const loadBefore = loadavg();
  const rows: Record<string, unknown>[] = [];
  for (const c of cases.filter((x) => only === '' || x.name.startsWith(only))) {
    const fp32 = c.build().eval();
    const int8 = c.build().eval();
    int8.loadStateDict(fp32.stateDict());
    quantizeDynamic(int8);
    const session = await ort.InferenceSession.create(exportOnnx(fp32, c.sample).graphs[0].bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
    const feeds = { [c.input]: c.feed.dtype === 'int32' ? new ort.Tensor('int32', c.feed.data as Int32Array, c.feed.shape) : new ort.Tensor('float32', c.feed.data as Float32Array, c.feed.shape) };
    const pooled = (m: Module) => () => inferenceMode(() => c.forward(m), m);
    const unfused = (f: () => unknown) => () => { const was = setFusedEncoderEnabled(false); try { return f(); } finally { setFusedEncoderEnabled(was); } };
    const heedRuns: [string, () => unknown][] = [['heed fp32', pooled(fp32)], ['heed int8', pooled(int8)], ['heed fp32 module', unfused(pooled(fp32))], ['heed int8 module', unfused(pooled(int8))]];
    const times = new Map<string, number[]>([['onnxruntime-node', []], ...heedRuns.map(([n]) => [n, []] as [string, number[]]), ['heed fp32 no pool', []]]);
    for (let i = 0; i < 200; i++) { for (const [, f] of heedRuns) f(); await session.run(feeds); }
    // Phase 1: onnxruntime, heed fp32, heed int8, one call of each per round, in an order that
    // rotates every round (the call right after onnxruntime's async hop runs on colder caches).
    const all: [string, () => unknown][] = [['onnxruntime-node', () => session.run(feeds)], ...heedRuns];
    const cpu = new Map(all.map(([n]) => [n, [] as number[]]));
    const bytesBefore = storageStats().bytes;
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < all.length; j++) {
        const [n, f] = all[(r + j) % all.length];
        await timeCall(f, times.get(n)!, cpu.get(n)!);
      }
    }
    const newBytesPerRound = (storageStats().bytes - bytesBefore) / rounds; // new tensor storage of the heed calls
    // Phase 2: the same fp32 model without the pool (noGrad only), in blocks of 100 calls alternating
    // with pooled blocks: interleaved call by call, the unpooled calls' garbage would be collected
    // during the pooled ones and bill them for it.
    const poolBlock: number[] = [], poolBlockCpu: number[] = [], noPoolCpu: number[] = [];
    const noPool = (): unknown => heed.noGrad(() => c.forward(fp32));
    for (let r = 0; r < rounds; r += 100) {
      for (const [f, wall, cpuMs] of [[noPool, times.get('heed fp32 no pool')!, noPoolCpu], [pooled(fp32), poolBlock, poolBlockCpu]] as [() => unknown, number[], number[]][]) {
        for (let i = 0; i < 100; i++) await timeCall(f, wall, cpuMs);
      }
    }
    // Phase 3: every variant in blocks of 100 calls, the blocks in rotating order. Interleaved call by
    // call (phase 1), each heed call follows another variant's garbage or onnxruntime's async hop and
    // pays for it (phase 1's medians sit well above its minima); in blocks each variant runs warm.
    const blockCpu = new Map(all.map(([n]) => [n, [] as number[]]));
    const blockWall = new Map(all.map(([n]) => [n, [] as number[]]));
    for (let r = 0, k = 0; r < rounds; r += 100, k++) {
      for (let j = 0; j < all.length; j++) {
        const [n, f] = all[(k + j) % all.length];
        for (let i = 0; i < 100; i++) await timeCall(f, blockWall.get(n)!, blockCpu.get(n)!);
      }
    }
    const bCpu = Object.fromEntries([...blockCpu].map(([n, t]) => [n, median(t)]));
    const bWall = Object.fromEntries([...blockWall].map(([n, t]) => [n, median(t)]));
    const p50 = Object.fromEntries([...times].map(([n, t]) => [n, median(t)]));
    const min = Object.fromEntries([...times].map(([n, t]) => [n, Math.min(...t)]));
    // CPU time of the process per call (process.cpuUsage, µs resolution; onnxruntime's worker thread
    // included): on a shared, loaded machine the wall-clock p50 also counts time the call waited for
    // the core, which CPU time does not.
    const cpuP50 = Object.fromEntries([...cpu].map(([n, t]) => [n, median(t)]));

    // int8 breakdown: each Linear alone, fp32 against its int8 copy, on inputs of the model's shapes.
    const layers = linearInputs(fp32, () => c.forward(fp32));
    const qLinears = new Map(int8.namedModules().map(([n, m]) => [n, m]));
    const fpT: number[] = [], q8T: number[] = [];
    const xs = layers.map((l) => heed.randn(l.shape));
    const layerRounds = Math.max(50, rounds >> 2);
    for (let r = 0; r < layerRounds; r++) {
      let t0 = performance.now();
      inferenceMode(() => layers.map((l, i) => l.layer.forward(xs[i])), fp32);
      fpT.push(performance.now() - t0);
      t0 = performance.now();
      inferenceMode(() => layers.map((l, i) => (qLinears.get(l.name) as nn.QuantizedLinear).forward(xs[i])), int8);
      q8T.push(performance.now() - t0);
    }
    const linFp32 = median(fpT), linInt8 = median(q8T);
    // The Linears' FLOPs over the fused fp32 forward's CPU time (blocks), against the FMA probe run in this process.
    const linearGflop = layers.reduce((s, l) => s + 2 * l.shape.slice(0, -1).reduce((a, b) => a * b, 1) * l.layer.inFeatures * l.layer.outFeatures, 0) / 1e9;
    const peak = cpuPeakGflops();
    const row = {
      model: c.name, rounds, p50Ms: p50, minMs: min,
      heedOverOrt: p50['onnxruntime-node'] / p50['heed fp32'],
      heedOverOrtMin: min['onnxruntime-node'] / min['heed fp32'],
      cpuP50Ms: cpuP50,
      heedOverOrtCpu: cpuP50['onnxruntime-node'] / cpuP50['heed fp32'],
      int8OverFp32Cpu: cpuP50['heed fp32'] / cpuP50['heed int8'],
      blocks: {
        cpuP50Ms: bCpu, wallP50Ms: bWall,
        linearGflopPerForward: linearGflop, peakGflops1Thread: peak,
        fusedFp32PercentOfPeak: 100 * (linearGflop / (bCpu['heed fp32'] / 1e3)) / peak,
        heedOverOrtCpu: bCpu['onnxruntime-node'] / bCpu['heed fp32'], int8OverFp32Cpu: bCpu['heed fp32'] / bCpu['heed int8'],
        fusedOverModuleCpu: { fp32: bCpu['heed fp32 module'] / bCpu['heed fp32'], int8: bCpu['heed int8 module'] / bCpu['heed int8'] },
        moduleHeedOverOrtCpu: bCpu['onnxruntime-node'] / bCpu['heed fp32 module'], moduleInt8OverFp32Cpu: bCpu['heed fp32 module'] / bCpu['heed int8 module'],
      },
      // The fused encoder against the module path it replaces (same process, interleaved), and the
      // two goals on the module path, for comparison.
      fusedOverModuleCpu: { fp32: cpuP50['heed fp32 module'] / cpuP50['heed fp32'], int8: cpuP50['heed int8 module'] / cpuP50['heed int8'] },
      moduleHeedOverOrtCpu: cpuP50['onnxruntime-node'] / cpuP50['heed fp32 module'],
      moduleInt8OverFp32Cpu: cpuP50['heed fp32 module'] / cpuP50['heed int8 module'],
      pooledBlocksP50Ms: median(poolBlock),
      poolSpeedup: p50['heed fp32 no pool'] / median(poolBlock),
      // Mean, not median, CPU time: a collection lands on one call in many, and the mean bills it.
      noPoolCpuMeanMs: noPoolCpu.reduce((a, b) => a + b, 0) / noPoolCpu.length,
      pooledCpuMeanMs: poolBlockCpu.reduce((a, b) => a + b, 0) / poolBlockCpu.length,
      int8OverFp32: p50['heed fp32'] / p50['heed int8'],
      newStorageBytesPerRound: newBytesPerRound,
      int8Breakdown: {
        linears: layers.map((l) => `${l.name} ${l.shape.join('x')}→${l.layer.outFeatures}`),
        linearsFp32P50Ms: linFp32, linearsInt8P50Ms: linInt8, linearSpeedup: linFp32 / linInt8,
        restFp32Ms: p50['heed fp32'] - linFp32, restInt8Ms: p50['heed int8'] - linInt8,
        linearShareOfFp32: linFp32 / p50['heed fp32'],
        // Amdahl: the whole request's speed-up if everything but the Linears cost nothing extra.
        bestPossibleInt8OverFp32IfRestUnchanged: p50['heed fp32'] / (p50['heed fp32'] - linFp32 + linInt8),
      },
    };
    rows.push(row);
    console.log(`${c.name}`);
    for (const [n, t] of times) console.log(`  ${n.padEnd(18)} p50 ${ms(median(t))} ms  min ${ms(Math.min(...t))} ms${cpuP50[n] !== undefined ? `  cpu p50 ${ms(cpuP50[n])} ms` : ''}`);
    console.log(`  heed fp32 / onnxruntime: ${row.heedOverOrt.toFixed(3)}× (p50), ${row.heedOverOrtMin.toFixed(3)}× (min); pool ${row.poolSpeedup.toFixed(3)}× (pooled blocks p50 ${ms(row.pooledBlocksP50Ms)} ms; mean CPU ${ms(row.pooledCpuMeanMs)} ms pooled, ${ms(row.noPoolCpuMeanMs)} ms not); int8 / fp32 ${row.int8OverFp32.toFixed(3)}×; by CPU time: heed / onnxruntime ${row.heedOverOrtCpu.toFixed(3)}×, int8 / fp32 ${row.int8OverFp32Cpu.toFixed(3)}×; fused / module fp32 ${row.fusedOverModuleCpu.fp32.toFixed(3)}×, int8 ${row.fusedOverModuleCpu.int8.toFixed(3)}× (module path: heed / onnxruntime ${row.moduleHeedOverOrtCpu.toFixed(3)}×, int8 / fp32 ${row.moduleInt8OverFp32Cpu.toFixed(3)}×)`);
    console.log(`  blocks of 100 (cpu p50 ms): ${Object.entries(bCpu).map(([n, t]) => `${n} ${ms(t)}`).join(', ')}`);
    console.log(`  blocks: heed / onnxruntime ${row.blocks.heedOverOrtCpu.toFixed(3)}× (module path ${row.blocks.moduleHeedOverOrtCpu.toFixed(3)}×), int8 / fp32 ${row.blocks.int8OverFp32Cpu.toFixed(3)}× (module path ${row.blocks.moduleInt8OverFp32Cpu.toFixed(3)}×), fused / module fp32 ${row.blocks.fusedOverModuleCpu.fp32.toFixed(3)}×, int8 ${row.blocks.fusedOverModuleCpu.int8.toFixed(3)}×; fused fp32 forward ${row.blocks.fusedFp32PercentOfPeak.toFixed(1)}% of the ${peak.toFixed(0)} GFLOP/s FMA peak (Linear FLOPs / CPU time)`);
    console.log(`  Linears alone: fp32 ${ms(linFp32)} ms, int8 ${ms(linInt8)} ms (${row.int8Breakdown.linearSpeedup.toFixed(2)}×), ${(100 * row.int8Breakdown.linearShareOfFp32).toFixed(1)}% of the fp32 request; best int8 request speed-up with the rest unchanged ${row.int8Breakdown.bestPossibleInt8OverFp32IfRestUnchanged.toFixed(3)}×`);
    await session.release();
  }
  writeFileSync(out, `${JSON.stringify({ command: `HEED_NUM_THREADS=1 taskset -c 1 node --import tsx bench/infer-single.ts ${process.argv.slice(2).join(' ')}`.trim(), date: new Date().toISOString(),
    threads: Number(process.env.HEED_NUM_THREADS ?? 0) || null, backend: heed.backendInfo().backend, onnxruntime: ort.env.versions?.common ?? null,
    loadavgBefore: loadBefore, loadavgAfter: loadavg(), rows }, null, 2)}\n`);
  console.log(`wrote ${out}; load ${loadBefore.map((l) => l.toFixed(1)).join(' ')} → ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}

/** One trained task of --trained: its predictor, each input encoded for the model, and the graph's feeds. */
interface TrainedCase {
  task: string;
  predict: (inputs: unknown[]) => unknown;
  model: Module;
  inputs: unknown[];
  /** The model's forward arguments for each input, and for the 64 inputs (one entry per model call). */
  single: unknown[][];
  batch: unknown[][];
  session: ort.InferenceSession;
  feeds: (args: unknown[]) => Record<string, ort.Tensor>;
}

async function trainedCase(task: string, dir: string): Promise<TrainedCase> {
  const { loadPredictor, loadTaskModel } = await import('../src/tasks/index.js');
  const { sampleInputs, recordForwardArgs } = await import('./compress.js');
  const { denseNgramMix } = await import('../src/models/word-tagger.js');
  const p = await loadPredictor(dir);
  const inputs = await sampleInputs(task, dir);
  const t = (x: heed.Tensor): ort.Tensor => x.dtype === 'int32' ? new ort.Tensor('int32', x.data as Int32Array, x.shape) : new ort.Tensor('float32', x.data as Float32Array, x.shape);
  type Member = { model: Module; encode(inputs: readonly unknown[]): { x: heed.Tensor } };
  const member = (p as unknown as { members?: Member[] }).members?.[0];
  const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' as const, graphOptimizationLevel: 'all' as const };
  if (member) {
    const single = inputs.map((x) => [member.encode([x]).x]);
    const session = await ort.InferenceSession.create(heed.noGrad(() => exportOnnx(member.model, single[0] as heed.Tensor[])).graphs[0].bytes, opts);
    return { task, predict: (i) => p.predict(i), model: member.model, inputs, single, batch: [[member.encode(inputs).x]], session, feeds: (a) => ({ [session.inputNames[0]]: t(a[0] as heed.Tensor) }) };
  }
  // The tagger: the WordBatch its predictor builds (recorded), and the graph `heed export onnx` writes.
  const model = (p as unknown as { model: Module }).model;
  const single = inputs.map((x) => recordForwardArgs(p, model, x)[0]);
  const seen: unknown[][] = [];
  const h = model.registerForwardHook((_m, args) => { seen.push([...args]); });
  try { p.predict(inputs); } finally { h.remove(); }
  const exported = await loadTaskModel(dir);
  const session = await ort.InferenceSession.create(heed.noGrad(() => exportOnnx(exported.model, exported.sampleInputs)).graphs[0].bytes, opts);
  const feeds = (a: unknown[]): Record<string, ort.Tensor> => {
    const b = a[0] as import('../src/models/word-tagger.js').WordBatch;
    const f: Record<string, ort.Tensor> = { words: t(b.words), shapes: t(b.shapes) };
    if (b.ngrams) Object.assign(f, { ngrams: t(b.ngrams), ngram_mix: t(b.ngramMix ?? denseNgramMix(b.ngramRows!, b.ngrams.shape[0])) });
    return f;
  };
  return { task, predict: (i) => p.predict(i), model, inputs, single, batch: seen, session, feeds };
}

/** --trained: whole requests of the trained models, split into forward and the rest (see the header). */
async function trainedRequests(root: string): Promise<void> {
  const loadBefore = loadavg();
  const rows: Record<string, unknown>[] = [];
  for (const task of (only || 'digits,spam,tag').split(',')) {
    const c = await trainedCase(task, `${root}/${task}-fp32`);
    const forward = (m: Module) => (m as unknown as { forward(...a: unknown[]): unknown }).forward;
    const n = c.inputs.length;
    let i = 0;
    const runs: [string, () => unknown][] = [
      ['heed request', () => c.predict([c.inputs[i % n]])],
      ['heed request, plan rebuilt', () => { heed.markWeightsChanged(); return c.predict([c.inputs[i % n]]); }],
      ['heed forward', () => inferenceMode(() => forward(c.model).apply(c.model, c.single[i % n]), c.model)],
      ['onnxruntime forward', () => c.session.run(c.feeds(c.single[i % n]))],
    ];
    const wall = new Map(runs.map(([k]) => [k, [] as number[]])), cpu = new Map(runs.map(([k]) => [k, [] as number[]]));
    for (let r = 0; r < 300; r++, i++) for (const [, f] of runs) await f(); // warm-up: V8 optimizes the request's JavaScript
    for (let r = 0; r < rounds; r++, i++) {
      for (let j = 0; j < runs.length; j++) {
        const [k, f] = runs[(r + j) % runs.length];
        await timeCall(f, wall.get(k)!, cpu.get(k)!);
      }
    }
    // Batch 64: heed's whole predict against onnxruntime's graph on the same encoded batches.
    const bw = { heed: [] as number[], ort: [] as number[] }, bc = { heed: [] as number[], ort: [] as number[] };
    const feeds = c.batch.map(c.feeds);
    for (let r = 0; r < Math.max(5, rounds / 50); r++) {
      await timeCall(() => c.predict(c.inputs), bw.heed, bc.heed);
      await timeCall(async () => { for (const f of feeds) await c.session.run(f); }, bw.ort, bc.ort);
    }
    const cpuP50 = Object.fromEntries([...cpu].map(([k, t]) => [k, median(t)]));
    const wallP50 = Object.fromEntries([...wall].map(([k, t]) => [k, median(t)]));
    const row = {
      task: c.task, dir: `${root}/${task}-fp32`, rounds, inputs: n, cpuP50Ms: cpuP50, wallP50Ms: wallP50,
      outsideForwardCpuMs: cpuP50['heed request'] - cpuP50['heed forward'],
      heedForwardOverOrtCpu: cpuP50['onnxruntime forward'] / cpuP50['heed forward'],
      planRebuildCostCpuMs: cpuP50['heed request, plan rebuilt'] - cpuP50['heed request'],
      batch64: { heedPredictCpuMs: Math.min(...bc.heed), ortGraphCpuMs: Math.min(...bc.ort), heedPredictWallMs: Math.min(...bw.heed), ortGraphWallMs: Math.min(...bw.ort),
        heedInputsPerCpuSecond: n / (Math.min(...bc.heed) / 1000), ortInputsPerCpuSecond: n / (Math.min(...bc.ort) / 1000) },
    };
    rows.push(row);
    console.log(`${c.task}: cpu p50 ${Object.entries(cpuP50).map(([k, v]) => `${k} ${ms(v)}`).join(', ')} ms; outside the forward ${ms(row.outsideForwardCpuMs)} ms; heed forward / onnxruntime ${row.heedForwardOverOrtCpu.toFixed(3)}×; batch 64 heed predict ${row.batch64.heedPredictCpuMs.toFixed(2)} ms vs onnxruntime graph ${row.batch64.ortGraphCpuMs.toFixed(2)} ms (cpu)`);
    await c.session.release();
  }
  writeFileSync(out, `${JSON.stringify({ command: `HEED_NUM_THREADS=1 node --import tsx bench/infer-single.ts ${process.argv.slice(2).join(' ')}`, date: new Date().toISOString(),
    threads: Number(process.env.HEED_NUM_THREADS ?? 0) || null, backend: heed.backendInfo().backend, onnxruntime: ort.env.versions?.common ?? null,
    loadavgBefore: loadBefore, loadavgAfter: loadavg(), rows }, null, 2)}\n`);
  console.log(`wrote ${out}; load ${loadBefore.map((l) => l.toFixed(1)).join(' ')} → ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}

const trainedRoot = flags.trained;
if (trainedRoot !== '') await trainedRequests(trainedRoot);
else await main();
