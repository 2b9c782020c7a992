/**
 * mlm: BERT-style masked-language-model pretraining of a TransformerTextEncoder on plain text
 * (`heed pretrain mlm`, also `heed train mlm`). The result initialises a downstream task's
 * backbone with `heed train spam --init-from <dir>`.
 *
 * Data (src/data/text-corpus.ts): the named corpora and text files, tokenized as the spam task
 * tokenizes mails (lowercase words, '$' and '!'), cut into chunks of maxLen − 1 words; chunks are
 * hash-split 95 / 5 into train and validation. Vocabulary: the `vocabSize` most frequent training
 * words plus '<mask>'.
 *
 * Masking (Devlin et al. 2019): each non-padding token is chosen with probability maskProb; a
 * chosen token becomes '<mask>' 80% of the time, a random word 10%, and stays 10%. The loss is the
 * cross-entropy at the chosen positions only. Training masks are drawn by the Trainer's
 * augmentation generator (so a resumed run masks as an uninterrupted one); validation uses one
 * fixed draw, so validation losses compare across steps.
 *
 * Metrics: loss and accuracy on the masked validation tokens.
 *
 * Letters: B chunks in a batch, T tokens, M masked positions, V vocabulary.
 */
import { MaskedLM } from '../models/masked-lm.js';
import { loadTexts } from '../data/text-corpus.js';
import { SPECIAL_TOKENS, UNK_ID, Vocab } from '../data/vocab.js';
import { BatchIterator, padSequences } from '../data/batching.js';
import { Tensor } from '../tensor/tensor.js';
import { Generator, manualSeed } from '../tensor/rng.js';
import { crossEntropy } from '../ops/loss.js';
import { softmax } from '../ops/softmax.js';
import { noGrad } from '../autograd/mode.js';
import { Trainer } from '../train/trainer.js';
import { CheckpointError, ConfigError, ValueError } from '../errors.js';
import type { ConfigSchema } from '../models/config.js';
import type { Prediction, Predictor } from './predictor.js';
import { tokenize, topWords } from './spam.js';
import { VOCAB_FILE, chunkTexts, loadWordModel, singleDir, splitChunks } from './word-lm.js';

export { chunkTexts };
import {
  TRAIN_SCHEMA, TRAIN_DEFAULTS, makeOptimizer, makeScheduler, resolveTaskConfig, trainerOptions,
  type TrainConfig, type TaskSpec, type TaskDefinition, type RunOptions, type EvalResult, type ModelDirs, type TrainSummary,
} from './common.js';

export interface MlmConfig extends TrainConfig {
  /** Named corpora, comma-separated: sotu, moby-dick, spam (the spam task's training mails). */
  corpus: string;
  /** The user's text files, comma-separated ('' for none). */
  textFiles: string;
  dModel: number;
  numHeads: number;
  numLayers: number;
  dimFeedforward: number;
  vocabSize: number;
  maxLen: number;
  /** Share of tokens chosen for prediction. */
  maskProb: number;
  batchSize: number;
}

export const MLM_SCHEMA: ConfigSchema<MlmConfig> = {
  ...TRAIN_SCHEMA,
  corpus: 'string', textFiles: 'string', dModel: 'number', numHeads: 'number', numLayers: 'number', dimFeedforward: 'number',
  vocabSize: 'number', maxLen: 'number', maskProb: 'number', batchSize: 'number',
};

export const MLM_DEFAULTS: Readonly<MlmConfig> = Object.freeze({
  ...TRAIN_DEFAULTS,
  corpus: 'spam,sotu,moby-dick', // all the text that ships: mails for the spam task's words, speeches and a novel for English
  textFiles: '',
  // The spam classifier's sizes (SPAM_DEFAULTS), so its backbone can start from this model.
  dModel: 64,
  numHeads: 4,
  numLayers: 2,
  dimFeedforward: 256,
  vocabSize: 16000,
  maxLen: 128, // chunks of 127 words: half the spam task's 256 positions, to keep pretraining short
  maskProb: 0.15, // BERT's
  batchSize: 32,
  lr: 1e-3,
  labelSmoothing: 0, // a masked word has one answer
  warmupSteps: 200,
  maxSteps: 3000,
  evalEvery: 500,
});

