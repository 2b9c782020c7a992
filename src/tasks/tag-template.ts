/**
 * `heed train tag --train train.conll [--valid dev.conll] [--test test.conll]`: named-entity
 * recognition (or any BIO / BIOES tagging) from CoNLL column files, written with the public task
 * API (defineTask).
 *
 * Data: src/data/conll.ts reads the files (streamed, gzip'ed or not; bad lines are DataErrors with
 * file:line:column). Training sentences that break the scheme's order are repaired to their
 * conlleval reading (counted and printed). Tags of types unseen in training are a warning with
 * their count: they stay in the gold standard, so the scores count them as missed.
 * Units: the CoNLL tokens (words); or, with --tokenizer-file (a Hugging Face tokenizer,
 * template-tokenizer.ts), their subwords with first-subword labelling: each word's tag sits on its
 * first subword, the other subwords carry the ignore index −100 in the loss and are never scored,
 * and decoding reads the first subwords only, so tags (and entity scores) stay per word. The
 * character n-gram and shape features of a subword are its word's.
 * Model: WordTagger (models/word-tagger.ts): word + character n-gram + shape features, a
 * Transformer encoder, and either a CRF (--crf, Viterbi decoding, forward-algorithm loss) or
 * per-word cross-entropy with strict decoding (the best sequence the scheme allows,
 * train/tag-repair.ts constrainedDecode).
 * Transfer learning (tasks/finetune.ts): with --init-from <dir> (a `heed pretrain mlm` model) the
 * word table, positions and encoder are that model's backbone (its vocabulary and sizes; a word is
 * looked up lowercased, else as the first of the words the MLM's tokenizer finds in it: '#Paris' →
 * 'paris'); the character n-gram, shape and CNN features and the head / CRF are new weights, trained
 * in full (also under --freeze encoder and --peft, which adapt the backbone only).
 * With --init-from <Hugging Face dir> (BERT, RoBERTa, DistilBERT; tasks/hf-finetune.ts) the model
 * is that checkpoint's *ForTokenClassification instead: units are the directory tokenizer's
 * subwords between its [CLS] / [SEP], first-subword labelling as above (the others −100), per-unit
 * cross-entropy (no CRF, no character features: HF's token-classification recipe), strict decoding
 * of the first subwords, and the same word-level entity scores.
 * --label-fraction f trains on the share f of the training sentences, chosen by a hash of the
 * sentence (the vocabulary still comes from every training sentence's words: text, not labels).
 * Metric: entity-level F1, micro-averaged, exact span and type, as seqeval's default / conlleval
 * (train/metrics/entity-report.ts); the report adds per-type and macro scores.
 *
 * Letters: B sentences, T units (words or subwords), W words, U distinct n-grams in a batch, K tags.
 */
import { Tensor } from '../tensor/tensor.js';
import { crossEntropy } from '../ops/loss.js';
import { logSoftmax } from '../ops/softmax.js';
import { reshape } from '../ops/shape.js';
import { indexSelect } from '../ops/indexing.js';
import { inferenceMode } from '../autograd/inference.js';
import { readConll, type ConllSentence } from '../data/conll.js';
import { CHAR_CNN_MAX, WordTagger, charCnnIds, charNgramIds, realWordMask, wordShape, type NgramRows, type WordBatch } from '../models/word-tagger.js';
import type { TransitionScheme } from '../nn/tag-transitions.js';
import { TRANSITION_SCHEMES } from '../nn/tag-transitions.js';
import { constrainedDecode, repairTags } from '../train/tag-repair.js';
import { entityReport, formatEntityReport } from '../train/metrics/entity-report.js';
import { ConfigError, ValueError } from '../errors.js';
import { UNK_ID } from '../data/vocab.js';
import { tokenize } from './spam.js';
import { FINETUNE_DEFAULTS, FINETUNE_SCHEMA, checkFinetuneConfig, inLabelFraction, isHfPretrained, loadInitSource, type FinetuneConfig } from './finetune.js';
import { BertForTokenClassification } from '../models/bert.js';
import { buildHfTokenClassifier, hfMaxTokens, hfTaskModelConfig, padTokenRows, specialTokens } from './hf-finetune.js';
import type { ConfigSchema } from '../models/config.js';
import { defineTask, type DefinedConfig, type TaskContext } from './define-task.js';
import { readTokenizerFile, savedTokenizer, subwordsOfWords, tokenizerJSON } from './template-tokenizer.js';
import { AUTO_SIZE_DEFAULTS, FILE_DEFAULTS, FILE_SCHEMA, applyDataDefaults, checkFiles, frequentTokens, maxOf, splitTrainValid, stepsFor, type FileConfig } from './template-data.js';

