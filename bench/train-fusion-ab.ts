/**
 * The G2P training step (bench/train.ts, d 256 by default) with and without the training-path fusions,
 * interleaved step by step in one process so that a shared machine's load hits every arm alike:
 *   composed  every Transformer-layer op separately (the fused paths forced off);
 *   ffn       the FFN epilogues only (linear1 + bias + ReLU + dropout, linear2 + bias + dropout + residual);
 *   all       also the attention out-projection + dropout + residual in its GEMM epilogue, and the
 *             residual gradients added inside the layer norms' backward (src/nn/residual-attention.ts,
 *             src/ops/residual-grad.ts).
 * A fused path is forced off by a no-op forward hook on the module (the layers fuse only hook-free
 * modules). Each step is timed on the wall clock and on the process's CPU clock; the FMA peak is
 * probed between rounds with both clocks, and % of peak is the step's GEMM FLOPs over its time over
 * the peak.
 *
 *   node --import tsx bench/train-fusion-ab.ts [--threads 1] [--rounds 15] [--d 256] [--out file.json]
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { heedStep, makeTrainBatch, TRAIN_CONFIGS, type TrainCfg } from './train.ts';
import { setBackend, setNumThreads, backendInfo } from '../src/backend/registry.ts';
import { cpuNowMs, nativeLoad } from './native-util.ts';
import { median } from './peers/common.ts';
import { TransformerEncoderLayer, TransformerDecoderLayer } from '../src/nn/transformer.ts';
import { readArgs } from './args.ts';

process.env.HEED_QUIET ??= '1';
const flags = readArgs(import.meta.url, {
  threads: { kind: 'int', default: 1, min: 1, help: 'pool threads' },
  rounds: { kind: 'int', default: 15, min: 1, help: 'interleaved rounds' },
  d: { kind: 'int', default: 256, choices: TRAIN_CONFIGS.map((c) => c.dModel), help: 'the training step\'s model width (bench/train.ts TRAIN_CONFIGS)' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
const threads = flags.threads, rounds = flags.rounds;
const cfg: TrainCfg = TRAIN_CONFIGS.find((c) => c.dModel === flags.d) ?? TRAIN_CONFIGS[0];
setBackend('native');
setNumThreads(threads);

/** GEMM FLOPs of one step, counted from the model's shapes (forward, dx and dW of every Linear; attention excluded). */
function gemmFlops(c: TrainCfg, S: number, T: number, B: number): number {
  const D = c.dModel, F = c.ff, V = c.tgtVocab;
  const linear = (rows: number, i: number, o: number) => 3 * 2 * rows * i * o; // forward + dx + dW
  const enc = c.encLayers * (linear(B * S, D, 3 * D) + linear(B * S, D, D) + linear(B * S, D, F) + linear(B * S, F, D));
  const dec = c.decLayers * (linear(B * T, D, 3 * D) + linear(B * T, D, D) + linear(B * T, D, D) + linear(B * S, D, 2 * D) + linear(B * T, D, D) + linear(B * T, D, F) + linear(B * T, F, D));
  return enc + dec + linear(B * T, D, V);
}

const batch = makeTrainBatch();
const impls = { composed: await heedStep(batch, cfg), ffn: await heedStep(batch, cfg), all: await heedStep(batch, cfg) };
type Impl = keyof typeof impls;
const names = Object.keys(impls) as Impl[];
const noop = () => undefined;
for (const n of ['composed', 'ffn'] as const) {
  for (const m of impls[n].model.modules()) {
    if (!(m instanceof TransformerEncoderLayer || m instanceof TransformerDecoderLayer)) continue;
    // ffn and composed: attention out-projections and norms unfused; composed: the FFN too
    for (const a of [m.selfAttn, ...(m instanceof TransformerDecoderLayer ? [m.crossAttn] : [])]) a.outProj.registerForwardHook(noop);
    for (const nm of [m.norm1, m.norm2, ...(m instanceof TransformerDecoderLayer ? [m.norm3] : [])]) nm.registerForwardHook(noop);
    if (n === 'composed') { m.linear1.registerForwardHook(noop); m.linear2.registerForwardHook(noop); }
  }
}
const losses = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Impl, number[]>;
for (let i = 0; i < 3; i++) for (const n of names) { impls[n].step(); losses[n].push(impls[n].loss()); }
const wall = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Impl, number[]>;
const cpu = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Impl, number[]>;
const peakWall: number[] = [], peakCpu: number[] = [];
const load0 = os.loadavg();
for (let r = 0; r < rounds; r++) {
  const order = names.map((_, i) => names[(i + r) % names.length]); // rotate which arm goes first
  for (const n of order) {
    const h = impls[n];
    const w0 = performance.now(), c0 = cpuNowMs();
    h.step();
    wall[n].push(performance.now() - w0);
    cpu[n].push(cpuNowMs() - c0);
    losses[n].push(h.loss());
  }
  if (nativeLoad && r % 3 === 0) {
    const w0 = performance.now(), c0 = cpuNowMs();
    const g = nativeLoad.peakFlops(threads);
    const w = performance.now() - w0, c = cpuNowMs() - c0;
    peakWall.push(g);
    peakCpu.push((g * w) / c); // the same FLOPs over the CPU time instead of the wall time
  }
}
const load1 = os.loadavg();
const flops = gemmFlops(cfg, batch.S, batch.T, batch.B);
const pw = Math.max(...peakWall), pc = median(peakCpu);
const rows = names.map((n) => {
  const ms = median(wall[n]), msCpu = median(cpu[n]);
  return {
    impl: n, threads, msWall: ms, msCpu, gemmGflopPerStep: flops / 1e9,
    pctPeakWall: (100 * flops) / (ms * 1e6) / pw, pctPeakCpu: (100 * flops) / (msCpu * 1e6) / pc, // per core at 2 threads: CPU time sums the threads
    stepsWall: wall[n], stepsCpu: cpu[n], losses: losses[n],
  };
});
const out = {
  command: `node --import tsx bench/train-fusion-ab.ts ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(), machine: { cpu: os.cpus()[0]?.model, isa: backendInfo().isa ?? nativeLoad?.isa(), threads, loadAvgBefore: load0, loadAvgAfter: load1 },
  config: cfg, batch: { B: batch.B, S: batch.S, T: batch.T, tokens: batch.tokens },
  peak: { bestWallGflops: pw, medianCpuGflops: pc, wall: peakWall, cpu: peakCpu },
  rows,
};
console.log(`d ${cfg.dModel}, ${threads} thread(s), ${rounds} interleaved rounds, load ${load0[0].toFixed(1)} → ${load1[0].toFixed(1)}; GEMM ${(flops / 1e9).toFixed(2)} GFLOP/step; peak ${pw.toFixed(0)} GFLOP/s (best wall probe), ${pc.toFixed(0)} (median CPU-time probe)`);
console.log('| impl | ms/step (wall, median) | ms/step (CPU, median) | % peak (wall) | % peak (CPU) | loss after |\n|---|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.impl} | ${r.msWall.toFixed(1)} | ${r.msCpu.toFixed(1)} | ${r.pctPeakWall.toFixed(0)}% | ${r.pctPeakCpu.toFixed(0)}% | ${r.losses.at(-1)!.toFixed(4)} |`);
const outFile = flags.out;
if (outFile) writeFileSync(outFile, JSON.stringify(out, null, 1) + '\n');
