/**
 * `heed train g2p`: spelling → ARPAbet phonemes on CMUdict (without stress). The CMUdict preset of
 * the seq2seq template (seq2seq-engine.ts runs it; this file says only what is G2P's own):
 *
 * - Data (src/data/cmudict.ts): hash split by word 90/5/5; training iterates every (word,
 *   pronunciation) pair; evaluation decodes each word once.
 * - Sides: the source is the word's letters (characters), the target its phonemes (space-separated
 *   symbols); the checkpoint keeps them in graphemes.vocab.json and phonemes.vocab.json, as every
 *   g2p model since heed's first version, so those still load.
 * - Metrics: WER (a word is correct if its output equals ANY of its reference pronunciations) and
 *   PER (edit distance to the closest reference ÷ its length), as cmusphinx g2p-seq2seq computes them.
 *   Anchor: g2p-seq2seq, a 2-layer 256-wide Transformer ≈ 31% WER; Phonetisaurus 33.9%.
 * - Inputs: a word, trimmed and lowercased; characters outside the model's alphabet are an error.
 */
import { loadCmudict, type G2PWord } from '../data/cmudict.js';
import { Vocab } from '../data/vocab.js';
import { wordErrorRate, phonemeErrorRate } from '../train/metrics.js';
import { ValueError } from '../errors.js';
import type { ConfigSchema } from '../models/config.js';
import { TRAIN_SCHEMA, TRAIN_DEFAULTS, type TrainConfig, type ModelDirs, type TaskDefinition } from './common.js';
import { Seq2SeqSide } from './seq2seq-side.js';
import { seq2seqTask, type PairExample, type Seq2SeqPredictor, type Seq2SeqPreset } from './seq2seq-engine.js';

export interface G2PConfig extends TrainConfig {
  dModel: number;
  numHeads: number;
  numEncoderLayers: number;
  numDecoderLayers: number;
  dimFeedforward: number;
  activation: 'relu' | 'gelu' | 'gelu_tanh';
  /** Padded tokens per batch (B × longest sequence). */
  maxTokens: number;
  /** Validation words decoded at each evaluation (a fixed prefix of the valid split; 0 = all). */
  evalWords: number;
  /** Beam size used by `heed eval` and predict (1 = greedy). */
  beamSize: number;
}

export const G2P_SCHEMA: ConfigSchema<G2PConfig> = {
  ...TRAIN_SCHEMA,
  dModel: 'number', numHeads: 'number', numEncoderLayers: 'number', numDecoderLayers: 'number', dimFeedforward: 'number',
  activation: ['relu', 'gelu', 'gelu_tanh'], maxTokens: 'number', evalWords: 'number', beamSize: 'number',
};

export const G2P_DEFAULTS: Readonly<G2PConfig> = Object.freeze({
  ...TRAIN_DEFAULTS,
  dModel: 256, // the g2p-seq2seq anchor: 2 layers × 256 wide
  numHeads: 4,
  numEncoderLayers: 2,
  numDecoderLayers: 2,
  dimFeedforward: 1024,
  activation: 'relu',
  lr: 1e-3,
  maxSteps: 20000,
  warmupSteps: 500,
  maxTokens: 3000, // ≈ 250 words per batch: large enough for stable Adam steps on 2 cores
  evalEvery: 1000,
  evalWords: 1000,
  beamSize: 1,
  patience: 0,
});

/** Longest word the model accepts (letters); CMUdict's longest is 34. */
const MAX_POSITIONS = 48;

/** A CMUdict word as the template's pair: its spelling, one pronunciation, and all of them. */
function pair(word: string, phonemes: readonly string[], all: readonly (readonly string[])[]): PairExample {
  return { source: word, target: phonemes.join(' '), references: all.map((p) => p.join(' ')) };
}

const asPairs = (words: readonly G2PWord[]): PairExample[] => words.map((w) => pair(w.word, w.pronunciations[0], w.pronunciations));

