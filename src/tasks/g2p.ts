/**
 * G2P: spelling → ARPAbet phonemes on CMUdict (without stress), with a Seq2SeqTransformer.
 *
 * Data (src/data/cmudict.ts): hash split by word 90/5/5; training iterates every (word,
 * pronunciation) pair; evaluation decodes each word once and counts it correct if the output
 * equals ANY of its reference pronunciations (WER), PER = edit distance to the closest reference.
 * Anchor: cmusphinx g2p-seq2seq, 2-layer 256-wide Transformer ≈ 31% WER; Phonetisaurus 33.9%.
 *
 * Sequences: src = letters of the word (B, S); tgtIn = <bos> p1 … pn (B, T); tgtOut = p1 … pn <eos>.
 * Padding id 0 is ignored by the loss. Batches are length-bucketed by tokens (maxTokens).
 *
 * Letters: B words in a batch, S letters, T phonemes + 1, V phoneme vocabulary.
 */
import { Seq2SeqTransformer, type Seq2SeqConfig } from '../models/seq2seq.js';
import { loadCmudict, type G2PWord } from '../data/cmudict.js';
import { Vocab, BOS_ID, EOS_ID, PAD_ID } from '../data/vocab.js';
import { BatchIterator, padSequences } from '../data/batching.js';
import { Tensor } from '../tensor/tensor.js';
import { manualSeed } from '../tensor/rng.js';
import { normal } from '../nn/init.js';
import { checkTeacherVocab, distillSettings, studentLoss, type DistillSettings } from './distill.js';
import { reshape } from '../ops/shape.js';
import { noGrad } from '../autograd/mode.js';
import { AttentionRecorder } from '../nn/attention/recorder.js';
import { wordErrorRate, phonemeErrorRate } from '../train/metrics.js';
import { Trainer } from '../train/trainer.js';
import { loadCheckpoint, CONFIG_FILE } from '../io/checkpoint.js';
import { CheckpointError, ConfigError, ValueError } from '../errors.js';
import type { ConfigSchema } from '../models/config.js';
import { ensembleMapName, type AttentionMap, type Prediction, type PredictOptions, type Predictor } from './predictor.js';
import {
  TRAIN_SCHEMA, TRAIN_DEFAULTS, architectureOf, buildCheckpointModel, ensembleSuffix, modelDirList, resolveTaskConfig, makeOptimizer, makeScheduler, trainerOptions,
  type ModelDirs, type TrainConfig, type TaskSpec, type TaskDefinition, type TaskModel, type RunOptions, type TrainSummary, type EvalResult,
} from './common.js';

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

const SPEC: TaskSpec<G2PConfig> = {
  name: 'g2p',
  summary: 'grapheme-to-phoneme on CMUdict (Seq2SeqTransformer); metrics WER and PER',
  schema: G2P_SCHEMA,
  defaults: G2P_DEFAULTS,
  metric: 'wer',
  metricMode: 'min',
  distills: true,
};

const SRC_VOCAB_FILE = 'graphemes.vocab.json';
const TGT_VOCAB_FILE = 'phonemes.vocab.json';
/** Longest word the model accepts (letters); CMUdict's longest is 34. */
const MAX_POSITIONS = 48;

function modelConfig(c: G2PConfig, src: Vocab, tgt: Vocab): Partial<Seq2SeqConfig> & Pick<Seq2SeqConfig, 'srcVocabSize' | 'tgtVocabSize'> {
  return {
    srcVocabSize: src.size, tgtVocabSize: tgt.size, dModel: c.dModel, numHeads: c.numHeads, numEncoderLayers: c.numEncoderLayers,
    numDecoderLayers: c.numDecoderLayers, dimFeedforward: c.dimFeedforward, dropout: c.dropout, activation: c.activation, maxLen: MAX_POSITIONS,
  };
}

/**
 * Embeddings N(0, d^-½) (fairseq's Transformer init): with √d input scaling the inputs have unit
 * scale, and the tied output projection starts with logits of unit scale instead of √d (which
 * makes the first losses ≈ 100 and wastes the warmup).
 */
function initEmbeddings(model: Seq2SeqTransformer, d: number): void {
  for (const emb of new Set([model.srcEmbed, model.tgtEmbed])) {
    normal(emb.weight, 0, 1 / Math.sqrt(d));
    emb.weight.data.fill(0, PAD_ID * d, (PAD_ID + 1) * d);
  }
}

