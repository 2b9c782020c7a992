/**
 * What every task shares: the training hyper-parameters (optimizer, schedule, regularization,
 * loop), their schema and defaults, and the code that turns them into an optimizer, a scheduler
 * and Trainer options. A task's config = its own keys + these; CLI flags map one-to-one onto them.
 */
import type { ConfigSchema } from '../models/config.js';
import { resolveConfig } from '../models/config.js';
import { CheckpointError, ConfigError } from '../errors.js';
import { SGD } from '../train/optim/sgd.js';
import { Adam, AdamW } from '../train/optim/adam.js';
import { paramGroups, type HasNamedParameters, type NamedParams, type Optimizer } from '../train/optim/optimizer.js';
import { LRScheduler, SCHEDULE_KINDS, type ScheduleKind } from '../train/optim/schedule.js';
import type { TrainerOptions } from '../train/trainer.js';
import type { Predictor } from './predictor.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { CONFIG_FILE, type LoadedCheckpoint } from '../io/checkpoint.js';
import { withAllocationLimit } from '../tensor/alloc-limit.js';
import { applyCompression } from '../compress/record.js';

export interface TrainConfig {
  /** Seeds initialization, dropout, batching and augmentation. */
  seed: number;
  optimizer: 'adamw' | 'adam' | 'sgd';
  lr: number;
  beta1: number;
  beta2: number;
  /** SGD momentum. */
  momentum: number;
  /** Decoupled (AdamW) or L2 (Adam, SGD) decay; biases, norms and embeddings are exempt. */
  weightDecay: number;
  schedule: ScheduleKind;
  warmupSteps: number;
  /** Floor of linear/cosine decay, as a fraction of lr. */
  minLrRatio: number;
  maxSteps: number;
  gradAccum: number;
  /** Global-norm gradient clipping; 0 disables. */
  clipNorm: number;
  labelSmoothing: number;
  dropout: number;
  /** Validate (and save the best model) every this many steps; 0 = only at the end. */
  evalEvery: number;
  /** Validations without improvement before stopping; 0 = never stop early. */
  patience: number;
  logEvery: number;
  /** Stop training after this many seconds; 0 = no limit. */
  timeLimit: number;
  /** With timeLimit: decay the learning rate over the time budget instead of maxSteps. */
  scheduleByTime: boolean;
  /** Adversarial training on embedding outputs: ε (0 = off) and steps (1 = FGSM, >1 = PGD). */
  adversarialEpsilon: number;
  adversarialSteps: number;
  /** Knowledge distillation: a trained model directory of the same task to learn from ('' = none); see distill.ts. */
  distillFrom: string;
  /** Weight of the teacher's soft targets in the loss (1 − α goes to the labels). */
  distillAlpha: number;
  /** Softmax temperature of the soft targets. */
  distillTemperature: number;
}

export const TRAIN_SCHEMA: ConfigSchema<TrainConfig> = {
  seed: 'number', optimizer: ['adamw', 'adam', 'sgd'], lr: 'number', beta1: 'number', beta2: 'number', momentum: 'number',
  weightDecay: 'number', schedule: SCHEDULE_KINDS, warmupSteps: 'number', minLrRatio: 'number', maxSteps: 'number',
  gradAccum: 'number', clipNorm: 'number', labelSmoothing: 'number', dropout: 'number', evalEvery: 'number', patience: 'number',
  logEvery: 'number', timeLimit: 'number', scheduleByTime: 'boolean', adversarialEpsilon: 'number', adversarialSteps: 'number',
  distillFrom: 'string', distillAlpha: 'number', distillTemperature: 'number',
};

export const TRAIN_DEFAULTS: Readonly<TrainConfig> = Object.freeze({
  seed: 0,
  optimizer: 'adamw', // decoupled decay: the Transformer default
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.98, // the Transformer paper's β2: adapts faster than 0.999 on short runs
  momentum: 0.9,
  weightDecay: 0.01,
  schedule: 'cosine',
  warmupSteps: 200, // pre-norm models need little warmup
  minLrRatio: 0.05,
  maxSteps: 2000,
  gradAccum: 1,
  clipNorm: 1,
  labelSmoothing: 0.1, // Szegedy et al.; standard for seq2seq
  dropout: 0.1,
  evalEvery: 500,
  patience: 0,
  logEvery: 50,
  timeLimit: 0,
  scheduleByTime: false,
  adversarialEpsilon: 0,
  adversarialSteps: 1,
  distillFrom: '',
  distillAlpha: 0.5, // Hinton et al.: an even mix is a robust start
  distillTemperature: 2, // softens without flattening; Hinton et al. use 2–20, small models prefer low T
});

/** A task's full config schema: its own keys plus the training keys. */
export interface TaskSpec<C> {
  name: string;
  summary: string;
  schema: ConfigSchema<C>;
  defaults: Readonly<C>;
  /** Validation metric and direction (picks the best checkpoint). */
  metric: string;
  metricMode: 'min' | 'max';
  /** The task's train() honours distillFrom (distill.ts); other tasks refuse the key rather than ignore it. */
  distills?: boolean;
}

