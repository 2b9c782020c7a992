/**
 * `heed train classify --train train.csv [--valid valid.csv] --text-column text --label-column label`:
 * text classification (sentiment, topics, spam) from a CSV, TSV or JSONL file, single- or
 * multi-label, written with the public task API (defineTask).
 *
 * Data: src/data/table.ts streams the rows (quoted newlines in CSV parse correctly; a missing
 * column is a DataError file:line:column). Multi-label: the label cell holds labels separated by
 * --label-separator ('|'), or a JSONL array. A validation label never seen in training is a
 * warning with its count; those examples are left out of validation (the model cannot predict them).
 * Tokenizer: 'words' (lowercased runs of letters/digits, and single punctuation marks; words seen
 * fewer than --min-freq times are <unk>) or 'chars'; or --tokenizer-file, a Hugging Face tokenizer whose
 * subwords are the tokens (a copy is saved with the model: template-tokenizer.ts).
 * Model: EncoderClassifier (mean pooling). Loss: cross-entropy, or for multi-label the binary
 * cross-entropy of each label (a label is predicted when its probability ≥ 0.5).
 * Metrics: accuracy, macro F1 and the classification report; multi-label: micro F1 over labels.
 * From a Hugging Face checkpoint (--init-from <HF dir>: BERT, RoBERTa, DistilBERT; tasks/hf-finetune.ts)
 * the model is its *ForSequenceClassification, reading the directory's tokenizer ([CLS] … [SEP],
 * truncated to the model's positions, padding masked); --freeze, --peft ... apply (tasks/finetune.ts).
 * A heed `pretrain mlm` directory is not supported here yet (spam and tag take one).
 *
 * Letters: B texts, T tokens, C labels.
 */
import { Tensor } from '../tensor/tensor.js';
import { crossEntropy } from '../ops/loss.js';
import { abs, add, exp, log, mul, neg, relu, sigmoid, sub } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { softmax } from '../ops/softmax.js';
import { padSequences } from '../data/batching.js';
import { readTable } from '../data/table.js';
import { DataError, NotImplementedError, ValueError, ConfigError } from '../errors.js';
import { EncoderClassifier } from '../models/encoder-classifier.js';
import { BertForSequenceClassification } from '../models/bert.js';
import { FINETUNE_DEFAULTS, FINETUNE_SCHEMA, checkFinetuneConfig, isHfPretrained, loadInitSource, type FinetuneConfig } from './finetune.js';
import { isHfDirectory } from '../io/hf/index.js';
import { buildHfSequenceClassifier, hfMaxTokens, hfTaskModelConfig, padTokenRows } from './hf-finetune.js';
import { classificationReport, formatClassificationReport } from '../train/metrics.js';
import type { ConfigSchema } from '../models/config.js';
import { defineTask, type DefinedConfig, type TaskContext } from './define-task.js';
import { readTokenizerFile, savedTokenizer, subwordIds, tokenizerJSON } from './template-tokenizer.js';
import { AUTO_SIZE_DEFAULTS, FILE_DEFAULTS, FILE_SCHEMA, applyDataDefaults, checkFiles, frequentTokens, splitTrainValid, stepsFor, unseenLabels, type FileConfig } from './template-data.js';

export interface ClassifyConfig extends FileConfig, FinetuneConfig {
  textColumn: string;
  labelColumn: string;
  multiLabel: boolean;
  /** Separates the labels of one multi-label CSV/TSV cell. */
  labelSeparator: string;
  tokenizer: 'words' | 'chars';
  minFreq: number;
  /** Largest vocabulary (most frequent tokens first). */
  vocabSize: number;
  /** Model sizes and tokens per text; 0 = chosen from the data's size. */
  dModel: number;
  numHeads: number;
  numLayers: number;
  dimFeedforward: number;
  maxLen: number;
}

export const CLASSIFY_SCHEMA: ConfigSchema<ClassifyConfig> = {
  ...FILE_SCHEMA, textColumn: 'string', labelColumn: 'string', multiLabel: 'boolean', labelSeparator: 'string', tokenizer: ['words', 'chars'],
  minFreq: 'number', vocabSize: 'number', dModel: 'number', numHeads: 'number', numLayers: 'number', dimFeedforward: 'number', maxLen: 'number',
  ...FINETUNE_SCHEMA,
};