const G2P_PRESET: Seq2SeqPreset<G2PConfig> = {
  spec: {
    name: 'g2p',
    summary: 'grapheme-to-phoneme on CMUdict (the seq2seq template\'s CMUdict preset); metrics WER and PER',
    schema: G2P_SCHEMA,
    defaults: G2P_DEFAULTS,
    metric: 'wer',
    metricMode: 'min',
    distills: true,
  },
  sideFiles: () => ({ src: 'graphemes.vocab.json', tgt: 'phonemes.vocab.json' }),
  sideKinds: () => ({ src: 'chars', tgt: 'words' }),
  settings: (c) => ({
    model: {
      dModel: c.dModel, numHeads: c.numHeads, numEncoderLayers: c.numEncoderLayers, numDecoderLayers: c.numDecoderLayers,
      dimFeedforward: c.dimFeedforward, dropout: c.dropout, activation: c.activation, maxLen: MAX_POSITIONS,
    },
    maxTokens: c.maxTokens,
    batchSize: 0,
    beamSize: Number(c.beamSize ?? 1),
    evalLimit: c.evalWords,
    decodeLength: (n) => n + 8,
  }),
  loadData(_c, saved, print) {
    const data = loadCmudict();
    const pronunciations = new Map(data.train.words.map((w) => [w.word, w.pronunciations]));
    const train = data.train.examples.map((e) => pair(e.word, e.phonemes, pronunciations.get(e.word) ?? [e.phonemes]));
    const splits = { train, valid: asPairs(data.valid.words), test: asPairs(data.test.words) };
    if (saved) return { ...splits, sides: saved };
    const sides = { src: Seq2SeqSide.ofVocab('chars', Vocab.fromTokens(data.letters)), tgt: Seq2SeqSide.ofVocab('words', Vocab.fromTokens(data.phonemes)) };
    print(`g2p: CMUdict ${data.counts.train.examples} training pronunciations (${data.counts.train.words} words), ${sides.src.size} graphemes, ${sides.tgt.size} phonemes`);
    return { ...splits, sides };
  },
  normalize(input, sides) {
    if (typeof input !== 'string') throw new ValueError(`g2p: input must be a word (string), received ${JSON.stringify(input)?.slice(0, 40) ?? String(input)}.`);
    const w = input.trim().toLowerCase();
    if (w === '') throw new ValueError('g2p: received an empty word. Fix: pass a word such as "hello".');
    const bad = sides.src.unknownSymbols(w);
    if (bad.length > 0) {
      const allowed = sides.src.tokens.slice(4).join('');
      throw new ValueError(`g2p: input "${input}" contains character(s) ${bad.map((b) => JSON.stringify(b)).join(', ')} outside the model's alphabet. Expected only: ${allowed}`);
    }
    if ([...w].length > MAX_POSITIONS) throw new ValueError(`g2p: input "${input.slice(0, 20)}…" has ${[...w].length} letters, more than the ${MAX_POSITIONS} this model accepts.`);
    return w;
  },
  score(outputs, items) {
    const preds = outputs.map((o) => o.split(' ').filter((p) => p !== ''));
    const refs = items.map((e) => e.references.map((r) => r.split(' ')));
    return { wer: wordErrorRate(preds, refs), per: phonemeErrorRate(preds, refs) };
  },
  scoreLine: (m) => `WER ${(100 * m.wer).toFixed(2)}%   PER ${(100 * m.per).toFixed(2)}%   (a word is correct if it equals any reference pronunciation)`,
  unit: 'words',
  sampleSource: 'hello',
};

export const G2P_TASK: TaskDefinition = seq2seqTask(G2P_PRESET);

/** A g2p model (or checkpoint ensemble) as a Predictor: the seq2seq template's, with the CMUdict preset. */
export type G2PPredictor = Seq2SeqPredictor;

export function loadG2PPredictor(dir: ModelDirs): Promise<G2PPredictor> {
  return G2P_TASK.loadPredictor(dir) as Promise<G2PPredictor>;
}