interface G2PBatch {
  src: Tensor; // (B, S)
  tgtIn: Tensor; // (B, T)
  tgtOut: Tensor; // (B, T)
  tokens: number;
}

/** Decodes words in batches of up to `batch` (greedy, or beam search when beamSize > 1). */
export function decodeWords(model: Seq2SeqTransformer, src: Vocab, tgt: Vocab, words: readonly string[], beamSize = 1, nBest = 1, batch = 256):
  { phonemes: string[]; score: number }[][] {
  const out: { phonemes: string[]; score: number }[][] = [];
  model.eval();
  for (let i = 0; i < words.length; i += batch) {
    const chunk = words.slice(i, i + batch);
    const ids = chunk.map((w) => src.encode(w));
    const p = padSequences(ids);
    const srcT = new Tensor(p.data, p.shape);
    const maxLen = Math.min(MAX_POSITIONS - 1, Math.max(...chunk.map((w) => [...w].length)) + 8);
    if (beamSize <= 1 && nBest <= 1) {
      const r = model.greedyDecode(srcT, { bos: BOS_ID, eos: EOS_ID, maxLen });
      r.tokens.forEach((t, b) => out.push([{ phonemes: tgt.decode(t), score: r.scores[b] }]));
    } else {
      const hyps = model.beamSearch(srcT, { bos: BOS_ID, eos: EOS_ID, maxLen, beamSize: Math.max(beamSize, nBest), nBest });
      for (const h of hyps) out.push(h.map((x) => ({ phonemes: tgt.decode(x.tokens), score: x.score })));
    }
  }
  return out;
}

/** WER and PER of the model on evaluation words. */
export function scoreWords(model: Seq2SeqTransformer, src: Vocab, tgt: Vocab, items: readonly G2PWord[], beamSize = 1): { wer: number; per: number; preds: string[][] } {
  return errorRates(decodeWords(model, src, tgt, items.map((w) => w.word), beamSize).map((h) => h[0].phonemes), items);
}

/** WER and PER of predicted pronunciations against evaluation words (any reference counts). */
function errorRates(preds: string[][], items: readonly G2PWord[]): { wer: number; per: number; preds: string[][] } {
  const refs = items.map((w) => w.pronunciations);
  return { wer: wordErrorRate(preds, refs), per: phonemeErrorRate(preds, refs), preds };
}

async function train(user: Record<string, unknown>, run: RunOptions): Promise<TrainSummary> {
  const c = resolveTaskConfig(SPEC, user);
  const print = run.print ?? console.log;
  const data = loadCmudict();
  const srcVocab = Vocab.fromTokens(data.letters);
  const tgtVocab = Vocab.fromTokens(data.phonemes);
  manualSeed(c.seed);
  const model = new Seq2SeqTransformer(modelConfig(c, srcVocab, tgtVocab));
  initEmbeddings(model, c.dModel);
  const train = data.train.examples;
  const srcIds = train.map((e) => srcVocab.encode(e.word));
  const tgtIds = train.map((e) => tgtVocab.encode(e.phonemes));
  const lengths = train.map((_, i) => Math.max(srcIds[i].length, tgtIds[i].length + 1));
  const batches = new BatchIterator(lengths, { maxTokens: c.maxTokens, seed: c.seed, shuffle: true });
  const optimizer = makeOptimizer(model, c);
  const scheduler = makeScheduler(optimizer, c);
  const validItems = c.evalWords > 0 ? data.valid.words.slice(0, c.evalWords) : data.valid.words;
  print(`g2p: CMUdict ${data.counts.train.examples} training pronunciations (${data.counts.train.words} words), ` +
    `${srcVocab.size} graphemes, ${tgtVocab.size} phonemes; model ${model.numParameters().toLocaleString('en-US')} parameters ` +
    `(d=${c.dModel}, ${c.numEncoderLayers}+${c.numDecoderLayers} layers, ${c.numHeads} heads)`);
  const teacher = await g2pTeacher(c, srcVocab, tgtVocab);
  const checkpoint = () => ({
    task: 'g2p',
    config: { ...c, model: model.toConfig() } as Record<string, unknown>,
    files: { srcVocab: { name: SRC_VOCAB_FILE, json: srcVocab.toJSON() }, tgtVocab: { name: TGT_VOCAB_FILE, json: tgtVocab.toJSON() } },
  });
  const trainer = new Trainer<G2PBatch>({
    model, optimizer, scheduler, batches,
    makeBatch: (idx) => {
      const s = padSequences([...idx].map((i) => srcIds[i]));
      const tin = padSequences([...idx].map((i) => Int32Array.from([BOS_ID, ...tgtIds[i]])));
      const tout = padSequences([...idx].map((i) => Int32Array.from([...tgtIds[i], EOS_ID])));
      let tokens = 0;
      for (const i of idx) tokens += tgtIds[i].length + 1;
      return { src: new Tensor(s.data, s.shape), tgtIn: new Tensor(tin.data, tin.shape), tgtOut: new Tensor(tout.data, tout.shape), tokens };
    },
    loss: (b) => {
      const logits = model.call(b.src, b.tgtIn); // (B, T, V)
      const V = tgtVocab.size;
      // Word-level distillation: the teacher's per-step distributions on the same gold prefix.
      const loss = studentLoss(reshape(logits, [-1, V]), reshape(b.tgtOut, [-1]), teacher?.settings ?? null,
        () => reshape(teacher!.model.forward(b.src, b.tgtIn), [-1, V]), { ignoreIndex: PAD_ID, labelSmoothing: c.labelSmoothing });
      return { loss, tokens: b.tokens };
    },
    evaluate: () => {
      const r = scoreWords(model, srcVocab, tgtVocab, validItems);
      return { wer: r.wer, per: r.per };
    },
    checkpoint,
    embeddingModules: () => [model.srcEmbed, model.tgtEmbed],
  }, trainerOptions(c, SPEC as unknown as TaskSpec<TrainConfig>, run));
  if (run.resume) await trainer.resume();
  const r = await trainer.fit();
  return { out: run.out, steps: r.step, seconds: r.seconds, tokensPerSecond: r.tokensPerSecond, stoppedBy: r.stoppedBy, best: r.best, metrics: r.lastEval };
}