export interface TagConfig extends FileConfig, FinetuneConfig {
  /** Tagging scheme of the files; 'auto' = BIOES if any E-/S- tag occurs, else BIO. */
  scheme: 'auto' | TransitionScheme;
  /** Words seen fewer times in training are <unk> (their n-grams and shape still count). */
  minFreq: number;
  /** Hashed character 3–5-gram features of each word. */
  charFeatures: boolean;
  charBuckets: number;
  /** A CRF output layer (else per-word softmax with strict BIO decoding). */
  crf: boolean;
  /** A character CNN of each word (models/word-tagger.ts), beside or instead of the n-grams. */
  charCnn: boolean;
  /** Model sizes; 0 = chosen from the data's size. */
  dModel: number;
  numHeads: number;
  numLayers: number;
  dimFeedforward: number;
  /** Longest sentence in words (longer ones are tagged in windows); 0 = from the data. */
  maxLen: number;
}

export const TAG_SCHEMA: ConfigSchema<TagConfig> = {
  ...FILE_SCHEMA, scheme: ['auto', ...TRANSITION_SCHEMES], minFreq: 'number', charFeatures: 'boolean', charBuckets: 'number', crf: 'boolean', charCnn: 'boolean',
  dModel: 'number', numHeads: 'number', numLayers: 'number', dimFeedforward: 'number', maxLen: 'number',
  ...FINETUNE_SCHEMA,
};

export const TAG_DEFAULTS: Readonly<TagConfig & Partial<DefinedConfig<object>>> = Object.freeze({
  ...FILE_DEFAULTS,
  scheme: 'auto',
  minFreq: 2, // a word seen once is mostly a name: learning its n-grams generalises better than its id
  charFeatures: true, // WNUT-style entities are rare by design; spelling is the main clue
  charBuckets: 16384,
  crf: true,
  charCnn: false,
  ...AUTO_SIZE_DEFAULTS,
  dropout: 0.3, // small data: strong regularisation
  lr: 1e-3,
  ...FINETUNE_DEFAULTS,
});

export interface TagMeta {
  /** The template's own word vocabulary (empty with --tokenizer-file). */
  words: string[];
  labels: string[];
  scheme: TransitionScheme;
  /** The --tokenizer-file's tokenizer.json, when one was given. */
  tokenizer?: Record<string, unknown>;
  /** With --init-from: the pretrained model's word vocabulary (heed Vocab tokens; id = index), and `words` is empty. */
  vocab?: string[];
  /**
   * With --init-from <Hugging Face dir>: its directory, HF class and the heed config of the model
   * (numLabels included); `tokenizer` is then the directory's, and subword ids are its own (no offset).
   */
  hf?: { dir: string; architecture: string; model: Record<string, unknown> };
}

/** The tag task's model: its own WordTagger, or a Hugging Face checkpoint's token classifier. */
export type TagModel = WordTagger | BertForTokenClassification;

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

/**
 * A sentence as the model reads it. `texts[t]` is the word unit t belongs to (its shape and
 * n-grams are the unit's features); `ids[t]` the unit's id when units are subwords (null: look the
 * word up in the vocabulary); `first[w]` the unit that carries word w's tag (−1: none, e.g. a
 * word the tokenizer drops, or one cut off by maxLen).
 */
export interface SentenceUnits {
  texts: string[];
  ids: number[] | null;
  first: number[];
}