/** Merges user values over the task defaults, rejecting unknown keys and wrong types, then checks ranges. */
export function resolveTaskConfig<C extends TrainConfig>(spec: TaskSpec<C>, user: Record<string, unknown>): C {
  const c = resolveConfig(`${spec.name} config`, spec.schema, spec.defaults as Partial<C>, user);
  const int = (k: keyof C & string, min: number) => {
    const v = c[k] as unknown as number;
    if (!Number.isInteger(v) || v < min) throw new ConfigError(`${spec.name} config: '${k}' is ${v}, expected an integer ≥ ${min}.`);
  };
  for (const k of ['gradAccum', 'logEvery', 'adversarialSteps'] as const) int(k as keyof C & string, 1);
  // A task whose default maxSteps is 0 chooses it from its data (the file templates); others need ≥ 1.
  int('maxSteps' as keyof C & string, spec.defaults.maxSteps === 0 ? 0 : 1);
  for (const k of ['warmupSteps', 'evalEvery', 'patience', 'seed'] as const) int(k as keyof C & string, 0);
  const range = (k: keyof TrainConfig, lo: number, hi: number, loOpen = false) => {
    const v = c[k] as number;
    if (!(loOpen ? v > lo : v >= lo) || !(v <= hi)) throw new ConfigError(`${spec.name} config: '${k}' is ${v}, expected a value in ${loOpen ? '(' : '['}${lo}, ${hi}].`);
  };
  range('lr', 0, 10, true);
  range('dropout', 0, 0.99);
  range('labelSmoothing', 0, 1);
  range('weightDecay', 0, 10);
  range('minLrRatio', 0, 1);
  range('beta1', 0, 1);
  range('beta2', 0, 1);
  range('clipNorm', 0, Infinity);
  range('adversarialEpsilon', 0, Infinity);
  range('timeLimit', 0, Infinity);
  if (c.distillFrom !== '' && spec.distills !== true) {
    throw new ConfigError(`${spec.name} config: 'distillFrom' is set, but the ${spec.name} task does not train by distillation yet. Fix: leave --distill-from out (tasks that distill: g2p, spam, digits).`);
  }
  return c;
}

/**
 * The optimizer the config names, over the model's trainable parameters (decay / no-decay groups),
 * or over the given groups (fine-tuning's per-group learning rates).
 */
export function makeOptimizer(model: HasNamedParameters, c: TrainConfig, given?: { params: NamedParams; lr?: number; weightDecay: number }[]): Optimizer<Record<string, number | boolean>> {
  const groups = given ?? paramGroups(model, c.weightDecay);
  switch (c.optimizer) {
    case 'sgd':
      return new SGD(groups, { lr: c.lr, momentum: c.momentum }) as unknown as Optimizer<Record<string, number | boolean>>;
    case 'adam':
      return new Adam(groups, { lr: c.lr, beta1: c.beta1, beta2: c.beta2 }) as unknown as Optimizer<Record<string, number | boolean>>;
    default:
      return new AdamW(groups, { lr: c.lr, beta1: c.beta1, beta2: c.beta2 }) as unknown as Optimizer<Record<string, number | boolean>>;
  }
}

export function makeScheduler(opt: Optimizer<Record<string, number | boolean>>, c: TrainConfig): LRScheduler {
  return new LRScheduler(opt as never, {
    kind: c.schedule, warmupSteps: c.warmupSteps, totalSteps: Math.max(c.maxSteps, c.warmupSteps + 1), minLrRatio: c.minLrRatio,
    stepSize: Math.max(1, Math.floor(c.maxSteps / 3)), gamma: 0.3,
  });
}

export function trainerOptions(c: TrainConfig, spec: TaskSpec<TrainConfig>, run: RunOptions): TrainerOptions {
  return {
    out: run.out, runId: run.runId, maxSteps: c.maxSteps, gradAccum: c.gradAccum, clipNorm: c.clipNorm, evalEvery: c.evalEvery,
    metric: spec.metric, metricMode: spec.metricMode, patience: c.patience, logEvery: c.logEvery, seed: c.seed,
    progress: run.progress ?? 'auto', timeLimit: c.timeLimit, scheduleByTime: c.scheduleByTime,
    adversarial: c.adversarialEpsilon > 0 ? { epsilon: c.adversarialEpsilon, steps: c.adversarialSteps } : null,
  };
}

export interface RunOptions {
  out: string;
  runId: string;
  resume?: boolean;
  progress?: 'auto' | 'plain' | 'none';
  /** Where human-readable lines go (default console.log). */
  print?: (line: string) => void;
}

export interface TrainSummary {
  out: string;
  steps: number;
  seconds: number;
  tokensPerSecond: number;
  stoppedBy: string;
  best: number | null;
  metrics: Record<string, number> | null;
}

