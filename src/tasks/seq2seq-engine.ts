/**
 * The sequence-to-sequence template: one implementation of train, evaluate, predict (with n-best,
 * attention maps and checkpoint ensembles), distillation and export for every task that maps a
 * source text to a target text with a Seq2SeqTransformer. A *preset* says only what differs:
 * where the pairs come from, how each side is tokenised (seq2seq-side.ts), the config keys and
 * defaults, and the metrics. Two presets ship:
 *
 *   `heed train seq2seq`   pairs from source<TAB>target files (seq2seq-template.ts); BLEU, chrF
 *   `heed train g2p`       CMUdict spelling → phonemes (g2p.ts); WER and PER
 *
 * Sequences: src = source ids (B, S); tgtIn = <bos> t1 … tn (B, T); tgtOut = t1 … tn <eos>.
 * Padding id 0 is ignored by the loss. Batches are length-bucketed by tokens (maxTokens).
 * Evaluation decodes each distinct source once and scores it against all its references.
 *
 * Checkpoint: config.json (the preset's config + `model`), model.safetensors, and one file per
 * side (a heed vocabulary, or a tokenizer.json), named by the preset.
 *
 * Letters: B pairs, S source tokens, T target tokens + 1, V target vocabulary.
 */
import { Seq2SeqTransformer, type Seq2SeqConfig } from '../models/seq2seq.js';
import { BOS_ID, EOS_ID, PAD_ID } from '../data/vocab.js';
import { BatchIterator, padSequences } from '../data/batching.js';
import { Tensor } from '../tensor/tensor.js';
import { manualSeed } from '../tensor/rng.js';
import { normal } from '../nn/init.js';
import { reshape } from '../ops/shape.js';
import { noGrad } from '../autograd/mode.js';
import { AttentionRecorder } from '../nn/attention/recorder.js';
import { Trainer } from '../train/trainer.js';
import { loadCheckpoint, CONFIG_FILE } from '../io/checkpoint.js';
import { CheckpointError, ConfigError, ValueError } from '../errors.js';
import { checkTeacherVocab, distillSettings, studentLoss, type DistillSettings } from './distill.js';
import { Seq2SeqSide, type SideKind } from './seq2seq-side.js';
import { ensembleMapName, type AttentionMap, type Prediction, type PredictOptions, type Predictor } from './predictor.js';
import {
  architectureOf, buildCheckpointModel, ensembleSuffix, modelDirList, resolveTaskConfig, makeOptimizer, makeScheduler, trainerOptions,
  type ModelDirs, type TrainConfig, type TaskSpec, type TaskDefinition, type TaskModel, type RunOptions, type TrainSummary, type EvalResult,
} from './common.js';

/** A source and one of its targets; `references` holds every target of that source (for scoring). */
export interface PairExample {
  source: string;
  target: string;
  references: string[];
}

export interface Sides {
  src: Seq2SeqSide;
  tgt: Seq2SeqSide;
}

/** What the engine reads from a preset's resolved config. */
export interface Seq2SeqSettings {
  /** The model's sizes (vocabulary sizes come from the sides). */
  model: Omit<Partial<Seq2SeqConfig>, 'srcVocabSize' | 'tgtVocabSize'> & { dModel: number; maxLen: number };
  /** Padded tokens per batch, and at most this many pairs (0 = no pair limit). */
  maxTokens: number;
  batchSize: number;
  /** Beam size of eval and predict (1 = greedy). */
  beamSize: number;
  /** Validation sources decoded at each evaluation during training (a fixed prefix; 0 = all). */
  evalLimit: number;
  /** Longest output decoded for a source of `n` tokens. */
  decodeLength(n: number): number;
}

export interface Seq2SeqData {
  train: readonly PairExample[];
  valid: readonly PairExample[];
  test?: readonly PairExample[];
  sides: Sides;
}

