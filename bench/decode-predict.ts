/**
 * g2p at batch 1 as a request runs it: predict([word]) on the fp32 and the int8 model directories,
 * loaded in one process and called in turn word by word (the same 64 CMUdict test words), each
 * call timed on the process CPU clock and on the wall clock; medians and means over the calls.
 * This is the path `heed serve` and bench/compress.ts's latency column time (Seq2SeqPredictor:
 * normalize, encode, model.eval(), greedy decoding on the fused step), where bench/decode-int8.ts
 * times greedyDecode alone.
 *
 *   HEED_NUM_THREADS=1 node --import tsx bench/decode-predict.ts [--fp32 <dir>] [--int8 <dir>] [--calls 400] [--out <file.json>]
 *
 * Defaults: /work/compress-models/variants/g2p-fp32 and g2p-int8 (the trade-off table's models).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { loadG2PPredictor } from '../src/tasks/g2p.js';
import { loadCmudict } from '../src/data/cmudict.js';
import { fusedDecodeBlocker, type DecoderParts } from '../src/models/seq2seq-step.js';
import { median } from './peers/common.ts';
import { readArgs } from './args.ts';
import { cpuNowMs } from './native-util.js';

const args = process.argv.slice(2);
const flags = readArgs(import.meta.url, {
  fp32: { kind: 'string', default: '/work/compress-models/variants/g2p-fp32', help: 'the fp32 g2p model directory' },
  int8: { kind: 'string', default: '/work/compress-models/variants/g2p-int8', help: 'the int8 g2p model directory' },
  calls: { kind: 'int', default: 400, min: 1, help: 'timed predict calls per model' },
  out: { kind: 'string', help: 'raw results file (JSON)' },
});
const dirs: Record<string, string> = { fp32: flags.fp32, int8: flags.int8 };
const CALLS = flags.calls;
const words = loadCmudict().test.words.slice(0, 64).map((w) => w.word);
const loadBefore = loadavg();
const predictors = Object.fromEntries(await Promise.all(Object.entries(dirs).map(async ([k, d]) => [k, await loadG2PPredictor(d)] as const)));
const blockers: Record<string, string | null> = {};
for (const [k, p] of Object.entries(predictors)) {
  const m = p.model.eval();
  blockers[k] = fusedDecodeBlocker((m as unknown as { stepParts(): DecoderParts }).stepParts());
}
const cpu: Record<string, number[]> = { fp32: [], int8: [] }, wall: Record<string, number[]> = { fp32: [], int8: [] };
for (let i = 0; i < 20; i++) for (const k of ['fp32', 'int8']) predictors[k].predict([words[i % 64]]);
for (let i = 0; i < CALLS; i++) {
  for (const k of ['fp32', 'int8']) {
    const w0 = performance.now(), c0 = cpuNowMs();
    predictors[k].predict([words[i % 64]]);
    wall[k].push(performance.now() - w0);
    cpu[k].push(cpuNowMs() - c0);
  }
}
const mean = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
const summary = Object.fromEntries(['fp32', 'int8'].map((k) => [k, { cpuMsMedian: median(cpu[k]), cpuMsMean: mean(cpu[k]), wallMsMedian: median(wall[k]), wallMsMean: mean(wall[k]), fusedDecodeBlocker: blockers[k] }]));
const ratio = { byCpuMedian: summary.fp32.cpuMsMedian / summary.int8.cpuMsMedian, byWallMedian: summary.fp32.wallMsMedian / summary.int8.wallMsMedian };
const result = {
  command: `HEED_NUM_THREADS=${process.env.HEED_NUM_THREADS ?? ''} node --import tsx bench/decode-predict.ts ${args.join(' ')}`.trim(),
  date: new Date().toISOString(), dirs, calls: CALLS, loadavgBefore: loadBefore, loadavgAfter: loadavg(), summary, int8SpeedupOverFp32: ratio,
};
console.log(JSON.stringify(result));
const out = flags.out;
if (out !== undefined) writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