const SPEC: TaskSpec<MlmConfig> = {
  name: 'mlm', summary: 'masked-language-model pretraining on plain text (heed pretrain mlm); metrics masked loss, accuracy', schema: MLM_SCHEMA, defaults: MLM_DEFAULTS,
  metric: 'loss', metricMode: 'min',
};

export const MASK_TOKEN = '<mask>';

/** An MLM batch: the input ids with masks applied, the flat masked positions and their true ids. */
export interface MaskedBatch {
  ids: Tensor; // (B, T) int32
  positions: Tensor; // (M) int32
  targets: Tensor; // (M) int32
  tokens: number;
}

/**
 * Chooses the positions to predict and corrupts them (80% '<mask>', 10% random word, 10% kept).
 * At least one position per batch is chosen, so the loss is defined.
 */
export function maskTokens(ids: Tensor, maskId: number, vocabSize: number, maskProb: number, rng: Generator): MaskedBatch {
  const src = ids.data as Int32Array;
  const out = Int32Array.from(src);
  const positions: number[] = [];
  const targets: number[] = [];
  let tokens = 0;
  let firstReal = -1;
  for (let i = 0; i < src.length; i++) {
    if (src[i] < SPECIAL_TOKENS.length && src[i] !== UNK_ID) continue; // padding and markers are never targets
    tokens++;
    if (firstReal < 0) firstReal = i;
    if (rng.uniform() >= maskProb) continue;
    positions.push(i);
    targets.push(src[i]);
    const r = rng.uniform();
    if (r < 0.8) out[i] = maskId;
    else if (r < 0.9) out[i] = SPECIAL_TOKENS.length + Math.floor(rng.uniform() * (vocabSize - SPECIAL_TOKENS.length));
  }
  if (positions.length === 0 && firstReal >= 0) {
    positions.push(firstReal);
    targets.push(src[firstReal]);
    out[firstReal] = maskId;
  }
  return { ids: new Tensor(out, ids.shape), positions: new Tensor(Int32Array.from(positions), [positions.length]), targets: new Tensor(Int32Array.from(targets), [targets.length]), tokens };
}

function encodeChunks(chunks: readonly string[][], vocab: Vocab): Int32Array[] {
  return chunks.map((c) => vocab.encode(c, { unknown: 'unk' }));
}

function batchOf(seqs: readonly Int32Array[], idx: ArrayLike<number>): Tensor {
  const p = padSequences(Array.from(idx, (i) => seqs[i]));
  return new Tensor(p.data, p.shape); // (B, T)
}

/** Masked loss and accuracy of `model` on `seqs`, with one fixed masking draw. */
function scoreMlm(model: MaskedLM, seqs: readonly Int32Array[], maskId: number, maskProb: number, batch = 64): { loss: number; accuracy: number; masked: number } {
  const rng = new Generator(12345);
  let lossSum = 0, correct = 0, n = 0;
  model.eval();
  noGrad(() => {
    for (let i = 0; i < seqs.length; i += batch) {
      const idx = Array.from({ length: Math.min(batch, seqs.length - i) }, (_, j) => i + j);
      const b = maskTokens(batchOf(seqs, idx), maskId, model.config.vocabSize, maskProb, rng);
      const logits = model.forward(b.ids, null, b.positions); // (M, V)
      const M = b.targets.size;
      lossSum += crossEntropy(logits, b.targets, { reduction: 'sum' }).item();
      const V = logits.shape[1], L = logits.data;
      for (let m = 0; m < M; m++) {
        let best = 0;
        for (let v = 1; v < V; v++) if (L[m * V + v] > L[m * V + best]) best = v;
        if (best === (b.targets.data as Int32Array)[m]) correct++;
      }
      n += M;
    }
  });
  return { loss: lossSum / Math.max(n, 1), accuracy: correct / Math.max(n, 1), masked: n };
}

