/**
 * Where a fused greedy decode of one batch spends its CPU time: the encoder, making the fused
 * decoder (cross-attention keys/values, packed weights, buffers), and the decoding steps, for
 * the G2P test words sorted by length (as `heed eval` batches them), 3 repetitions.
 *
 *   HEED_NUM_THREADS=1 taskset -c 1 node --import tsx tools/decode-phases.mts [--words 256] [--steps 32]
 *
 * Model: the default g2p architecture with seeded random weights (bench/decode.ts's workload).
 */
import * as heed from '../src/index.js';
import { models, Tensor, noGrad } from '../src/index.js';
import { loadCmudict } from '../src/data/cmudict.js';
import { Vocab } from '../src/data/vocab.js';
import { padSequences } from '../src/data/batching.js';
import { FusedDecoder, type DecoderParts } from '../src/models/seq2seq-step.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const N = Number(flag('words') ?? 256), STEPS = Number(flag('steps') ?? 32);
heed.manualSeed(0);
const dict = loadCmudict();
const letters = Vocab.fromTokens(dict.letters);
const model = new models.Seq2SeqTransformer({ srcVocabSize: letters.size, tgtVocabSize: dict.phonemes.length + 4 }).eval();
const all = dict.test.words.map((w) => letters.encode(w.word)).sort((a, b) => a.length - b.length);
const words = all.slice(Math.floor(all.length / 2), Math.floor(all.length / 2) + N); // a batch from the middle of the length order
const p = padSequences(words);
const src = new Tensor(p.data, p.shape);
const cpuMs = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1e3; };
console.log(`uptime load: ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}; ${N} words, S = ${p.shape[1]}, ${STEPS} steps`);
for (let rep = 0; rep < 3; rep++) noGrad(() => {
  let t = cpuMs();
  const { memory, srcPad } = model.encode(src);
  const enc = cpuMs() - t; t = cpuMs();
  const parts = (model as unknown as { stepParts(): DecoderParts }).stepParts();
  const dec = FusedDecoder.tryCreate(parts, memory, srcPad, STEPS)!;
  const make = cpuMs() - t; t = cpuMs();
  const last = new Int32Array(N).fill(1);
  for (let s = 0; s < STEPS; s++) dec.step(last, s);
  const steps = cpuMs() - t;
  console.log(`rep ${rep}: encode ${enc.toFixed(1)} ms, make the fused decoder ${make.toFixed(1)} ms, ${STEPS} steps ${steps.toFixed(1)} ms (${(steps / STEPS).toFixed(2)} ms/step) CPU`);
});
