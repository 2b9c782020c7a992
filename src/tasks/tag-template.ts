/**
 * `heed train tag --train train.conll [--valid dev.conll] [--test test.conll]`: named-entity
 * recognition (or any BIO / BIOES tagging) from CoNLL column files, written with the public task
 * API (defineTask).
 *
 * Data: src/data/conll.ts reads the files (streamed, gzip'ed or not; bad lines are DataErrors with
 * file:line:column). Training sentences that break the scheme's order are repaired to their
 * conlleval reading (counted and printed). Tags of types unseen in training are a warning with
 * their count: they stay in the gold standard, so the scores count them as missed.
 * Units: the CoNLL tokens (words). A subword tokenizer (tokenizer.json, first-subword labelling)
 * is not available yet: --tokenizer-file is a NotImplementedError.
 * Model: WordTagger (models/word-tagger.ts): word + character n-gram + shape features, a
 * Transformer encoder, and either a CRF (--crf, Viterbi decoding, forward-algorithm loss) or
 * per-word cross-entropy with strict decoding (the best sequence the scheme allows,
 * train/tag-repair.ts constrainedDecode).
 * Metric: entity-level F1, micro-averaged, exact span and type, as seqeval's default / conlleval
 * (train/metrics/entity-report.ts); the report adds per-type and macro scores.
 *
 * Letters: B sentences, T words, U distinct n-grams in a batch, K tags.
 */
import { Tensor } from '../tensor/tensor.js';
import { crossEntropy } from '../ops/loss.js';
import { logSoftmax } from '../ops/softmax.js';
import { reshape } from '../ops/shape.js';
import { readConll, type ConllSentence } from '../data/conll.js';
import { WordTagger, charNgramIds, realWordMask, wordShape, type WordBatch } from '../models/word-tagger.js';
import type { TransitionScheme } from '../nn/tag-transitions.js';
import { TRANSITION_SCHEMES } from '../nn/tag-transitions.js';
import { constrainedDecode, repairTags } from '../train/tag-repair.js';
import { entityReport, formatEntityReport } from '../train/metrics/entity-report.js';
import { ValueError } from '../errors.js';
import type { ConfigSchema } from '../models/config.js';
import { defineTask, type DefinedConfig, type TaskContext } from './define-task.js';
import { AUTO_SIZE_DEFAULTS, FILE_DEFAULTS, FILE_SCHEMA, applyDataDefaults, checkFiles, frequentTokens, maxOf, splitTrainValid, stepsFor, type FileConfig } from './template-data.js';

export interface TagConfig extends FileConfig {
  /** Tagging scheme of the files; 'auto' = BIOES if any E-/S- tag occurs, else BIO. */
  scheme: 'auto' | TransitionScheme;
  /** Words seen fewer times in training are <unk> (their n-grams and shape still count). */
  minFreq: number;
  /** Hashed character 3–5-gram features of each word. */
  charFeatures: boolean;
  charBuckets: number;
  /** A CRF output layer (else per-word softmax with strict BIO decoding). */
  crf: boolean;
  /** Model sizes; 0 = chosen from the data's size. */
  dModel: number;
  numHeads: number;
  numLayers: number;
  dimFeedforward: number;
  /** Longest sentence in words (longer ones are tagged in windows); 0 = from the data. */
  maxLen: number;
}

export const TAG_SCHEMA: ConfigSchema<TagConfig> = {
  ...FILE_SCHEMA, scheme: ['auto', ...TRANSITION_SCHEMES], minFreq: 'number', charFeatures: 'boolean', charBuckets: 'number', crf: 'boolean',
  dModel: 'number', numHeads: 'number', numLayers: 'number', dimFeedforward: 'number', maxLen: 'number',
};

export const TAG_DEFAULTS: Readonly<TagConfig & Partial<DefinedConfig<object>>> = Object.freeze({
  ...FILE_DEFAULTS,
  scheme: 'auto',
  minFreq: 2, // a word seen once is mostly a name: learning its n-grams generalises better than its id
  charFeatures: true, // WNUT-style entities are rare by design; spelling is the main clue
  charBuckets: 16384,
  crf: true,
  ...AUTO_SIZE_DEFAULTS,
  dropout: 0.3, // small data: strong regularisation
  lr: 1e-3,
});