/** The teacher of a distilled g2p student: same task and both vocabularies, so it reads the student's batches. */
async function g2pTeacher(c: G2PConfig, src: Vocab, tgt: Vocab): Promise<{ model: Seq2SeqTransformer; settings: DistillSettings } | null> {
  const settings = distillSettings(c);
  if (settings === null) return null;
  const t = await loadModel(settings.teacherDir);
  checkTeacherVocab(settings.teacherDir, 'grapheme vocabulary', t.src.tokens, src.tokens);
  checkTeacherVocab(settings.teacherDir, 'phoneme vocabulary', t.tgt.tokens, tgt.tokens);
  return { model: t.model, settings };
}

export class G2PPredictor implements Predictor {
  readonly task = 'g2p';
  constructor(readonly dir: string, readonly config: Readonly<Record<string, unknown>>, readonly models: Seq2SeqTransformer[],
    readonly srcVocab: Vocab, readonly tgtVocab: Vocab) {}

  get model(): Seq2SeqTransformer {
    return this.models[0];
  }

  /** Normalizes a word (trim, lowercase) and checks it; throws ValueError naming the problem. */
  normalize(input: unknown): string {
    if (typeof input !== 'string') throw new ValueError(`g2p: input must be a word (string), received ${JSON.stringify(input)?.slice(0, 40) ?? String(input)}.`);
    const w = input.trim().toLowerCase();
    if (w === '') throw new ValueError('g2p: received an empty word. Fix: pass a word such as "hello".');
    const bad = [...new Set([...w].filter((ch) => !this.srcVocab.has(ch)))];
    if (bad.length > 0) {
      const allowed = this.srcVocab.tokens.slice(4).join('');
      throw new ValueError(`g2p: input "${input}" contains character(s) ${bad.map((b) => JSON.stringify(b)).join(', ')} outside the model's alphabet. Expected only: ${allowed}`);
    }
    if ([...w].length > MAX_POSITIONS) throw new ValueError(`g2p: input "${input.slice(0, 20)}…" has ${[...w].length} letters, more than the ${MAX_POSITIONS} this model accepts.`);
    return w;
  }

  validateInput(input: unknown): void {
    this.normalize(input);
  }