function modelConfig(c: MlmConfig, vocab: Vocab): Record<string, unknown> {
  return { vocabSize: vocab.size, dModel: c.dModel, numHeads: c.numHeads, numLayers: c.numLayers, dimFeedforward: c.dimFeedforward, dropout: c.dropout, maxLen: c.maxLen };
}

async function train(user: Record<string, unknown>, run: RunOptions): Promise<TrainSummary> {
  const c = resolveTaskConfig(SPEC, user);
  if (!(c.maskProb > 0 && c.maskProb < 1)) throw new ConfigError(`mlm config: 'maskProb' is ${c.maskProb}, expected a probability in (0, 1).`);
  const docs = await loadTexts(c.corpus, c.textFiles);
  const chunks = chunkTexts(docs, c.maxLen - 1); // one position spare, for a downstream CLS vector
  if (chunks.train.length === 0) throw new ConfigError(`mlm: the text holds no chunk of 8 words or more to train on (corpus '${c.corpus}', files '${c.textFiles}').`);
  const vocab = Vocab.fromTokens([MASK_TOKEN, ...topWords(chunks.train.map((w) => w.join(' ')), c.vocabSize)]);
  const maskId = vocab.idOf(MASK_TOKEN)!;
  const train = encodeChunks(chunks.train, vocab);
  // 256 validation chunks (about 32 k tokens, 8 k masked) measure progress well enough and keep each evaluation short.
  const valid = encodeChunks((chunks.valid.length > 0 ? chunks.valid : chunks.train).slice(0, 256), vocab);
  manualSeed(c.seed);
  const model = MaskedLM.fromConfig(modelConfig(c, vocab));
  (run.print ?? console.log)(`mlm: ${docs.length} documents, ${train.length} training chunks, ${valid.length} validation chunks, ${vocab.size} words; MaskedLM ${model.numParameters().toLocaleString('en-US')} parameters`);
  const optimizer = makeOptimizer(model, c);
  const scheduler = makeScheduler(optimizer, c);
  const batches = new BatchIterator(new Int32Array(train.length).fill(1), { batchSize: c.batchSize, seed: c.seed, shuffle: true });
  const trainer = new Trainer<MaskedBatch>({
    model, optimizer, scheduler, batches,
    makeBatch: (idx) => ({ ids: batchOf(train, idx), positions: new Tensor(new Int32Array(0), [0]), targets: new Tensor(new Int32Array(0), [0]), tokens: 0 }),
    augment: (b, rng) => maskTokens(b.ids, maskId, vocab.size, c.maskProb, rng),
    loss: (b) => ({ loss: crossEntropy(model.call(b.ids, null, b.positions), b.targets), tokens: b.tokens }),
    evaluate: () => {
      const r = scoreMlm(model, valid, maskId, c.maskProb);
      return { loss: r.loss, accuracy: r.accuracy };
    },
    checkpoint: () => ({ task: 'mlm', config: { ...c, model: model.toConfig() } as Record<string, unknown>, files: { vocab: { name: VOCAB_FILE, json: vocab.toJSON() } } }),
    embeddingModules: () => [model.backbone.tokEmbed],
  }, trainerOptions(c as TrainConfig, SPEC as unknown as TaskSpec<TrainConfig>, run));
  if (run.resume) await trainer.resume();
  const r = await trainer.fit();
  return { out: run.out, steps: r.step, seconds: r.seconds, tokensPerSecond: r.tokensPerSecond, stoppedBy: r.stoppedBy, best: r.best, metrics: r.lastEval };
}

