/**
 * The Fashion-MNIST CNN's inference (src/models/cnn.ts, the trained CBAM model) against
 * onnxruntime-node on its own exported copy (src/compress/onnx), interleaved in one process, both
 * on one thread (HEED_NUM_THREADS=1, intraOpNumThreads 1), as bench/compress.ts times the
 * trade-off table. Each round times every contender once per batch size, alternating, so load
 * changes hit them alike; figures are medians over the rounds, on the process CPU clock and on
 * the wall clock. The model forward runs as the predictors run it: inferenceMode.
 *
 *   HEED_NUM_THREADS=1 node --import tsx bench/fashion-infer.ts [--dir <model dir>] [--rounds 40] [--out <json>] [--profile]
 *
 * Contenders: 'heed' (the default forward: the fused inference path when it applies),
 * 'heed module' (the module-by-module forward, setFusedCnnEnabled(false)), 'onnxruntime'.
 * --profile also prints the per-kernel time of the module path at batch 1 and 64.
 */
import { writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { loadPredictor } from '../src/tasks/index.js';
import { inferenceMode, noGrad, tensor, type Tensor } from '../src/index.js';
import { exportOnnx } from '../src/compress/onnx/export.js';
import { k } from '../src/backend/registry.js';
import { setFusedCnnEnabled } from '../src/models/fused-cnn.js';
import { timeKernelCalls, cpuNowMs } from './native-util.ts';
import { peakGflops } from './peak.ts';
import { readArgs } from './args.ts';
import type { Module } from '../src/nn/module.js';

const args = process.argv.slice(2);
const flags = readArgs(import.meta.url, {
  dir: { kind: 'string', default: '/work/compress-models/variants/fashion-fp32', help: 'the fashion model directory' },
  rounds: { kind: 'int', default: 40, min: 1, help: 'interleaved rounds' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
  profile: { kind: 'bool', help: 'also time each kernel call on the CPU clock' },
});
const dir = flags.dir;
const rounds = flags.rounds;
const out = flags.out;
const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return s[s.length >> 1]; };

const predictor = await loadPredictor(dir);
const model = (predictor as unknown as { members: { model: Module & { forward(x: Tensor): Tensor } }[] }).members[0].model;
model.eval();
const rng = (() => { let s = 12345; return () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32); })();
const inputs = (B: number) => tensor(Float32Array.from({ length: B * 784 }, () => rng()), [B, 1, 28, 28]);
const x1 = inputs(1), x64 = inputs(64);
const bytes = noGrad(() => exportOnnx(model as never, [x1 as never])).graphs[0].bytes;
const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
const feed = (x: Tensor) => ({ [session.inputNames[0]]: new ort.Tensor('float32', x.toFloat32Array(), [...x.shape]) });
const f1 = feed(x1), f64 = feed(x64);

const heedFwd = (x: Tensor, fused: boolean) => () => {
  setFusedCnnEnabled(fused);
  const y = inferenceMode(() => model.forward(x), model);
  return y;
};
// agreement: heed (both paths) and onnxruntime on the batch of 64
const yFused = heedFwd(x64, true)().toFloat32Array().slice();
const yModule = heedFwd(x64, false)().toFloat32Array().slice();
const yOrt = (await session.run(f64))[session.outputNames[0]].data as Float32Array;
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const agreement = { fusedVsModule: maxDiff(yFused, yModule), moduleVsOnnx: maxDiff(yModule, yOrt) };
console.error('max |Δlogit|', agreement);