export interface TagMeta {
  words: string[];
  labels: string[];
  scheme: TransitionScheme;
}

export interface TagExample {
  tokens: string[];
  tags: string[];
}

/** The tag set: O, then B-/I- (and E-/S- for BIOES) of every type, types sorted. */
export function tagLabels(types: Iterable<string>, scheme: TransitionScheme): string[] {
  const prefixes = scheme === 'BIOES' || scheme === 'IOBES' ? ['B', 'I', 'E', 'S'] : ['B', 'I'];
  return ['O', ...[...new Set(types)].sort().flatMap((t) => prefixes.map((p) => `${p}-${t}`))];
}

const typeOf = (tag: string): string | null => (tag === 'O' ? null : tag.slice(2));

/** Pads sentences into a WordBatch; words outside `words` are <unk> (id 1; 0 = padding). */
export function encodeSentences(sentences: readonly (readonly string[])[], index: ReadonlyMap<string, number>, c: TagConfig): WordBatch {
  const B = sentences.length;
  const T = Math.max(1, ...sentences.map((s) => s.length));
  const words = new Int32Array(B * T), shapes = new Int32Array(B * T), pad = new Uint8Array(B * T).fill(1);
  const grams: number[][] = [];
  const column = new Map<number, number>(); // n-gram bucket → its column among the batch's distinct n-grams
  sentences.forEach((s, b) => s.forEach((w, t) => {
    words[b * T + t] = index.get(w.toLowerCase()) ?? 1;
    shapes[b * T + t] = wordShape(w);
    pad[b * T + t] = 0;
    if (c.charFeatures) {
      const g = charNgramIds(w, c.charBuckets);
      grams[b * T + t] = g;
      for (const id of g) if (!column.has(id)) column.set(id, column.size);
    }
  }));
  let ngrams: Tensor | null = null, ngramMix: Tensor | null = null;
  if (c.charFeatures) {
    const U = column.size;
    const mix = new Float32Array(B * T * U); // (B·T, U)
    grams.forEach((g, i) => {
      if (g) for (const id of g) mix[i * U + column.get(id)!] += 1 / g.length;
    });
    ngrams = new Tensor(Int32Array.from(column.keys()), [U]);
    ngramMix = new Tensor(mix, [B * T, U]);
  }
  return { words: new Tensor(words, [B, T]), shapes: new Tensor(shapes, [B, T]), ngrams, ngramMix, pad: new Tensor(pad, [B, T]), lengths: sentences.map((s) => s.length) };
}

type Ctx = TaskContext<TagConfig, TagMeta>;

function wordIndex(meta: TagMeta): Map<string, number> {
  return new Map(meta.words.map((w, i) => [w, i + 2]));
}

/** Best tag sequences of sentences, in windows of maxLen words, in batches. */
function tagSentences(model: WordTagger, sentences: readonly (readonly string[])[], ctx: Ctx, index: Map<string, number>): string[][] {
  const { labels, scheme } = ctx.meta;
  const L = ctx.config.maxLen;
  const windows: { s: number; from: number; words: readonly string[] }[] = [];
  sentences.forEach((words, s) => {
    for (let from = 0; from < Math.max(words.length, 1); from += L) windows.push({ s, from, words: words.slice(from, from + L) });
  });
  const out = sentences.map((s) => new Array<string>(s.length).fill('O'));
  const bs = 32;
  for (let i = 0; i < windows.length; i += bs) {
    const chunk = windows.slice(i, i + bs).filter((w) => w.words.length > 0);
    if (chunk.length === 0) continue;
    const batch = encodeSentences(chunk.map((w) => w.words), index, ctx.config);
    const emissions = model.forward(batch); // (B, T, K)
    let paths: string[][];
    if (model.crf) {
      paths = model.crf.decode(emissions, { mask: realWordMask(batch.lengths, emissions.shape[1]) }).map((p) => p.map((k) => labels[k]));
    } else {
      const logp = logSoftmax(emissions, -1); // (B, T, K)
      const [, T, K] = logp.shape;
      paths = chunk.map((w, b) => {
        const rows = Array.from({ length: w.words.length }, (_, t) => (logp.data as Float32Array).subarray((b * T + t) * K, (b * T + t + 1) * K));
        return constrainedDecode(rows, labels, scheme);
      });
    }
    // A window boundary may split a span: repair the joined sequence at the end.
    chunk.forEach((w, b) => paths[b].forEach((tag, t) => (out[w.s][w.from + t] = tag)));
  }
  return out.map((tags) => (tags.length > L ? repairTags(tags, scheme, { labels }) : tags));
}

