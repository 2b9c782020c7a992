/**
 * heed against onnxruntime-node on the ONNX export of the same model (issue 15's trade-off table):
 * the spam classifier (EncoderClassifier at the spam task's default size) and the g2p encoder
 * (Seq2SeqTransformer encoder at the g2p default size, the graph `heed export onnx` writes).
 *
 * Rows per model and thread count (heed's native pool and onnxruntime's intra-op threads alike):
 *   single request p50   batch 1 (one real mail / one CMUdict word), median latency in ms
 *   batch throughput     batch 64 real inputs, padded as the tasks pad them, items per second (from the median)
 * heed and onnxruntime are timed interleaved (one call of each per round), so both see the same
 * machine load; onnxruntime's time includes its async hop, heed's the output allocation. heed runs
 * as its predictors do, in inferenceMode (no grad; temporaries reused from the previous call).
 * Weights are random at the default sizes: the time of a forward does not depend on their values.
 *
 *   node --import tsx bench/onnx-export.ts [--quick] [--out bench/results/onnx-export-<date>.json]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import * as heed from '../src/index.js';
import { models } from '../src/index.js';
import { exportOnnx } from '../src/compress/onnx/export.js';
import { inferenceMode } from '../src/autograd/inference.js';
import { loadCmudict } from '../src/data/cmudict.js';
import { loadSpamAssassin } from '../src/data/spam.js';
import { mailWords, topWords } from '../src/tasks/spam.js';
import { SPAM_DEFAULTS } from '../src/tasks/spam.js';
import { Vocab } from '../src/data/vocab.js';
import { padSequences } from '../src/data/batching.js';
import { nativeLoad, threadCounts, withThreads } from './native-util.js';
import { readArgs } from './args.ts';

interface Row { model: string; workload: string; impl: string; threads: number; p50Ms: number; minMs: number; itemsPerSecond?: number; rounds: number }

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

/** Calls heed and onnxruntime in turn for budgetMs (≥ 10 rounds, after a warm-up); returns each one's times. */
async function interleaved(heedFn: () => unknown, ortFn: () => Promise<unknown>, budgetMs: number): Promise<[number[], number[]]> {
  heedFn();
  await ortFn();
  const a: number[] = [], b: number[] = [];
  const start = performance.now();
  while (a.length < 10 || (performance.now() - start < budgetMs && a.length < 5000)) {
    let t0 = performance.now();
    heedFn();
    a.push(performance.now() - t0);
    t0 = performance.now();
    await ortFn();
    b.push(performance.now() - t0);
  }
  return [a, b];
}