/** A seq2seq task as data: see the file header. */
export interface Seq2SeqPreset<C extends TrainConfig> {
  spec: TaskSpec<C>;
  /** The side files' names in a checkpoint, and how each side reads text. */
  sideFiles(c: C): { src: string; tgt: string };
  sideKinds(c: C): { src: SideKind; tgt: SideKind };
  settings(c: C): Seq2SeqSettings;
  /**
   * The pairs of every split. At training `sides` is null: the preset builds them from the training
   * pairs, prints what it read, and may fill config keys left at 0 (the config is saved after).
   */
  loadData(c: C, sides: Sides | null, print: (line: string) => void): Seq2SeqData | Promise<Seq2SeqData>;
  /** The source a predict input stands for; throws a ValueError naming what is wrong. */
  normalize(input: unknown, sides: Sides, s: Seq2SeqSettings): string;
  /** Corpus metrics of outputs against each example's references. */
  score(outputs: readonly string[], items: readonly PairExample[], sides: Sides): Record<string, number>;
  /** The eval report's line of scores. */
  scoreLine(metrics: Record<string, number>): string;
  /** What the sources are called in reports ('words', 'sources'); also the count's metric key. */
  unit: string;
  /** A source for the exported model's sample inputs. */
  sampleSource: string;
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

/** The first pair of each source: what evaluation decodes (once per source). */
export function distinctSources(examples: readonly PairExample[]): PairExample[] {
  const seen = new Set<string>();
  return examples.filter((e) => !seen.has(e.source) && (seen.add(e.source), true));
}

interface Hypothesis {
  ids: number[];
  output: string;
  score: number;
}

interface Batch {
  src: Tensor; // (B, S)
  tgtIn: Tensor; // (B, T)
  tgtOut: Tensor; // (B, T)
  tokens: number;
}

/**
 * Decodes sources (greedy, or beam search when beamSize > 1) in batches of similar length: the
 * sources sorted by length, `batch` rows at a time (batch / beam inputs with beams), so that a
 * batch pads little (the encoder and cross-attention then run on few pad positions) and its
 * sequences end at similar steps. Results come back in the order of `sources`.
 */
function decodeSources(model: Seq2SeqTransformer, sides: Sides, s: Seq2SeqSettings, sources: readonly string[], beamSize = 1, nBest = 1, batch = 256): Hypothesis[][] {
  const out: Hypothesis[][] = new Array(sources.length);
  model.eval();
  const all = sources.map((x) => sides.src.encode(x, s.model.maxLen));
  const order = all.map((_, i) => i).sort((x, y) => all[x].length - all[y].length); // stable: ties keep input order
  const beams = beamSize <= 1 && nBest <= 1 ? 1 : Math.max(beamSize, nBest);
  const step = Math.max(1, Math.floor(batch / beams));
  for (let i = 0; i < order.length; i += step) {
    const rows = order.slice(i, i + step);
    const ids = rows.map((r) => all[r]);
    const p = padSequences(ids);
    const src = new Tensor(p.data, p.shape);
    const maxLen = Math.min(s.model.maxLen - 1, s.decodeLength(Math.max(...ids.map((x) => x.length))));
    const hyp = (t: number[], score: number): Hypothesis => ({ ids: t, output: sides.tgt.decode(t), score });
    if (beams === 1) {
      const r = model.greedyDecode(src, { bos: BOS_ID, eos: EOS_ID, maxLen });
      r.tokens.forEach((t, b) => { out[rows[b]] = [hyp(t, r.scores[b])]; });
    } else {
      model.beamSearch(src, { bos: BOS_ID, eos: EOS_ID, maxLen, beamSize: beams, nBest }).forEach((h, b) => { out[rows[b]] = h.map((x) => hyp(x.tokens, x.score)); });
    }
  }
  return out;
}

function ensembleBeamMessage(task: string, models: number, beamSize: number, nBest: number): string {
  return `${task}: a checkpoint ensemble of ${models} models decodes greedily; beam size ${beamSize} / n-best ${nBest} was asked for, ` +
    'and beam search over an ensemble is not implemented. Fix: use beam size 1 and n-best 1, or one model for beam search.';
}

/** The predictor of a seq2seq preset: one model, or a checkpoint ensemble averaging log-probabilities. */
export class Seq2SeqPredictor implements Predictor {
  readonly task: string;
  constructor(readonly dir: string, readonly config: Readonly<Record<string, unknown>>, readonly models: Seq2SeqTransformer[],
    readonly sides: Sides, readonly settings: Seq2SeqSettings, private readonly preset: Seq2SeqPreset<TrainConfig>) {
    this.task = preset.spec.name;
  }

  get model(): Seq2SeqTransformer {
    return this.models[0];
  }

  /** The source an input stands for (the preset's normalisation); throws ValueError. */
  normalize(input: unknown): string {
    return this.preset.normalize(input, this.sides, this.settings);
  }

  validateInput(input: unknown): void {
    this.normalize(input);
  }