/** Units of `words`: the words themselves, or their subwords (ids + 2: 0 = padding, 1 = <unk>). */
export function sentenceUnits(words: readonly string[], meta: TagMeta): SentenceUnits {
  if (!meta.tokenizer) return { texts: [...words], ids: null, first: words.map((_, i) => i) };
  const u = subwordsOfWords(savedTokenizer(meta.tokenizer, 'tag'), words, meta.hf ? 0 : 2);
  return { texts: u.wordOf.map((w) => words[w]), ids: u.ids, first: u.first };
}

/** The units of words [from, to) of a sentence, at most `L` of them (`first` indexes the slice). */
function sliceUnits(s: SentenceUnits, from: number, to: number, L: number): SentenceUnits {
  const firsts = s.first.slice(from, to);
  const start = firsts.find((f) => f >= 0);
  if (start === undefined) return { texts: [], ids: s.ids && [], first: firsts.map(() => -1) };
  const next = s.first.slice(to).find((f) => f >= 0) ?? s.texts.length;
  const end = Math.min(next, start + L);
  return {
    texts: s.texts.slice(start, end),
    ids: s.ids?.slice(start, end) ?? null,
    first: firsts.map((f) => (f >= 0 && f < end ? f - start : -1)),
  };
}

/** A word's id in the model's word table (0 = padding). */
export type WordLookup = (word: string) => number;

/**
 * Pads sentences (as words, or as units) into a WordBatch. `index` maps lowercased words to ids
 * (others are <unk>, id 1; 0 = padding), or is the WordLookup of the model's vocabulary.
 * options.sparse: the n-gram mix as compressed rows (ngramRows; ngramMix null), which the forward
 * reads without gradients only (prediction); default the dense mix (training, ONNX export).
 */
export function encodeSentences(sentences: readonly (readonly string[] | SentenceUnits)[], index: ReadonlyMap<string, number> | WordLookup, c: TagConfig, options: { sparse?: boolean } = {}): WordBatch {
  const idOf: WordLookup = typeof index === 'function' ? index : (w) => index.get(w.toLowerCase()) ?? 1;
  const units = sentences.map((s): SentenceUnits => ('texts' in s ? s : { texts: [...s], ids: null, first: [] }));
  const B = units.length;
  const T = Math.max(1, ...units.map((u) => u.texts.length));
  const words = new Int32Array(B * T), shapes = new Int32Array(B * T), pad = new Uint8Array(B * T).fill(1);
  const grams: (readonly number[])[] = [];
  const column = new Map<number, number>(); // n-gram bucket → its column among the batch's distinct n-grams
  units.forEach((u, b) => u.texts.forEach((w, t) => {
    const f = wordFeatures(w, c.charFeatures ? c.charBuckets : 0);
    words[b * T + t] = u.ids ? u.ids[t] : idOf(w);
    shapes[b * T + t] = f.shape;
    pad[b * T + t] = 0;
    if (c.charFeatures) {
      const g = f.grams;
      grams[b * T + t] = g;
      for (const id of g) if (!column.has(id)) column.set(id, column.size);
    }
  }));
  let chars: Tensor | null = null, charPad: Tensor | null = null;
  if (c.charCnn) {
    const C = Math.max(1, ...units.flatMap((u) => u.texts.map((w) => Math.min([...w].length, CHAR_CNN_MAX))));
    const ids = new Int32Array(B * T * C), past = new Uint8Array(B * T * C).fill(1);
    for (let i = 0; i < B * T; i++) past[i * C] = 0; // a padding word keeps one position (its pad character)
    units.forEach((u, b) => u.texts.forEach((w, t) => {
      const row = (b * T + t) * C;
      charCnnIds(w).forEach((id, k) => {
        ids[row + k] = id;
        past[row + k] = 0;
      });
    }));
    chars = new Tensor(ids, [B * T, C]);
    charPad = new Tensor(past, [B * T, 1, C]);
  }
  let ngrams: Tensor | null = null, ngramMix: Tensor | null = null, ngramRows: NgramRows | null = null;
  if (c.charFeatures && options.sparse) {
    const offsets = new Int32Array(B * T + 1);
    for (let i = 0; i < B * T; i++) offsets[i + 1] = offsets[i] + (grams[i]?.length ?? 0);
    const cols = new Int32Array(offsets[B * T]);
    grams.forEach((g, i) => g.forEach((id, j) => (cols[offsets[i] + j] = column.get(id)!)));
    ngrams = new Tensor(Int32Array.from(column.keys()), [column.size]);
    ngramRows = { offsets, cols };
  } else if (c.charFeatures) {
    const U = column.size;
    const mix = new Float32Array(B * T * U); // (B·T, U)
    grams.forEach((g, i) => {
      if (g) for (const id of g) mix[i * U + column.get(id)!] += 1 / g.length;
    });
    ngrams = new Tensor(Int32Array.from(column.keys()), [U]);
    ngramMix = new Tensor(mix, [B * T, U]);
  }
  return { words: new Tensor(words, [B, T]), shapes: new Tensor(shapes, [B, T]), ngrams, ngramMix, ngramRows, chars, charPad, pad: new Tensor(pad, [B, T]), lengths: units.map((u) => u.texts.length) };
}

