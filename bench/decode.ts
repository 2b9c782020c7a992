/**
 * G2P decoding speed (issue 16, item 4): the CMUdict test words decoded greedily (and with beam
 * search) in batches, and the latency of one decoding step (one token for every row) at batch 1
 * and 32, on each decoding path, runs of the paths interleaved in one process.
 *
 *   node --import tsx bench/decode.ts [--model runs/g2p] [--words 6214] [--batch 256] [--order length|input]
 *     [--paths fused,module] [--reps 2] [--beam 4 --beam-words 1024] [--out bench/results/decode-<date>.json]
 *
 * Paths: 'fused' decodes on the fused step (src/models/seq2seq-step.ts), 'module' runs the
 * decoder module by module (greedyDecode's { fused: false }; a heed without the fused step runs
 * this whatever it is asked, so `--paths module` measures an older checkout with this script).
 * Order: 'length' sorts the words by length before batching, as `heed eval` does; 'input' keeps
 * the test-split order (how the words were batched before).
 * The model: --model DIR (a trained g2p checkpoint, the real workload: words end at EOS), else the
 * task's default architecture (d 256, 2+2 layers, 4 heads) with seeded random weights, which
 * never emit EOS here, so every word runs to maxLen (32): a fixed, heavier workload, comparable
 * between two builds of heed but not with a trained model's figure.
 * Threads: the native pool as configured (HEED_NUM_THREADS). Times are wall clock and CPU time of
 * the process; record the load beside them (the raw file does).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as heed from '../src/index.js';
import { models, noGrad, Tensor } from '../src/index.js';
import { loadCmudict } from '../src/data/cmudict.js';
import { Vocab } from '../src/data/vocab.js';
import { padSequences } from '../src/data/batching.js';
import { loadG2PPredictor } from '../src/tasks/g2p.js';
import { readArgs } from './args.ts';

const args = process.argv.slice(2);
const flags = readArgs(import.meta.url, {
  model: { kind: 'string', help: 'a trained g2p run directory (default: a fresh model on the CMUdict vocabulary)' },
  words: { kind: 'int', min: 1, help: 'test words decoded (default all)' },
  batch: { kind: 'int', default: 256, min: 1, help: 'rows per decoding batch' },
  order: { kind: 'string', default: 'length', choices: ['length', 'input'], help: 'batch the words sorted by length, or in input order' },
  reps: { kind: 'int', default: 2, min: 1, help: 'timed repetitions per path' },
  paths: { kind: 'strings', default: ['fused', 'module'], choices: ['fused', 'module'], help: 'decoding paths' },
  beam: { kind: 'int', default: 0, min: 0, help: 'beam size for the beam-search rows (0: none)' },
  'beam-words': { kind: 'int', min: 1, help: 'words decoded with the beam (default all)' },
  out: { kind: 'string', help: 'raw results file (JSON)' },
});
const BOS = 1, EOS = 2, MAX_LEN = 32;
const BATCH = flags.batch, ORDER = flags.order, REPS = flags.reps;
const PATHS = flags.paths as ('fused' | 'module')[];
const BEAM = flags.beam;

type Model = models.Seq2SeqTransformer;

/** Batches of word indices: `BATCH` rows each (BATCH / beam inputs with beams), sorted by length or not. */
function batches(words: readonly ArrayLike<number>[], beam: number): number[][] {
  const idx = words.map((_, i) => i);
  if (ORDER === 'length') idx.sort((a, b) => words[a].length - words[b].length);
  const step = Math.max(1, Math.floor(BATCH / beam));
  const out: number[][] = [];
  for (let i = 0; i < idx.length; i += step) out.push(idx.slice(i, i + step));
  return out;
}

/** Decodes every word once on `path`; tokens counts the generated tokens with EOS (greedy) or of the best hypothesis. */
function decodeAll(model: Model, words: readonly ArrayLike<number>[], path: 'fused' | 'module', beam: number): Record<string, number> {
  let tokens = 0, outputs = 0;
  const faults0 = process.resourceUsage().minorPageFault;
  const c0 = process.cpuUsage(), t0 = performance.now();
  for (const rows of batches(words, beam)) {
    const p = padSequences(rows.map((r) => words[r]));
    const src = new Tensor(p.data, p.shape);
    const o = { bos: BOS, eos: EOS, maxLen: MAX_LEN, fused: path === 'fused' };
    if (beam <= 1) {
      for (const t of model.greedyDecode(src, o).tokens) { tokens += Math.min(t.length + 1, MAX_LEN); outputs++; }
    } else {
      for (const h of model.beamSearch(src, { ...o, beamSize: beam })) { tokens += Math.min(h[0].tokens.length + 1, MAX_LEN); outputs++; }
    }
  }
  const wall = (performance.now() - t0) / 1000, cpu = process.cpuUsage(c0);
  return {
    words: outputs, tokens, wallSeconds: wall, cpuSeconds: (cpu.user + cpu.system) / 1e6,
    minorPageFaults: process.resourceUsage().minorPageFault - faults0, wordsPerSecond: outputs / wall, tokensPerSecond: tokens / wall,
    // On a shared machine the process waits for a core: CPU time is then the figure to compare.
    tokensPerCpuSecond: tokens / ((cpu.user + cpu.system) / 1e6),
  };
}

