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
import { crossEntropy } from '../ops/loss.js';
import { softmax } from '../ops/softmax.js';
import { noGrad } from '../autograd/mode.js';
import { BatchIterator } from '../data/batching.js';
import { AttentionRecorder } from '../nn/attention/recorder.js';
import { classificationReport, formatClassificationReport } from '../train/metrics.js';
import { Trainer, type TrainableModel } from '../train/trainer.js';
import type { CheckpointContents } from '../io/checkpoint.js';
import type { AttentionMap, Prediction, PredictOptions, Predictor } from './predictor.js';
import {
  makeOptimizer, makeScheduler, trainerOptions, type RunOptions, type TaskSpec, type TrainConfig, type TrainSummary,
} from './common.js';

/** A model mapping a batch of inputs to (B, C) logits. */
export interface ClassifierModel extends TrainableModel {
  call(x: Tensor): Tensor;
  forward(x: Tensor): Tensor;
  numParameters(): number;
  namedModules(): [string, unknown][];
}

export interface ClassifierData {
  labels: Int32Array;
  /** Builds the (B, ...) model input for these example indices, and its token count. */
  inputs(indices: Int32Array): { x: Tensor; tokens: number };
}

/** Predicts labels for every example of `data` in batches. */
export function predictLabels(model: ClassifierModel, data: ClassifierData, batch = 128): { pred: Int32Array; probs: Float32Array[] } {
  model.eval();
  const n = data.labels.length;
  const pred = new Int32Array(n);
  const probs: Float32Array[] = [];
  noGrad(() => {
    for (let i = 0; i < n; i += batch) {
      const idx = Int32Array.from({ length: Math.min(batch, n - i) }, (_, j) => i + j);
      const p = softmax(model.forward(data.inputs(idx).x), -1); // (B, C)
      const C = p.shape[1];
      for (let b = 0; b < idx.length; b++) {
        const row = (p.data as Float32Array).slice(b * C, (b + 1) * C);
        probs.push(row);
        let best = 0;
        for (let c = 1; c < C; c++) if (row[c] > row[best]) best = c;
        pred[i + b] = best;
      }
    }
  });
  return { pred, probs };
}

export function scoreClassifier(model: ClassifierModel, data: ClassifierData, names: string[]): { accuracy: number; macroF1: number; report: string } {
  const { pred } = predictLabels(model, data);
  const labels = names.map((_, i) => i);
  const r = classificationReport(data.labels, pred, { labels, targetNames: names });
  return { accuracy: r.accuracy, macroF1: r.macroAvg.f1, report: formatClassificationReport(r, 4) };
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
  augment?: (batch: { x: Tensor; y: Tensor; tokens: number }, rng: import('../tensor/rng.js').Generator) => { x: Tensor; y: Tensor; tokens: number };
}

/** Trains a classifier; the validation metric is 'accuracy' (max). */
export async function trainClassifier(s: ClassifierTrainSetup, run: RunOptions): Promise<TrainSummary> {
  const c = s.config;
  manualSeed(c.seed);
  const batches = new BatchIterator(new Int32Array(s.train.labels.length).fill(1), { batchSize: c.batchSize, seed: c.seed, shuffle: true });
  const optimizer = makeOptimizer(s.model, c);
  const scheduler = makeScheduler(optimizer, c);
  type Batch = { x: Tensor; y: Tensor; tokens: number };
  const trainer = new Trainer<Batch>({
    model: s.model, optimizer, scheduler, batches,
    makeBatch: (idx) => {
      const { x, tokens } = s.train.inputs(idx);
      return { x, y: new Tensor(Int32Array.from(idx, (i) => s.train.labels[i]), [idx.length]), tokens };
    },
    augment: s.augment,
    loss: (b) => ({ loss: crossEntropy(s.model.call(b.x), b.y, { labelSmoothing: c.labelSmoothing }), tokens: b.tokens }),
    evaluate: () => {
      const r = scoreClassifier(s.model, s.valid, s.names);
      return { accuracy: r.accuracy, macroF1: r.macroF1 };
    },
    checkpoint: s.checkpoint,
    embeddingModules: s.embeddingModules,
  }, trainerOptions(c, s.spec, run));
  if (run.resume) await trainer.resume();
  const r = await trainer.fit();
  return { out: run.out, steps: r.step, seconds: r.seconds, tokensPerSecond: r.tokensPerSecond, stoppedBy: r.stoppedBy, best: r.best, metrics: r.lastEval };
}

/** A Predictor over a classifier: output = label name, alternatives = every class with its probability. */
export class ClassifierPredictor<I> implements Predictor {
  constructor(
    readonly task: string,
    readonly dir: string,
    readonly config: Readonly<Record<string, unknown>>,
    readonly model: ClassifierModel,
    readonly names: string[],
    /** Validates and encodes inputs into one model batch. */
    private readonly encode: (inputs: readonly unknown[]) => { x: Tensor; items: I[] },
    /** Labels of the tokens of item b for attention maps (queries = keys). */
    private readonly tokenLabels: (item: I) => string[],
  ) {}

  validateInput(input: unknown): void {
    this.encode([input]);
  }

  predict(inputs: readonly unknown[], options: PredictOptions = {}): Prediction[] {
    const { x, items } = this.encode(inputs);
    this.model.eval();
    const rec = options.attention ? new AttentionRecorder(this.model as never) : null;
    const logits = noGrad(() => (rec ? rec.record(() => this.model.forward(x)) : this.model.forward(x))); // (B, C)
    const p = softmax(logits, -1);
    const C = p.shape[1];
    return inputs.map((input, b) => {
      const row = Array.from(p.data.subarray(b * C, (b + 1) * C) as Float32Array);
      const order = row.map((s, c) => [s, c]).sort((u, v) => v[0] - u[0]);
      const out: Prediction = { input, output: this.names[order[0][1]], alternatives: order.map(([s, c]) => ({ output: this.names[c], score: s })) };
      if (rec) {
        const labels = this.tokenLabels(items[b]);
        out.attention = rec.toAttentionMaps(b).map((m) => ({ ...m, queryTokens: labels, keyTokens: labels })) as AttentionMap[];
      }
      return out;
    });
  }
}
