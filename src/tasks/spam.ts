/**
 * Spam: ham/spam classification of SpamAssassin mails with an EncoderClassifier.
 *
 * Data (src/data/spam.ts): 6,046 mails (optional npm package, loaded on demand), hash split
 * 90/5/5; text = a few content header fields (sender, reply address, MIME type, mailer; with
 * `headers`, the default) + subject + decoded body. Tokenization is deliberately simple: lowercase, words
 * = runs of letters/digits (with an inner apostrophe) plus '$' and '!' as tokens; the vocabulary
 * is the `vocabSize` most frequent training words (ids 0..3 the specials; others → <unk>).
 * A mail longer than maxLen − 1 words (one position is kept for CLS) is truncated: 'head' keeps
 * its first words; 'headTail' (the default) keeps the first half and the last half, so that
 * both the opening (subject, greeting, pitch) and the closing (signature, list footer,
 * unsubscribe text) are seen — Sun et al. 2019 found head+tail best for long-text classification.
 * Augmentation (`wordDropout`, off by default): training words become <unk> at that rate.
 * Several trained directories score and predict as a checkpoint ensemble (probabilities
 * averaged); BENCHMARKS.md's spam row is an ensemble whose members were chosen on the validation
 * split (tools/select-ensemble.ts, raw results in bench/results/spam-ensemble.json).
 * Metrics: accuracy, macro F1 and the classification report.
 * From a Hugging Face checkpoint (`--init-from <HF dir>`, BERT / RoBERTa / DistilBERT;
 * tasks/hf-finetune.ts) the model is its *ForSequenceClassification with 2 labels, and a mail is
 * read by the directory's tokenizer ([CLS] subwords [SEP], truncated to the model's positions from
 * the head) instead of the word vocabulary; the run also gets <out>/hf/ in the savePretrained layout.
 *
 * Letters: B mails, T tokens.
 */
import { EncoderClassifier } from '../models/encoder-classifier.js';
import { isRawMessage, loadSpamAssassin, messageHeaders, messageText, type SpamExample } from '../data/spam.js';
import { PAD_ID, SPECIAL_TOKENS, UNK_ID, Vocab } from '../data/vocab.js';
import { loadTokenizer } from '../data/tokenizers/load.js';
import { checkTokenizerVocabSize } from '../data/tokenizers/check-vocab-size.js';
import type { Tokenizer } from '../data/tokenizers/tokenizer.js';
import type { BertForSequenceClassification } from '../models/bert.js';
import { padSequences } from '../data/batching.js';
import { Tensor } from '../tensor/tensor.js';
import { manualSeed, type Generator } from '../tensor/rng.js';
import { loadCheckpoint, CONFIG_FILE } from '../io/checkpoint.js';
import { CheckpointError, ConfigError, NotImplementedError, ValueError } from '../errors.js';
import type { ConfigSchema } from '../models/config.js';
import { checkTeacherVocab, distillSettings, type DistillSettings } from './distill.js';
import type { ClassifierCompressionSetup } from './prune-classifier.js';
import {
  FINETUNE_SCHEMA, FINETUNE_DEFAULTS, checkFinetuneConfig, exportPeftRun, inLabelFraction, isHfPretrained, isPeftRun, loadInitSource, loadPeftRun, prepareFinetune,
  type FinetuneConfig,
} from './finetune.js';
import { buildHfSequenceClassifier, exportHfRun, hfMaxTokens, hfTaskModelConfig, type HfPretrained } from './hf-finetune.js';
import {
  loadClassifierPredictor, scoreClassifier, trainClassifier, type ClassifierData, type ClassifierMember, type ClassifierModel,
  type ClassifierPredictor,
} from './classify.js';
import {
  TRAIN_SCHEMA, TRAIN_DEFAULTS, architectureOf, buildCheckpointModel, ensembleSuffix, modelDirList, resolveTaskConfig, type ModelDirs, type TrainConfig, type TaskSpec, type TaskDefinition, type TaskModel, type RunOptions, type EvalResult,
} from './common.js';

