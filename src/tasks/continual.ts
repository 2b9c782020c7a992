/**
 * Continual learning on Split Fashion-MNIST: the ten classes arrive as five tasks of two
 * (`taskOrder`, default "0,1;2,3;4,5;6,7;8,9"), one after another, and the model must not forget
 * the earlier ones. Two settings (van de Ven & Tolias 2019):
 *
 *   task      task-incremental: the task is known at test time, so a prediction picks among that
 *             task's classes only
 *   class     class-incremental: a prediction picks among every class seen so far (the hard one)
 *
 * Methods (src/train/continual/, public as heed.continual):
 *   finetune  train on each task in turn (the lower bound)
 *   replay    experience replay: every batch adds as many examples drawn from a reservoir buffer
 *             of `bufferSize` past examples
 *   ace       ER-ACE: replay with the asymmetric cross-entropy (src/train/continual/ace.ts): in the
 *             class-incremental setting the new examples are scored over the current task's
 *             classes only, the replayed ones over every seen class; the buffer takes each task's
 *             examples as the task starts (as a stream would), so it replays the current task too
 *   ewc       online EWC: a (λ/2)·F·(θ − θ*)² penalty from a running diagonal Fisher
 *   lwf       learning without forgetting: soft-target distillation on the old classes from the
 *             model as it was before the task
 *   joint     one model trained on all tasks' data at once (the upper bound), same total steps
 *
 * Each task trains `maxSteps` steps with a fresh optimizer and learning-rate schedule. After each
 * task the model is scored on every task's examples of `evalSplit` (valid to tune, test to
 * report), giving the accuracy matrix R[i][j]; the summary (average accuracy, forgetting,
 * backward transfer) and R are printed and saved as continual_results.json beside the model.
 *
 * Letters: B batch, C = 10 classes, T tasks.
 */
import { CnnClassifier, CNN_ATTENTION, type CnnAttention } from '../models/cnn.js';
import { loadFashionMnist, fashionBatch, FASHION_CLASSES, FASHION_PIXELS, FASHION_SIDE, type ImageSet } from '../data/fashion-mnist.js';
import { shiftImages, flipImages } from '../data/image-augment.js';
import { Tensor } from '../tensor/tensor.js';
import { Generator, manualSeed } from '../tensor/rng.js';
import { add, mul, crossEntropy } from '../ops/index.js'; // the barrel: it installs loss.backward()
import { noGrad } from '../autograd/mode.js';
import { clipGradNorm } from '../train/optim/clip.js';
import { ReservoirBuffer } from '../train/continual/reservoir.js';
import { OnlineEWC } from '../train/continual/ewc.js';
import { softTargetLoss } from '../train/continual/distill.js';
import { asymmetricCrossEntropy } from '../train/continual/ace.js';
import { continualMetrics, type ContinualSummary } from '../train/continual/metrics.js';
import { saveCheckpoint, loadCheckpoint } from '../io/checkpoint.js';
import { ConfigError, ValueError } from '../errors.js';
import type { ConfigSchema } from '../models/config.js';
import { loadImageClassifierPredictor } from './fashion.js';
import {
  TRAIN_SCHEMA, TRAIN_DEFAULTS, buildCheckpointModel, makeOptimizer, makeScheduler, modelDirList, resolveTaskConfig,
  type ModelDirs, type TrainConfig, type TaskSpec, type TaskDefinition, type RunOptions, type EvalResult, type TrainSummary,
} from './common.js';

export const CONTINUAL_METHODS = ['finetune', 'replay', 'ace', 'ewc', 'lwf', 'joint'] as const;
export const CONTINUAL_SETTINGS = ['class', 'task'] as const;