/** A pretrained MLM directory: the model, its config.json and its word vocabulary. */
export async function loadMlm(dir: string): Promise<{ model: MaskedLM; config: Record<string, unknown>; vocab: Vocab }> {
  const r = await loadWordModel(dir, 'mlm', 'MaskedLM', (cfg) => MaskedLM.fromConfig(cfg));
  if (r.vocab.idOf(MASK_TOKEN) === undefined) throw new CheckpointError(`${dir}/${VOCAB_FILE}: has no '${MASK_TOKEN}' token, so it is not a masked-LM vocabulary.`);
  return r;
}

/** fill-mask: each '<mask>' (or '[MASK]') of the input text gets its 5 likeliest words. */
class FillMaskPredictor implements Predictor {
  readonly task = 'mlm';
  constructor(readonly dir: string, readonly config: Readonly<Record<string, unknown>>, readonly model: MaskedLM, private readonly vocab: Vocab) {}

  private encode(input: unknown, i: number): Int32Array {
    if (typeof input !== 'string') throw new ValueError(`mlm: input ${i} must be a string with '<mask>' where a word is missing, received ${typeof input}.`);
    const parts = input.replace(/\[MASK\]/g, MASK_TOKEN).split(MASK_TOKEN);
    if (parts.length < 2) throw new ValueError(`mlm: input ${i} holds no '<mask>'. Fix: write the text with <mask> where a word is missing ("the <mask> sat on the mat").`);
    const words: string[] = [];
    parts.forEach((p, k) => {
      if (k > 0) words.push(MASK_TOKEN);
      words.push(...tokenize(p));
    });
    const max = this.model.config.maxLen;
    if (words.length > max) throw new ValueError(`mlm: input ${i} has ${words.length} words, more than maxLen=${max}. Fix: shorten it.`);
    return this.vocab.encode(words, { unknown: 'unk' });
  }

  validateInput(input: unknown): void {
    this.encode(input, 0);
  }

  predict(inputs: readonly unknown[]): Prediction[] {
    const maskId = this.vocab.idOf(MASK_TOKEN)!;
    return inputs.map((input, i) => {
      const ids = this.encode(input, i);
      const T = ids.length;
      const positions = Int32Array.from([...ids.keys()].filter((t) => ids[t] === maskId));
      this.model.eval();
      const probs = noGrad(() => softmax(this.model.forward(new Tensor(ids, [1, T]), null, new Tensor(positions, [positions.length])), -1)); // (M, V)
      const V = probs.shape[1];
      const perMask = Array.from(positions, (_, m) => {
        const row = Array.from(probs.data.subarray(m * V, (m + 1) * V) as Float32Array);
        return row.map((s, v) => ({ output: this.vocab.tokens[v], score: s })).filter((a) => a.output !== MASK_TOKEN && !SPECIAL_TOKENS.includes(a.output)).sort((a, b) => b.score - a.score).slice(0, 5);
      });
      return { input, output: perMask.map((a) => a[0]?.output ?? ''), alternatives: perMask[0] };
    });
  }
}

async function loadPredictor(dir: ModelDirs): Promise<Predictor> {
  const one = singleDir(dir, 'mlm');
  const { model, config, vocab } = await loadMlm(one);
  return new FillMaskPredictor(one, config, model, vocab);
}

async function evaluate(dir: ModelDirs, o: { split: string; limit?: number }): Promise<EvalResult> {
  const { model, config, vocab } = await loadMlm(singleDir(dir, 'mlm'));
  const set = encodeChunks(await splitChunks('mlm', config, model.config.maxLen, o.split, o.limit), vocab);
  const r = scoreMlm(model, set, vocab.idOf(MASK_TOKEN)!, Number(config.maskProb ?? 0.15));
  return {
    split: o.split, metrics: { loss: r.loss, accuracy: r.accuracy, masked: r.masked },
    report: `mlm ${o.split}: ${set.length} chunks, ${r.masked} masked tokens, loss ${r.loss.toFixed(4)}, accuracy ${(100 * r.accuracy).toFixed(2)}%`,
  };
}

export const MLM_TASK: TaskDefinition = {
  spec: SPEC as unknown as TaskSpec<TrainConfig>,
  train,
  evaluate,
  loadPredictor,
};
