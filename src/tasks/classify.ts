/**
 * Shared code of the classification tasks (spam, digits): training with cross-entropy on
 * fixed-size batches, evaluation (accuracy, macro F1, sklearn-style classification report) and a
 * Predictor returning the label with class probabilities.
 *
 * A task supplies how to turn example indices into a model input (`inputs`), how to turn a user
 * input into one (`encode`, which validates), the model, and the label names.
 *
 * Letters: B examples in a batch, C classes.
 */
import { Tensor } from '../tensor/tensor.js';
import { manualSeed } from '../tensor/rng.js';
import { studentLoss, type DistillSettings } from './distill.js';
import { softmax } from '../ops/softmax.js';
import { noGrad } from '../autograd/mode.js';
import { inferenceMode } from '../autograd/inference.js';
import { BatchIterator } from '../data/batching.js';
import { AttentionRecorder } from '../nn/attention/recorder.js';
import { classificationReport, formatClassificationReport } from '../train/metrics.js';
import { Trainer, type TrainableModel } from '../train/trainer.js';
import { stepScope } from '../train/step-memory.js';
import { CheckpointError, ValueError } from '../errors.js';
import type { CheckpointContents } from '../io/checkpoint.js';
import { ensembleMapName, type AttentionMap, type Prediction, type PredictOptions, type Predictor } from './predictor.js';
import {
  ensembleSuffix, makeOptimizer, makeScheduler, modelDirList, trainerOptions, type EvalResult, type ModelDirs, type RunOptions, type TaskSpec, type TrainConfig, type TrainSummary,
} from './common.js';

/** A model mapping a batch of inputs to (B, C) logits. */
export interface ClassifierModel extends TrainableModel {
  call(x: Tensor): Tensor;
  forward(x: Tensor): Tensor;
  numParameters(): number;
  namedModules(): [string, unknown][];
  readonly training: boolean;
}

export interface ClassifierData {
  labels: Int32Array;
  /** Builds the (B, ...) model input for these example indices, and its token count. */
  inputs(indices: Int32Array): { x: Tensor; tokens: number };
}

/**
 * Class probabilities of every example of `data`, (N, C) row-major, computed in batches.
 * `reuseBuffers`: each batch runs in a storage scope (src/train/step-memory.ts), so the buffers of
 * one batch's forward pass go back to the tensor pool and the next batch reuses them (a training
 * run's validation: with the training batch size, it reuses the training step's buffers). Without
 * it, a pass leaves its buffers to the garbage collector, which under load frees them late: the
 * validation pass at the end of a run was its peak resident memory (BENCHMARKS.md, "PEFT memory").
 */
export function classProbabilities(model: ClassifierModel, data: ClassifierData, batch = 128, reuseBuffers = false): Float32Array {
  model.eval();
  const n = data.labels.length;
  let out = new Float32Array(0);
  noGrad(() => {
    for (let i = 0; i < n; i += batch) {
      const scope = reuseBuffers ? stepScope(model) : null;
      const m = Math.min(batch, n - i);
      // With reuse, a short last batch is filled up with its last example (rows are independent in eval
      // mode), so that it asks for the buffer sizes of the others instead of new ones; its extra rows are dropped.
      const idx = Int32Array.from({ length: reuseBuffers ? batch : m }, (_, j) => i + Math.min(j, m - 1));
      const p = softmax(model.forward(data.inputs(idx).x), -1); // (B, C)
      if (i === 0) out = new Float32Array(n * p.shape[1]);
      out.set((p.data as Float32Array).subarray(0, m * p.shape[1]), i * p.shape[1]);
      scope?.close(); // p is copied out: nothing of this batch is read again
    }
  });
  return out;
}

/** One model of a classifier (ensemble) with the examples as that model reads them. */
export interface ScoredMember {
  model: ClassifierModel;
  data: ClassifierData;
}

/**
 * Accuracy, macro F1 and the report of one classifier, or of a checkpoint ensemble that
 * averages its members' class probabilities. Each member reads the examples through its own
 * `data` (its own vocabulary, say); the labels are the first member's. `options` set the batch
 * size and buffer reuse of classProbabilities.
 */
export function scoreClassifier(members: readonly ScoredMember[], names: string[], options: { batch?: number; reuseBuffers?: boolean } = {}): { accuracy: number; macroF1: number; report: string } {
  const labels = members[0].data.labels;
  const C = names.length;
  const avg = new Float64Array(labels.length * C);
  for (const m of members) {
    const p = classProbabilities(m.model, m.data, options.batch, options.reuseBuffers);
    if (p.length !== avg.length) throw classCountError(p.length / Math.max(labels.length, 1), names);
    for (let i = 0; i < avg.length; i++) avg[i] += p[i] / members.length;
  }
  const pred = Int32Array.from(labels, (_, i) => argmax(avg, i * C, C));
  const r = classificationReport(labels, pred, { labels: names.map((_, i) => i), targetNames: names });
  return { accuracy: r.accuracy, macroF1: r.macroAvg.f1, report: formatClassificationReport(r, 4) };
}