/** Words whose features are memoized, per n-gram bucket count; the cache starts over past this many. */
const FEATURE_CACHE_WORDS = 100_000;
const featureCache = new Map<number, Map<string, { shape: number; grams: readonly number[] }>>();

/**
 * A word's shape class and n-gram bucket ids (none with 0 buckets), memoized: hashing a word's
 * ~25 n-grams costs more than the rest of its encoding, and a served model sees the same words
 * again and again. The arrays are shared: callers never modify them.
 */
function wordFeatures(w: string, buckets: number): { shape: number; grams: readonly number[] } {
  let cache = featureCache.get(buckets);
  if (cache === undefined) featureCache.set(buckets, (cache = new Map()));
  let f = cache.get(w);
  if (f === undefined) {
    if (cache.size >= FEATURE_CACHE_WORDS) cache.clear();
    f = { shape: wordShape(w), grams: buckets > 0 ? charNgramIds(w, buckets) : [] };
    cache.set(w, f);
  }
  return f;
}

/**
 * The emissions of the units that carry a tag, per sentence: (B, T, K) → (B, W, K), W = most
 * tagged words in a sentence; row w of sentence b is unit `tagged[b][w]`, padding rows repeat
 * unit 0. Differentiable (one indexSelect), so the CRF trains on word-level emissions.
 */
function wordEmissions(emissions: Tensor, tagged: readonly (readonly number[])[]): Tensor {
  const [B, T, K] = emissions.shape;
  const W = Math.max(1, ...tagged.map((t) => t.length));
  const rows = new Int32Array(B * W);
  tagged.forEach((t, b) => {
    rows.fill(b * T, b * W, (b + 1) * W);
    t.forEach((u, w) => (rows[b * W + w] = b * T + u));
  });
  return reshape(indexSelect(reshape(emissions, [B * T, K]), 0, new Tensor(rows, [B * W])), [B, W, K]); // (B, W, K)
}

type Ctx = TaskContext<TagConfig, TagMeta>;

/** The loss's ignore index: subwords after a word's first, and padding. */
const IGNORE = -100;

/** The word lookup of meta: the template's own words (ids from 2; <unk> = 1), or a pretrained vocabulary's. */
function wordLookup(meta: TagMeta): WordLookup {
  if (meta.vocab) return pretrainedLookup(meta.vocab);
  const index = new Map(meta.words.map((w, i) => [w, i + 2]));
  return (w) => index.get(w.toLowerCase()) ?? 1;
}

/**
 * A word's id in a pretrained (heed pretrain mlm) vocabulary: the lowercased word; else the first
 * of the words the MLM's tokenizer (spam's) finds in it that the vocabulary holds ('#Paris',
 * '@paris_fan' → 'paris'); else <unk>. Memoised: a corpus repeats its words.
 */
export function pretrainedLookup(tokens: readonly string[]): WordLookup {
  const ids = new Map(tokens.map((t, i) => [t, i]));
  const memo = new Map<string, number>();
  return (w) => {
    let id = memo.get(w);
    if (id === undefined) {
      const lw = w.toLowerCase();
      id = ids.get(lw) ?? tokenize(lw).map((p) => ids.get(p)).find((x) => x !== undefined) ?? UNK_ID;
      if (memo.size < 1_000_000) memo.set(w, id);
    }
    return id;
  };
}

