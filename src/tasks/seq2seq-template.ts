/**
 * `heed train seq2seq --train pairs.tsv [--valid valid.tsv] [--test test.tsv]`: sequence-to-sequence
 * (translation, transliteration, spelling → pronunciation) from source<TAB>target lines: the file
 * preset of the seq2seq template (seq2seq-engine.ts, which also runs `heed train g2p`).
 *
 * Data: lines are streamed (src/data/text-stream.ts); a line without exactly one TAB, or with an
 * empty side, is a DataError file:line:column. A source with several targets (CMUdict's alternate
 * pronunciations) trains on every pair and is scored against all its targets.
 * Tokenizers, per side: 'chars', 'words' (split on spaces; rare words are <unk>), or 'auto' (words
 * when most lines of that side hold a space, else characters); or --tokenizer-file, a Hugging
 * Face tokenizer whose subwords both sides use (its tokenizer.json is saved with the model).
 * Decoding: greedy, or beam search with --beam-size > 1.
 * Metrics: exact match (1 − WER: an output equal to any reference), token error rate (edit
 * distance to the closest reference ÷ its length), and corpus BLEU and chrF computed as sacreBLEU
 * does (train/metrics/bleu.ts, chrf.ts). The validation metric picking the best checkpoint is chrF.
 */
import { readLines } from '../data/text-stream.js';
import { Vocab } from '../data/vocab.js';
import { DataError, ValueError } from '../errors.js';
import { editDistance } from '../train/metrics.js';
import { corpusBleu } from '../train/metrics/bleu.js';
import { corpusChrf } from '../train/metrics/chrf.js';
import type { ConfigSchema } from '../models/config.js';
import { TRAIN_DEFAULTS, TRAIN_SCHEMA, type TrainConfig } from './common.js';
import { Seq2SeqSide } from './seq2seq-side.js';
import { seq2seqTask, type PairExample, type Seq2SeqPreset, type Sides } from './seq2seq-engine.js';
import { readTokenizerFile } from './template-tokenizer.js';
import { FILE_DEFAULTS, FILE_SCHEMA, applyDataDefaults, checkFiles, frequentTokens, maxOf, splitTrainValid, stepsFor, type FileConfig } from './template-data.js';

export type SideTokenizer = 'auto' | 'chars' | 'words';

export interface Seq2SeqTaskConfig extends TrainConfig, FileConfig {
  srcTokenizer: SideTokenizer;
  tgtTokenizer: SideTokenizer;
  /** Words seen fewer times in training are <unk> (words tokenizer). */
  minFreq: number;
  /** Beam size for evaluation and prediction (1 = greedy). */
  beamSize: number;
  /** Validation sources decoded at each evaluation during training (a fixed prefix; 0 = all); heed eval decodes all. */
  evalExamples: number;
  /** Model sizes and positions; 0 = chosen from the data's size. */
  dModel: number;
  numHeads: number;
  numLayers: number;
  dimFeedforward: number;
  maxLen: number;
  /** Most pairs per batch, and most padded tokens per batch. */
  batchSize: number;
  maxTokens: number;
}

export const SEQ2SEQ_TASK_SCHEMA: ConfigSchema<Seq2SeqTaskConfig> = {
  ...TRAIN_SCHEMA, ...FILE_SCHEMA, srcTokenizer: ['auto', 'chars', 'words'], tgtTokenizer: ['auto', 'chars', 'words'], minFreq: 'number', beamSize: 'number',
  evalExamples: 'number', dModel: 'number', numHeads: 'number', numLayers: 'number', dimFeedforward: 'number', maxLen: 'number', batchSize: 'number', maxTokens: 'number',
};

export const SEQ2SEQ_TASK_DEFAULTS: Readonly<Seq2SeqTaskConfig> = Object.freeze({
  ...TRAIN_DEFAULTS,
  ...FILE_DEFAULTS,
  srcTokenizer: 'auto',
  tgtTokenizer: 'auto',
  minFreq: 1,
  beamSize: 1,
  evalExamples: 1000,
  dModel: 0,
  numHeads: 4,
  numLayers: 0,
  dimFeedforward: 0,
  maxLen: 0,
  batchSize: 256,
  maxTokens: 3000, // padded tokens per batch, as the g2p preset
  maxSteps: 0,
  warmupSteps: 300,
  evalEvery: 1000,
});

