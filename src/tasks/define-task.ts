/**
 * defineTask: a task written as data + model + loss (the public task API) becomes a TaskDefinition
 * (train, evaluate, loadPredictor) that `heed train / eval / predict / serve / viz` run like any
 * other. registerTask (./registry.ts) calls it; the file-driven templates classify and tag
 * are written this way too.
 *
 * The pieces, and when each runs:
 *   loadData(config, { meta })   train: the examples and `meta` (vocabularies, label names: JSON
 *                                saved with the model). eval: again, with the saved meta, which the
 *                                task must use so ids mean what they meant in training. At training
 *                                it may set config keys left at 0 (sizes, maxSteps) from the data's
 *                                size: the config is saved after it.
 *   buildModel(config, meta)     a Module; at load time it is rebuilt the same way, then its
 *                                weights are loaded (strict), so nothing but JSON is read from disk.
 *   lossAndMetrics(model, batch, ctx)  a batch = an array of examples → { loss, tokens?, metrics? }.
 *   evaluate?(model, examples, ctx)    corpus-level metrics (F1, BLEU); default: the batch metrics
 *                                and loss averaged over the examples.
 *   predictor(model, ctx)        { validateInput?, predict(inputs) → [{ output, alternatives? }] }.
 *   finetune?                    transfer learning (--init-from, --freeze, --peft ...; tasks/finetune.ts)
 *                                for a model whose pretrainable part sits under `backbone.*`.
 *
 * Checkpoint: config.json holds the resolved config; `meta` is task-meta.json beside the weights.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import { manualSeed } from '../tensor/rng.js';
import { noGrad } from '../autograd/mode.js';
import { BatchIterator } from '../data/batching.js';
import { Trainer } from '../train/trainer.js';
import { loadCheckpoint } from '../io/checkpoint.js';
import { readTextFileSync } from '../io/read-file.js';
import { parseUntrustedJson } from '../io/json.js';
import { ConfigError, NotImplementedError, ValueError } from '../errors.js';
import type { ConfigSchema } from '../models/config.js';
import type { AttentionMap, Prediction, PredictOptions, Predictor } from './predictor.js';
import {
  TRAIN_DEFAULTS, TRAIN_SCHEMA, buildCheckpointModel, makeOptimizer, makeScheduler, modelDirList, resolveTaskConfig, trainerOptions,
  type EvalResult, type ModelDirs, type RunOptions, type TaskDefinition, type TaskSpec, type TrainConfig, type TrainSummary,
} from './common.js';
import type { TaskModel } from './common.js';
import { sampleInputsFor } from '../compress/onnx/samples.js';
import {
  checkFinetuneConfig, exportPeftRun, isHfPretrained, isPeftRun, loadInitSource, loadPeftRun, newModuleNames, prepareFinetune, type FinetuneConfig, type FinetuneSetup, type InitSource,
} from './finetune.js';
import { exportHfRun } from './hf-finetune.js';

/** The keys every defined task has on top of its own: the training keys and the batching ones. */
export interface BatchConfig {
  /** Most examples per batch. */
  batchSize: number;
  /** Most padded tokens per batch (with `lengthOf`); 0 = no token limit. */
  maxTokens: number;
}

export type DefinedConfig<C> = C & TrainConfig & BatchConfig;

/** What a task's functions receive besides the model. */
export interface TaskContext<C, M> {
  config: DefinedConfig<C>;
  /** The JSON the task's loadData returned as `meta` (saved with the model). */
  meta: M;
  /** Prints a line for the user (console.log by default). */
  print: (line: string) => void;
  /** True inside `heed train` (evaluate may then score a subset for speed), false for eval and predict. */
  training: boolean;
}

export interface TaskData<E, M> {
  train: readonly E[];
  valid: readonly E[];
  test?: readonly E[];
  /** JSON-serialisable state to save with the model: vocabularies, label names. */
  meta?: M;
}

/** One answer of a task's predictor; `input` is added by the runner. */
export interface TaskPrediction {
  output: unknown;
  alternatives?: { output: unknown; score: number }[];
  attention?: AttentionMap[];
}

export interface TaskPredictor {
  /** Throws a ValueError naming what is wrong with an input the task cannot take. */
  validateInput?(input: unknown): void;
  predict(inputs: readonly unknown[], options: PredictOptions): TaskPrediction[];
}

