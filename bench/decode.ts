/**
 * Greedy G2P decoding speed (issue 16, item 4): all 6,214 CMUdict test words decoded in batches
 * of 256 (what `heed eval g2p` does), and the latency of one decoding step at batch 1 and 32.
 *
 *   node --import tsx bench/decode.ts [--model runs/g2p] [--words 6214] [--out bench/results/decode-<date>.json]
 *
 * The model: --model DIR (a trained g2p checkpoint, the real workload), else the task's default
 * architecture (d 256, 2+2 layers, 4 heads) with seeded random weights. Random weights rarely emit
 * EOS, so every word then runs to the step limit: a fixed, heavier workload, comparable between
 * two builds of heed but not with a trained model's figure.
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

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const BOS = 1, EOS = 2, BATCH = 256;

async function main(): Promise<void> {
  heed.manualSeed(0);
  const dict = loadCmudict();
  let model: models.Seq2SeqTransformer, letters: Vocab, source: string;
  const dir = flag('model');
  if (dir !== undefined) {
    const { loadPredictor } = await import('../src/tasks/index.js');
    const p = (await loadPredictor(dir)) as unknown as { model: models.Seq2SeqTransformer; srcVocab: Vocab };
    model = p.model;
    letters = p.srcVocab;
    source = `trained checkpoint ${dir}`;
  } else {
    letters = Vocab.fromTokens(dict.letters);
    model = new models.Seq2SeqTransformer({ srcVocabSize: letters.size, tgtVocabSize: dict.phonemes.length + 4, dModel: 256, numHeads: 4,
      numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 1024 });
    source = 'default g2p architecture, seeded random weights';
  }
  model.eval();
  const words = dict.test.words.slice(0, Number(flag('words') ?? dict.test.words.length)).map((w) => letters.encode(w.word));
  const maxLen = 32;
  const loadBefore = loadavg();

  // 1. Every test word, greedy, in batches of 256.
  let tokens = 0;
  const faults0 = process.resourceUsage().minorPageFault; // first touches of fresh memory: costly on a VM
  const c0 = process.cpuUsage(), t0 = performance.now();
  for (let i = 0; i < words.length; i += BATCH) {
    const p = padSequences(words.slice(i, i + BATCH));
    const r = model.greedyDecode(new Tensor(p.data, p.shape), { bos: BOS, eos: EOS, maxLen });
    for (const t of r.tokens) tokens += t.length + 1;
  }
  const allMs = performance.now() - t0, cpu = process.cpuUsage(c0), faults = process.resourceUsage().minorPageFault - faults0;

  // 2. One decoding step (KV-cached) at batch 1 and 32: median over steps 0…15 of repeated decodes.
  const stepRows = [];
  for (const B of [1, 32]) {
    const p = padSequences(words.slice(0, B));
    const src = new Tensor(p.data, p.shape);
    const times: number[] = [];
    noGrad(() => {
      const { memory, srcPad } = model.encode(src);
      for (let rep = 0; rep < (B === 1 ? 20 : 5); rep++) {
        const caches = model.decoder.makeCache();
        for (let t = 0; t < 16; t++) {
          const x = new Tensor(new Int32Array(B).fill(t === 0 ? BOS : 5), [B, 1]);
          const s = performance.now();
          model.decodeStep(x, memory, srcPad, caches, t);
          if (rep > 0) times.push(performance.now() - s);
        }
      }
    });
    times.sort((a, b) => a - b);
    stepRows.push({ batch: B, stepP50Ms: times[times.length >> 1], stepMinMs: times[0], steps: times.length });
  }
  const result = {
    command: `node --import tsx bench/decode.ts ${args.join(' ')}`.trim(), date: new Date().toISOString(), model: source,
    backend: heed.backendInfo(), loadavgBefore: loadBefore, loadavgAfter: loadavg(),
    allTestWords: { words: words.length, batch: BATCH, maxLen, tokens, wallSeconds: allMs / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, minorPageFaults: faults, wordsPerSecond: words.length / (allMs / 1000) },
    decodeStep: stepRows,
  };
  console.log(JSON.stringify(result, null, 1));
  const out = flag('out');
  if (out !== undefined) writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
}

await main();