/**
 * Windows of a sentence that the model takes whole: maxLen units each, cut between words (a word
 * with more than maxLen units keeps its first maxLen).
 */
function windowsOf(u: SentenceUnits, L: number): SentenceUnits[] {
  const n = u.first.length;
  if (u.ids === null) {
    const out: SentenceUnits[] = [];
    for (let from = 0; from < n; from += L) out.push(sliceUnits(u, from, Math.min(n, from + L), L));
    return out;
  }
  const unitsOf = (w: number): number => {
    if (u.first[w] < 0) return 0;
    const next = u.first.slice(w + 1).find((f) => f >= 0) ?? u.texts.length;
    return next - u.first[w];
  };
  const out: SentenceUnits[] = [];
  let from = 0, count = 0;
  for (let w = 0; w < n; w++) {
    const k = unitsOf(w);
    if (w > from && count + k > L) {
      out.push(sliceUnits(u, from, w, L));
      from = w;
      count = 0;
    }
    count += k;
  }
  if (n > from) out.push(sliceUnits(u, from, n, L));
  return out;
}

/** Special token ids around an HF model's units ([CLS] … [SEP]), per meta. */
const specialsCache = new WeakMap<TagMeta, { before: number[]; after: number[] }>();
function specialsOf(meta: TagMeta): { before: number[]; after: number[] } {
  let s = specialsCache.get(meta);
  if (!s) specialsCache.set(meta, (s = meta.hf ? specialTokens(savedTokenizer(meta.tokenizer!, 'tag')) : { before: [], after: [] }));
  return s;
}

/** Units a window may hold: maxLen, less an HF model's special tokens. */
function unitRoom(ctx: Ctx): number {
  const s = specialsOf(ctx.meta);
  return ctx.config.maxLen - s.before.length - s.after.length;
}

/**
 * Emissions (B, T, K) of padded unit windows; unit u of window b is row `u + shift` (an HF model
 * reads [CLS] first, and padding is masked out of its attention).
 */
function emit(model: TagModel, units: readonly SentenceUnits[], ctx: Ctx, index: WordLookup): { emissions: Tensor; shift: number; tokens: number } {
  const input = modelInput(model, units, ctx, index);
  return { emissions: input.run(), shift: input.shift, tokens: input.tokens };
}

/**
 * emit() in two steps: the windows encoded now, and `run` computing the emissions (B, T, K) from
 * them. Prediction runs `run` in inferenceMode, whose scope pools what it allocates: the encoded
 * batch is made before it, so a caller that keeps the batch (a forward hook) keeps valid tensors.
 */
function modelInput(model: TagModel, units: readonly SentenceUnits[], ctx: Ctx, index: WordLookup, sparse = false): { run: () => Tensor; shift: number; tokens: number } {
  if (model instanceof BertForTokenClassification) {
    const { before, after } = specialsOf(ctx.meta);
    const b = padTokenRows(units.map((u) => [...before, ...u.ids!, ...after]), model.config.padId);
    return { run: () => model.call(b.ids, { attentionMask: b.attentionMask }), shift: before.length, tokens: b.tokens }; // (B, T, K)
  }
  const b = encodeSentences(units, index, ctx.config, { sparse });
  return { run: () => model.call(b), shift: 0, tokens: b.lengths.reduce((a, x) => a + x, 0) }; // (B, T, K)
}

