/**
 * `heed train seq2seq --train pairs.tsv [--valid valid.tsv] [--test test.tsv]`: sequence-to-sequence
 * (translation, transliteration, spelling → pronunciation) from source<TAB>target lines, written with
 * the public task API (defineTask).
 *
 * Data: lines are streamed (src/data/text-stream.ts); a line without exactly one TAB, or with an
 * empty side, is a DataError file:line:column. A source with several targets (CMUdict's alternate
 * pronunciations) trains on every pair and is scored against all its targets.
 * Tokenizers, per side: 'chars', 'words' (split on spaces; rare words are <unk>), or 'auto' (words
 * when most lines of that side hold a space, else characters). --tokenizer-file is not implemented yet.
 * Model: Seq2SeqTransformer (models/seq2seq.ts), as the g2p task. Decoding: greedy, or beam
 * search with --beam-size > 1.
 * Metrics: exact match (1 − WER: an output equal to any reference), token error rate (edit
 * distance to the closest reference ÷ its length), and corpus BLEU and chrF computed as sacreBLEU
 * does (train/metrics/bleu.ts, chrf.ts). The validation metric picking the best checkpoint is chrF.
 *
 * Letters: B pairs, S source tokens, T target tokens + 1, V target vocabulary.
 */
import { Tensor } from '../tensor/tensor.js';
import { crossEntropy } from '../ops/loss.js';
import { reshape } from '../ops/shape.js';
import { normal } from '../nn/init.js';
import { padSequences } from '../data/batching.js';
import { readLines } from '../data/text-stream.js';
import { BOS_ID, EOS_ID, PAD_ID } from '../data/vocab.js';
import { DataError, ValueError } from '../errors.js';
import { Seq2SeqTransformer } from '../models/seq2seq.js';
import { editDistance } from '../train/metrics.js';
import { corpusBleu } from '../train/metrics/bleu.js';
import { corpusChrf } from '../train/metrics/chrf.js';
import type { ConfigSchema } from '../models/config.js';
import { defineTask, type DefinedConfig, type TaskContext } from './define-task.js';
import { FILE_DEFAULTS, FILE_SCHEMA, applyDataDefaults, checkFiles, frequentTokens, maxOf, splitTrainValid, stepsFor, type FileConfig } from './template-data.js';

export type SideTokenizer = 'auto' | 'chars' | 'words';

export interface Seq2SeqTaskConfig extends FileConfig {
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
}

export const SEQ2SEQ_TASK_SCHEMA: ConfigSchema<Seq2SeqTaskConfig> = {
  ...FILE_SCHEMA, srcTokenizer: ['auto', 'chars', 'words'], tgtTokenizer: ['auto', 'chars', 'words'], minFreq: 'number', beamSize: 'number',
  evalExamples: 'number', dModel: 'number', numHeads: 'number', numLayers: 'number', dimFeedforward: 'number', maxLen: 'number',
};

export const SEQ2SEQ_TASK_DEFAULTS: Readonly<Seq2SeqTaskConfig & Partial<DefinedConfig<object>>> = Object.freeze({
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
  maxTokens: 3000, // padded tokens per batch, as the g2p task
  maxSteps: 0,
  warmupSteps: 300,
  evalEvery: 1000,
});

export interface Seq2SeqMeta {
  src: string[];
  tgt: string[];
  srcTokenizer: 'chars' | 'words';
  tgtTokenizer: 'chars' | 'words';
}

export interface PairExample {
  source: string;
  target: string;
  /** Every target of this source in the file (for scoring). */
  references: string[];
}

type Ctx = TaskContext<Seq2SeqTaskConfig, Seq2SeqMeta>;

export function sideTokens(text: string, tokenizer: 'chars' | 'words'): string[] {
  return tokenizer === 'chars' ? [...text] : text.split(' ').filter((w) => w !== '');
}

function joinTokens(tokens: readonly string[], tokenizer: 'chars' | 'words'): string {
  return tokens.join(tokenizer === 'chars' ? '' : ' ');
}

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

/** The first pair of each source: what evaluation decodes (once per source). */
function distinctSources(examples: readonly PairExample[]): PairExample[] {
  const seen = new Set<string>();
  return examples.filter((e) => !seen.has(e.source) && (seen.add(e.source), true));
}

function encodeSide(texts: readonly string[], vocab: readonly string[], tokenizer: 'chars' | 'words', limit: number): Int32Array[] {
  const index = vocabIndex(vocab);
  return texts.map((t) => Int32Array.from(sideTokens(t, tokenizer).slice(0, limit), (w) => index.get(w) ?? 3)); // 3 = <unk>
}