export interface ContinualConfig extends TrainConfig {
  method: (typeof CONTINUAL_METHODS)[number];
  setting: (typeof CONTINUAL_SETTINGS)[number];
  /** Tasks separated by ';', each a comma-separated list of class ids 0..9. */
  taskOrder: string;
  batchSize: number;
  /** replay, ace: examples kept in the reservoir buffer. */
  bufferSize: number;
  /** ewc: penalty strength λ, running-Fisher decay γ, samples per Fisher estimate. */
  ewcLambda: number;
  ewcGamma: number;
  fisherSamples: number;
  /** lwf: weight of the distillation term and its temperature. */
  lwfAlpha: number;
  temperature: number;
  /** The split every task is scored on after each task: valid (to tune) or test (to report). */
  evalSplit: 'valid' | 'test';
  /** CNN size and attention (src/models/cnn.ts). */
  width: number;
  depth: number;
  attention: CnnAttention;
  augmentShift: number;
  /** Use only the first n training images of each task (0 = all); for quick runs and tests. */
  trainLimit: number;
}

export const CONTINUAL_SCHEMA: ConfigSchema<ContinualConfig> = {
  ...TRAIN_SCHEMA,
  method: CONTINUAL_METHODS, setting: CONTINUAL_SETTINGS, taskOrder: 'string', batchSize: 'number', bufferSize: 'number',
  ewcLambda: 'number', ewcGamma: 'number', fisherSamples: 'number', lwfAlpha: 'number', temperature: 'number', evalSplit: ['valid', 'test'],
  width: 'number', depth: 'number', attention: CNN_ATTENTION, augmentShift: 'number', trainLimit: 'number',
};

export const CONTINUAL_DEFAULTS: Readonly<ContinualConfig> = Object.freeze({
  ...TRAIN_DEFAULTS,
  method: 'ace', // the best class-incremental method here (BENCHMARKS.md)
  setting: 'class',
  taskOrder: '0,1;2,3;4,5;6,7;8,9',
  batchSize: 64,
  bufferSize: 1000,
  ewcLambda: 1000,
  ewcGamma: 1,
  fisherSamples: 200,
  lwfAlpha: 1,
  temperature: 2,
  evalSplit: 'valid',
  width: 16,
  depth: 2,
  attention: 'se',
  augmentShift: 1,
  trainLimit: 0,
  lr: 2e-3,
  warmupSteps: 20,
  weightDecay: 0.01,
  labelSmoothing: 0,
  dropout: 0.1,
  maxSteps: 300, // per task
  logEvery: 50,
});

const SPEC: TaskSpec<ContinualConfig> = {
  name: 'continual', summary: 'Split Fashion-MNIST continual learning (finetune, replay, ER-ACE, EWC, LwF, joint); metric average accuracy',
  schema: CONTINUAL_SCHEMA, defaults: CONTINUAL_DEFAULTS, metric: 'averageAccuracy', metricMode: 'max',
};

const C = FASHION_CLASSES.length;

/** Parses "0,1;2,3;..." into class lists; unknown or repeated classes are ConfigErrors. */
export function parseTaskOrder(order: string): number[][] {
  const tasks = order.split(';').map((t) => t.trim()).filter((t) => t !== '');
  if (tasks.length === 0) throw new ConfigError(`continual: taskOrder '${order}' names no task. Expected tasks separated by ';', each a comma-separated list of classes, e.g. "0,1;2,3".`);
  const seen = new Set<number>();
  return tasks.map((t, i) => t.split(',').map((s) => {
    const c = Number(s.trim());
    if (!Number.isInteger(c) || c < 0 || c >= C || s.trim() === '') {
      throw new ConfigError(`continual: taskOrder task ${i + 1} names class '${s.trim()}', which is unknown; expected class ids 0..${C - 1} (${FASHION_CLASSES.map((n, k) => `${k} ${n}`).join(', ')}).`);
    }
    if (seen.has(c)) throw new ConfigError(`continual: taskOrder names class ${c} twice; each class belongs to one task.`);
    seen.add(c);
    return c;
  }));
}

/** Row indices of `set` whose label is one of `classes`, in file order. */
function rowsOf(set: ImageSet, classes: readonly number[]): Int32Array {
  const want = new Set(classes), rows: number[] = [];
  set.labels.forEach((l, i) => want.has(l) && rows.push(i));
  return Int32Array.from(rows);
}