async function readSplit(path: string, scheme: TagConfig['scheme'], print: (l: string) => void): Promise<{ sentences: ConllSentence[]; scheme: TransitionScheme }> {
  const f = await readConll(path, { scheme, progress: `reading ${path}` });
  let repaired = 0;
  const sentences = f.sentences.map((s) => {
    const tags = repairTags(s.tags, f.scheme);
    if (tags.some((t, i) => t !== s.tags[i])) repaired++;
    return { ...s, tags };
  });
  if (repaired > 0) print(`tag: ${path}: ${repaired} sentence(s) broke the ${f.scheme} order (I- after O, a type change inside a span) and were repaired to their conlleval reading`);
  return { sentences, scheme: f.scheme };
}

export const TAG_TASK = defineTask<TagConfig, TagExample, TagMeta, WordTagger>({
  name: 'tag',
  summary: 'NER / BIO tagging from CoNLL files (--train, --valid, --test); entity-level F1 as seqeval/conlleval',
  configSchema: TAG_SCHEMA,
  defaults: TAG_DEFAULTS as TagConfig,
  metric: 'f1',
  metricMode: 'max',
  async loadData(c, { meta, print }) {
    checkFiles('tag', c);
    const scheme = meta?.scheme ?? c.scheme;
    const train = await readSplit(c.train, scheme, print);
    const valid = c.valid !== '' ? (await readSplit(c.valid, train.scheme, print)).sentences : null;
    const test = c.test !== '' ? (await readSplit(c.test, train.scheme, print)).sentences : undefined;
    const split = splitTrainValid(train.sentences, valid, (s) => s.tokens.join(' '));
    const toExample = (s: ConllSentence): TagExample => ({ tokens: s.tokens, tags: s.tags });
    const data = { train: split.train.map(toExample), valid: split.valid.map(toExample), test: test?.map(toExample) };
    if (meta) return { ...data, meta };
    const types = new Set(data.train.flatMap((e) => e.tags.map(typeOf).filter((t): t is string => t !== null)));
    for (const [name, set] of [['valid', data.valid], ['test', data.test ?? []]] as const) {
      const unseen = set.flatMap((e) => e.tags.filter((t, i) => t.startsWith('B-') || t.startsWith('S-') || (t !== 'O' && (i === 0 || typeOf(e.tags[i - 1]) !== typeOf(t)))).map(typeOf)).filter((t) => t !== null && !types.has(t));
      if (unseen.length > 0) print(`tag: warning: ${unseen.length} ${name} entities have types never seen in training (${[...new Set(unseen)].join(', ')}); they count as missed in the scores`);
    }
    const words = frequentTokens(data.train.map((e) => e.tokens.map((w) => w.toLowerCase())), c.minFreq);
    const n = data.train.length;
    const longest = maxOf([...data.train, ...data.valid].map((e) => e.tokens.length));
    print(`tag: ${c.train}: ${n} training sentences${split.split ? ' (90% hash split; the other 10% validate)' : ''}, ${data.valid.length} validation, ${train.scheme} scheme, ${types.size} entity types, ${words.length} words seen ≥ ${c.minFreq}×`);
    print(`tag: ${applyDataDefaults(c, {
      dModel: n < 2000 ? 96 : n < 20000 ? 128 : 256,
      numLayers: n < 20000 ? 2 : 4,
      dimFeedforward: 4 * (c.dModel || (n < 2000 ? 96 : n < 20000 ? 128 : 256)),
      maxLen: Math.min(512, Math.max(16, longest)),
      maxSteps: stepsFor(n, c.batchSize, 30),
    })}`);
    return { ...data, meta: { words, labels: tagLabels(types, train.scheme), scheme: train.scheme } };
  },
  buildModel(c, meta) {
    return new WordTagger({
      vocabSize: meta.words.length + 2, numTags: meta.labels.length, labels: meta.labels, scheme: meta.scheme, dModel: c.dModel, numHeads: c.numHeads,
      numLayers: c.numLayers, dimFeedforward: c.dimFeedforward, dropout: c.dropout, maxLen: c.maxLen, charBuckets: c.charFeatures ? c.charBuckets : 0, crf: c.crf,
    });
  },
  lengthOf: (e) => e.tokens.length,
  lossAndMetrics(model, batch, ctx) {
    const index = cachedIndex(ctx.meta);
    const labelId = cachedLabelIds(ctx.meta);
    // Training windows: a sentence longer than maxLen is cut to its first maxLen words.
    const L = ctx.config.maxLen;
    const sents = batch.map((e) => ({ tokens: e.tokens.slice(0, L), tags: repairTags(e.tags.slice(0, L), ctx.meta.scheme) }));
    const b = encodeSentences(sents.map((e) => e.tokens), index, ctx.config);
    const T = b.words.shape[1];
    const gold = new Int32Array(sents.length * T).fill(-1);
    sents.forEach((e, i) => e.tags.forEach((t, j) => (gold[i * T + j] = labelId.get(t) ?? 0)));
    const emissions = model.call(b); // (B, T, K)
    const tokens = b.lengths.reduce((a, x) => a + x, 0);
    if (model.crf) {
      const tags = new Tensor(Int32Array.from(gold, (g) => Math.max(g, 0)), [sents.length, T]);
      return { loss: model.crf.call(emissions, tags, { mask: realWordMask(b.lengths, T), reduction: 'tokenMean' }), tokens };
    }
    const K = emissions.shape[2];
    return { loss: crossEntropy(reshape(emissions, [-1, K]), new Tensor(gold, [sents.length * T]), { ignoreIndex: -1, labelSmoothing: ctx.config.labelSmoothing }), tokens };
  },
  evaluate(model, examples, ctx) {
    const pred = tagSentences(model, examples.map((e) => e.tokens), ctx, cachedIndex(ctx.meta));
    const r = entityReport(examples.map((e) => e.tags), pred);
    return {
      metrics: { f1: r.microAvg.f1, precision: r.microAvg.precision, recall: r.microAvg.recall, macroF1: r.macroAvg.f1 },
      report: formatEntityReport(r, 4),
    };
  },
  predictor(model, ctx) {
    const index = cachedIndex(ctx.meta);
    const words = (x: unknown, i: number): string[] => {
      const w = typeof x === 'string' ? x.trim().split(/\s+/).filter((s) => s !== '') : Array.isArray(x) && x.every((s) => typeof s === 'string') ? (x as string[]) : null;
      if (w === null) throw new ValueError(`tag: input ${i} must be a sentence (a string, split on spaces) or an array of word strings, received ${typeof x}.`);
      if (w.length === 0) throw new ValueError(`tag: input ${i} holds no words. Fix: pass a sentence such as "Alice flew to Paris".`);
      return w;
    };
    return {
      validateInput: (x) => void words(x, 0),
      predict: (inputs) => {
        const sents = inputs.map(words);
        return tagSentences(model, sents, ctx, index).map((tags, i) => ({ output: sents[i].map((w, j) => `${w}/${tags[j]}`).join(' ') }));
      },
    };
  },
});

const indexCache = new WeakMap<TagMeta, Map<string, number>>();
const labelCache = new WeakMap<TagMeta, Map<string, number>>();
function cachedIndex(meta: TagMeta): Map<string, number> {
  let m = indexCache.get(meta);
  if (!m) indexCache.set(meta, (m = wordIndex(meta)));
  return m;
}
function cachedLabelIds(meta: TagMeta): Map<string, number> {
  let m = labelCache.get(meta);
  if (!m) labelCache.set(meta, (m = new Map(meta.labels.map((l, i) => [l, i]))));
  return m;
}