/** Decodes sources: greedy, or beam search when beam > 1; n-best hypotheses with scores. */
export function decodeSources(model: Seq2SeqTransformer, sources: readonly string[], ctx: Ctx, beam: number, nBest = 1): { output: string; score: number }[][] {
  const out: { output: string; score: number }[][] = [];
  const { meta } = ctx;
  const L = ctx.config.maxLen;
  for (let i = 0; i < sources.length; i += 128) {
    const ids = encodeSide(sources.slice(i, i + 128), meta.src, meta.srcTokenizer, L);
    const p = padSequences(ids);
    const src = new Tensor(p.data, p.shape);
    const maxLen = Math.min(L - 1, 2 * maxOf(ids.map((s) => s.length)) + 10);
    const text = (t: number[]) => joinTokens(t.map((k) => meta.tgt[k - 4] ?? '<unk>'), meta.tgtTokenizer);
    if (beam <= 1 && nBest <= 1) {
      const r = model.greedyDecode(src, { bos: BOS_ID, eos: EOS_ID, maxLen });
      r.tokens.forEach((t, b) => out.push([{ output: text(t), score: r.scores[b] }]));
    } else {
      for (const h of model.beamSearch(src, { bos: BOS_ID, eos: EOS_ID, maxLen, beamSize: Math.max(beam, nBest), nBest })) out.push(h.map((x) => ({ output: text(x.tokens), score: x.score })));
    }
  }
  return out;
}