async function readPairs(path: string): Promise<PairExample[]> {
  const pairs: { source: string; target: string }[] = [];
  for await (const { text, line } of readLines(path, { progress: `reading ${path}` })) {
    if (text.trim() === '') continue;
    const tab = text.indexOf('\t');
    if (tab < 0) throw new DataError(path, line, text.length + 1, 'expected source<TAB>target, found no TAB. Fix: separate the two sides by one TAB.');
    if (text.indexOf('\t', tab + 1) >= 0) throw new DataError(path, line, text.indexOf('\t', tab + 1) + 1, 'expected source<TAB>target, found a second TAB.');
    const source = text.slice(0, tab).trim(), target = text.slice(tab + 1).trim();
    if (source === '') throw new DataError(path, line, 1, 'the source (before the TAB) is empty.');
    if (target === '') throw new DataError(path, line, tab + 2, 'the target (after the TAB) is empty.');
    pairs.push({ source, target });
  }
  if (pairs.length === 0) throw new DataError(path, 1, 1, 'the file holds only blank lines; expected source<TAB>target lines.');
  const refs = new Map<string, string[]>();
  for (const p of pairs) refs.set(p.source, [...(refs.get(p.source) ?? []), p.target]);
  return pairs.map((p) => ({ ...p, references: refs.get(p.source)! }));
}

function chooseTokenizer(t: SideTokenizer, texts: readonly string[]): 'chars' | 'words' {
  if (t !== 'auto') return t;
  return texts.filter((x) => x.includes(' ')).length * 2 > texts.length ? 'words' : 'chars';
}

/** The sides built from the training pairs (the config's tokenizer choices resolved and saved). */
function buildSides(c: Seq2SeqTaskConfig, train: readonly PairExample[]): Sides {
  if (c.tokenizerFile !== '') {
    const side = Seq2SeqSide.ofTokenizer(readTokenizerFile('seq2seq', c.tokenizerFile));
    return { src: side, tgt: side };
  }
  c.srcTokenizer = chooseTokenizer(c.srcTokenizer, train.map((e) => e.source));
  c.tgtTokenizer = chooseTokenizer(c.tgtTokenizer, train.map((e) => e.target));
  const side = (kind: 'chars' | 'words', texts: string[]) => {
    const probe = Seq2SeqSide.ofVocab(kind, Vocab.fromTokens([]));
    return Seq2SeqSide.ofVocab(kind, Vocab.fromTokens(frequentTokens(texts.map((t) => probe.units(t)), c.minFreq)));
  };
  return { src: side(c.srcTokenizer, train.map((e) => e.source)), tgt: side(c.tgtTokenizer, train.map((e) => e.target)) };
}

/** Exact match, token error rate, BLEU and chrF of outputs against each example's references. */
export function scorePairs(hyps: readonly string[], items: readonly PairExample[], tgt: Seq2SeqSide): Record<string, number> {
  let exact = 0, edits = 0, refTokens = 0;
  hyps.forEach((h, i) => {
    const refs = items[i].references;
    if (refs.includes(h)) exact++;
    const hs = tgt.units(h);
    let best = Infinity, bestLen = 1;
    for (const r of refs) {
      const rs = tgt.units(r);
      const d = editDistance(hs, rs);
      if (d < best) { best = d; bestLen = rs.length; }
    }
    edits += best;
    refTokens += bestLen;
  });
  const streams = maxOf(items.map((e) => e.references.length));
  const references = Array.from({ length: streams }, (_, k) => items.map((e) => e.references[k] ?? null));
  return {
    exactMatch: exact / hyps.length,
    tokenErrorRate: edits / Math.max(refTokens, 1),
    bleu: corpusBleu([...hyps], references).score,
    chrf: corpusChrf([...hyps], references).score,
  };
}