/** The public task API: see the file header. C = the task's own config keys, E = an example, M = meta. */
export interface CustomTask<C extends object, E, M = null, Mod extends Module = Module> {
  name: string;
  /** One line for `heed train --help`. */
  summary?: string;
  /** Types of the task's own config keys ('number', 'boolean', 'string' or a list of allowed strings). */
  configSchema: ConfigSchema<C>;
  /** Defaults of the task's keys, and any training keys (lr, maxSteps, batchSize, ...) it sets differently. */
  defaults: C & Partial<TrainConfig & BatchConfig>;
  /** Validation metric that picks the best checkpoint (default 'loss'), and its direction (default 'min'). */
  metric?: string;
  metricMode?: 'min' | 'max';
  loadData(config: DefinedConfig<C>, saved: { meta?: M; print: (line: string) => void }): TaskData<E, M> | Promise<TaskData<E, M>>;
  buildModel(config: DefinedConfig<C>, meta: M): Mod;
  lossAndMetrics(model: Mod, batch: readonly E[], ctx: TaskContext<C, M>): { loss: Tensor; tokens?: number; metrics?: Record<string, number> };
  evaluate?(model: Mod, examples: readonly E[], ctx: TaskContext<C, M>): { metrics: Record<string, number>; report?: string };
  predictor(model: Mod, ctx: TaskContext<C, M>): TaskPredictor;
  /** Length of an example for bucketing by length and maxTokens (default: every example has length 1). */
  lengthOf?(example: E): number;
  /**
   * Transfer learning (tasks/finetune.ts), for a task whose configSchema spreads FINETUNE_SCHEMA and
   * whose model keeps its pretrainable part under `backbone.*`. With --init-from <dir>, loadData takes
   * that directory's vocabulary and sizes (loadPretrained) and buildModel builds the backbone layout;
   * defineTask then copies the directory's backbone.* weights in and applies --freeze,
   * --unfreeze-every, --body-lr-ratio and --peft (the modules outside `backbone` are new: they train
   * in full and a PEFT run saves them with its adapter). A PEFT run is loaded back over its base.
   * `peftTaskType` is the adapter's peft task_type ('TOKEN_CLS', 'SEQ_CLS').
   * A Hugging Face --init-from directory (tasks/hf-finetune.ts) needs buildModel to build that
   * architecture (a models.Bert* with the task's head); after training, the best weights are also
   * written to <out>/hf/ in its layout, with `labels(meta)` (if given) as id2label.
   */
  finetune?: { peftTaskType: string; labels?(meta: M): string[] };
}

export const BATCH_SCHEMA: ConfigSchema<BatchConfig> = { batchSize: 'number', maxTokens: 'number' };
export const BATCH_DEFAULTS: Readonly<BatchConfig> = Object.freeze({ batchSize: 32, maxTokens: 0 });

const META_FILE = 'task-meta.json';
/** Largest task-meta.json read back (vocabularies of a few hundred thousand entries). */
const META_MAX_BYTES = 64 * 2 ** 20;