/** (B, C) additive mask: 0 on the classes each example may be predicted as, −1e9 elsewhere. */
function classMask(allowed: readonly (readonly number[])[]): Tensor {
  const m = new Float32Array(allowed.length * C).fill(-1e9);
  allowed.forEach((cs, b) => { for (const c of cs) m[b * C + c] = 0; });
  return new Tensor(m, [allowed.length, C]);
}

/** Accuracy on the examples of `classes` in `set`, predicting among `allowed` classes. */
export function scoreTask(model: CnnClassifier, set: ImageSet, classes: readonly number[], allowed: readonly number[], limit = 0): number {
  let rows = rowsOf(set, classes);
  if (limit > 0) rows = rows.subarray(0, limit);
  if (rows.length === 0) return NaN;
  model.eval();
  let correct = 0;
  noGrad(() => {
    for (let i = 0; i < rows.length; i += 256) {
      const idx = rows.subarray(i, i + 256);
      const logits = add(model.forward(fashionBatch(set, idx)), classMask(Array.from(idx, () => allowed))); // (B, C)
      const z = logits.data;
      for (let b = 0; b < idx.length; b++) {
        let best = 0;
        for (let c = 1; c < C; c++) if (z[b * C + c] > z[b * C + best]) best = c;
        if (best === set.labels[idx[b]]) correct++;
      }
    }
  });
  return correct / rows.length;
}

export interface ContinualResults {
  method: string;
  setting: string;
  tasks: number[][];
  split: string;
  /** R[i][j]: accuracy on task j after training on tasks 0..i (joint: one row, after training on all). */
  accuracy: number[][];
  summary: ContinualSummary | { finalAverageAccuracy: number };
  bufferExamples: number;
  bufferBytes: number;
  seconds: number;
}