  predict(inputs: readonly unknown[], options: PredictOptions = {}): Prediction[] {
    const words = inputs.map((x) => this.normalize(x));
    const nBest = options.nBest ?? 1;
    // An ensemble decodes greedily, whatever beamSize its first model was trained with.
    const beam = this.models.length > 1 ? nBest : Math.max(Number(this.config.beamSize ?? 1), nBest);
    const hyps = this.decode(words, beam, nBest);
    return words.map((w, i) => {
      const best = hyps[i][0];
      const p: Prediction = { input: inputs[i], output: best.phonemes.join(' ') };
      if (nBest > 1) p.alternatives = hyps[i].map((h) => ({ output: h.phonemes.join(' '), score: h.score }));
      if (options.attention) {
        // an ensemble's maps are every model's, named member<k>.<module> (as for classifiers)
        p.attention = this.models.length === 1 ? this.attention(this.model, w, best.phonemes)
          : this.models.flatMap((m, k) => this.attention(m, w, best.phonemes).map((a) => ({ ...a, name: ensembleMapName(k, a.name) })));
      }
      return p;
    });
  }

  /** Teacher-forced pass over the predicted phonemes, recording every attention module. */
  attention(model: Seq2SeqTransformer, word: string, phonemes: string[]): AttentionMap[] {
    const src = this.srcVocab.encode(word);
    const tgtIn = Int32Array.from([BOS_ID, ...this.tgtVocab.encode(phonemes)]);
    const rec = new AttentionRecorder(model);
    noGrad(() => rec.record(() => model.forward(new Tensor(src, [1, src.length]), new Tensor(tgtIn, [1, tgtIn.length]))));
    const letters = [...word];
    const queries = [...phonemes, '<eos>'];
    return rec.toAttentionMaps(0).map((m) => {
      const enc = m.name.startsWith('encoder');
      const q = enc ? letters : queries;
      const k = m.kind === 'cross' || enc ? letters : queries;
      return { ...m, queryTokens: q, keyTokens: k };
    });
  }

  /**
   * Decodes words: one model greedily or with beam search; an ensemble greedily, averaging the
   * models' log-probabilities at each step (beam search over an ensemble is not implemented).
   */
  decode(words: readonly string[], beamSize = 1, nBest = 1, batch = 256): { phonemes: string[]; score: number }[][] {
    if (this.models.length === 1) return decodeWords(this.model, this.srcVocab, this.tgtVocab, words, beamSize, nBest, batch);
    if (beamSize > 1 || nBest > 1) throw new ValueError(ensembleBeamMessage(this.models.length, beamSize, nBest));
    const out: { phonemes: string[]; score: number }[][] = [];
    for (let i = 0; i < words.length; i += batch) out.push(...this.ensembleDecode(words.slice(i, i + batch)));
    return out;
  }

  /** Greedy decoding that averages the log-probabilities of several checkpoints at each step. */
  ensembleDecode(words: string[]): { phonemes: string[]; score: number }[][] {
    return noGrad(() => {
      const p = padSequences(words.map((w) => this.srcVocab.encode(w)));
      const src = new Tensor(p.data, p.shape);
      const B = words.length, V = this.tgtVocab.size;
      const states = this.models.map((m) => {
        m.eval();
        const { memory, srcPad } = m.encode(src);
        return { m, memory, srcPad, caches: m.decoder.makeCache() };
      });
      const maxLen = Math.min(MAX_POSITIONS - 1, Math.max(...words.map((w) => w.length)) + 8);
      const out: number[][] = Array.from({ length: B }, () => []);
      const scores = new Array<number>(B).fill(0);
      const done = new Array<boolean>(B).fill(false);
      let last = new Array<number>(B).fill(BOS_ID);
      for (let t = 0; t < maxLen && done.some((d) => !d); t++) {
        const avg = new Float64Array(B * V);
        for (const s of states) {
          const logp = s.m.decodeStep(new Tensor(Int32Array.from(last), [B, 1]), s.memory, s.srcPad, s.caches, t); // (B, V)
          for (let i = 0; i < B * V; i++) avg[i] += logp.data[i] / states.length;
        }
        last = last.map((_, b) => {
          if (done[b]) return EOS_ID;
          let best = 1;
          for (let v = 1; v < V; v++) if (avg[b * V + v] > avg[b * V + best]) best = v;
          scores[b] += avg[b * V + best];
          if (best === EOS_ID) done[b] = true;
          else out[b].push(best);
          return best;
        });
      }
      return out.map((t, b) => [{ phonemes: this.tgtVocab.decode(t), score: scores[b] }]);
    });
  }
}

function ensembleBeamMessage(models: number, beamSize: number, nBest: number): string {
  return `g2p: a checkpoint ensemble of ${models} models decodes greedily; beam size ${beamSize} / n-best ${nBest} was asked for, ` +
    'and beam search over an ensemble is not implemented. Fix: use beam size 1 and n-best 1, or one model for beam search.';
}

