/**
 * clm: GPT-style causal-language-model pretraining on plain text (`heed pretrain clm`, also
 * `heed train clm`): predict every next word from the words before it.
 *
 * Data and vocabulary as the mlm task (src/tasks/mlm.ts: the named corpora and text files, words
 * as the spam task tokenizes them, chunks of maxLen − 1 words hash-split 95 / 5). A chunk becomes
 * <bos> w1 … wn; the input is its first n ids and the target its last n. Padding targets are
 * ignored (index −100); a causal model never reads the padding after a position, so no mask is needed.
 *
 * Metrics: validation loss (nats per word) and perplexity. The predictor (text-generation)
 * continues a prompt by up to 20 words, greedily.
 *
 * Letters: B chunks in a batch, T positions, V vocabulary.
 */
import { GPT } from '../models/gpt.js';
import { loadTexts } from '../data/text-corpus.js';
import { BOS_ID, EOS_ID, Vocab } from '../data/vocab.js';
import { BatchIterator } from '../data/batching.js';
import { Tensor } from '../tensor/tensor.js';
import { manualSeed } from '../tensor/rng.js';
import { crossEntropy } from '../ops/loss.js';
import { reshape } from '../ops/shape.js';
import { noGrad } from '../autograd/mode.js';
import { Trainer } from '../train/trainer.js';
import { ConfigError, ValueError } from '../errors.js';
import type { ConfigSchema } from '../models/config.js';
import type { Prediction, Predictor } from './predictor.js';
import { tokenize, topWords } from './spam.js';
import { VOCAB_FILE, chunkTexts, loadWordModel, singleDir, splitChunks } from './word-lm.js';
import {
  TRAIN_SCHEMA, TRAIN_DEFAULTS, makeOptimizer, makeScheduler, resolveTaskConfig, trainerOptions,
  type TrainConfig, type TaskSpec, type TaskDefinition, type RunOptions, type EvalResult, type ModelDirs, type TrainSummary,
} from './common.js';

export interface ClmConfig extends TrainConfig {
  /** Named corpora, comma-separated: sotu, moby-dick, spam (the spam task's training mails). */
  corpus: string;
  /** The user's text files, comma-separated ('' for none). */
  textFiles: string;
  dModel: number;
  numHeads: number;
  numLayers: number;
  vocabSize: number;
  maxLen: number;
  batchSize: number;
}

export const CLM_SCHEMA: ConfigSchema<ClmConfig> = {
  ...TRAIN_SCHEMA,
  corpus: 'string', textFiles: 'string', dModel: 'number', numHeads: 'number', numLayers: 'number', vocabSize: 'number', maxLen: 'number', batchSize: 'number',
};

export const CLM_DEFAULTS: Readonly<ClmConfig> = Object.freeze({
  ...TRAIN_DEFAULTS,
  corpus: 'sotu,moby-dick', // English prose: speeches and a novel
  textFiles: '',
  dModel: 64, // the mlm task's width: small enough to pretrain in minutes on a shared machine
  numHeads: 4,
  numLayers: 2,
  vocabSize: 16000,
  maxLen: 128,
  batchSize: 16,
  lr: 1e-3,
  labelSmoothing: 0, // perplexity is only meaningful without it
  warmupSteps: 100,
  maxSteps: 3000,
  evalEvery: 500,
});

const SPEC: TaskSpec<ClmConfig> = {
  name: 'clm', summary: 'causal-language-model pretraining on plain text (heed pretrain clm); metrics loss, perplexity', schema: CLM_SCHEMA, defaults: CLM_DEFAULTS,
  metric: 'loss', metricMode: 'min',
};

const IGNORE = -100;

interface ClmBatch {
  x: Tensor; // (B, T) int32
  y: Tensor; // (B·T) int32, IGNORE at padding
  tokens: number;
}

/** Input and target ids of chunks (already <bos>-prefixed id sequences). */
function batchOf(seqs: readonly Int32Array[], idx: ArrayLike<number>): ClmBatch {
  const rows = Array.from(idx, (i) => seqs[i]);
  const T = Math.max(...rows.map((r) => r.length - 1));
  const x = new Int32Array(rows.length * T), y = new Int32Array(rows.length * T).fill(IGNORE);
  let tokens = 0;
  rows.forEach((r, b) => {
    x.set(r.subarray(0, r.length - 1), b * T);
    y.set(r.subarray(1), b * T);
    tokens += r.length - 1;
  });
  return { x: new Tensor(x, [rows.length, T]), y: new Tensor(y, [rows.length * T]), tokens };
}

function lossOf(model: GPT, b: ClmBatch, reduction: 'mean' | 'sum' = 'mean'): Tensor {
  const logits = model.call(b.x); // (B, T, V)
  return crossEntropy(reshape(logits, [b.y.size, model.config.vocabSize]), b.y, { ignoreIndex: IGNORE, reduction });
}

function scoreClm(model: GPT, seqs: readonly Int32Array[], batch = 32): { loss: number; perplexity: number; tokens: number } {
  let sum = 0, n = 0;
  model.eval();
  noGrad(() => {
    for (let i = 0; i < seqs.length; i += batch) {
      const b = batchOf(seqs, Array.from({ length: Math.min(batch, seqs.length - i) }, (_, j) => i + j));
      sum += lossOf(model, b, 'sum').item();
      n += b.tokens;
    }
  });
  const loss = sum / Math.max(n, 1);
  return { loss, perplexity: Math.exp(loss), tokens: n };
}

