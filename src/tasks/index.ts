/**
 * The built-in tasks, registered through the public registerTask (./registry.ts) like a user's, and
 * `loadPredictor(dir)`, which reads a model directory's config.json and hands it to its task.
 * heed train/eval/predict/serve/viz go through here.
 *
 *   const p = await loadPredictor('runs/demo');
 *   p.predict(['hello'])   // [{ input: 'hello', output: 'HH AH L OW' }]
 */
import { readModelConfig } from '../io/checkpoint.js';
import { CheckpointError, ConfigError } from '../errors.js';
import { quoteName } from '../io/json.js';
import type { Predictor } from './predictor.js';
import { modelDirList, type EvalResult, type ModelDirs, type TaskDefinition, type TaskModel } from './common.js';
import { G2P_TASK } from './g2p.js';
import { DIGITS_TASK } from './digits.js';
import { SPAM_TASK } from './spam.js';
import { MLM_TASK } from './mlm.js';
import { CLM_TASK } from './clm.js';
import { RECOMMEND_TASK } from './recommend.js';
import { FASHION_TASK } from './fashion.js';
import { CONTINUAL_TASK } from './continual.js';
import { loadHfPredictor } from './hf-pipelines.js';
import { isHfDirectory } from '../io/hf/files.js';
import { FORECAST_TASK } from './forecast.js';
import { CLASSIFY_TASK } from './classify-template.js';
import { TAG_TASK } from './tag-template.js';
import { SEQ2SEQ_TASK } from './seq2seq-template.js';
import { getTask, hasTask, registerTask, taskNames } from './registry.js';
import { loadArchitectureModel, loadHfModel } from './task-model.js';

/** The built-in tasks, one line each; the loop below registers them. */
export const TASKS: Readonly<Record<string, TaskDefinition>> = Object.freeze({
  g2p: G2P_TASK,
  digits: DIGITS_TASK,
  spam: SPAM_TASK,
  mlm: MLM_TASK,
  clm: CLM_TASK,
  recommend: RECOMMEND_TASK,
  fashion: FASHION_TASK,
  continual: CONTINUAL_TASK,
  forecast: FORECAST_TASK,
  classify: CLASSIFY_TASK,
  tag: TAG_TASK,
  seq2seq: SEQ2SEQ_TASK,
});

for (const task of Object.values(TASKS)) registerTask(task);

export { getTask, hasTask, registerTask, taskNames };
export { importTaskModules, taskModuleUrls } from './registry.js';
export { defineTask } from './define-task.js';

/**
 * Loads the model directory `dir` (its config.json names the task) as a Predictor. A list of
 * directories of one task loads a checkpoint ensemble: classifiers average their class
 * probabilities, g2p averages log-probabilities at each decoding step.
 */
export async function loadPredictor(dir: ModelDirs): Promise<Predictor> {
  const dirs = modelDirList(dir);
  if (isHfDirectory(dirs[0])) {
    // A Hugging Face checkpoint: its architecture names the pipeline task (tasks/hf-pipelines.ts).
    if (dirs.length > 1) throw new CheckpointError(`checkpoint ensemble: '${dirs[0]}' is a Hugging Face checkpoint; ensembles are of heed model directories only. Fix: serve it alone.`);
    return loadHfPredictor(dirs[0]);
  }
  return taskOf(dir).loadPredictor(dir);
}

/**
 * Loads one model directory as its bare model and a sample input for its forward (heed export,
 * heed compress): through the task's loadModel, else by config.model's architecture; a Hugging
 * Face directory through fromPretrained (tasks/task-model.ts).
 */
export async function loadTaskModel(dir: string): Promise<TaskModel> {
  if (isHfDirectory(dir)) return loadHfModel(dir);
  const task = taskOf(dir);
  return task.loadModel ? task.loadModel(dir) : loadArchitectureModel(dir, task.spec.name);
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
    throw new CheckpointError(`${dirs[0]}/config.json: task ${quoteName(task)} is not known (no registered task has that name). Valid tasks: ${taskNames().join(', ')}. ` +
      'Fix: a task of your own must be registered first (heed --task-module ./my-task.js, or import the module that calls registerTask).');
  }
  const other = tasks.findIndex((t) => t !== task);
  if (other >= 0) {
    throw new CheckpointError(`checkpoint ensemble: '${dirs[other]}' is a ${quoteName(tasks[other])} model but '${dirs[0]}' is a '${task}' model; an ensemble's models must share a task and its data.`);
  }
  return getTask(task);
}

export type { TaskDefinition, TaskModel, TrainConfig, EvalResult, TrainSummary, RunOptions, ModelDirs } from './common.js';