export const SEQ2SEQ_TASK = defineTask<Seq2SeqTaskConfig, PairExample, Seq2SeqMeta, Seq2SeqTransformer>({
  name: 'seq2seq',
  summary: 'sequence-to-sequence from source<TAB>target files (--train, --valid); greedy/beam decoding; BLEU, chrF, exact match',
  configSchema: SEQ2SEQ_TASK_SCHEMA,
  defaults: SEQ2SEQ_TASK_DEFAULTS as Seq2SeqTaskConfig,
  metric: 'chrf',
  metricMode: 'max',
  async loadData(c, { meta, print }) {
    checkFiles('seq2seq', c);
    const train = await readPairs(c.train);
    const valid = c.valid !== '' ? await readPairs(c.valid) : null;
    const test = c.test !== '' ? await readPairs(c.test) : undefined;
    // Split by source, so a word's alternate targets never straddle train and validation.
    const split = splitTrainValid(train, valid, (e) => e.source);
    const data = { train: split.train, valid: split.valid, test };
    if (meta) return { ...data, meta };
    const srcTokenizer = chooseTokenizer(c.srcTokenizer, train.map((e) => e.source));
    const tgtTokenizer = chooseTokenizer(c.tgtTokenizer, train.map((e) => e.target));
    const srcToks = split.train.map((e) => sideTokens(e.source, srcTokenizer));
    const tgtToks = split.train.map((e) => sideTokens(e.target, tgtTokenizer));
    const m: Seq2SeqMeta = { src: frequentTokens(srcToks, c.minFreq), tgt: frequentTokens(tgtToks, c.minFreq), srcTokenizer, tgtTokenizer };
    const longest = Math.max(maxOf(srcToks.map((s) => s.length)), maxOf(tgtToks.map((t) => t.length + 1)));
    const n = split.train.length;
    print(`seq2seq: ${c.train}: ${n} training pairs${split.split ? ' (90% hash split by source; the other 10% validate)' : ''}, ${data.valid.length} validation; ` +
      `source ${srcTokenizer} (${m.src.length} symbols), target ${tgtTokenizer} (${m.tgt.length} symbols)`);
    const d = n < 20000 ? 128 : 256;
    const meanLen = tgtToks.reduce((a, t) => a + t.length + 1, 0) / Math.max(n, 1);
    const pairsPerBatch = Math.max(1, Math.floor(c.maxTokens / Math.max(longest / 2, meanLen)));
    print(`seq2seq: ${applyDataDefaults(c, { dModel: d, numLayers: 2, dimFeedforward: 4 * (c.dModel || d), maxLen: Math.min(1024, longest + 16), maxSteps: stepsFor(n, pairsPerBatch, 30, 300, 30000) })}`);
    return { ...data, meta: m };
  },
  buildModel(c, meta) {
    const model = new Seq2SeqTransformer({
      srcVocabSize: meta.src.length + 4, tgtVocabSize: meta.tgt.length + 4, dModel: c.dModel, numHeads: c.numHeads, numEncoderLayers: c.numLayers,
      numDecoderLayers: c.numLayers, dimFeedforward: c.dimFeedforward, dropout: c.dropout, maxLen: c.maxLen,
    });
    // N(0, d^-½) embeddings, as the g2p task: unit-scale inputs after √d scaling, unit-scale tied logits.
    for (const emb of new Set([model.srcEmbed, model.tgtEmbed])) {
      normal(emb.weight, 0, 1 / Math.sqrt(c.dModel));
      emb.weight.data.fill(0, PAD_ID * c.dModel, (PAD_ID + 1) * c.dModel);
    }
    return model;
  },
  lengthOf: (e) => Math.max(e.source.length, e.target.length) + 1,
  lossAndMetrics(model, batch, ctx) {
    const { meta } = ctx;
    const L = ctx.config.maxLen - 1;
    const src = encodeSide(batch.map((e) => e.source), meta.src, meta.srcTokenizer, ctx.config.maxLen);
    const tgt = encodeSide(batch.map((e) => e.target), meta.tgt, meta.tgtTokenizer, L);
    const s = padSequences(src);
    const tin = padSequences(tgt.map((t) => Int32Array.from([BOS_ID, ...t])));
    const tout = padSequences(tgt.map((t) => Int32Array.from([...t, EOS_ID])));
    const logits = model.call(new Tensor(s.data, s.shape), new Tensor(tin.data, tin.shape)); // (B, T, V)
    const V = meta.tgt.length + 4;
    const loss = crossEntropy(reshape(logits, [-1, V]), new Tensor(tout.data, [tout.data.length]), { ignoreIndex: PAD_ID, labelSmoothing: ctx.config.labelSmoothing });
    return { loss, tokens: tgt.reduce((a, t) => a + t.length + 1, 0) };
  },
  evaluate(model, examples, ctx) {
    let items = distinctSources(examples);
    if (ctx.config.evalExamples > 0 && ctx.training) items = items.slice(0, ctx.config.evalExamples);
    const hyps = decodeSources(model, items.map((e) => e.source), ctx, ctx.config.beamSize).map((h) => h[0].output);
    return { metrics: scorePairs(hyps, items, ctx.meta.tgtTokenizer), report: examplesReport(hyps, items) };
  },
  predictor(model, ctx) {
    const check = (x: unknown, i: number): string => {
      if (typeof x !== 'string' || x.trim() === '') throw new ValueError(`seq2seq: input ${i} must be a non-empty source text (string), received ${JSON.stringify(x)?.slice(0, 40)}.`);
      const n = sideTokens(x.trim(), ctx.meta.srcTokenizer).length;
      if (n >= ctx.config.maxLen) throw new ValueError(`seq2seq: input ${i} has ${n} tokens; this model takes at most ${ctx.config.maxLen - 1}.`);
      return x.trim();
    };
    return {
      validateInput: (x) => void check(x, 0),
      predict: (inputs, options) => {
        const nBest = options.nBest ?? 1;
        const hyps = decodeSources(model, inputs.map(check), ctx, Math.max(ctx.config.beamSize, nBest), nBest);
        return hyps.map((h) => ({ output: h[0].output, ...(nBest > 1 ? { alternatives: h } : {}) }));
      },
    };
  },
});

/** Exact match, token error rate, BLEU and chrF of outputs against each example's references. */
export function scorePairs(hyps: readonly string[], items: readonly PairExample[], tgtTokenizer: 'chars' | 'words'): Record<string, number> {
  let exact = 0, edits = 0, refTokens = 0;
  hyps.forEach((h, i) => {
    const refs = items[i].references;
    if (refs.includes(h)) exact++;
    const hs = sideTokens(h, tgtTokenizer);
    let best = Infinity, bestLen = 1;
    for (const r of refs) {
      const rs = sideTokens(r, tgtTokenizer);
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

function examplesReport(hyps: readonly string[], items: readonly PairExample[]): string {
  return items.slice(0, 8).map((e, i) => `  ${e.source.slice(0, 30).padEnd(30)} → ${hyps[i].slice(0, 40).padEnd(40)} ref: ${e.references.slice(0, 3).join(' | ').slice(0, 60)}`).join('\n');
}

const indexCache = new WeakMap<readonly string[], Map<string, number>>();
function vocabIndex(vocab: readonly string[]): Map<string, number> {
  let m = indexCache.get(vocab);
  if (!m) indexCache.set(vocab, (m = new Map(vocab.map((t, i) => [t, i + 4]))));
  return m;
}
