/**
 * What the fused feed-forward epilogue saves at a single request (issue 15's heed-vs-onnxruntime
 * goal): the same model's no-grad forward with linear1 fused (relu/gelu in the GEMM epilogue,
 * ops/matmul.ts linearActivation) and unfused (a no-op forward hook on every linear1 forces the
 * two-op path), timed interleaved in one process so both see the same machine load; both run in
 * inferenceMode, as the predictors do.
 * Models at the spam and g2p default sizes with random weights (time does not depend on them):
 *   spam EncoderClassifier d64, 2 layers, FF 256, one 150-token mail;
 *   g2p Seq2SeqTransformer encoder d256, 2 layers, FF 1024, one 8-letter word.
 *
 *   HEED_NUM_THREADS=1 node --import tsx bench/infer-fusion.ts [--rounds 3000] [--out bench/results/infer-fusion-<date>.json]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as heed from '../src/index.js';
import { models } from '../src/index.js';
import type { Module } from '../src/nn/module.js';
import { inferenceMode } from '../src/autograd/inference.js';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  rounds: { kind: 'int', default: 3000, min: 1, help: 'timed calls per arm' },
  out: { kind: 'string', help: 'raw results file (default bench/results/infer-fusion-<date>.json)' },
});
const rounds = flags.rounds;
const out = flags.out ?? `bench/results/infer-fusion-${new Date().toISOString().slice(0, 10)}.json`;
const median = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];
heed.manualSeed(0);
const spam = new models.EncoderClassifier({ vocabSize: 16000, numClasses: 2, dModel: 64, numHeads: 4, numLayers: 2, dimFeedforward: 256, maxLen: 256, pooling: 'mean' }).eval();
const mail = heed.tensor(Array.from({ length: 150 }, (_, i) => 5 + (i * 37) % 15990), [1, 150], { dtype: 'int32' });
const g2p = new models.Seq2SeqTransformer({ srcVocabSize: 30, tgtVocabSize: 44 }).eval();
const word = heed.tensor([3, 4, 5, 6, 7, 8, 9, 10], [1, 8], { dtype: 'int32' });
const cases: { name: string; model: Module; run: () => unknown }[] = [
  { name: 'spam EncoderClassifier, 1 mail of 150 tokens', model: spam, run: () => inferenceMode(() => spam.forward(mail), spam) },
  { name: 'g2p Seq2SeqTransformer encoder, 1 word of 8 letters', model: g2p, run: () => inferenceMode(() => g2p.encode(word).memory, g2p) },
];
const before = loadavg();
const rows = cases.map(({ name, model, run }) => {
  const linears = model.namedModules().filter(([n]) => n.endsWith('linear1')).map(([, l]) => l);
  const fused: number[] = [], twoOps: number[] = [];
  for (let i = 0; i < 100; i++) run();
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    run();
    fused.push(performance.now() - t0);
    const hooks = linears.map((l) => l.registerForwardHook(() => undefined));
    t0 = performance.now();
    run();
    twoOps.push(performance.now() - t0);
    hooks.forEach((h) => h.remove());
  }
  const row = { model: name, ffnLayers: linears.length, rounds, fusedP50Ms: median(fused), twoOpsP50Ms: median(twoOps), fusedMinMs: Math.min(...fused), twoOpsMinMs: Math.min(...twoOps) };
  console.log(`${name}: fused p50 ${row.fusedP50Ms.toFixed(4)} ms (min ${row.fusedMinMs.toFixed(4)}), two ops p50 ${row.twoOpsP50Ms.toFixed(4)} ms (min ${row.twoOpsMinMs.toFixed(4)}): ${(row.twoOpsP50Ms / row.fusedP50Ms).toFixed(3)}×`);
  return row;
});
writeFileSync(out, `${JSON.stringify({ command: `node --import tsx bench/infer-fusion.ts ${process.argv.slice(2).join(' ')}`.trim(), date: new Date().toISOString(),
  threads: Number(process.env.HEED_NUM_THREADS ?? 0) || null, backend: heed.backendInfo().backend, loadavgBefore: before, loadavgAfter: loadavg(), rows }, null, 2)}\n`);
console.log(`wrote ${out}`);