/** One decoding step for B rows: p50 and min over steps 0…15 of repeated decodes (the first repetition is warm-up). */
async function stepLatency(model: Model, words: readonly ArrayLike<number>[], B: number, path: 'fused' | 'module'): Promise<Record<string, number>> {
  const p = padSequences(words.slice(0, B));
  const src = new Tensor(p.data, p.shape);
  const times: number[] = [], cpuTimes: number[] = [];
  const reps = B === 1 ? 20 : 5;
  const fusedModule = path === 'fused' ? await import('../src/models/seq2seq-step.js') : null;
  noGrad(() => {
    const { memory, srcPad } = model.encode(src);
    for (let rep = 0; rep < reps; rep++) {
      const time = (f: () => void): void => {
        const s = performance.now(), c = process.cpuUsage();
        f();
        const cu = process.cpuUsage(c);
        if (rep > 0) { times.push(performance.now() - s); cpuTimes.push((cu.user + cu.system) / 1000); }
      };
      if (fusedModule !== null) {
        const { FusedDecoder } = fusedModule;
        const m = model as unknown as { stepParts(): Parameters<typeof FusedDecoder.tryCreate>[0] };
        const dec = FusedDecoder.tryCreate(m.stepParts(), memory, srcPad, 16);
        if (dec === null) throw new Error('bench/decode: this model does not take the fused step');
        const last = new Int32Array(B);
        for (let t = 0; t < 16; t++) { last.fill(t === 0 ? BOS : 5); time(() => dec.step(last, t)); }
      } else {
        const caches = model.decoder.makeCache();
        for (let t = 0; t < 16; t++) {
          const x = new Tensor(new Int32Array(B).fill(t === 0 ? BOS : 5), [B, 1]);
          time(() => model.decodeStep(x, memory, srcPad, caches, t));
        }
      }
    }
  });
  times.sort((a, b) => a - b);
  cpuTimes.sort((a, b) => a - b);
  // CPU time has a 1 µs tick on Linux: fine at these step times, and blind to waiting for a core.
  return { batch: B, stepP50Ms: times[times.length >> 1], stepMinMs: times[0], stepCpuP50Ms: cpuTimes[cpuTimes.length >> 1], steps: times.length };
}

async function main(): Promise<void> {
  heed.manualSeed(0);
  const dict = loadCmudict();
  let model: Model, encode: (word: string) => ArrayLike<number>, source: string;
  const dir = flags.model;
  if (dir !== undefined) {
    // The task's predictor: its model and its source side (the letters, read at the model's length).
    const p = await loadG2PPredictor(dir);
    model = p.model;
    encode = (w) => p.sides.src.encode(w, model.config.maxLen);
    source = `trained checkpoint ${dir}`;
  } else {
    const letters = Vocab.fromTokens(dict.letters);
    model = new models.Seq2SeqTransformer({ srcVocabSize: letters.size, tgtVocabSize: dict.phonemes.length + 4, dModel: 256, numHeads: 4,
      numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 1024 });
    encode = (w) => letters.encode(w);
    source = 'default g2p architecture, seeded random weights';
  }
  model.eval();
  const words = dict.test.words.slice(0, flags.words ?? dict.test.words.length).map((w) => encode(w.word));
  const loadBefore = loadavg();

  // 1. Every word greedily, the paths alternating; then beam search on the first beam-words.
  const greedy: Record<string, unknown>[] = [];
  for (let rep = 0; rep < REPS; rep++) for (const path of PATHS) greedy.push({ path, rep, ...decodeAll(model, words, path, 1) });
  const beam: Record<string, unknown>[] = [];
  if (BEAM > 1) {
    const beamWords = words.slice(0, flags.beamWords ?? words.length);
    for (let rep = 0; rep < REPS; rep++) for (const path of PATHS) beam.push({ path, rep, beamSize: BEAM, ...decodeAll(model, beamWords, path, BEAM) });
  }
  // 2. One decoding step at batch 1 and 32.
  const decodeStep: Record<string, unknown>[] = [];
  for (const B of [1, 32]) for (const path of PATHS) decodeStep.push({ path, ...(await stepLatency(model, words, B, path)) });
  const result = {
    command: `node --import tsx bench/decode.ts ${args.join(' ')}`.trim(), date: new Date().toISOString(), model: source,
    backend: heed.backendInfo(), loadavgBefore: loadBefore, loadavgAfter: loadavg(),
    settings: { words: words.length, batch: BATCH, order: ORDER, maxLen: MAX_LEN, paths: PATHS, reps: REPS },
    greedy, beam, decodeStep,
  };
  console.log(JSON.stringify(result, null, 1));
  const out = flags.out;
  if (out !== undefined) writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
}

await main();