  predict(inputs: readonly unknown[], options: PredictOptions = {}): Prediction[] {
    const sources = inputs.map((x) => this.normalize(x));
    const nBest = options.nBest ?? 1;
    // An ensemble decodes greedily, whatever beamSize its first model was trained with.
    const beam = this.models.length > 1 ? nBest : Math.max(this.settings.beamSize, nBest);
    const hyps = this.decode(sources, beam, nBest);
    return sources.map((source, i) => {
      const best = hyps[i][0];
      const p: Prediction = { input: inputs[i], output: best.output };
      if (nBest > 1) p.alternatives = hyps[i].map((h) => ({ output: h.output, score: h.score }));
      if (options.attention) {
        // an ensemble's maps are every model's, named member<k>.<module> (as for classifiers)
        p.attention = this.models.length === 1 ? this.attention(this.model, source, best.ids)
          : this.models.flatMap((m, k) => this.attention(m, source, best.ids).map((a) => ({ ...a, name: ensembleMapName(k, a.name) })));
      }
      return p;
    });
  }

  /** Teacher-forced pass over the predicted target, recording every attention module. */
  attention(model: Seq2SeqTransformer, source: string, ids: readonly number[]): AttentionMap[] {
    const src = this.sides.src.encode(source, this.settings.model.maxLen);
    const tgtIn = Int32Array.from([BOS_ID, ...ids]);
    const rec = new AttentionRecorder(model);
    noGrad(() => rec.record(() => model.forward(new Tensor(src, [1, src.length]), new Tensor(tgtIn, [1, tgtIn.length]))));
    const keys = this.sides.src.units(source).slice(0, src.length);
    const queries = [...this.sides.tgt.decodeUnits(ids), '<eos>'];
    return rec.toAttentionMaps(0).map((m) => {
      const enc = m.name.startsWith('encoder');
      return { ...m, queryTokens: enc ? keys : queries, keyTokens: m.kind === 'cross' || enc ? keys : queries };
    });
  }

  /**
   * Decodes sources: one model greedily or with beam search; an ensemble greedily, averaging the
   * models' log-probabilities at each step (beam search over an ensemble is not implemented).
   */
  decode(sources: readonly string[], beamSize = 1, nBest = 1, batch = 256): Hypothesis[][] {
    if (this.models.length === 1) return decodeSources(this.model, this.sides, this.settings, sources, beamSize, nBest, batch);
    if (beamSize > 1 || nBest > 1) throw new ValueError(ensembleBeamMessage(this.task, this.models.length, beamSize, nBest));
    const out: Hypothesis[][] = [];
    for (let i = 0; i < sources.length; i += batch) out.push(...this.ensembleDecode(sources.slice(i, i + batch)));
    return out;
  }

