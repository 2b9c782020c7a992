/**
 * int8 against fp32 G2P greedy decoding (issue 15): the CMUdict test words decoded greedily at
 * batch 1 and batch 64 by the fp32 model and by its int8 copy (quantizeDynamic: every Linear,
 * encoder and decoder) on the fused decoding step, and, for reference, by the int8 copy on the
 * module path ({ fused: false }, how int8 decoded before the fused step took int8 projections).
 *
 *   HEED_NUM_THREADS=1 node --import tsx bench/decode-int8.ts [--model runs/g2p] [--words 600]
 *     [--reps 5] [--paths fp32,int8,int8-module] [--out bench/results/decode-int8-<date>.json]
 *
 * Timing, for a shared machine: every (batch, path) run is one pass over the words, the paths
 * interleaved (rep 0: fp32, int8, int8-module; rep 1: …), each timed on the process CPU clock
 * (process.cpuUsage: a preempted thread does not accumulate it) and on the wall clock; the
 * figures are medians over reps after one warm-up pass. Run it on one thread: with two, CPU
 * time also counts the pool's waiting.
 * % of peak: the decoder's Linear FLOPs (2 · rows · the decoder's and output projection's
 * weights, per generated token) over the CPU time, against the FMA probe (bench/peak.ts) timed
 * on the same CPU clock in the same process; int8 runs are quoted against the same fp32 peak,
 * so the figure says how far each run is from the machine's fp32 bound, not an int8 efficiency.
 * The encoder runs inside each pass (greedyDecode encodes first), so its time is included; its
 * FLOPs are not counted.
 * The model: --model DIR (a trained g2p checkpoint: words end at EOS), else the task's default
 * architecture (d 256, 2+2 layers, 4 heads, FFN 1024) with seeded random weights, whose words
 * run to maxLen (32 tokens).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as heed from '../src/index.js';
import { models, Tensor } from '../src/index.js';
import { loadCmudict } from '../src/data/cmudict.js';
import { Vocab } from '../src/data/vocab.js';
import { padSequences } from '../src/data/batching.js';
import { median } from './peers/common.ts';
import { readArgs } from './args.ts';
import { nativeLoad, cpuNowMs } from './native-util.js';

const args = process.argv.slice(2);
const flags = readArgs(import.meta.url, {
  reps: { kind: 'int', default: 5, min: 1, help: 'timed repetitions per path and batch' },
  paths: { kind: 'strings', default: ['fp32', 'int8', 'int8-module'], choices: ['fp32', 'int8', 'int8-module'], help: 'decoding paths' },
  batches: { kind: 'ints', default: [1, 64], min: 1, help: 'batch sizes' },
  model: { kind: 'string', help: 'a trained g2p run directory (default: a fresh model on the CMUdict vocabulary)' },
  words: { kind: 'int', default: 600, min: 1, help: 'test words decoded' },
  out: { kind: 'string', help: 'raw results file (JSON)' },
});
const BOS = 1, EOS = 2, MAX_LEN = 32;
const REPS = flags.reps;
const PATHS = flags.paths;
const BATCHES = flags.batches;

type Model = models.Seq2SeqTransformer;

/** The model twice (fp32, and a copy to quantize) and its letter vocabulary. */
async function loadTwice(): Promise<{ fp32: Model; int8: Model; encode: (word: string) => number[]; source: string }> {
  const dict = loadCmudict();
  const dir = flags.model;
  if (dir !== undefined) {
    const { loadPredictor } = await import('../src/tasks/index.js');
    type Loaded = { model: Model; sides: { src: { encode(x: string, maxLen: number): ArrayLike<number> } } };
    const load = async () => (await loadPredictor(dir)) as unknown as Loaded;
    const a = await load(), b = await load();
    // As the task reads a word (its source side, at the model's length).
    return { fp32: a.model, int8: b.model, encode: (w) => Array.from(a.sides.src.encode(w, a.model.config.maxLen)), source: `trained checkpoint ${dir}` };
  }
  const letters = Vocab.fromTokens(dict.letters);
  const make = (): Model => {
    heed.manualSeed(0);
    return new models.Seq2SeqTransformer({ srcVocabSize: letters.size, tgtVocabSize: dict.phonemes.length + 4, dModel: 256, numHeads: 4,
      numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 1024 });
  };
  return { fp32: make(), int8: make(), encode: (w) => Array.from(letters.encode(w)), source: 'default g2p architecture, seeded random weights' };
}

/** Weights a decoder token multiplies, per row: every decoder Linear (cross k/v run once per word, excluded) and the output projection. */
function decoderLinearWeightsPerToken(m: Model): number {
  let n = m.outProj.inFeatures * m.outProj.outFeatures;
  for (const [name, mod] of m.decoder.namedModules()) {
    if (/crossAttn\.(kProj|vProj)$/.test(name)) continue;
    const l = mod as unknown as { inFeatures?: number; outFeatures?: number; weight?: unknown };
    if (l.inFeatures !== undefined && l.outFeatures !== undefined && l.weight !== undefined) n += l.inFeatures * l.outFeatures;
  }
  return n;
}