function encode(chunks: readonly string[][], vocab: Vocab): Int32Array[] {
  return chunks.map((c) => vocab.encode(c, { unknown: 'unk', addBos: true }));
}

async function train(user: Record<string, unknown>, run: RunOptions): Promise<TrainSummary> {
  const c = resolveTaskConfig(SPEC, user);
  const docs = await loadTexts(c.corpus, c.textFiles);
  const chunks = chunkTexts(docs, c.maxLen - 1); // <bos> + maxLen − 1 words = maxLen positions of input
  if (chunks.train.length === 0) throw new ConfigError(`clm: the text holds no chunk of 8 words or more to train on (corpus '${c.corpus}', files '${c.textFiles}').`);
  const vocab = Vocab.fromTokens(topWords(chunks.train.map((w) => w.join(' ')), c.vocabSize));
  const trainSet = encode(chunks.train, vocab);
  const valid = encode((chunks.valid.length > 0 ? chunks.valid : chunks.train).slice(0, 256), vocab);
  manualSeed(c.seed);
  const model = GPT.fromConfig({ vocabSize: vocab.size, maxLen: c.maxLen, numLayers: c.numLayers, numHeads: c.numHeads, dModel: c.dModel, dropout: c.dropout });
  (run.print ?? console.log)(`clm: ${docs.length} documents, ${trainSet.length} training chunks, ${valid.length} validation chunks, ${vocab.size} words; GPT ${model.numParameters().toLocaleString('en-US')} parameters`);
  const optimizer = makeOptimizer(model, c);
  const scheduler = makeScheduler(optimizer, c);
  const batches = new BatchIterator(new Int32Array(trainSet.length).fill(1), { batchSize: c.batchSize, seed: c.seed, shuffle: true });
  const trainer = new Trainer<ClmBatch>({
    model, optimizer, scheduler, batches,
    makeBatch: (idx) => batchOf(trainSet, idx),
    loss: (b) => ({ loss: lossOf(model, b), tokens: b.tokens }),
    evaluate: () => {
      const r = scoreClm(model, valid);
      return { loss: r.loss, perplexity: r.perplexity };
    },
    checkpoint: () => ({ task: 'clm', config: { ...c, model: model.toConfig() } as Record<string, unknown>, files: { vocab: { name: VOCAB_FILE, json: vocab.toJSON() } } }),
    embeddingModules: () => [model.wte],
  }, trainerOptions(c as TrainConfig, SPEC as unknown as TaskSpec<TrainConfig>, run));
  if (run.resume) await trainer.resume();
  const r = await trainer.fit();
  return { out: run.out, steps: r.step, seconds: r.seconds, tokensPerSecond: r.tokensPerSecond, stoppedBy: r.stoppedBy, best: r.best, metrics: r.lastEval };
}

function loadClm(dir: string): Promise<{ model: GPT; config: Record<string, unknown>; vocab: Vocab }> {
  return loadWordModel(dir, 'clm', 'GPT', (cfg) => GPT.fromConfig(cfg));
}

/** text-generation: the prompt's words continued greedily by up to 20 words. */
class GeneratePredictor implements Predictor {
  readonly task = 'clm';
  constructor(readonly dir: string, readonly config: Readonly<Record<string, unknown>>, readonly model: GPT, private readonly vocab: Vocab) {}

  private encode(input: unknown, i: number): Int32Array {
    if (typeof input !== 'string') throw new ValueError(`clm: input ${i} must be a text prompt (a string), received ${typeof input}.`);
    const words = tokenize(input);
    const room = this.model.config.maxLen - 20;
    return this.vocab.encode(words.slice(Math.max(0, words.length - room)), { unknown: 'unk', addBos: true });
  }

  validateInput(input: unknown): void {
    this.encode(input, 0);
  }

  predict(inputs: readonly unknown[]): Prediction[] {
    return inputs.map((input, i) => {
      const ids = this.encode(input, i);
      this.model.eval();
      const out = this.model.generate(new Tensor(ids, [1, ids.length]), { maxNewTokens: 20, temperature: 0, eos: EOS_ID });
      const next = Array.from(out.data.subarray(ids.length) as Int32Array).filter((t) => t !== BOS_ID);
      return { input, output: this.vocab.decode(next).join(' ') };
    });
  }
}

async function loadPredictor(dir: ModelDirs): Promise<Predictor> {
  const one = singleDir(dir, 'clm');
  const { model, config, vocab } = await loadClm(one);
  return new GeneratePredictor(one, config, model, vocab);
}

async function evaluate(dir: ModelDirs, o: { split: string; limit?: number }): Promise<EvalResult> {
  const { model, config, vocab } = await loadClm(singleDir(dir, 'clm'));
  const set = encode(await splitChunks('clm', config, model.config.maxLen, o.split, o.limit), vocab);
  const r = scoreClm(model, set);
  return {
    split: o.split, metrics: { loss: r.loss, perplexity: r.perplexity, tokens: r.tokens },
    report: `clm ${o.split}: ${set.length} chunks, ${r.tokens} words, loss ${r.loss.toFixed(4)}, perplexity ${r.perplexity.toFixed(1)}`,
  };
}

export const CLM_TASK: TaskDefinition = {
  spec: SPEC as unknown as TaskSpec<TrainConfig>,
  train,
  evaluate,
  loadPredictor,
};