export interface SpamConfig extends TrainConfig, FinetuneConfig {
  dModel: number;
  numHeads: number;
  numLayers: number;
  dimFeedforward: number;
  /** Words kept in the vocabulary (most frequent in training mails). */
  vocabSize: number;
  /** Positions per mail, CLS included. */
  maxLen: number;
  pooling: 'cls' | 'mean';
  /** Which words of a long mail are kept: the first maxLen − 1, or the first and last halves. */
  truncation: 'head' | 'headTail';
  /** Read the sender, reply address, MIME type and mailer header fields (CONTENT_HEADERS) too. */
  headers: boolean;
  /** Augmentation: each word of a training mail becomes <unk> with this probability. */
  wordDropout: number;
  batchSize: number;
}

export const SPAM_SCHEMA: ConfigSchema<SpamConfig> = {
  ...TRAIN_SCHEMA,
  dModel: 'number', numHeads: 'number', numLayers: 'number', dimFeedforward: 'number', vocabSize: 'number', maxLen: 'number',
  pooling: ['cls', 'mean'], truncation: ['head', 'headTail'], headers: 'boolean', wordDropout: 'number', batchSize: 'number',
  ...FINETUNE_SCHEMA,
};

export const SPAM_DEFAULTS: Readonly<SpamConfig> = Object.freeze({
  ...TRAIN_DEFAULTS,
  // The model BENCHMARKS.md's spam row trains. Small on purpose: word identity carries most
  // of the signal. These were first chosen by looking at test scores (see BENCHMARKS.md's spam
  // section); re-choosing them on validation with several seeds per variant is still to do.
  dModel: 64,
  numHeads: 4,
  numLayers: 2,
  dimFeedforward: 256,
  vocabSize: 16000,
  maxLen: 256, // header fields, subject and opening lines + the closing lines (headTail)
  pooling: 'mean',
  truncation: 'headTail',
  headers: true,
  wordDropout: 0,
  batchSize: 32,
  dropout: 0.1,
  lr: 1e-3,
  warmupSteps: 100,
  maxSteps: 1500, // ≈ 9 epochs of 171 batches
  evalEvery: 300,
  labelSmoothing: 0,
  ...FINETUNE_DEFAULTS,
});

const SPEC: TaskSpec<SpamConfig> = {
  name: 'spam', summary: 'SpamAssassin ham/spam with an EncoderClassifier; metrics accuracy, F1', schema: SPAM_SCHEMA, defaults: SPAM_DEFAULTS,
  metric: 'accuracy', metricMode: 'max', distills: true,
};