async function loadModel(dir: string): Promise<{ model: Seq2SeqTransformer; config: Record<string, unknown>; src: Vocab; tgt: Vocab }> {
  const ck = await loadCheckpoint(dir, 'g2p');
  const src = Vocab.load(ck.files.srcVocab);
  const tgt = Vocab.load(ck.files.tgtVocab);
  const mc = architectureOf(ck);
  if (mc.srcVocabSize !== src.size || mc.tgtVocabSize !== tgt.size) {
    throw new CheckpointError(`${dir}/${CONFIG_FILE}: config.model has vocabulary sizes ${mc.srcVocabSize}/${mc.tgtVocabSize} but the vocabulary files hold ${src.size}/${tgt.size} tokens. The directory mixes files of different models; retrain or restore it.`);
  }
  const model = buildCheckpointModel(ck, 'Seq2SeqTransformer', (c) => Seq2SeqTransformer.fromConfig(c));
  return { model, config: ck.config, src, tgt };
}

/** The model of a g2p directory, with the word 'hello' as its source and BOS as its target prefix. */
async function loadTaskModel(dir: string): Promise<TaskModel> {
  const { model, src } = await loadModel(dir);
  const word = src.encode('hello');
  return { model, sampleInputs: [new Tensor(word, [1, word.length]), new Tensor(Int32Array.of(BOS_ID), [1, 1])] };
}

/** Loads one model directory, or several (an ensemble averaging log-probabilities) when given a list. */
export async function loadG2PPredictor(dir: ModelDirs): Promise<G2PPredictor> {
  const dirs = modelDirList(dir);
  const loaded = await Promise.all(dirs.map(loadModel));
  const first = loaded[0];
  for (const [i, l] of loaded.entries()) {
    if (l.src.tokens.join('\n') !== first.src.tokens.join('\n') || l.tgt.tokens.join('\n') !== first.tgt.tokens.join('\n')) {
      throw new CheckpointError(`g2p ensemble: '${dirs[i]}' has different vocabularies from '${dirs[0]}'; only models trained on the same data can be averaged.`);
    }
  }
  return new G2PPredictor(dirs.join(','), first.config, loaded.map((l) => l.model), first.src, first.tgt);
}

/** Scores a model directory, or a checkpoint ensemble of several (greedy), on a split. */
async function evaluate(dir: ModelDirs, o: { split: string; limit?: number; beamSize?: number }): Promise<EvalResult> {
  const pred = await loadG2PPredictor(dir);
  const data = loadCmudict();
  if (o.split !== 'train' && o.split !== 'valid' && o.split !== 'test') throw new ValueError(`g2p eval: split '${o.split}', expected train, valid or test.`);
  const all = data[o.split].words;
  const items = o.limit && o.limit > 0 ? all.slice(0, o.limit) : all;
  const ensemble = pred.models.length > 1;
  const beam = o.beamSize ?? (ensemble ? 1 : Number(pred.config.beamSize ?? 1));
  if (ensemble && beam > 1) throw new ConfigError(ensembleBeamMessage(pred.models.length, beam, 1));
  const t0 = Date.now();
  const r = errorRates(pred.decode(items.map((w) => w.word), beam).map((h) => h[0].phonemes), items);
  const seconds = (Date.now() - t0) / 1000;
  const examples = items.slice(0, 8).map((w, i) => `  ${w.word.padEnd(16)} ${r.preds[i].join(' ').padEnd(28)} ref: ${w.pronunciations.map((p) => p.join(' ')).join(' | ')}`);
  const report = [
    `g2p ${o.split}: ${items.length}${items.length < all.length ? ` of ${all.length}` : ''} words${ensembleSuffix(pred.models.length)}, ${beam > 1 ? `beam ${beam}` : 'greedy'} decoding, ${seconds.toFixed(1)} s`,
    `  WER ${(100 * r.wer).toFixed(2)}%   PER ${(100 * r.per).toFixed(2)}%   (a word is correct if it equals any reference pronunciation)`,
    ...examples,
  ].join('\n');
  return { split: o.split, metrics: { wer: r.wer, per: r.per, words: items.length }, report };
}

export const G2P_TASK: TaskDefinition = {
  spec: SPEC as unknown as TaskSpec<TrainConfig>,
  train,
  evaluate,
  loadPredictor: loadG2PPredictor,
  loadModel: loadTaskModel,
};