export const CLASSIFY_DEFAULTS: Readonly<ClassifyConfig & Partial<DefinedConfig<object>>> = Object.freeze({
  ...FILE_DEFAULTS,
  textColumn: 'text',
  labelColumn: 'label',
  multiLabel: false,
  labelSeparator: '|',
  tokenizer: 'words',
  minFreq: 2,
  vocabSize: 30000,
  ...AUTO_SIZE_DEFAULTS,
  ...FINETUNE_DEFAULTS,
});

export interface ClassifyMeta {
  /** The template's own vocabulary (empty with --tokenizer-file). */
  tokens: string[];
  labels: string[];
  /** The --tokenizer-file's tokenizer.json, or the --init-from Hugging Face directory's. */
  tokenizer?: Record<string, unknown>;
  /** With --init-from <Hugging Face dir>: its directory, HF class and the heed config of the model (numLabels included). */
  hf?: { dir: string; architecture: string; model: Record<string, unknown> };
}

/** The classify task's model: its own EncoderClassifier, or a Hugging Face checkpoint's sequence classifier. */
export type ClassifyModel = EncoderClassifier | BertForSequenceClassification;

export interface ClassifyExample {
  text: string;
  labels: string[];
}

const WORD = /\p{L}[\p{L}\p{M}\p{N}]*(?:['’]\p{L}+)?|\p{N}+|[^\s\p{L}\p{N}]/gu;

/** The tokens of a text: words (lowercased) and single punctuation marks, or characters. */
export function textTokens(text: string, tokenizer: ClassifyConfig['tokenizer']): string[] {
  return tokenizer === 'chars' ? [...text] : text.toLowerCase().match(WORD) ?? [];
}

type Ctx = TaskContext<ClassifyConfig, ClassifyMeta>;

async function readExamples(path: string, c: ClassifyConfig): Promise<ClassifyExample[]> {
  const out: ClassifyExample[] = [];
  for await (const row of readTable(path, { required: [c.textColumn, c.labelColumn], progress: `reading ${path}` })) {
    const text = row.values[c.textColumn];
    const label = row.values[c.labelColumn];
    if (typeof text !== 'string') throw new DataError(path, row.line, 1, `column '${c.textColumn}' must hold text, received ${JSON.stringify(text)?.slice(0, 40)}.`);
    let labels: string[];
    if (Array.isArray(label)) labels = label.map(String);
    else if (typeof label === 'string' || typeof label === 'number' || typeof label === 'boolean') {
      labels = c.multiLabel ? String(label).split(c.labelSeparator).map((l) => l.trim()).filter((l) => l !== '') : [String(label).trim()];
    } else throw new DataError(path, row.line, 1, `column '${c.labelColumn}' must hold a label (text or number${c.multiLabel ? ', or an array of labels' : ''}), received ${JSON.stringify(label)?.slice(0, 40)}.`);
    if (!c.multiLabel && (labels.length !== 1 || labels[0] === '')) throw new DataError(path, row.line, 1, `column '${c.labelColumn}' is empty; every row needs a label.${Array.isArray(label) ? ' Fix: pass --multi-label for label arrays.' : ''}`);
    out.push({ text, labels });
  }
  return out;
}

/** Token ids of a text (ids 0–3 are reserved: padding … <unk>), at most `limit`. */
function textIds(text: string, meta: ClassifyMeta, tokenizer: ClassifyConfig['tokenizer'], limit: number): Int32Array {
  if (meta.tokenizer) return subwordIds(savedTokenizer(meta.tokenizer, 'classify'), text, 4, limit);
  const index = tokenIndex(meta);
  return Int32Array.from(textTokens(text, tokenizer).slice(0, limit), (w) => index.get(w) ?? 3); // 3 = <unk>
}

/** Logits (B, C) of texts: an HF model reads [CLS] subwords [SEP] with padding masked; the own model, the template's ids. */
function logitsOf(model: ClassifyModel, texts: readonly string[], ctx: Ctx, training: boolean): { logits: Tensor; tokens: number } {
  if (model instanceof BertForSequenceClassification) {
    const tok = savedTokenizer(ctx.meta.tokenizer!, 'classify');
    const rows = texts.map((t) => tok.encode(t, null, { addSpecialTokens: true, truncation: true, maxLength: ctx.config.maxLen }).ids);
    const b = padTokenRows(rows, model.config.padId);
    const call = { attentionMask: b.attentionMask };
    return { logits: training ? model.call(b.ids, call) : model.forward(b.ids, call), tokens: b.tokens }; // (B, C)
  }
  const { x, tokens } = encode(texts, ctx);
  return { logits: training ? model.call(x) : model.forward(x), tokens }; // (B, C)
}

function encode(texts: readonly string[], ctx: Ctx): { x: Tensor; tokens: number } {
  let n = 0;
  const ids = texts.map((t) => {
    const toks = textIds(t, ctx.meta, ctx.config.tokenizer, ctx.config.maxLen);
    const v = toks.length > 0 ? toks : Int32Array.of(3); // an empty text is one <unk>
    n += v.length;
    return v;
  });
  const p = padSequences(ids);
  return { x: new Tensor(p.data, p.shape), tokens: n };
}

/** Mean binary cross-entropy with logits, stable form: max(x, 0) − x·y + log(1 + e^−|x|). */
function bceWithLogits(x: Tensor, y: Tensor): Tensor {
  return mean(add(sub(relu(x), mul(x, y)), log(add(exp(neg(abs(x))), 1))));
}

function multiHot(examples: readonly ClassifyExample[], labelIds: Map<string, number>, C: number): Tensor {
  const y = new Float32Array(examples.length * C);
  examples.forEach((e, b) => e.labels.forEach((l) => {
    const k = labelIds.get(l);
    if (k !== undefined) y[b * C + k] = 1;
  }));
  return new Tensor(y, [examples.length, C]);
}

export const CLASSIFY_TASK = defineTask<ClassifyConfig, ClassifyExample, ClassifyMeta, ClassifyModel>({
  name: 'classify',
  summary: 'text classification from CSV/TSV/JSONL (--train, --text-column, --label-column; --multi-label); accuracy, F1',
  configSchema: CLASSIFY_SCHEMA,
  defaults: CLASSIFY_DEFAULTS as ClassifyConfig,
  metric: 'f1',
  metricMode: 'max',
  async loadData(c, { meta, print }) {
    checkFiles('classify', c);
    const train = await readExamples(c.train, c);
    const valid = c.valid !== '' ? await readExamples(c.valid, c) : null;
    const test = c.test !== '' ? await readExamples(c.test, c) : undefined;
    const split = splitTrainValid(train, valid, (e) => e.text);
    const labels = meta?.labels ?? [...new Set(split.train.flatMap((e) => e.labels))].sort();
    const known = new Set(labels);
    const keep = (name: string, set: ClassifyExample[]): ClassifyExample[] => {
      const unseen = unseenLabels(set.flatMap((e) => e.labels), known);
      if (unseen === null) return set;
      print(`classify: warning: ${unseen.count} ${name} label(s) never seen in training (${unseen.text}); ${c.multiLabel ? 'those labels are ignored' : 'those examples are left out'}`);
      return c.multiLabel ? set.map((e) => ({ ...e, labels: e.labels.filter((l) => known.has(l)) })) : set.filter((e) => known.has(e.labels[0]));
    };
    const data = { train: split.train, valid: keep('validation', split.valid), test: test && keep('test', test) };
    if (meta) return { ...data, meta };
    checkFinetuneConfig('classify', c);
    if (labels.length < 2 && !c.multiLabel) throw new ValueError(`classify: ${c.train} holds ${labels.length} distinct label(s) in column '${c.labelColumn}'; a classifier needs at least 2. Fix: check --label-column.`);
    if (c.initFrom !== '' && !isHfDirectory(c.initFrom)) {
      throw new NotImplementedError(`classify --init-from ${c.initFrom}: starting the classify template from a heed pretrain mlm directory is not implemented (its own tokens do not map onto the MLM's vocabulary). Fix: give a Hugging Face checkpoint directory, or use heed train spam / tag, which take heed directories.`);
    }
    const source = c.initFrom !== '' ? await loadInitSource(c.initFrom, 'classify') : null;
    if (source && c.tokenizerFile !== '') throw new ConfigError(`classify: --init-from ${c.initFrom} reads text with the checkpoint's own tokenizer, so --tokenizer-file ${c.tokenizerFile} cannot be used with it. Fix: drop one of the two.`);
    const hf = isHfPretrained(source) ? { dir: source.dir, ...hfTaskModelConfig(source, 'sequence-classification', labels.length) } : null;
    if (hf) {
      // The checkpoint fixes the architecture, its sizes and dropout, and the tokens per text (its positions).
      c.initFrom = hf.dir;
      const m = hf.model;
      Object.assign(c, { dModel: m.dModel, numHeads: m.numHeads, numLayers: m.numLayers, dimFeedforward: m.dimFeedforward, maxLen: hfMaxTokens(m), dropout: m.dropout });
    }
    const tok = c.tokenizerFile !== '' ? readTokenizerFile('classify', c.tokenizerFile) : isHfPretrained(source) ? source.tokenizer : null;
    const tokenized = split.train.map((e) => (tok ? tok.tokenize(e.text) : textTokens(e.text, c.tokenizer)));
    const tokens = tok ? [] : frequentTokens(tokenized, c.minFreq, c.vocabSize);
    const lengths = tokenized.map((t) => t.length).sort((a, b) => a - b);
    const p95 = lengths[Math.floor(0.95 * (lengths.length - 1))] ?? 1;
    const n = split.train.length;
    print(`classify: ${c.train}: ${n} training texts${split.split ? ' (90% hash split; the other 10% validate)' : ''}, ${data.valid.length} validation, ${labels.length} labels${c.multiLabel ? ' (multi-label)' : ''}, ${hf ? `${hf.architecture} from ${hf.dir} with its tokenizer (${tok!.vocabSize} ids), ${c.maxLen} tokens per text` : tok ? `tokenizer ${c.tokenizerFile} (${tok.vocabSize} subwords)` : `${tokens.length} ${c.tokenizer === 'chars' ? 'characters' : 'words'} seen ≥ ${c.minFreq}×`}`);
    const d = n < 5000 ? 64 : n < 50000 ? 128 : 256;
    print(`classify: ${applyDataDefaults(c, { dModel: d, numLayers: 2, dimFeedforward: 4 * (c.dModel || d), maxLen: Math.min(512, Math.max(8, p95)), maxSteps: stepsFor(n, c.batchSize, 10) })}`);
    return { ...data, meta: { tokens, labels, ...(tok ? { tokenizer: tokenizerJSON(tok) } : {}), ...(hf ? { hf } : {}) } };
  },
  buildModel(c, meta) {
    if (meta.hf) return buildHfSequenceClassifier(meta.hf.model);
    return new EncoderClassifier({
      vocabSize: (meta.tokenizer ? savedTokenizer(meta.tokenizer, 'classify').vocabSize : meta.tokens.length) + 4, numClasses: meta.labels.length, dModel: c.dModel, numHeads: c.numHeads, numLayers: c.numLayers,
      dimFeedforward: c.dimFeedforward, dropout: c.dropout, maxLen: c.maxLen, pooling: 'mean',
    });
  },
  lengthOf: (e) => e.text.length,
  finetune: { peftTaskType: 'SEQ_CLS', labels: (meta) => meta.labels },
  lossAndMetrics(model, batch, ctx) {
    const { logits, tokens } = logitsOf(model, batch.map((e) => e.text), ctx, true); // (B, C)
    const labelIds = labelIndex(ctx.meta);
    if (ctx.config.multiLabel) return { loss: bceWithLogits(logits, multiHot(batch, labelIds, ctx.meta.labels.length)), tokens };
    const y = new Tensor(Int32Array.from(batch, (e) => labelIds.get(e.labels[0]) ?? 0), [batch.length]);
    return { loss: crossEntropy(logits, y, { labelSmoothing: ctx.config.labelSmoothing }), tokens };
  },
  evaluate(model, examples, ctx) {
    const probs = probabilities(model, examples.map((e) => e.text), ctx);
    const C = ctx.meta.labels.length;
    const ids = labelIndex(ctx.meta);
    if (ctx.config.multiLabel) {
      let tp = 0, fp = 0, fn = 0, exact = 0;
      examples.forEach((e, b) => {
        const gold = new Set(e.labels.map((l) => ids.get(l)));
        let same = true;
        for (let k = 0; k < C; k++) {
          const p = probs[b * C + k] >= 0.5, g = gold.has(k);
          if (p && g) tp++;
          else if (p) fp++;
          else if (g) fn++;
          if (p !== g) same = false;
        }
        if (same) exact++;
      });
      const precision = tp / Math.max(tp + fp, 1), recall = tp / Math.max(tp + fn, 1);
      const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
      const metrics: Record<string, number> = { f1, precision, recall, exactMatch: exact / examples.length };
      return { metrics };
    }
    const yTrue = examples.map((e) => ids.get(e.labels[0]) ?? -1);
    const yPred = examples.map((_, b) => argmaxRow(probs, b * C, C));
    const r = classificationReport(yTrue, yPred, { labels: ctx.meta.labels.map((_, k) => k), targetNames: ctx.meta.labels });
    return { metrics: { f1: r.macroAvg.f1, accuracy: r.accuracy }, report: formatClassificationReport(r, 4) };
  },
  predictor(model, ctx) {
    const check = (x: unknown, i: number): string => {
      if (typeof x !== 'string') throw new ValueError(`classify: input ${i} must be a text (string), received ${typeof x}.`);
      if (x.trim() === '') throw new ValueError(`classify: input ${i} is empty. Fix: pass the text to classify.`);
      return x;
    };
    return {
      validateInput: (x) => void check(x, 0),
      predict: (inputs) => {
        const texts = inputs.map(check);
        const probs = probabilities(model, texts, ctx);
        const C = ctx.meta.labels.length;
        return texts.map((_, b) => {
          const row = ctx.meta.labels.map((l, k) => ({ output: l, score: probs[b * C + k] })).sort((u, v) => v.score - u.score);
          const output = ctx.config.multiLabel ? row.filter((r) => r.score >= 0.5).map((r) => r.output) : row[0].output;
          return { output, alternatives: row };
        });
      },
    };
  },
});

/** Class probabilities (softmax, or per-label sigmoid for multi-label) of texts, (N, C) row-major. */
function probabilities(model: ClassifyModel, texts: readonly string[], ctx: Ctx): Float32Array {
  const C = ctx.meta.labels.length;
  const out = new Float32Array(texts.length * C);
  for (let i = 0; i < texts.length; i += 64) {
    const { logits } = logitsOf(model, texts.slice(i, i + 64), ctx, false); // (B, C)
    const p = ctx.config.multiLabel ? sigmoid(logits) : softmax(logits, -1); // (B, C)
    out.set(p.data as Float32Array, i * C);
  }
  return out;
}

function argmaxRow(x: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (x[offset + k] > x[offset + best]) best = k;
  return best;
}

const indexCache = new WeakMap<ClassifyMeta, Map<string, number>>();
const labelCache = new WeakMap<ClassifyMeta, Map<string, number>>();
function tokenIndex(meta: ClassifyMeta): Map<string, number> {
  let m = indexCache.get(meta);
  if (!m) indexCache.set(meta, (m = new Map(meta.tokens.map((t, i) => [t, i + 4]))));
  return m;
}
function labelIndex(meta: ClassifyMeta): Map<string, number> {
  let m = labelCache.get(meta);
  if (!m) labelCache.set(meta, (m = new Map(meta.labels.map((l, i) => [l, i]))));
  return m;
}