export const SEQ2SEQ_PRESET: Seq2SeqPreset<Seq2SeqTaskConfig> = {
  spec: {
    name: 'seq2seq',
    summary: 'sequence-to-sequence from source<TAB>target files (--train, --valid); greedy/beam decoding; BLEU, chrF, exact match',
    schema: SEQ2SEQ_TASK_SCHEMA,
    defaults: SEQ2SEQ_TASK_DEFAULTS,
    metric: 'chrf',
    metricMode: 'max',
    distills: true,
  },
  sideFiles: (c) => (c.tokenizerFile !== '' ? { src: 'source.tokenizer.json', tgt: 'target.tokenizer.json' } : { src: 'source.vocab.json', tgt: 'target.vocab.json' }),
  sideKinds: (c) => (c.tokenizerFile !== '' ? { src: 'tokenizer', tgt: 'tokenizer' }
    : { src: c.srcTokenizer === 'auto' ? 'chars' : c.srcTokenizer, tgt: c.tgtTokenizer === 'auto' ? 'chars' : c.tgtTokenizer }),
  settings: (c) => ({
    model: { dModel: c.dModel, numHeads: c.numHeads, numEncoderLayers: c.numLayers, numDecoderLayers: c.numLayers, dimFeedforward: c.dimFeedforward, dropout: c.dropout, maxLen: c.maxLen },
    maxTokens: c.maxTokens,
    batchSize: c.batchSize,
    beamSize: c.beamSize,
    evalLimit: c.evalExamples,
    decodeLength: (n) => 2 * n + 10,
  }),
  async loadData(c, saved, print) {
    checkFiles('seq2seq', c);
    const train = await readPairs(c.train);
    const valid = c.valid !== '' ? await readPairs(c.valid) : null;
    const test = c.test !== '' ? await readPairs(c.test) : undefined;
    // Split by source, so a word's alternate targets never straddle train and validation.
    const split = splitTrainValid(train, valid, (e) => e.source);
    const data = { train: split.train, valid: split.valid, test };
    if (saved) return { ...data, sides: saved };
    const sides = buildSides(c, split.train);
    const srcLens = split.train.map((e) => sides.src.encode(e.source).length), tgtLens = split.train.map((e) => sides.tgt.encode(e.target).length + 1);
    const longest = Math.max(maxOf(srcLens), maxOf(tgtLens));
    const n = split.train.length;
    const name = (kind: string) => (kind === 'tokenizer' ? `subwords of ${c.tokenizerFile}` : kind);
    print(`seq2seq: ${c.train}: ${n} training pairs${split.split ? ' (90% hash split by source; the other 10% validate)' : ''}, ${data.valid.length} validation; ` +
      `source ${name(sides.src.kind)} (${sides.src.size - 4} symbols), target ${name(sides.tgt.kind)} (${sides.tgt.size - 4} symbols)`);
    const d = n < 20000 ? 128 : 256;
    const meanLen = tgtLens.reduce((a, t) => a + t, 0) / Math.max(n, 1);
    const pairsPerBatch = Math.max(1, Math.floor(c.maxTokens / Math.max(longest / 2, meanLen)));
    print(`seq2seq: ${applyDataDefaults(c, { dModel: d, numLayers: 2, dimFeedforward: 4 * (c.dModel || d), maxLen: Math.min(1024, longest + 16), maxSteps: stepsFor(n, pairsPerBatch, 30, 300, 30000) })}`);
    return { ...data, sides };
  },
  normalize(x, sides, s) {
    if (typeof x !== 'string' || x.trim() === '') throw new ValueError(`seq2seq: an input must be a non-empty source text (string), received ${JSON.stringify(x)?.slice(0, 40)}.`);
    const n = sides.src.encode(x.trim()).length;
    if (n >= s.model.maxLen) throw new ValueError(`seq2seq: an input has ${n} tokens; this model takes at most ${s.model.maxLen - 1}.`);
    return x.trim();
  },
  score: (outputs, items, sides) => scorePairs(outputs, items, sides.tgt),
  scoreLine: (m) => `BLEU ${m.bleu.toFixed(2)}   chrF ${m.chrf.toFixed(2)}   exact match ${(100 * m.exactMatch).toFixed(2)}%   token error rate ${(100 * m.tokenErrorRate).toFixed(2)}%`,
  unit: 'sources',
  sampleSource: 'hello',
};

export const SEQ2SEQ_TASK = seq2seqTask(SEQ2SEQ_PRESET);