const NAMES = ['ham', 'spam'];
const VOCAB_FILE = 'words.vocab.json';
/** The tokenizer of a model fine-tuned from a Hugging Face checkpoint (Hugging Face's tokenizer.json). */
const TOKENIZER_FILE = 'tokenizer.json';
const WORD = /[a-z0-9]+(?:'[a-z]+)?|[$!]/g;

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** The `size` most frequent words (ties broken alphabetically), for Vocab.fromTokens. */
export function topWords(texts: Iterable<string>, size: number): string[] {
  const counts = new Map<string, number>();
  for (const t of texts) for (const w of tokenize(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts.entries()].filter(([, n]) => n >= 2).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, size).map(([w]) => w);
}

/**
 * Word dropout (an augmentation): each word id of x (B, T) becomes <unk> with probability q;
 * padding and the special ids stay. Draws one uniform per position from `rng`.
 */
export function dropWords(x: Tensor, q: number, rng: Generator): Tensor {
  const ids = Int32Array.from(x.data as Int32Array);
  for (let i = 0; i < ids.length; i++) if (ids[i] >= SPECIAL_TOKENS.length && rng.uniform() < q) ids[i] = UNK_ID;
  return new Tensor(ids, x.shape);
}

/** The words of a mail the model sees: at most maxLen − 1 (one position is kept for CLS). */
export function mailWords(text: string, maxLen: number, truncation: SpamConfig['truncation']): string[] {
  const words = tokenize(text);
  const n = maxLen - 1;
  if (words.length <= n) return words;
  if (truncation === 'head') return words.slice(0, n);
  const head = Math.ceil(n / 2);
  return [...words.slice(0, head), ...words.slice(words.length - (n - head))];
}

/** How a saved model reads mails; checkpoints from before these options read the head, no headers. */
interface Reading {
  truncation: SpamConfig['truncation'];
  headers: boolean;
}

function readingOf(config: Record<string, unknown>): Reading {
  return { truncation: config.truncation === 'headTail' ? 'headTail' : 'head', headers: config.headers === true };
}

/** The model's text: the header lines (when read and present) above the subject and body. */
function withHeaders(headers: string, text: string): string {
  return headers ? `${headers}\n${text}` : text;
}

function exampleText(e: SpamExample, r: Reading): string {
  return withHeaders(r.headers ? e.headers : '', e.text);
}

/** A user's input: a raw RFC 822 message is parsed as the training mails were; other text is read as is. */
function inputText(x: string, r: Reading): string {
  return isRawMessage(x) ? withHeaders(r.headers ? messageHeaders(x) : '', messageText(x)) : x;
}

/**
 * How a model reads a mail's text: `ids` its token ids, `padId` the id batches are padded with
 * (padding is never attended to), `labels` the tokens' names for attention maps. The word model
 * reads words of its vocabulary; a model fine-tuned from a Hugging Face checkpoint, its tokenizer.
 */
interface MailReader {
  ids(text: string): Int32Array;
  padId: number;
  labels(text: string): string[];
}

function wordReader(vocab: Vocab, maxLen: number, truncation: SpamConfig['truncation'], cls: boolean): MailReader {
  return {
    ids: (text) => {
      const words = mailWords(text, maxLen, truncation);
      return vocab.encode(words.length > 0 ? words : ['<unk>'], { unknown: 'unk' });
    },
    padId: PAD_ID,
    labels: (text) => (cls ? ['<cls>', ...mailWords(text, maxLen, truncation)] : mailWords(text, maxLen, truncation)),
  };
}

/**
 * [CLS] subwords [SEP] (or <s> … </s>), cut to the model's `maxTokens` from the head. A long mail
 * is tokenized from a prefix that ends at a space, doubled until it yields more tokens than are
 * kept: the subwords of such a prefix are the first subwords of the whole text, so the ids equal
 * those of the whole text, at the cost of its head only.
 */
function tokenizerReader(tok: Tokenizer, maxTokens: number, padId: number): MailReader {
  const options = { addSpecialTokens: true, truncation: true, maxLength: maxTokens } as const;
  const encode = (text: string) => {
    for (let n = 8 * maxTokens; n < text.length; n *= 2) {
      const cut = text.lastIndexOf(' ', n);
      if (cut <= 0) continue;
      const e = tok.encode(text.slice(0, cut), null, { addSpecialTokens: false });
      if (e.ids.length > maxTokens) return tok.encode(text.slice(0, cut), null, options);
    }
    return tok.encode(text, null, options);
  };
  return { ids: (text) => Int32Array.from(encode(text).ids), padId, labels: (text) => encode(text).tokens };
}

function dataOf(examples: readonly SpamExample[], reader: MailReader, r: Reading): ClassifierData {
  const ids = examples.map((e) => reader.ids(exampleText(e, r)));
  return {
    labels: Int32Array.from(examples, (e) => e.label),
    inputs: (idx) => {
      const p = padSequences([...idx].map((i) => ids[i]), reader.padId);
      let tokens = 0;
      for (const i of idx) tokens += ids[i].length;
      return { x: new Tensor(p.data, p.shape), tokens };
    },
  };
}

function modelConfig(c: SpamConfig, vocab: Vocab): Record<string, unknown> {
  return { vocabSize: vocab.size, numClasses: 2, dModel: c.dModel, numHeads: c.numHeads, numLayers: c.numLayers, dimFeedforward: c.dimFeedforward, dropout: c.dropout, maxLen: c.maxLen, pooling: c.pooling };
}

async function train(user: Record<string, unknown>, run: RunOptions) {
  const c = resolveTaskConfig(SPEC, user);
  if (!(c.wordDropout >= 0 && c.wordDropout < 1)) throw new ConfigError(`spam config: 'wordDropout' is ${c.wordDropout}, expected a probability in [0, 1).`);
  checkFinetuneConfig('spam', c);
  const print = run.print ?? console.log;
  const source = c.initFrom !== '' ? await loadInitSource(c.initFrom, 'spam') : null;
  if (isHfPretrained(source)) return trainFromHf(c, source, run, print);
  const pre = source;
  if (pre) {
    // The pretrained model fixes the vocabulary and the backbone's sizes.
    c.initFrom = pre.dir;
    c.dModel = Number(pre.arch.dModel);
    c.numHeads = Number(pre.arch.numHeads);
    c.numLayers = Number(pre.arch.numLayers);
    c.dimFeedforward = Number(pre.arch.dimFeedforward);
    c.maxLen = Number(pre.arch.maxLen);
  }
  const data = await loadSpamAssassin();
  // Every training mail's words make the vocabulary (text without labels); labelFraction keeps the labelled share.
  const vocab = pre ? pre.vocab : Vocab.fromTokens(topWords(data.train.map((e) => exampleText(e, c)), c.vocabSize));
  const labelled = data.train.filter((e) => inLabelFraction(e.id, c.labelFraction));
  manualSeed(c.seed);
  const model = EncoderClassifier.fromConfig(modelConfig(c, vocab));
  print(`spam: ${labelled.length} training mails (${labelled.filter((e) => e.label === 1).length} spam${c.labelFraction < 1 ? `, ${100 * c.labelFraction}% of the labels` : ''}), ${vocab.size} words; EncoderClassifier ${model.numParameters().toLocaleString('en-US')} parameters`);
  const ft = prepareFinetune('spam', model, c, pre, model.clsToken ? ['head', 'clsToken'] : ['head'], print);
  const summary = await trainClassifier({
    spec: SPEC as unknown as TaskSpec<TrainConfig>, config: c, model: model as unknown as ClassifierModel,
    train: dataOf(labelled, wordReader(vocab, c.maxLen, c.truncation, false), c), valid: dataOf(data.valid, wordReader(vocab, c.maxLen, c.truncation, false), c), names: NAMES,
    checkpoint: () => ({ task: 'spam', config: { ...c, model: model.toConfig() } as Record<string, unknown>, files: { vocab: { name: VOCAB_FILE, json: vocab.toJSON() } } }),
    embeddingModules: () => [model.backbone.tokEmbed],
    augment: c.wordDropout > 0 ? (b, rng) => ({ ...b, x: dropWords(b.x, c.wordDropout, rng) }) : undefined,
    teacher: await spamTeacher(c, vocab),
    trainerModel: ft.trainerModel, optimizer: ft.optimizer, beforeStep: ft.beforeStep,
  }, run);
  if (ft.peft) await exportPeftRun(run.out, ft.peft, pre!.dir, 'SEQ_CLS');
  return summary;
}

/** spam from a Hugging Face checkpoint: its *ForSequenceClassification reading its tokenizer's subwords (see the file header). */
async function trainFromHf(c: SpamConfig, pre: HfPretrained, run: RunOptions, print: (line: string) => void) {
  if (c.wordDropout > 0 || c.distillFrom !== '') {
    throw new ConfigError(`spam --init-from ${pre.dir}: --word-dropout and --distill-from act on heed's word vocabulary, and a Hugging Face checkpoint reads its own subwords. Fix: leave them out.`);
  }
  const hf = hfTaskModelConfig(pre, 'sequence-classification', NAMES.length);
  // The checkpoint fixes the architecture and its sizes; a mail is cut to the model's positions from the head.
  c.initFrom = pre.dir;
  c.maxLen = hfMaxTokens(hf.model);
  c.truncation = 'head';
  for (const k of ['dModel', 'numHeads', 'numLayers', 'dimFeedforward'] as const) c[k] = Number(hf.model[k]);
  const data = await loadSpamAssassin();
  const labelled = data.train.filter((e) => inLabelFraction(e.id, c.labelFraction));
  manualSeed(c.seed);
  const model = buildHfSequenceClassifier(hf.model);
  const reader = tokenizerReader(pre.tokenizer, c.maxLen, model.config.padId);
  print(`spam: ${labelled.length} training mails (${labelled.filter((e) => e.label === 1).length} spam${c.labelFraction < 1 ? `, ${100 * c.labelFraction}% of the labels` : ''}); ${hf.architecture} ${model.numParameters().toLocaleString('en-US')} parameters, its tokenizer (${pre.tokenizer.vocabSize} ids), ${c.maxLen} tokens per mail`);
  const ft = prepareFinetune('spam', model, c, pre, ['head'], print);
  const summary = await trainClassifier({
    spec: SPEC as unknown as TaskSpec<TrainConfig>, config: c, model: model as unknown as ClassifierModel,
    train: dataOf(labelled, reader, c), valid: dataOf(data.valid, reader, c), names: NAMES,
    checkpoint: () => ({ task: 'spam', config: { ...c, model: model.toConfig() } as Record<string, unknown>, files: { tokenizer: { name: TOKENIZER_FILE, json: pre.tokenizer.toJSON() } } }),
    embeddingModules: () => [model.backbone.tokEmbed],
    trainerModel: ft.trainerModel, optimizer: ft.optimizer, beforeStep: ft.beforeStep,
  }, run);
  if (ft.peft) await exportPeftRun(run.out, ft.peft, pre.dir, 'SEQ_CLS', 'hf');
  else await exportHfRun(run.out, model, pre.tokenizer, NAMES, pre.config);
  return summary;
}

/**
 * A trained spam model with its training and validation data as it reads them, and its spec and
 * config: what compression tools need to score heads and fine-tune a pruned copy (prune-classifier.ts).
 */
export async function spamCompressionSetup(dir: string): Promise<ClassifierCompressionSetup> {
  const { model, config, vocab, reader } = await loadModel(dir);
  if (vocab === null) throw new NotImplementedError(`${dir}: compressing a spam model fine-tuned from a Hugging Face checkpoint is not implemented (head pruning fine-tunes heed's EncoderClassifier). Fix: compress a spam model trained from scratch or from heed pretrain mlm.`);
  const data = await loadSpamAssassin();
  const reading = readingOf(config);
  const c = resolveTaskConfig(SPEC, Object.fromEntries(Object.entries(config).filter(([k]) => k !== 'model')));
  return {
    spec: SPEC as unknown as TaskSpec<TrainConfig>, config: c, model: model as unknown as ClassifierModel, names: NAMES,
    train: dataOf(data.train, reader, reading), valid: dataOf(data.valid, reader, reading),
    checkpoint: () => ({ task: 'spam', config: { ...c, model: model.toConfig() } as Record<string, unknown>, files: { vocab: { name: VOCAB_FILE, json: vocab.toJSON() } } }),
  };
}

/** The teacher of a distilled spam student: same task and vocabulary, so it reads the student's batches. */
async function spamTeacher(c: SpamConfig, vocab: Vocab): Promise<{ model: ClassifierModel; settings: DistillSettings } | undefined> {
  const settings = distillSettings(c);
  if (settings === null) return undefined;
  const t = await loadModel(settings.teacherDir);
  if (t.vocab === null) throw new ConfigError(`spam --distill-from ${settings.teacherDir}: the teacher was fine-tuned from a Hugging Face checkpoint and reads subwords, not the student's words. Fix: distill from a heed spam model.`);
  checkTeacherVocab(settings.teacherDir, 'word vocabulary', t.vocab.tokens, vocab.tokens);
  return { model: t.model as unknown as ClassifierModel, settings };
}

/** A spam directory's model and how it reads mails; `vocab` is null for a model fine-tuned from a Hugging Face checkpoint. */
interface LoadedSpam {
  model: EncoderClassifier | BertForSequenceClassification;
  config: Record<string, unknown>;
  vocab: Vocab | null;
  reader: MailReader;
}

async function loadModel(dir: string): Promise<LoadedSpam> {
  const ck = await loadCheckpoint(dir, 'spam');
  const mc = architectureOf(ck);
  const reading = readingOf(ck.config);
  if (typeof mc.modelType === 'string') {
    // A Bert* config (it names its Hugging Face family): fine-tuned from an HF checkpoint, reading the tokenizer saved beside it.
    const file = ck.files.tokenizer;
    if (file === undefined) throw new CheckpointError(`${dir}/${CONFIG_FILE}: a spam model fine-tuned from a Hugging Face checkpoint names no ${TOKENIZER_FILE}; its token ids mean nothing without it. Fix: retrain it.`);
    const model = isPeftRun(ck.config) ? await loadPeftRun(buildHfSequenceClassifier(mc), dir, ck.config) : buildCheckpointModel(ck, 'BertForSequenceClassification', buildHfSequenceClassifier);
    const tok = loadTokenizer(file);
    checkTokenizerVocabSize(tok, model.config.vocabSize, file);
    return { model, config: ck.config, vocab: null, reader: tokenizerReader(tok, hfMaxTokens(model.config), model.config.padId) };
  }
  const vocab = Vocab.load(ck.files.vocab);
  if (mc.vocabSize !== vocab.size) throw new CheckpointError(`${dir}/${CONFIG_FILE}: config.model.vocabSize is ${mc.vocabSize} but ${VOCAB_FILE} holds ${vocab.size} tokens; the directory mixes files of different models.`);
  const model = isPeftRun(ck.config) ? await loadPeftRun(EncoderClassifier.fromConfig(mc), dir, ck.config) : buildCheckpointModel(ck, 'EncoderClassifier', (c) => EncoderClassifier.fromConfig(c));
  return { model, config: ck.config, vocab, reader: wordReader(vocab, Number(model.config.maxLen), reading.truncation, model.config.pooling === 'cls') };
}

/** The model of a spam directory, with a one-line mail encoded as the task encodes mails. */
async function loadTaskModel(dir: string): Promise<TaskModel> {
  const { model, config, reader } = await loadModel(dir);
  const ids = reader.ids(inputText('Subject: meeting moved to Friday', readingOf(config)));
  return { model, sampleInputs: [new Tensor(ids, [1, ids.length])] };
}

/** Loads a spam model directory, or several as a checkpoint ensemble (class probabilities averaged). */
export async function loadSpamPredictor(dir: ModelDirs): Promise<ClassifierPredictor<string>> {
  return loadClassifierPredictor('spam', dir, NAMES, loadModel, ({ model, config, vocab, reader }): ClassifierMember<string> => {
    const maxLen = Number(model.config.maxLen);
    const reading = readingOf(config);
    return {
      model: model as unknown as ClassifierModel,
      encode: (inputs) => {
        const items = inputs.map((x, i) => {
          if (typeof x !== 'string') throw new ValueError(`spam: input ${i} must be the text of a mail (its subject and body, or the raw message with its headers) as a string, received ${typeof x}.`);
          if (x.trim() === '') throw new ValueError(`spam: input ${i} is empty. Fix: pass the subject and body of a mail, or the raw message.`);
          const text = inputText(x, reading);
          // The word model's ids come from the words checked here (reader.ids would tokenize the mail again).
          const words = vocab !== null ? mailWords(text, maxLen, reading.truncation) : null;
          if (words !== null && words.length === 0) throw new ValueError(`spam: input ${i} (${JSON.stringify(x.slice(0, 30))}) holds no words (letters or digits).`);
          return { text, ids: words !== null ? vocab!.encode(words, { unknown: 'unk' }) : reader.ids(text) };
        });
        const p = padSequences(items.map((t) => t.ids), reader.padId);
        return { x: new Tensor(p.data, p.shape), items: items.map((t) => t.text) };
      },
      tokenLabels: (text) => reader.labels(text),
    };
  });
}

/** Scores a model directory, or a checkpoint ensemble of several, on a split. */
async function evaluate(dir: ModelDirs, o: { split: string; limit?: number }): Promise<EvalResult> {
  const dirs = modelDirList(dir);
  if (o.split !== 'train' && o.split !== 'valid' && o.split !== 'test') throw new ValueError(`spam eval: split '${o.split}', expected train, valid or test.`);
  const loaded = await Promise.all(dirs.map(loadModel));
  const all = (await loadSpamAssassin())[o.split];
  const set = o.limit && o.limit > 0 ? all.slice(0, o.limit) : all;
  const members = loaded.map(({ model, config, reader }) => ({
    model: model as unknown as ClassifierModel,
    data: dataOf(set, reader, readingOf(config)),
  }));
  const r = scoreClassifier(members, NAMES);
  return {
    split: o.split, metrics: { accuracy: r.accuracy, macroF1: r.macroF1, examples: set.length },
    report: `spam ${o.split}: ${set.length} mails${ensembleSuffix(dirs.length)}, accuracy ${(100 * r.accuracy).toFixed(2)}%, macro F1 ${(100 * r.macroF1).toFixed(2)}%\n${r.report}`,
  };
}

export const SPAM_TASK: TaskDefinition = {
  spec: SPEC as unknown as TaskSpec<TrainConfig>,
  train,
  evaluate,
  loadPredictor: loadSpamPredictor,
  loadModel: loadTaskModel,
};