function classCountError(got: number, names: readonly string[]): CheckpointError {
  return new CheckpointError(`a model predicts ${got} classes, expected ${names.length} (${names.join(', ')}); an ensemble's models must share their classes. Fix: retrain it, or leave it out.`);
}

function argmax(x: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let c = 1; c < n; c++) if (x[offset + c] > x[offset + best]) best = c;
  return best;
}

export interface ClassifierTrainSetup {
  spec: TaskSpec<TrainConfig>;
  config: TrainConfig & { batchSize: number };
  model: ClassifierModel;
  train: ClassifierData;
  valid: ClassifierData;
  names: string[];
  checkpoint(): Omit<CheckpointContents, 'weights' | 'optimizer' | 'trainerState' | 'runId'>;
  embeddingModules?: () => import('../train/adversarial.js').HookableModule[];
  /** What the Trainer trains and checkpoints, when not the whole model (a PeftModel: the adapter only). */
  trainerModel?: TrainableModel;
  /** The optimizer, when the task builds its own parameter groups (fine-tuning); default makeOptimizer(model). */
  optimizer?: ReturnType<typeof makeOptimizer>;
  /** Called before each step (gradual unfreezing). */
  beforeStep?: (step: number) => void;
  augment?: (batch: { x: Tensor; y: Tensor; tokens: number }, rng: import('../tensor/rng.js').Generator) => { x: Tensor; y: Tensor; tokens: number };
  /** Knowledge distillation: a teacher reading the same inputs (src/tasks/distill.ts). */
  teacher?: { model: ClassifierModel; settings: DistillSettings };
}

/** Trains a classifier; the validation metric is 'accuracy' (max). */
export async function trainClassifier(s: ClassifierTrainSetup, run: RunOptions): Promise<TrainSummary> {
  const c = s.config;
  manualSeed(c.seed);
  const batches = new BatchIterator(new Int32Array(s.train.labels.length).fill(1), { batchSize: c.batchSize, seed: c.seed, shuffle: true });
  const optimizer = s.optimizer ?? makeOptimizer(s.model, c);
  const scheduler = makeScheduler(optimizer, c);
  type Batch = { x: Tensor; y: Tensor; tokens: number };
  const trainer = new Trainer<Batch>({
    model: s.trainerModel ?? s.model, optimizer, scheduler, batches, beforeStep: s.beforeStep,
    makeBatch: (idx) => {
      const { x, tokens } = s.train.inputs(idx);
      return { x, y: new Tensor(Int32Array.from(idx, (i) => s.train.labels[i]), [idx.length]), tokens };
    },
    augment: s.augment,
    loss: (b) => ({
      loss: studentLoss(s.model.call(b.x), b.y, s.teacher?.settings ?? null, () => s.teacher!.model.forward(b.x), { labelSmoothing: c.labelSmoothing }),
      tokens: b.tokens,
    }),
    evaluate: () => {
      // Training-sized batches whose buffers are pooled: the validation pass reuses the step's memory instead of adding its own.
      const r = scoreClassifier([{ model: s.model, data: s.valid }], s.names, { batch: c.batchSize, reuseBuffers: true });
      return { accuracy: r.accuracy, macroF1: r.macroF1 };
    },
    evaluateReusesPool: true,
    checkpoint: s.checkpoint,
    embeddingModules: s.embeddingModules,
  }, trainerOptions(c, s.spec, run));
  if (run.resume) await trainer.resume();
  const r = await trainer.fit();
  return { out: run.out, steps: r.step, seconds: r.seconds, tokensPerSecond: r.tokensPerSecond, stoppedBy: r.stoppedBy, best: r.best, metrics: r.lastEval };
}

/** One model of a ClassifierPredictor, with how it reads inputs. */
export interface ClassifierMember<I> {
  model: ClassifierModel;
  /** Validates and encodes inputs into one model batch. */
  encode(inputs: readonly unknown[]): { x: Tensor; items: I[] };
  /** Labels of the tokens of an item for attention maps (queries = keys). */
  tokenLabels(item: I): string[];
}

/**
 * A Predictor over a classifier, or over a checkpoint ensemble of classifiers that averages the
 * members' class probabilities: output = label name, alternatives = every class with its
 * probability. An ensemble's attention maps are every member's, named `member<k>.<module>`.
 */