/** One pass over the words in batches of B (sorted by length, as heed eval does). */
function pass(model: Model, words: readonly ArrayLike<number>[], B: number, fused: boolean): { cpuMs: number; wallMs: number; tokens: number; outputs: number[][] } {
  const idx = words.map((_, i) => i).sort((a, b) => words[a].length - words[b].length);
  let tokens = 0;
  const outputs: number[][] = new Array(words.length);
  const c0 = cpuNowMs(), w0 = performance.now();
  for (let i = 0; i < idx.length; i += B) {
    const rows = idx.slice(i, i + B);
    const p = padSequences(rows.map((r) => words[r]));
    const res = model.greedyDecode(new Tensor(p.data, p.shape), { bos: BOS, eos: EOS, maxLen: MAX_LEN, fused });
    res.tokens.forEach((t, j) => { outputs[rows[j]] = t; tokens += Math.min(t.length + 1, MAX_LEN); });
  }
  return { cpuMs: cpuNowMs() - c0, wallMs: performance.now() - w0, tokens, outputs };
}

/** The fp32 FMA probe on the CPU clock: the probe's FLOPs (its GFLOP/s × the wall time) over the CPU time. */
function peakCpuGflops(): number {
  const w0 = performance.now(), c0 = cpuNowMs();
  const g = nativeLoad!.peakFlops(1);
  return (g * (performance.now() - w0)) / (cpuNowMs() - c0);
}

async function main(): Promise<void> {
  if (!nativeLoad) throw new Error('bench/decode-int8: the native addon did not load; int8 timing needs it');
  const { fp32, int8, encode, source } = await loadTwice();
  fp32.eval();
  const q = heed.quantizeDynamic(int8);
  int8.eval();
  const dict = loadCmudict();
  const words = dict.test.words.slice(0, flags.words).map((w) => encode(w.word));
  const weights = decoderLinearWeightsPerToken(fp32);
  const loadBefore = loadavg();
  const runners: Record<string, [Model, boolean]> = { fp32: [fp32, true], int8: [int8, true], 'int8-module': [int8, false] };

  const runs: Record<string, unknown>[] = [];
  const peaks: number[] = [peakCpuGflops()];
  const summary: Record<string, unknown>[] = [];
  for (const B of BATCHES) {
    const cpu: Record<string, number[]> = {}, wall: Record<string, number[]> = {};
    const tokens: Record<string, number> = {};
    const outputs: Record<string, number[][]> = {};
    for (let rep = -1; rep < REPS; rep++) { // rep −1: warm-up, not kept
      for (const path of PATHS) {
        const [model, fused] = runners[path];
        const r = pass(model, words, B, fused);
        if (rep < 0) { outputs[path] = r.outputs; continue; }
        (cpu[path] ??= []).push(r.cpuMs);
        (wall[path] ??= []).push(r.wallMs);
        tokens[path] = r.tokens;
        runs.push({ batch: B, path, rep, cpuMs: r.cpuMs, wallMs: r.wallMs, tokens: r.tokens });
      }
      peaks.push(peakCpuGflops());
    }
    const peak = median(peaks);
    for (const path of PATHS) {
      const c = median(cpu[path]), w = median(wall[path]);
      const same = outputs[path].filter((t, i) => JSON.stringify(t) === JSON.stringify(outputs.fp32?.[i])).length;
      summary.push({
        batch: B, path, words: words.length, tokens: tokens[path],
        cpuMsMedian: c, wallMsMedian: w, wordsPerCpuSecond: words.length / (c / 1000),
        ratioVsFp32ByCpu: cpu.fp32 ? median(cpu.fp32) / c : null,
        decoderLinearGflopPerCpuSecond: (2 * weights * tokens[path]) / (c * 1e6),
        pctOfFp32PeakCpu: (100 * (2 * weights * tokens[path])) / (c * 1e6) / peak,
        sameOutputsAsFp32: same,
      });
    }
  }
  const result = {
    command: `HEED_NUM_THREADS=${process.env.HEED_NUM_THREADS ?? ''} node --import tsx bench/decode-int8.ts ${args.join(' ')}`.trim(),
    date: new Date().toISOString(), model: source, backend: heed.backendInfo(), threads: nativeLoad.threads(),
    loadavgBefore: loadBefore, loadavgAfter: loadavg(),
    settings: { words: words.length, reps: REPS, batches: BATCHES, paths: PATHS, maxLen: MAX_LEN, order: 'length' },
    quantized: { layers: q.modules.length, fp32Bytes: q.fp32Bytes, int8Bytes: q.int8Bytes },
    decoderLinearWeightsPerToken: weights, fmaPeakCpuGflopsMedian: median(peaks), fmaPeakCpuGflops: peaks,
    summary, runs,
  };
  console.log(JSON.stringify({ ...result, runs: undefined }, null, 1));
  const out = flags.out;
  if (out !== undefined) writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
}

await main();