export interface EvalResult {
  split: string;
  metrics: Record<string, number>;
  /** Human-readable report (tables, examples). */
  report: string;
}

/** What the task registry holds for each task. */
export interface TaskDefinition {
  spec: TaskSpec<TrainConfig>;
  /** Trains into run.out with the given (already resolved) config. */
  train(config: Record<string, unknown>, run: RunOptions): Promise<TrainSummary>;
  /** Evaluates one model directory, or a checkpoint ensemble of several. */
  evaluate(dir: ModelDirs, options: { split: string; limit?: number; beamSize?: number }): Promise<EvalResult>;
  /** Loads one model directory, or a checkpoint ensemble of several, as a Predictor. */
  loadPredictor(dir: ModelDirs): Promise<Predictor>;
  /** Loads one model directory as its bare model, with a small real input for its forward (heed export uses it). */
  loadModel?(dir: string): Promise<TaskModel>;
}

/** A task's model, in eval mode, and arguments for its forward made from a real input (a word, a mail, an image). */
export interface TaskModel {
  model: Module;
  sampleInputs: Tensor[];
}

/** One model directory, or the directories of a checkpoint ensemble (models trained on the same data). */
export type ModelDirs = string | readonly string[];

/** 'runs/a,runs/b' (as typed on a command line) → ['runs/a', 'runs/b'], entries trimmed; empty entries are a ConfigError. */
export function splitModelDirs(text: string): string[] {
  const dirs = text.split(',').map((d) => d.trim());
  if (dirs.some((d) => d === '')) throw new ConfigError(`'${text}' holds an empty directory name; a checkpoint ensemble is written runs/a,runs/b.`);
  return dirs;
}

export function modelDirList(dir: ModelDirs): string[] {
  const dirs = typeof dir === 'string' ? [dir] : [...dir];
  if (dirs.length === 0) throw new CheckpointError('received no model directory. Give one, or several for a checkpoint ensemble.');
  return dirs;
}

/** ', ensemble of N models' for an evaluation report, '' for one model. */
export function ensembleSuffix(models: number): string {
  return models > 1 ? `, ensemble of ${models} models` : '';
}

/** config.model (the architecture) of a loaded checkpoint; a CheckpointError when it is missing. */
export function architectureOf(ck: LoadedCheckpoint): Record<string, unknown> {
  const mc = ck.config.model;
  if (mc === null || typeof mc !== 'object' || Array.isArray(mc)) {
    throw new CheckpointError(`${ck.dir}/${CONFIG_FILE}: config.model (the architecture) is missing. Fix: retrain the model.`);
  }
  return mc as Record<string, unknown>;
}

/**
 * Elements a model may allocate while it is built, beyond two per stored weight: room for
 * buffers that are not saved (sinusoidal position tables, masks). 2^22 float32 = 16 MiB.
 */
const BUILD_SLACK_ELEMENTS = 2 ** 22;

/**
 * Builds the model that config.model describes, replays config.json's compression record on it
 * (pruned heads, int8 layers: src/compress/record.ts) and loads model.safetensors into it (strict),
 * in eval mode. Failures are CheckpointErrors naming the file at fault.
 *
 * config.json is checked against the weights before the model can grow past them: the model is
 * built under an allocation limit of twice the number of stored values (plus a small slack), so a
 * config edited to `numLayers: 1e6` or `dModel: 1e9` fails at once, having allocated no more than
 * the weights file itself, instead of hanging or exhausting memory.
 */
export function buildCheckpointModel<M extends Module>(ck: LoadedCheckpoint, kind: string, fromConfig: (c: Record<string, unknown>) => M): M {
  const arch = architectureOf(ck);
  let stored = 0;
  for (const t of Object.values(ck.weights)) stored += t.size;
  const limit = 2 * stored + BUILD_SLACK_ELEMENTS;
  const tooLarge = (requested: number) =>
    new CheckpointError(
      `${ck.dir}/${CONFIG_FILE}: config.model describes a ${kind} larger than ${ck.dir}/model.safetensors: building it would allocate more than ` +
        `${requested} values, but the weights file stores ${stored}. The config was edited or belongs to another model. Fix: restore config.json or retrain.`,
    );
  let model: M;
  try {
    model = withAllocationLimit(limit, tooLarge, () => fromConfig(arch));
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    const reason = (err as Error).message;
    throw new CheckpointError(`${ck.dir}/${CONFIG_FILE}: config.model is not a valid ${kind} config: ${reason.length > 500 ? `${reason.slice(0, 500)}…` : reason}`);
  }
  applyCompression(model, ck.compression, `${ck.dir}/${CONFIG_FILE}`);
  try {
    model.loadStateDict(ck.weights, { strict: true });
  } catch (err) {
    throw new CheckpointError(`${ck.dir}/model.safetensors does not match ${ck.dir}/${CONFIG_FILE}: ${(err as Error).message}`);
  }
  model.eval();
  return model;
}