/** Best tag sequences of sentences (one tag per word), in windows of maxLen units, in batches. */
function tagSentences(model: TagModel, sentences: readonly (readonly string[])[], ctx: Ctx, index: WordLookup): string[][] {
  const { labels, scheme } = ctx.meta;
  const L = unitRoom(ctx);
  const windows: { s: number; from: number; units: SentenceUnits }[] = [];
  sentences.forEach((words, s) => {
    let from = 0;
    for (const units of windowsOf(sentenceUnits(words, ctx.meta), L)) {
      windows.push({ s, from, units });
      from += units.first.length;
    }
  });
  const out = sentences.map((s) => new Array<string>(s.length).fill('O'));
  // A window boundary, or a word without a unit of its own (left 'O'), may split a span: those sentences are repaired.
  const repair = new Set(windows.filter((w, k) => (k > 0 && windows[k - 1].s === w.s) || w.units.first.includes(-1)).map((w) => w.s));
  const bs = 32;
  // Batches of windows of similar length: a batch is padded to its longest window, and the encoder
  // pays for the padding (a dev batch of 32 in file order: 43 words padded, ~15 read on average).
  // Each window's emissions do not depend on its batch mates, so the tags are the same.
  const byLength = [...windows].sort((a, b) => a.units.texts.length - b.units.texts.length);
  for (let i = 0; i < byLength.length; i += bs) {
    const chunk = byLength.slice(i, i + bs).filter((w) => w.units.texts.length > 0);
    if (chunk.length === 0) continue;
    const input = modelInput(model, chunk.map((w) => w.units), ctx, index, true); // n-grams as compressed rows (no gradients here)
    const tagged = chunk.map((w) => w.units.first.filter((f) => f >= 0).map((f) => f + input.shift));
    // inferenceMode: the forward's temporaries go back to the pool for the next batch (or request);
    // only the paths, plain arrays, leave it.
    const paths = inferenceMode(() => {
      const emissions = wordEmissions(input.run(), tagged); // (B, W, K)
      if (model instanceof WordTagger && model.crf) {
        return model.crf.decode(emissions, { mask: realWordMask(tagged.map((t) => t.length), emissions.shape[1]) }).map((p) => p.map((k) => labels[k]));
      }
      const logp = logSoftmax(emissions, -1); // (B, W, K)
      const [, W, K] = logp.shape;
      return tagged.map((t, b) => {
        const rows = t.map((_, w) => (logp.data as Float32Array).subarray((b * W + w) * K, (b * W + w + 1) * K));
        return constrainedDecode(rows, labels, scheme);
      });
    }, model);
    chunk.forEach((w, b) => {
      let k = 0;
      w.units.first.forEach((f, j) => {
        if (f >= 0) out[w.s][w.from + j] = paths[b][k++];
      });
    });
  }
  return out.map((tags, s) => (repair.has(s) ? repairTags(tags, scheme, { labels }) : tags));
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

export const TAG_TASK = defineTask<TagConfig, TagExample, TagMeta, TagModel>({
  name: 'tag',
  summary: 'NER / BIO tagging from CoNLL files (--train, --valid, --test); entity-level F1 as seqeval/conlleval',
  configSchema: TAG_SCHEMA,
  defaults: TAG_DEFAULTS as TagConfig,
  metric: 'f1',
  metricMode: 'max',
  async loadData(c, { meta, print }) {
    checkFiles('tag', c);
    if (!meta) checkFinetuneConfig('tag', c);
    const scheme = meta?.scheme ?? c.scheme;
    const train = await readSplit(c.train, scheme, print);
    const valid = c.valid !== '' ? (await readSplit(c.valid, train.scheme, print)).sentences : null;
    const test = c.test !== '' ? (await readSplit(c.test, train.scheme, print)).sentences : undefined;
    const split = splitTrainValid(train.sentences, valid, (s) => s.tokens.join(' '));
    const toExample = (s: ConllSentence): TagExample => ({ tokens: s.tokens, tags: s.tags });
    const data = { train: split.train.map(toExample), valid: split.valid.map(toExample), test: test?.map(toExample) };
    // --label-fraction: the labelled share of the training sentences (the vocabulary below reads them all: text, not labels).
    const labelled = data.train.filter((e) => inLabelFraction(e.tokens.join(' '), c.labelFraction));
    if (meta) return { ...data, train: labelled, meta };
    if (labelled.length === 0) throw new ValueError(`tag: --label-fraction ${c.labelFraction} keeps none of the ${data.train.length} training sentences. Fix: raise it.`);
    if (c.labelFraction < 1) print(`tag: ${labelled.length} of ${data.train.length} training sentences keep their labels (--label-fraction ${c.labelFraction}, chosen by a hash of the sentence)`);
    const types = new Set(labelled.flatMap((e) => e.tags.map(typeOf).filter((t): t is string => t !== null)));
    for (const [name, set] of [['valid', data.valid], ['test', data.test ?? []]] as const) {
      const unseen = set.flatMap((e) => e.tags.filter((t, i) => t.startsWith('B-') || t.startsWith('S-') || (t !== 'O' && (i === 0 || typeOf(e.tags[i - 1]) !== typeOf(t)))).map(typeOf)).filter((t) => t !== null && !types.has(t));
      if (unseen.length > 0) print(`tag: warning: ${unseen.length} ${name} entities have types never seen in training (${[...new Set(unseen)].join(', ')}); they count as missed in the scores`);
    }
    const source = c.initFrom !== '' ? await loadInitSource(c.initFrom, 'tag') : null;
    if (source && c.tokenizerFile !== '') throw new ConfigError(`tag: --init-from ${c.initFrom} reads words with the pretrained model's own vocabulary, so --tokenizer-file ${c.tokenizerFile} cannot be used with it. Fix: drop one of the two.`);
    const labels = tagLabels(types, train.scheme);
    const hf = isHfPretrained(source) ? { dir: source.dir, ...hfTaskModelConfig(source, 'token-classification', labels.length) } : null;
    const pre = isHfPretrained(source) ? null : source;
    const tok = c.tokenizerFile !== '' ? readTokenizerFile('tag', c.tokenizerFile) : isHfPretrained(source) ? source.tokenizer : null;
    const words = tok || pre ? [] : frequentTokens(data.train.map((e) => e.tokens.map((w) => w.toLowerCase())), c.minFreq);
    if (hf) {
      // The checkpoint fixes the architecture, its sizes and dropout, and the window (its positions); HF's recipe has no CRF or character features.
      c.initFrom = hf.dir;
      const m = hf.model;
      Object.assign(c, { dModel: m.dModel, numHeads: m.numHeads, numLayers: m.numLayers, dimFeedforward: m.dimFeedforward, maxLen: hfMaxTokens(m), dropout: m.dropout, crf: false, charFeatures: false, charCnn: false });
      print(`tag: ${hf.architecture} from ${hf.dir} (${m.numLayers} layers, ${m.dModel} wide, ${c.maxLen} tokens); words read with its tokenizer (${tok!.vocabSize} ids), a word's tag on its first subword; no CRF or character features`);
    }
    if (pre) {
      // The pretrained model fixes the vocabulary and the backbone's sizes (its positions bound the window).
      c.initFrom = pre.dir;
      for (const k of ['dModel', 'numHeads', 'numLayers', 'dimFeedforward', 'maxLen'] as const) c[k] = Number(pre.arch[k]);
      const lookup = pretrainedLookup(pre.vocab.tokens);
      const all = data.train.flatMap((e) => e.tokens);
      const known = all.filter((w) => lookup(w) !== UNK_ID).length;
      print(`tag: words read with ${pre.dir}'s vocabulary (${pre.vocab.size} words): ${((100 * known) / Math.max(1, all.length)).toFixed(1)}% of the training tokens found`);
    }
    const n = labelled.length;
    const unitsOf = (e: TagExample): number => (tok ? tok.encodeWords(e.tokens, { addSpecialTokens: false }).ids.length : e.tokens.length);
    const longest = maxOf([...data.train, ...data.valid].map(unitsOf));
    print(`tag: ${c.train}: ${n} training sentences${split.split ? ' (90% hash split; the other 10% validate)' : ''}, ${data.valid.length} validation, ${train.scheme} scheme, ${types.size} entity types, ` +
      (tok ? `subwords of ${hf ? hf.dir : c.tokenizerFile} (${tok.vocabSize} ids; a word's tag on its first subword)` : pre ? `${pre.vocab.size} pretrained words` : `${words.length} words seen ≥ ${c.minFreq}×`));
    print(`tag: ${applyDataDefaults(c, {
      dModel: n < 2000 ? 96 : n < 20000 ? 128 : 256,
      numLayers: n < 20000 ? 2 : 4,
      dimFeedforward: 4 * (c.dModel || (n < 2000 ? 96 : n < 20000 ? 128 : 256)),
      maxLen: Math.min(512, Math.max(16, longest)),
      maxSteps: stepsFor(n, c.batchSize, 30),
    })}`);
    return { ...data, train: labelled, meta: { words, labels, scheme: train.scheme, ...(tok ? { tokenizer: tokenizerJSON(tok) } : {}), ...(pre ? { vocab: [...pre.vocab.tokens] } : {}), ...(hf ? { hf } : {}) } };
  },
  buildModel(c, meta) {
    if (meta.hf) return buildHfTokenClassifier(meta.hf.model);
    return new WordTagger({
      vocabSize: meta.vocab ? meta.vocab.length : (meta.tokenizer ? savedTokenizer(meta.tokenizer, 'tag').vocabSize : meta.words.length) + 2, numTags: meta.labels.length, labels: meta.labels, scheme: meta.scheme, dModel: c.dModel, numHeads: c.numHeads,
      numLayers: c.numLayers, dimFeedforward: c.dimFeedforward, dropout: c.dropout, maxLen: c.maxLen, charBuckets: c.charFeatures ? c.charBuckets : 0, crf: c.crf, charCnn: c.charCnn,
      ...(c.initFrom !== '' ? { backbone: true } : {}),
    });
  },
  lengthOf: (e) => e.tokens.length,
  finetune: { peftTaskType: 'TOKEN_CLS', labels: (meta) => meta.labels },
  lossAndMetrics(model, batch, ctx) {
    const index = cachedIndex(ctx.meta);
    const labelId = cachedLabelIds(ctx.meta);
    // Training windows: a sentence longer than maxLen units is cut to its first maxLen; words
    // past the cut, and words without a unit of their own, are not in the loss.
    const L = unitRoom(ctx);
    const sents = batch.map((e) => {
      const all = sentenceUnits(e.tokens, ctx.meta);
      const units = all.texts.length > L ? sliceUnits(all, 0, e.tokens.length, L) : all;
      return { units, tags: repairTags(e.tags, ctx.meta.scheme) };
    });
    const { emissions, shift, tokens } = emit(model, sents.map((e) => e.units), ctx, index); // (B, T, K)
    const tagged = sents.map((e) => e.units.first.flatMap((f, w) => (f >= 0 ? [{ unit: f + shift, label: labelId.get(e.tags[w]) ?? 0 }] : [])));
    if (model instanceof WordTagger && model.crf) {
      // The CRF chains the tagged units only (first subwords): word-level emissions and tags.
      const wordLevel = wordEmissions(emissions, tagged.map((t) => t.map((x) => x.unit))); // (B, W, K)
      const W = wordLevel.shape[1];
      const tags = new Int32Array(sents.length * W);
      tagged.forEach((t, i) => t.forEach((x, w) => (tags[i * W + w] = x.label)));
      return { loss: model.crf.call(wordLevel, new Tensor(tags, [sents.length, W]), { mask: realWordMask(tagged.map((t) => t.length), W), reduction: 'tokenMean' }), tokens };
    }
    // Per-unit cross-entropy: a word's tag on its first unit, IGNORE (−100) on the others and on padding.
    const [, T, K] = emissions.shape;
    const gold = new Int32Array(sents.length * T).fill(IGNORE);
    tagged.forEach((t, i) => t.forEach((x) => (gold[i * T + x.unit] = x.label)));
    return { loss: crossEntropy(reshape(emissions, [-1, K]), new Tensor(gold, [sents.length * T]), { ignoreIndex: IGNORE, labelSmoothing: ctx.config.labelSmoothing }), tokens };
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

const indexCache = new WeakMap<TagMeta, WordLookup>();
const labelCache = new WeakMap<TagMeta, Map<string, number>>();
function cachedIndex(meta: TagMeta): WordLookup {
  let m = indexCache.get(meta);
  if (!m) indexCache.set(meta, (m = wordLookup(meta)));
  return m;
}
function cachedLabelIds(meta: TagMeta): Map<string, number> {
  let m = labelCache.get(meta);
  if (!m) labelCache.set(meta, (m = new Map(meta.labels.map((l, i) => [l, i]))));
  return m;
}