/** A custom task as a TaskDefinition: see the file header. */
export function defineTask<C extends object, E, M, Mod extends Module>(task: CustomTask<C, E, M, Mod>): TaskDefinition {
  if (typeof task?.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(task.name)) {
    throw new ConfigError(`registerTask: name ${JSON.stringify(task?.name)} must be lowercase letters, digits and '-', starting with a letter (it is the CLI's task argument).`);
  }
  for (const f of ['loadData', 'buildModel', 'lossAndMetrics', 'predictor'] as const) {
    if (typeof task[f] !== 'function') throw new ConfigError(`registerTask '${task.name}': '${f}' must be a function, received ${typeof task[f]}. A task needs loadData, buildModel, lossAndMetrics and predictor.`);
  }
  const clash = Object.keys(task.configSchema ?? {}).filter((k) => Object.hasOwn(TRAIN_SCHEMA, k) || Object.hasOwn(BATCH_SCHEMA, k));
  if (clash.length > 0) throw new ConfigError(`registerTask '${task.name}': configSchema redefines training key(s) ${clash.join(', ')}; set their defaults in 'defaults' instead.`);
  const spec: TaskSpec<DefinedConfig<C>> = {
    name: task.name,
    summary: task.summary ?? `custom task ${task.name}`,
    schema: { ...TRAIN_SCHEMA, ...BATCH_SCHEMA, ...task.configSchema } as ConfigSchema<DefinedConfig<C>>,
    defaults: Object.freeze({ ...TRAIN_DEFAULTS, ...BATCH_DEFAULTS, ...task.defaults }) as DefinedConfig<C>,
    metric: task.metric ?? 'loss',
    metricMode: task.metricMode ?? 'min',
  };
  const resolve = (user: Record<string, unknown>): DefinedConfig<C> => {
    // maxSteps 0 (allowed when the task's default is 0) = chosen from the data in loadData, checked after it.
    const c = resolveTaskConfig(spec, user);
    if (!Number.isInteger(c.batchSize) || c.batchSize < 1) throw new ConfigError(`${task.name} config: 'batchSize' is ${c.batchSize}, expected an integer ≥ 1.`);
    if (!Number.isInteger(c.maxTokens) || c.maxTokens < 0) throw new ConfigError(`${task.name} config: 'maxTokens' is ${c.maxTokens}, expected an integer ≥ 0 (0 = no limit).`);
    return c;
  };

  /** Loss and batch metrics averaged over `examples`, or the task's own evaluate. */
  const score = (model: Mod, examples: readonly E[], ctx: TaskContext<C, M>): { metrics: Record<string, number>; report?: string } => {
    if (examples.length === 0) throw new ValueError(`${task.name}: no examples to evaluate. Fix: give a non-empty validation split.`);
    model.eval();
    return noGrad(() => {
      if (task.evaluate) return task.evaluate(model, examples, ctx);
      const sums: Record<string, number> = {};
      const bs = ctx.config.batchSize;
      for (let i = 0; i < examples.length; i += bs) {
        const batch = examples.slice(i, i + bs);
        const r = task.lossAndMetrics(model, batch, ctx);
        sums.loss = (sums.loss ?? 0) + r.loss.item() * batch.length;
        for (const [k, v] of Object.entries(r.metrics ?? {})) sums[k] = (sums[k] ?? 0) + v * batch.length;
      }
      const metrics: Record<string, number> = {};
      for (const [k, v] of Object.entries(sums)) metrics[k] = v / examples.length;
      return { metrics };
    });
  };

  async function train(user: Record<string, unknown>, run: RunOptions): Promise<TrainSummary> {
    const c = resolve(user);
    const print = run.print ?? console.log;
    const data = await task.loadData(c, { print });
    if (!data || !Array.isArray(data.train) || data.train.length === 0) throw new ValueError(`${task.name}: loadData returned no training examples; expected { train: [...], valid: [...] }.`);
    if (!Array.isArray(data.valid) || data.valid.length === 0) throw new ValueError(`${task.name}: loadData returned no validation examples; expected { train: [...], valid: [...] } with both non-empty.`);
    if (!(Number.isInteger(c.maxSteps) && c.maxSteps >= 1)) throw new ConfigError(`${task.name}: maxSteps is ${c.maxSteps} (0 = chosen from the data) and loadData did not choose it. Fix: pass --max-steps N.`);
    const meta = (data.meta ?? null) as M;
    const ctx: TaskContext<C, M> = { config: c, meta, print, training: true };
    manualSeed(c.seed);
    const model = task.buildModel(c, meta);
    const lengths = data.train.map((e) => (task.lengthOf ? task.lengthOf(e) : 1));
    const batches = new BatchIterator(lengths, { batchSize: c.batchSize, ...(c.maxTokens > 0 ? { maxTokens: c.maxTokens } : {}), seed: c.seed, shuffle: true });
    print(`${task.name}: ${data.train.length} training and ${data.valid.length} validation examples; ${model.constructor.name} with ${model.numParameters().toLocaleString('en-US')} parameters`);
    const ft = task.finetune ? await finetuneSetup(model, c as unknown as FinetuneConfig & TrainConfig, print) : null;
    const optimizer = ft?.optimizer ?? makeOptimizer(model, c);
    const scheduler = makeScheduler(optimizer, c);
    const trainer = new Trainer<E[]>({
      model: ft?.trainerModel ?? model, optimizer, scheduler, batches, beforeStep: ft?.beforeStep,
      makeBatch: (idx) => Array.from(idx, (i) => data.train[i]),
      loss: (batch) => {
        const r = task.lossAndMetrics(model, batch, ctx);
        return { loss: r.loss, tokens: r.tokens ?? batch.length };
      },
      evaluate: () => score(model, data.valid, ctx).metrics,
      checkpoint: () => ({
        task: task.name,
        config: { ...c, model: { definedBy: task.name } } as Record<string, unknown>,
        files: { meta: { name: META_FILE, json: { meta } } },
      }),
    }, trainerOptions(c, spec as unknown as TaskSpec<TrainConfig>, run));
    if (run.resume) await trainer.resume();
    const r = await trainer.fit();
    if (ft?.peft) await exportPeftRun(run.out, ft.peft, (c as unknown as FinetuneConfig).initFrom, task.finetune!.peftTaskType, isHfPretrained(ft.pre) ? 'hf' : 'heed');
    else if (ft && isHfPretrained(ft.pre)) await exportHfRun(run.out, model, ft.pre.tokenizer, task.finetune!.labels?.(meta) ?? null, ft.pre.config);
    return { out: run.out, steps: r.step, seconds: r.seconds, tokensPerSecond: r.tokensPerSecond, stoppedBy: r.stoppedBy, best: r.best, metrics: r.lastEval };
  }

  /** --init-from and its options applied to the freshly built model (task.finetune). */
  async function finetuneSetup(model: Mod, c: FinetuneConfig & TrainConfig, print: (line: string) => void): Promise<FinetuneSetup & { pre: InitSource | null }> {
    checkFinetuneConfig(task.name, c);
    const hasBackbone = model.namedParameters().some(([n]) => n.startsWith('backbone.'));
    if (!hasBackbone && c.freeze !== 'none') {
      throw new ConfigError(`${task.name}: --freeze ${c.freeze} freezes a pretrained backbone, and this ${model.constructor.name} built from scratch has none. Fix: give --init-from <dir>, or leave --freeze at none.`);
    }
    const pre = c.initFrom !== '' ? await loadInitSource(c.initFrom) : null;
    if (pre && !hasBackbone) {
      throw new ConfigError(`${task.name}: --init-from ${c.initFrom} was given, but the built ${model.constructor.name} has no backbone.* weights to start from (buildModel must build the backbone layout when initFrom is set).`);
    }
    return { ...prepareFinetune(task.name, model, c, pre, newModuleNames(model), print), pre };
  }

  /** The model of one directory, rebuilt from its config and meta, and its context. */
  async function load(dir: string): Promise<{ model: Mod; ctx: TaskContext<C, M> }> {
    const ck = await loadCheckpoint(dir, task.name);
    const { model: _arch, ...saved } = ck.config;
    const c = resolve(saved);
    const metaFile = parseUntrustedJson(readTextFileSync(ck.files.meta, { what: 'task meta', maxBytes: META_MAX_BYTES }), ck.files.meta, 'task meta') as { meta?: M };
    const meta = (metaFile?.meta ?? null) as M;
    // A PEFT run's weights are its adapter and new modules only: rebuilt over the base it names.
    const model = task.finetune && isPeftRun(ck.config)
      ? await loadPeftRun(task.buildModel(c, meta), dir, ck.config)
      : buildCheckpointModel(ck, `${task.name} model`, () => task.buildModel(c, meta));
    return { model, ctx: { config: c, meta, print: () => undefined, training: false } };
  }

  function single(dir: ModelDirs): string {
    const dirs = modelDirList(dir);
    if (dirs.length > 1) throw new NotImplementedError(`${task.name}: checkpoint ensembles of a task defined with registerTask are not implemented; received ${dirs.length} directories. Fix: give one model directory.`);
    return dirs[0];
  }

  async function evaluate(dir: ModelDirs, o: { split: string; limit?: number }): Promise<EvalResult> {
    const { model, ctx } = await load(single(dir));
    const data = await task.loadData(ctx.config, { meta: ctx.meta, print: () => undefined });
    if (o.split !== 'train' && o.split !== 'valid' && o.split !== 'test') throw new ValueError(`${task.name} eval: split '${o.split}', expected train, valid or test.`);
    const all = data[o.split];
    if (!all || all.length === 0) throw new ValueError(`${task.name} eval: the ${o.split} split is empty or was not given. Fix: train with --${o.split} <file>, or evaluate --split valid.`);
    const examples = o.limit && o.limit > 0 ? all.slice(0, o.limit) : all;
    const r = score(model, examples, ctx);
    const line = Object.entries(r.metrics).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`).join(', ');
    return { split: o.split, metrics: { ...r.metrics, examples: examples.length }, report: `${task.name} ${o.split}: ${examples.length} examples, ${line}${r.report ? `\n${r.report}` : ''}` };
  }

  async function loadPredictor(dir: ModelDirs): Promise<Predictor & { readonly model: Module }> {
    const d = single(dir);
    const { model, ctx } = await load(d);
    const p = task.predictor(model, ctx);
    return {
      task: task.name,
      dir: d,
      // The model predict runs, for tools that time it or run another runtime's outputs through the same decoding (bench/compress-onnx-tag.ts).
      model,
      config: ctx.config as unknown as Record<string, unknown>,
      validateInput: (input) => p.validateInput?.(input),
      predict: (inputs, options = {}) => {
        model.eval();
        const outs = noGrad(() => p.predict(inputs, options));
        if (!Array.isArray(outs) || outs.length !== inputs.length) {
          throw new ValueError(`${task.name}: predictor.predict returned ${Array.isArray(outs) ? outs.length : typeof outs} answers for ${inputs.length} inputs; expected one { output } per input.`);
        }
        return outs.map((o, i): Prediction => ({ input: inputs[i], ...o }));
      },
    };
  }

  /** The bare model (heed export / compress), with a valid sample input for its forward. */
  async function loadModel(dir: string): Promise<TaskModel> {
    const { model } = await load(dir);
    return { model, sampleInputs: sampleInputsFor(model) };
  }

  return { spec: spec as unknown as TaskSpec<TrainConfig>, train, evaluate, loadPredictor, loadModel };
}