async function main(): Promise<void> {
  const flags = readArgs(import.meta.url, {
    quick: { kind: 'bool', help: 'shorter timing budgets (1 s instead of 4 s)' },
    out: { kind: 'string', help: 'raw results file (default bench/results/onnx-export-<date>.json)' },
  });
  const quick = flags.quick;
  const out = flags.out ?? `bench/results/onnx-export-${new Date().toISOString().slice(0, 16).replace(':', '')}.json`;
  const budget = quick ? 1000 : 4000;
  heed.setBackend(nativeLoad ? 'native' : 'js');
  heed.manualSeed(0);
  const loadBefore = loadavg();

  // Spam: real test mails, the task's default reading (headTail truncation to maxLen − 1 words + CLS position).
  const spam = await loadSpamAssassin();
  const vocab = Vocab.fromTokens(topWords(spam.train.slice(0, 2000).map((m) => m.text), SPAM_DEFAULTS.vocabSize - 4));
  const encodeMail = (text: string) => vocab.encode(mailWords(text, SPAM_DEFAULTS.maxLen, SPAM_DEFAULTS.truncation), { unknown: 'unk' });
  const clf = new models.EncoderClassifier({ vocabSize: vocab.size, numClasses: 2, dModel: SPAM_DEFAULTS.dModel, numHeads: SPAM_DEFAULTS.numHeads,
    numLayers: SPAM_DEFAULTS.numLayers, dimFeedforward: SPAM_DEFAULTS.dimFeedforward, maxLen: SPAM_DEFAULTS.maxLen, pooling: SPAM_DEFAULTS.pooling }).eval();
  const mails = spam.test.slice(0, 64).map((m) => encodeMail(m.text));
  const lengths = mails.map((m) => m.length).sort((a, b) => a - b);
  const oneMail = mails.find((m) => m.length === lengths[32])!; // the median-length mail

  // G2P: real validation words, the task's default model size.
  const dict = loadCmudict();
  const letters = Vocab.fromTokens(dict.letters);
  const s2s = new models.Seq2SeqTransformer({ srcVocabSize: letters.size, tgtVocabSize: dict.phonemes.length + 4 }).eval();
  const words = dict.valid.words.slice(0, 64).map((w) => letters.encode(w.word));
  const wordLengths = words.map((w) => w.length).sort((a, b) => a - b);
  const oneWord = words.find((w) => w.length === wordLengths[32])!;

  const cases = [
    { model: `spam EncoderClassifier (d${SPAM_DEFAULTS.dModel}, ${SPAM_DEFAULTS.numLayers} layers, ${SPAM_DEFAULTS.pooling} pooling)`, input: 'input_ids',
      bytes: exportOnnx(clf, [heed.tensor(oneMail, [1, oneMail.length], { dtype: 'int32' })]).graphs[0].bytes,
      net: clf as heed.nn.Module, forward: (x: heed.Tensor) => clf.forward(x), one: oneMail, batch: mails },
    { model: 'g2p Seq2SeqTransformer encoder (d256, 2 layers)', input: 'src_ids',
      bytes: exportOnnx(s2s, [heed.tensor(oneWord, [1, oneWord.length], { dtype: 'int32' }), heed.tensor(new Int32Array([1]), [1, 1], { dtype: 'int32' })]).graphs[0].bytes,
      net: s2s as heed.nn.Module, forward: (x: heed.Tensor) => s2s.encode(x).memory, one: oneWord, batch: words },
  ];
  const rows: Row[] = [];
  for (const c of cases) {
    for (const threads of threadCounts().length ? threadCounts() : [1]) {
      const session = await ort.InferenceSession.create(c.bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
      const p = padSequences(c.batch);
      for (const [workload, data, shape] of [
        [`single request (batch 1, ${c.one.length} tokens)`, c.one, [1, c.one.length]],
        [`batch 64 (padded to ${p.shape[1]} tokens)`, p.data, p.shape],
      ] as [string, Int32Array, number[]][]) {
        const x = new heed.Tensor(data, shape);
        const feeds = { [c.input]: new ort.Tensor('int32', data, shape) };
        const [h, o] = await (nativeLoad ? withThreads(threads, () => interleaved(() => inferenceMode(() => c.forward(x), c.net), () => session.run(feeds), budget))
          : interleaved(() => inferenceMode(() => c.forward(x), c.net), () => session.run(feeds), budget));
        for (const [impl, times] of [['heed', h], [`onnxruntime-node ${ort.env.versions?.common ?? ''}`.trim(), o]] as [string, number[]][]) {
          const p50 = median(times);
          rows.push({ model: c.model, workload, impl, threads, p50Ms: p50, minMs: Math.min(...times), rounds: times.length,
            ...(shape[0] > 1 ? { itemsPerSecond: (shape[0] * 1000) / p50 } : {}) });
        }
      }
      await session.release();
    }
  }
  const result = { command: `node --import tsx bench/onnx-export.ts${quick ? ' --quick' : ''}`, date: new Date().toISOString(),
    backend: heed.backendInfo(), loadavgBefore: loadBefore, loadavgAfter: loadavg(), rows };
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  for (const r of rows) console.log(`${r.model} | ${r.workload} | ${r.impl} | ${r.threads}t | p50 ${r.p50Ms.toFixed(3)} ms | min ${r.minMs.toFixed(3)} ms${r.itemsPerSecond ? ` | ${r.itemsPerSecond.toFixed(0)} items/s` : ''}`);
  console.log(`wrote ${out}; load ${loadBefore.map((l) => l.toFixed(1)).join(' ')} → ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}

await main();