if (flags.profile) {
  const timer = timeKernelCalls(k, cpuNowMs);
  for (const [B, x] of [[1, x1], [64, x64]] as const) {
    for (const fused of [false, true]) {
      const reps = B === 1 ? 200 : 10;
      for (let i = 0; i < 5; i++) heedFwd(x, fused)();
      timer.time.clear();
      timer.on = true;
      const c0 = cpuNowMs();
      for (let i = 0; i < reps; i++) heedFwd(x, fused)();
      const total = (cpuNowMs() - c0) / reps;
      timer.on = false;
      const rows = [...timer.time].sort((a, b) => b[1].ms - a[1].ms);
      const inK = rows.reduce((s, [, e]) => s + e.ms, 0) / reps;
      console.error(`\nbatch ${B} ${fused ? 'fused' : 'module'}: ${(total * 1000).toFixed(0)} µs/forward (cpu, timers on), kernels ${(inK * 1000).toFixed(0)} µs in ${rows.reduce((s, [, e]) => s + e.calls, 0) / reps} calls`);
      for (const [name, e] of rows) console.error(`  ${name.padEnd(28)} ${(e.calls / reps).toFixed(0).padStart(4)} calls ${(1000 * e.ms / reps).toFixed(1).padStart(8)} µs`);
    }
  }
}

type Clock = { cpu: number[]; wall: number[] };
const contenders = ['heed', 'heed module', 'onnxruntime'] as const;
const res: Record<string, Record<number, Clock>> = {};
for (const c of contenders) res[c] = { 1: { cpu: [], wall: [] }, 64: { cpu: [], wall: [] } };
const reps: Record<number, number> = { 1: 50, 64: 2 };
const run = async (c: (typeof contenders)[number], B: number) => {
  const x = B === 1 ? x1 : x64, f = B === 1 ? f1 : f64;
  if (c === 'onnxruntime') await session.run(f);
  else heedFwd(x, c === 'heed')();
};
for (const c of contenders) for (const B of [1, 64]) for (let i = 0; i < 5; i++) await run(c, B);
for (let r = 0; r < rounds; r++) {
  for (const B of [1, 64]) {
    // the order rotates each round, so no contender always follows the same one
    for (const c of contenders.map((_, i) => contenders[(i + r) % contenders.length])) {
      const c0 = cpuNowMs(), w0 = performance.now();
      for (let i = 0; i < reps[B]; i++) await run(c, B);
      res[c][B].cpu.push((cpuNowMs() - c0) / reps[B]);
      res[c][B].wall.push((performance.now() - w0) / reps[B]);
    }
  }
}
setFusedCnnEnabled(true);
const flopsPerImage = 2 * (784 * 32 * 9 * 1 + 784 * 32 * 9 * 32 + 196 * 64 * 9 * 32 + 196 * 64 * 9 * 64);
const peak = peakGflops(1);
const summary = Object.fromEntries(contenders.map((c) => [c, {
  batch1: { cpuMs: median(res[c][1].cpu), wallMs: median(res[c][1].wall) },
  batch64: { cpuMs: median(res[c][64].cpu), wallMs: median(res[c][64].wall),
    imagesPerSecCpu: 64 / (median(res[c][64].cpu) / 1000), imagesPerSecWall: 64 / (median(res[c][64].wall) / 1000),
    convGflopsCpu: flopsPerImage * 64 / (median(res[c][64].cpu) * 1e6) },
}]));
const uptime = execSync('uptime').toString().trim();
const record = {
  date: new Date().toISOString(), command: `HEED_NUM_THREADS=${process.env.HEED_NUM_THREADS ?? ''} node --import tsx bench/fashion-infer.ts ${args.join(' ')}`,
  dir, rounds, threads: 1, uptime,
  // the FMA probe times on the wall clock: under load it reads low, and GFLOP/s on the CPU clock can exceed it
  fp32PeakGflops1ThreadWall: peak, flopsPerImage, agreement,
  speedup: { batch1Cpu: summary.onnxruntime.batch1.cpuMs / summary.heed.batch1.cpuMs, batch64Cpu: summary.onnxruntime.batch64.cpuMs / summary.heed.batch64.cpuMs,
    batch1Wall: summary.onnxruntime.batch1.wallMs / summary.heed.batch1.wallMs, batch64Wall: summary.onnxruntime.batch64.wallMs / summary.heed.batch64.wallMs },
  summary,
};
console.log(JSON.stringify(record, null, 1));
if (out) writeFileSync(out, JSON.stringify(record, null, 1) + '\n');