  /** Greedy decoding that averages the log-probabilities of several checkpoints at each step. */
  private ensembleDecode(sources: readonly string[]): Hypothesis[][] {
    return noGrad(() => {
      const ids = sources.map((x) => this.sides.src.encode(x, this.settings.model.maxLen));
      const p = padSequences(ids);
      const src = new Tensor(p.data, p.shape);
      const B = sources.length, V = this.sides.tgt.size;
      const states = this.models.map((m) => {
        m.eval();
        const { memory, srcPad } = m.encode(src);
        return { m, memory, srcPad, caches: m.decoder.makeCache() };
      });
      const maxLen = Math.min(this.settings.model.maxLen - 1, this.settings.decodeLength(Math.max(...ids.map((x) => x.length))));
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
      return out.map((t, b) => [{ ids: t, output: this.sides.tgt.decode(t), score: scores[b] }]);
    });
  }
}

/** The TaskDefinition of a preset: see the file header. */
export function seq2seqTask<C extends TrainConfig>(preset: Seq2SeqPreset<C>): TaskDefinition {
  const name = preset.spec.name;
  const anyPreset = preset as unknown as Seq2SeqPreset<TrainConfig>;

  function buildModel(s: Seq2SeqSettings, sides: Sides): Seq2SeqTransformer {
    const model = new Seq2SeqTransformer({ ...s.model, srcVocabSize: sides.src.size, tgtVocabSize: sides.tgt.size });
    initEmbeddings(model, s.model.dModel);
    return model;
  }

  async function train(user: Record<string, unknown>, run: RunOptions): Promise<TrainSummary> {
    const c = resolveTaskConfig(preset.spec, user);
    const print = run.print ?? console.log;
    const data = await preset.loadData(c, null, print);
    if (data.train.length === 0 || data.valid.length === 0) throw new ValueError(`${name}: ${data.train.length} training and ${data.valid.length} validation pairs; both splits need at least one.`);
    const s = preset.settings(c);
    const { sides } = data;
    manualSeed(c.seed);
    const model = buildModel(s, sides);
    const srcIds = data.train.map((e) => sides.src.encode(e.source, s.model.maxLen));
    const tgtIds = data.train.map((e) => sides.tgt.encode(e.target, s.model.maxLen - 1));
    const lengths = data.train.map((_, i) => Math.max(srcIds[i].length, tgtIds[i].length + 1));
    const batches = new BatchIterator(lengths, { maxTokens: s.maxTokens, ...(s.batchSize > 0 ? { batchSize: s.batchSize } : {}), seed: c.seed, shuffle: true });
    const optimizer = makeOptimizer(model, c);
    const scheduler = makeScheduler(optimizer, c);
    const valid = distinctSources(data.valid);
    const validItems = s.evalLimit > 0 ? valid.slice(0, s.evalLimit) : valid;
    const m = model.config;
    print(`${name}: model ${model.numParameters().toLocaleString('en-US')} parameters (d=${m.dModel}, ${m.numEncoderLayers}+${m.numDecoderLayers} layers, ${m.numHeads} heads)`);
    const teacher = await loadTeacher(c, sides);
    const trainer = new Trainer<Batch>({
      model, optimizer, scheduler, batches,
      makeBatch: (idx) => {
        const src = padSequences([...idx].map((i) => srcIds[i]));
        const tin = padSequences([...idx].map((i) => Int32Array.from([BOS_ID, ...tgtIds[i]])));
        const tout = padSequences([...idx].map((i) => Int32Array.from([...tgtIds[i], EOS_ID])));
        let tokens = 0;
        for (const i of idx) tokens += tgtIds[i].length + 1;
        return { src: new Tensor(src.data, src.shape), tgtIn: new Tensor(tin.data, tin.shape), tgtOut: new Tensor(tout.data, tout.shape), tokens };
      },
      loss: (b) => {
        const logits = model.call(b.src, b.tgtIn); // (B, T, V)
        const V = sides.tgt.size;
        // Word-level distillation: the teacher's per-step distributions on the same gold prefix.
        const loss = studentLoss(reshape(logits, [-1, V]), reshape(b.tgtOut, [-1]), teacher?.settings ?? null,
          () => reshape(teacher!.model.forward(b.src, b.tgtIn), [-1, V]), { ignoreIndex: PAD_ID, labelSmoothing: c.labelSmoothing });
        return { loss, tokens: b.tokens };
      },
      evaluate: () => preset.score(decodeSources(model, sides, s, validItems.map((e) => e.source)).map((h) => h[0].output), validItems, sides),
      checkpoint: () => ({
        task: name,
        config: { ...c, model: model.toConfig() } as unknown as Record<string, unknown>,
        files: { srcVocab: { name: preset.sideFiles(c).src, json: sides.src.toJSON() }, tgtVocab: { name: preset.sideFiles(c).tgt, json: sides.tgt.toJSON() } },
      }),
      embeddingModules: () => [model.srcEmbed, model.tgtEmbed],
    }, trainerOptions(c, preset.spec as unknown as TaskSpec<TrainConfig>, run));
    if (run.resume) await trainer.resume();
    const r = await trainer.fit();
    return { out: run.out, steps: r.step, seconds: r.seconds, tokensPerSecond: r.tokensPerSecond, stoppedBy: r.stoppedBy, best: r.best, metrics: r.lastEval };
  }

  /** The teacher of a distilled student: same task and sides, so it reads the student's batches. */
  async function loadTeacher(c: C, sides: Sides): Promise<{ model: Seq2SeqTransformer; settings: DistillSettings } | null> {
    const settings = distillSettings(c);
    if (settings === null) return null;
    const t = await load(settings.teacherDir);
    checkTeacherVocab(settings.teacherDir, 'source vocabulary', t.sides.src.tokens, sides.src.tokens);
    checkTeacherVocab(settings.teacherDir, 'target vocabulary', t.sides.tgt.tokens, sides.tgt.tokens);
    return { model: t.model, settings };
  }

  /** One model directory: its model, saved config and sides. */
  async function load(dir: string): Promise<{ model: Seq2SeqTransformer; config: Record<string, unknown>; sides: Sides; settings: Seq2SeqSettings }> {
    const ck = await loadCheckpoint(dir, name);
    if (ck.files.srcVocab === undefined || ck.files.tgtVocab === undefined) {
      throw new CheckpointError(`${dir}/${CONFIG_FILE}: this '${name}' model has no source and target vocabulary files (it was written by an earlier ${name} template that kept them in task-meta.json). Fix: retrain it with this version: heed train ${name} ... --out ${dir} --overwrite.`);
    }
    const { model: _arch, ...saved } = ck.config;
    const c = { ...preset.spec.defaults, ...saved } as C; // as saved: no re-validation, so older configs keep loading
    const kinds = preset.sideKinds(c);
    const sides = { src: Seq2SeqSide.load(kinds.src, ck.files.srcVocab), tgt: Seq2SeqSide.load(kinds.tgt, ck.files.tgtVocab) };
    const mc = architectureOf(ck);
    if (mc.srcVocabSize !== sides.src.size || mc.tgtVocabSize !== sides.tgt.size) {
      throw new CheckpointError(`${dir}/${CONFIG_FILE}: config.model has vocabulary sizes ${mc.srcVocabSize}/${mc.tgtVocabSize} but the vocabulary files hold ${sides.src.size}/${sides.tgt.size} tokens. The directory mixes files of different models; retrain or restore it.`);
    }
    const model = buildCheckpointModel(ck, 'Seq2SeqTransformer', (x) => Seq2SeqTransformer.fromConfig(x));
    return { model, config: ck.config, sides, settings: preset.settings(c) };
  }

  /** Loads one model directory, or several (an ensemble averaging log-probabilities) when given a list. */
  async function loadPredictor(dir: ModelDirs): Promise<Seq2SeqPredictor> {
    const dirs = modelDirList(dir);
    const loaded = await Promise.all(dirs.map(load));
    const first = loaded[0];
    for (const [i, l] of loaded.entries()) {
      if (!l.sides.src.sameAs(first.sides.src) || !l.sides.tgt.sameAs(first.sides.tgt)) {
        throw new CheckpointError(`${name} ensemble: '${dirs[i]}' has different vocabularies from '${dirs[0]}'; only models trained on the same data can be averaged.`);
      }
    }
    return new Seq2SeqPredictor(dirs.join(','), first.config, loaded.map((l) => l.model), first.sides, first.settings, anyPreset);
  }

  /** Scores a model directory, or a checkpoint ensemble of several (greedy), on a split. */
  async function evaluate(dir: ModelDirs, o: { split: string; limit?: number; beamSize?: number }): Promise<EvalResult> {
    if (o.split !== 'train' && o.split !== 'valid' && o.split !== 'test') throw new ValueError(`${name} eval: split '${o.split}', expected train, valid or test.`);
    const pred = await loadPredictor(dir);
    const c = { ...preset.spec.defaults, ...pred.config } as C;
    const data = await preset.loadData(c, pred.sides, () => undefined);
    const split = data[o.split];
    if (!split || split.length === 0) throw new ValueError(`${name} eval: the ${o.split} split is empty or was not given. Fix: train with --${o.split} <file>, or evaluate --split valid.`);
    const all = distinctSources(split);
    const items = o.limit && o.limit > 0 ? all.slice(0, o.limit) : all;
    const ensemble = pred.models.length > 1;
    const beam = o.beamSize ?? (ensemble ? 1 : pred.settings.beamSize);
    if (ensemble && beam > 1) throw new ConfigError(ensembleBeamMessage(name, pred.models.length, beam, 1));
    const t0 = Date.now();
    const outputs = pred.decode(items.map((e) => e.source), beam).map((h) => h[0].output);
    const seconds = (Date.now() - t0) / 1000;
    const metrics = preset.score(outputs, items, pred.sides);
    const examples = items.slice(0, 8).map((e, i) => `  ${e.source.slice(0, 30).padEnd(16)} ${outputs[i].slice(0, 40).padEnd(28)} ref: ${e.references.slice(0, 3).join(' | ').slice(0, 60)}`);
    const report = [
      `${name} ${o.split}: ${items.length}${items.length < all.length ? ` of ${all.length}` : ''} ${preset.unit}${ensembleSuffix(pred.models.length)}, ${beam > 1 ? `beam ${beam}` : 'greedy'} decoding, ${seconds.toFixed(1)} s`,
      `  ${preset.scoreLine(metrics)}`,
      ...examples,
    ].join('\n');
    return { split: o.split, metrics: { ...metrics, [preset.unit]: items.length }, report };
  }

  /** The model of a directory, with the preset's sample source and <bos> as its target prefix. */
  async function loadModel(dir: string): Promise<TaskModel> {
    const { model, sides, settings } = await load(dir);
    const src = sides.src.encode(preset.sampleSource, settings.model.maxLen);
    return { model, sampleInputs: [new Tensor(src, [1, src.length]), new Tensor(Int32Array.of(BOS_ID), [1, 1])] };
  }

  return { spec: preset.spec as unknown as TaskSpec<TrainConfig>, train, evaluate, loadPredictor, loadModel };
}