async function train(user: Record<string, unknown>, run: RunOptions): Promise<TrainSummary> {
  const c = resolveTaskConfig(SPEC, user);
  const tasks = parseTaskOrder(c.taskOrder);
  const print = run.print ?? console.log;
  const data = loadFashionMnist();
  const evalSet = data[c.evalSplit];
  manualSeed(c.seed);
  const rng = new Generator(c.seed);
  const model = new CnnClassifier({ numClasses: C, imageSize: FASHION_SIDE, inChannels: 1, width: c.width, stages: c.depth, attention: c.attention, dropout: c.dropout });
  print(`continual: ${tasks.length} tasks [${tasks.map((t) => t.join(',')).join(' | ')}], ${c.setting}-incremental, method ${c.method}; CNN ${model.numParameters().toLocaleString('en-US')} parameters; ${c.maxSteps} steps per task`);
  const trainRows = tasks.map((t) => { const r = rowsOf(data.train, t); return c.trainLimit > 0 ? r.subarray(0, c.trainLimit) : r; });
  const taskOf = new Int32Array(C).fill(-1);
  tasks.forEach((t, i) => t.forEach((cls) => { taskOf[cls] = i; }));
  const allowedFor = (label: number, seen: readonly number[]) => (c.setting === 'task' ? tasks[taskOf[label]] : seen);
  const buffer = new ReservoirBuffer<number>(c.method === 'replay' || c.method === 'ace' ? c.bufferSize : 0, new Generator(c.seed + 1));
  const ewc = c.method === 'ewc' ? new OnlineEWC(model.namedParameters(), { lambda: c.ewcLambda, gamma: c.ewcGamma }) : null;
  const t0 = Date.now();
  const accuracy: number[][] = [];
  let steps = 0;

  /**
   * Trains `stepsTotal` steps on batches drawn from `rows` (the classes `current`), each followed by
   * as many replayed examples when the buffer holds any; `extra` adds terms to each batch's loss.
   */
  const trainPhase = (rows: Int32Array, current: readonly number[], seen: number[], stepsTotal: number, extra: (x: Tensor, logits: Tensor) => Tensor | null) => {
    const optimizer = makeOptimizer(model, { ...c, maxSteps: stepsTotal });
    const scheduler = makeScheduler(optimizer, { ...c, maxSteps: stepsTotal });
    model.train();
    for (let s = 0; s < stepsTotal; s++) {
      let idx = Array.from({ length: c.batchSize }, () => rows[rng.randint(rows.length)]);
      if (buffer.size > 0) idx = idx.concat(buffer.sample(c.batchSize));
      let x = fashionBatch(data.train, idx);
      if (c.augmentShift > 0) x = flipImages(shiftImages(x, c.augmentShift, rng), 0.5, rng);
      const labels = Int32Array.from(idx, (i) => data.train.labels[i]);
      let logits: Tensor, loss: Tensor;
      if (c.method === 'ace' && c.setting === 'class') {
        logits = model.call(x); // (B, C): ACE masks each part itself
        loss = asymmetricCrossEntropy(logits, labels, { incoming: c.batchSize, incomingClasses: current, seenClasses: seen });
      } else {
        logits = add(model.call(x), classMask(Array.from(labels, (l) => allowedFor(l, seen)))); // (B, C)
        loss = crossEntropy(logits, new Tensor(labels, [labels.length]), { labelSmoothing: c.labelSmoothing });
      }
      const more = extra(x, logits);
      if (more) loss = add(loss, more);
      if (!Number.isFinite(loss.item())) throw new ValueError(`continual: the loss became ${loss.item()} at step ${s + 1} of a task. Fix: lower --lr or --ewc-lambda.`);
      optimizer.zeroGrad();
      loss.backward();
      if (c.clipNorm > 0) clipGradNorm(model.parameters(), c.clipNorm);
      optimizer.step();
      scheduler.step();
      steps++;
      if (c.logEvery > 0 && (s + 1) % c.logEvery === 0 && run.progress !== 'none') print(`  step ${s + 1}/${stepsTotal}  loss ${loss.item().toFixed(3)}`);
    }
  };

  if (c.method === 'joint') {
    const all = Int32Array.from(trainRows.flatMap((r) => [...r]));
    const every = tasks.flat();
    trainPhase(all, every, every, c.maxSteps * tasks.length, () => null);
    const row = tasks.map((t) => scoreTask(model, evalSet, t, c.setting === 'task' ? t : every));
    accuracy.push(row);
    print(`joint: ${row.map((a) => (100 * a).toFixed(1)).join('  ')}`);
  } else {
    const seen: number[] = [];
    for (const [i, t] of tasks.entries()) {
      const oldClasses = [...seen];
      // ACE stores the stream as it arrives (Caccia et al.), so the memory holds the current task
      // too: its replayed rows are the only ones that teach old-vs-new, and need both sides.
      if (c.method === 'ace') for (const r of trainRows[i]) buffer.add(r);
      seen.push(...t);
      let teacher: CnnClassifier | null = null;
      if (c.method === 'lwf' && oldClasses.length > 0) {
        teacher = CnnClassifier.fromConfig({ ...model.toConfig() });
        teacher.loadStateDict(model.stateDict());
        teacher.eval();
      }
      trainPhase(trainRows[i], t, [...seen], c.maxSteps, (x, logits) => {
        if (ewc) return ewc.penalty();
        if (teacher) {
          const old = noGrad(() => teacher!.forward(x));
          return mul(softTargetLoss(logits, old, { temperature: c.temperature, classes: oldClasses }), c.lwfAlpha);
        }
        return null;
      });
      if (ewc) {
        const rows = trainRows[i], samples = Math.min(c.fisherSamples, rows.length);
        ewc.consolidate(samples, (k) => {
          const r = rows[Math.floor((k * rows.length) / samples)]; // spread evenly over the task's examples
          const label = data.train.labels[r];
          model.eval();
          const logits = add(model.call(fashionBatch(data.train, [r])), classMask([allowedFor(label, seen)]));
          return crossEntropy(logits, new Tensor(Int32Array.from([label]), [1]));
        });
      }
      if (c.method !== 'ace') for (const r of trainRows[i]) buffer.add(r);
      const row = tasks.map((tj, j) => (j <= i ? scoreTask(model, evalSet, tj, c.setting === 'task' ? tj : seen) : NaN));
      accuracy.push(row);
      print(`after task ${i + 1} [${t.join(',')}]: ${row.slice(0, i + 1).map((a) => (100 * a).toFixed(1)).join('  ')}  (average ${(100 * row.slice(0, i + 1).reduce((a, b) => a + b, 0) / (i + 1)).toFixed(1)}%)`);
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  const summary = c.method === 'joint'
    ? { finalAverageAccuracy: accuracy[0].reduce((a, b) => a + b, 0) / tasks.length }
    : continualMetrics(accuracy.map((row) => row.map((v) => (Number.isNaN(v) ? 0 : v))));
  const results: ContinualResults = {
    method: c.method, setting: c.setting, tasks, split: c.evalSplit, accuracy: accuracy.map((r) => r.map((v) => (Number.isNaN(v) ? -1 : v))), summary,
    bufferExamples: buffer.size, bufferBytes: buffer.size * FASHION_PIXELS, seconds,
  };
  print(`continual ${c.method} (${c.setting}-incremental) on ${c.evalSplit}: average accuracy ${(100 * summary.finalAverageAccuracy).toFixed(2)}%` +
    ('forgetting' in summary ? `, forgetting ${(100 * summary.forgetting).toFixed(2)}, BWT ${(100 * summary.backwardTransfer).toFixed(2)}` : '') +
    (buffer.capacity > 0 ? `; buffer ${buffer.size} examples (${(results.bufferBytes / 1024).toFixed(0)} KiB as uint8 pixels)` : '') + `; ${seconds.toFixed(0)} s`);
  await saveCheckpoint(run.out, {
    task: 'continual', runId: run.runId, config: { ...c, model: model.toConfig() } as Record<string, unknown>,
    weights: model.stateDict(), files: { results: { name: 'continual_results.json', json: results } },
  });
  return { out: run.out, steps, seconds, tokensPerSecond: (steps * c.batchSize) / Math.max(seconds, 1e-9), stoppedBy: 'maxSteps', best: summary.finalAverageAccuracy, metrics: { averageAccuracy: summary.finalAverageAccuracy } };
}

async function loadModel(dir: string): Promise<{ model: CnnClassifier; config: Record<string, unknown> }> {
  const ck = await loadCheckpoint(dir, 'continual');
  return { model: buildCheckpointModel(ck, 'CnnClassifier', (m) => CnnClassifier.fromConfig(m)), config: ck.config };
}

/** Scores the final model on every task of a split, in the setting it was trained in. */
async function evaluate(dir: ModelDirs, o: { split: string; limit?: number }): Promise<EvalResult> {
  const dirs = modelDirList(dir);
  if (dirs.length !== 1) throw new ValueError('continual eval: takes one model directory; checkpoint ensembles are not supported for this task.');
  if (o.split !== 'train' && o.split !== 'valid' && o.split !== 'test') throw new ValueError(`continual eval: split '${o.split}', expected train, valid or test.`);
  const { model, config } = await loadModel(dirs[0]);
  const tasks = parseTaskOrder(String(config.taskOrder));
  const set = loadFashionMnist()[o.split];
  const every = tasks.flat();
  const row = tasks.map((t) => scoreTask(model, set, t, config.setting === 'task' ? t : every, o.limit ?? 0));
  const avg = row.reduce((a, b) => a + b, 0) / row.length;
  return {
    split: o.split, metrics: { averageAccuracy: avg, ...Object.fromEntries(row.map((a, j) => [`task${j + 1}`, a])) },
    report: `continual ${o.split} (${String(config.setting)}-incremental, ${String(config.method)}): ${row.map((a, j) => `task ${j + 1} [${tasks[j].join(',')}] ${(100 * a).toFixed(2)}%`).join(', ')}; average ${(100 * avg).toFixed(2)}%`,
  };
}

export const CONTINUAL_TASK: TaskDefinition = {
  spec: SPEC as unknown as TaskSpec<TrainConfig>,
  train: train as TaskDefinition['train'],
  evaluate,
  loadPredictor: (dir) => loadImageClassifierPredictor('continual', dir, loadModel),
};