export class ClassifierPredictor<I> implements Predictor {
  constructor(
    readonly task: string,
    readonly dir: string,
    readonly config: Readonly<Record<string, unknown>>,
    readonly names: string[],
    readonly members: readonly ClassifierMember<I>[],
  ) {
    if (members.length === 0) throw new CheckpointError(`${task}: a predictor needs at least one model, received none.`);
    for (const m of members) m.model.eval();
  }

  get model(): ClassifierModel {
    return this.members[0].model;
  }

  validateInput(input: unknown): void {
    for (const m of this.members) m.encode([input]);
  }

  predict(inputs: readonly unknown[], options: PredictOptions = {}): Prediction[] {
    const C = this.names.length;
    const K = this.members.length;
    const avg = new Float64Array(inputs.length * C);
    const attention: AttentionMap[][] = inputs.map(() => []);
    this.members.forEach((m, k) => {
      const { x, items } = m.encode(inputs);
      // eval() walks every module; a served model is in eval mode already (the constructor set it).
      if (m.model.training) m.model.eval();
      const rec = options.attention ? new AttentionRecorder(m.model as never) : null;
      // inferenceMode: the forward's temporaries go back to the pool for the next request.
      const logits = inferenceMode(() => (rec ? rec.record(() => m.model.forward(x)) : m.model.forward(x)), m.model, rec); // (B, C)
      const probs = softmax(logits, -1); // (B, C)
      if (probs.shape[1] !== C) throw classCountError(probs.shape[1], this.names);
      const p = probs.data as Float32Array;
      for (let i = 0; i < avg.length; i++) avg[i] += p[i] / K;
      if (rec) {
        items.forEach((item, b) => {
          const labels = m.tokenLabels(item);
          for (const map of rec.toAttentionMaps(b)) {
            attention[b].push({ ...map, name: K > 1 ? ensembleMapName(k, map.name) : map.name, queryTokens: labels, keyTokens: labels } as AttentionMap);
          }
        });
      }
    });
    return inputs.map((input, b) => {
      const row = Array.from(avg.subarray(b * C, (b + 1) * C));
      const order = row.map((s, c) => [s, c]).sort((u, v) => v[0] - u[0]);
      const out: Prediction = { input, output: this.names[order[0][1]], alternatives: order.map(([s, c]) => ({ output: this.names[c], score: s })) };
      if (options.attention) out.attention = attention[b];
      return out;
    });
  }
}

/**
 * Loads each directory with `load` and wraps the models as one ClassifierPredictor: a
 * checkpoint ensemble when there are several. `member` says how each model reads inputs.
 */
export async function loadClassifierPredictor<L extends { config: Record<string, unknown> }, I>(
  task: string, dir: ModelDirs, names: string[], load: (dir: string) => Promise<L>, member: (loaded: L) => ClassifierMember<I>,
): Promise<ClassifierPredictor<I>> {
  const dirs = modelDirList(dir);
  const loaded = await Promise.all(dirs.map(load));
  return new ClassifierPredictor(task, dirs.join(','), loaded[0].config, names, loaded.map(member));
}

/**
 * `heed eval` of a classifier task with fixed train/valid/test splits (digits, fashion): scores a
 * model directory, or a checkpoint ensemble of several, on the first `limit` examples of a split.
 */
export async function evaluateClassifierSplit<S>(
  task: string, dir: ModelDirs, o: { split: string; limit?: number }, names: string[],
  load: (dir: string) => Promise<{ model: unknown }>, splits: () => Record<'train' | 'valid' | 'test', S>, dataOf: (set: S) => ClassifierData,
): Promise<EvalResult> {
  const dirs = modelDirList(dir);
  if (o.split !== 'train' && o.split !== 'valid' && o.split !== 'test') throw new ValueError(`${task} eval: split '${o.split}', expected train, valid or test.`);
  const loaded = await Promise.all(dirs.map(load));
  const all = dataOf(splits()[o.split]);
  const n = o.limit && o.limit > 0 ? Math.min(o.limit, all.labels.length) : all.labels.length;
  const data: ClassifierData = { labels: all.labels.subarray(0, n), inputs: all.inputs };
  const r = scoreClassifier(loaded.map(({ model }) => ({ model: model as ClassifierModel, data })), names);
  return {
    split: o.split, metrics: { accuracy: r.accuracy, macroF1: r.macroF1, examples: n },
    report: `${task} ${o.split}: ${n} images${ensembleSuffix(dirs.length)}, accuracy ${(100 * r.accuracy).toFixed(2)}%\n${r.report}`,
  };
}
