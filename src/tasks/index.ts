/**
 * The task registry: every trainable task by name, and `loadPredictor(dir)`, which reads a model
 * directory's config.json and hands it to its task. heed train/eval/predict/serve/viz go through here.
 *
 *   const p = await loadPredictor('runs/demo');
 *   p.predict(['hello'])   // [{ input: 'hello', output: 'HH AH L OW' }]
 */
import '../ops/methods.js';
import { readModelConfig } from '../io/checkpoint.js';
import { CheckpointError } from '../errors.js';
import type { Predictor } from './predictor.js';
import type { TaskDefinition } from './common.js';
import { G2P_TASK, loadG2PPredictor } from './g2p.js';
import { DIGITS_TASK } from './digits.js';
import { SPAM_TASK } from './spam.js';

export const TASKS: Readonly<Record<string, TaskDefinition>> = Object.freeze({
  g2p: G2P_TASK,
  digits: DIGITS_TASK,
  spam: SPAM_TASK,
});

export function getTask(name: string): TaskDefinition {
  const t = TASKS[name];
  if (t === undefined) throw new CheckpointError(`unknown task '${name}'. Valid tasks: ${Object.keys(TASKS).join(', ')}.`);
  return t;
}

/**
 * Loads the model directory `dir` (its config.json names the task) as a Predictor. A list of
 * directories loads an ensemble that averages their log-probabilities (tasks that support it: g2p).
 */
export async function loadPredictor(dir: string | readonly string[]): Promise<Predictor> {
  const dirs = typeof dir === 'string' ? [dir] : [...dir];
  if (dirs.length === 0) throw new CheckpointError('loadPredictor: received no model directory.');
  const task = readModelConfig(dirs[0]).task;
  if (!(task in TASKS)) {
    throw new CheckpointError(`${dirs[0]}/config.json: task '${task}' is not known to this version of heed. Valid tasks: ${Object.keys(TASKS).join(', ')}.`);
  }
  if (dirs.length > 1) {
    if (task !== 'g2p') throw new CheckpointError(`loadPredictor: checkpoint ensembles are supported for g2p only; '${dirs[0]}' is a '${task}' model.`);
    return loadG2PPredictor(dirs);
  }
  return TASKS[task].loadPredictor(dirs[0]);
}

export type { TaskDefinition, TrainConfig, EvalResult, TrainSummary, RunOptions } from './common.js';
