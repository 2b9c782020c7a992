/**
 * The task registry: every trainable task by name, and `loadPredictor(dir)`, which reads a model
 * directory's config.json and hands it to its task. heed train/eval/predict/serve/viz go through here.
 *
 *   const p = await loadPredictor('runs/demo');
 *   p.predict(['hello'])   // [{ input: 'hello', output: 'HH AH L OW' }]
 */
import { readModelConfig } from '../io/checkpoint.js';
import { CheckpointError, ConfigError } from '../errors.js';
import { quoteName } from '../io/json.js';
import type { Predictor } from './predictor.js';
import { modelDirList, type EvalResult, type ModelDirs, type TaskDefinition } from './common.js';
import { G2P_TASK } from './g2p.js';
import { DIGITS_TASK } from './digits.js';
import { SPAM_TASK } from './spam.js';
import { FASHION_TASK } from './fashion.js';
import { CONTINUAL_TASK } from './continual.js';

export const TASKS: Readonly<Record<string, TaskDefinition>> = Object.freeze({
  g2p: G2P_TASK,
  digits: DIGITS_TASK,
  spam: SPAM_TASK,
  fashion: FASHION_TASK,
  continual: CONTINUAL_TASK,
});

/**
 * Whether `name` is a registered task. An own-property check: a name from a file or the command
 * line such as 'constructor' or '__proto__' must not find Object.prototype's members.
 */
export function hasTask(name: string): boolean {
  return Object.hasOwn(TASKS, name);
}

/** The task named `name` (from the command line); a ConfigError listing the valid tasks when there is none. */
export function getTask(name: string): TaskDefinition {
  if (!hasTask(name)) throw new ConfigError(`unknown task ${quoteName(name)}. Valid tasks: ${Object.keys(TASKS).join(', ')}.`);
  return TASKS[name];
}

/**
 * Loads the model directory `dir` (its config.json names the task) as a Predictor. A list of
 * directories of one task loads a checkpoint ensemble: classifiers average their class
 * probabilities, g2p averages log-probabilities at each decoding step.
 */
export async function loadPredictor(dir: ModelDirs): Promise<Predictor> {
  return taskOf(dir).loadPredictor(dir);
}

/** Evaluates a model directory, or a checkpoint ensemble of several, on a split. */
export async function evaluate(dir: ModelDirs, options: { split: string; limit?: number; beamSize?: number }): Promise<EvalResult> {
  return taskOf(dir).evaluate(dir, options);
}

/** The task of model directories, read from their config.json; an ensemble's must agree. */
export function taskOf(dir: ModelDirs): TaskDefinition {
  const dirs = modelDirList(dir);
  const tasks = dirs.map((d) => readModelConfig(d).task);
  const task = tasks[0];
  if (!hasTask(task)) {
    throw new CheckpointError(`${dirs[0]}/config.json: task ${quoteName(task)} is not known to this version of heed. Valid tasks: ${Object.keys(TASKS).join(', ')}.`);
  }
  const other = tasks.findIndex((t) => t !== task);
  if (other >= 0) {
    throw new CheckpointError(`checkpoint ensemble: '${dirs[other]}' is a ${quoteName(tasks[other])} model but '${dirs[0]}' is a '${task}' model; an ensemble's models must share a task and its data.`);
  }
  return TASKS[task];
}

export type { TaskDefinition, TrainConfig, EvalResult, TrainSummary, RunOptions, ModelDirs } from './common.js';
