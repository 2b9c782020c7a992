/**
 * compressModelDir: a trained model directory → a compressed copy in a new directory, for any
 * task (what `heed compress` runs). The bare model is loaded as heed export loads it
 * (loadTaskModel: the task's loader or config.model's architecture, with any earlier compression
 * replayed), then in order:
 *   1. attention-head pruning (`pruneHeads`, optional): a fraction < 1 of all heads ranked globally,
 *      or a whole number of heads in every layer, by the data-free magnitude score (prune-heads.ts
 *      headMagnitudeImportance; the gradient score of Michel et al. needs data: heed train's pruning);
 *   2. magnitude pruning of the Linear weights to `sparsity` (optional; no fine-tuning here);
 *   3. int8 quantization of every Linear (optional): dynamic (`quantize: 'int8'`), or static
 *      (`quantize: 'int8-static'`: activation scales calibrated on the first `calibrate` validation
 *      examples, for the tasks whose validation inputs heed compress can read: spam and digits);
 *   4. saved with the float weights stored as float32, float16 or bfloat16 (`weights`).
 * A model with nothing a step applies to (no attention heads, no Linear) is a ConfigError naming
 * the model, before anything is written.
 * The copy keeps config.json (plus its compression record) and the vocabulary files byte for
 * byte; it reloads with loadPredictor and serves with `heed serve`.
 *
 * Never overwrites: `out` must not exist or be an empty directory, and differ from `dir`. The
 * write itself is atomic (saveCheckpoint), so a failure leaves no half-written directory.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Module } from '../nn/module.js';
import { WEIGHTS_FILE, WEIGHTS_DTYPES, readModelConfig, saveCheckpoint, type WeightsDtype } from '../io/checkpoint.js';
import { quantizeDynamic } from '../compress/quantize-dynamic.js';
import { quantizeStatic } from '../compress/quantize-static.js';
import { magnitudePrune } from '../compress/magnitude-prune.js';
import { headMagnitudeImportance, headsToPrune, pruneHeads, type HeadPruningPlan } from '../compress/prune-heads.js';
import { Linear } from '../nn/linear.js';
import { isHfDirectory } from '../io/hf/files.js';
import { compressionOf } from '../compress/record.js';
import { CheckpointError, ConfigError, NotImplementedError, ValueError } from '../errors.js';
import { loadTaskModel } from './index.js';
import type { ClassifierCompressionSetup } from './prune-classifier.js';

export interface CompressOptions {
  /** 'int8': dynamic int8 quantization of every Linear layer; 'int8-static': with calibrated activation scales. */
  quantize?: 'int8' | 'int8-static';
  /** int8-static: validation examples to calibrate on (default 256). */
  calibrate?: number;
  /** Storage dtype of the float weights (default: the input's). */
  weights?: WeightsDtype;
  /** Magnitude-prune this fraction of the Linear weights (global), before quantizing. */
  sparsity?: number;
  /** Remove attention heads: a fraction in (0, 1) of all heads, or a whole number ≥ 1 of heads in every layer. */
  pruneHeads?: number;
}

export interface CompressResult {
  out: string;
  task: string;
  /** Bytes of model.safetensors before and after. */
  bytesBefore: number;
  bytesAfter: number;
  quantizedModules: number;
  weights: WeightsDtype;
  /** Attention heads removed by this call. */
  headsPruned: number;
}

/** Refuses an output directory that exists with content, or is the input. */
function checkOut(dir: string, out: string): void {
  if (resolve(dir) === resolve(out)) throw new ConfigError(`heed compress: --out '${out}' is the input directory; heed compress never overwrites a model. Fix: choose a new --out directory.`);
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new CheckpointError(`--out '${out}' is a file; heed compress never overwrites. Fix: choose a new --out directory.`);
  if (readdirSync(out).length > 0) throw new CheckpointError(`--out '${out}' already exists and is not empty; heed compress never overwrites. Fix: choose a new --out directory, or remove that one yourself.`);
}

/** Compresses the model directory `dir` into the new directory `out` (see the file header). */
export async function compressModelDir(dir: string, out: string, options: CompressOptions): Promise<CompressResult> {
  if (options.quantize !== undefined && options.quantize !== 'int8' && options.quantize !== 'int8-static') throw new ConfigError(`heed compress: --quantize '${String(options.quantize)}', expected int8 or int8-static.`);
  if (options.calibrate !== undefined && (options.quantize !== 'int8-static' || !(Number.isInteger(options.calibrate) && options.calibrate > 0))) {
    throw new ConfigError(`heed compress: --calibrate ${options.calibrate}${options.quantize !== 'int8-static' ? ' without --quantize int8-static' : ''}; expected a number of validation examples ≥ 1 with --quantize int8-static (static quantization calibrates on them).`);
  }
  if (options.weights !== undefined && !WEIGHTS_DTYPES.includes(options.weights)) throw new ConfigError(`heed compress: weights '${String(options.weights)}', expected one of ${WEIGHTS_DTYPES.join(', ')}.`);
  if (options.sparsity !== undefined && !(options.sparsity >= 0 && options.sparsity < 1)) throw new ConfigError(`heed compress: --sparsity ${options.sparsity}, expected a fraction in [0, 1).`);
  if (options.pruneHeads !== undefined && !(options.pruneHeads > 0 && (options.pruneHeads < 1 || Number.isInteger(options.pruneHeads)))) {
    throw new ConfigError(`heed compress: --prune-heads ${options.pruneHeads}, expected a fraction of all heads in (0, 1) such as 0.3, or a whole number of heads to remove from every layer.`);
  }
  if (options.quantize === undefined && options.weights === undefined && options.sparsity === undefined && options.pruneHeads === undefined) {
    throw new ConfigError('heed compress: nothing to do. Fix: pass --quantize int8, --weights fp16|bf16, --sparsity <fraction> and/or --prune-heads <fraction or count>.');
  }
  if (isHfDirectory(dir)) {
    throw new ConfigError(`heed compress: '${dir}' is a Hugging Face checkpoint; heed compress writes heed model directories from heed ones. Fix: fine-tune it into a heed model directory first (heed train ... --init-from ${dir}), or export it with heed export onnx.`);
  }
  const cfg = readModelConfig(dir);
  checkOut(dir, out);
  if (options.quantize !== undefined && cfg.compression?.quantized) {
    throw new ConfigError(`heed compress: '${dir}' is already quantized (${cfg.compression.quantized.modules.length} int8 layers); quantizing twice would compound the rounding. Fix: compress the fp32 model it came from.`);
  }
  // Static quantization needs validation inputs: the task's compression setup reads them (and the model).
  const calibration = options.quantize === 'int8-static' ? await calibrationSample(cfg.task, dir, options.calibrate ?? 256) : null;
  const model = calibration?.model ?? (await loadTaskModel(dir)).model;
  const name = model.constructor.name;
  if ((options.pruneHeads !== undefined || options.sparsity !== undefined) && cfg.compression?.quantized) {
    throw new ConfigError(`heed compress: '${dir}' is quantized; pruning needs the float weights. Fix: prune the fp32 model it came from, then quantize.`);
  }
  const headsPruned = options.pruneHeads === undefined ? 0 : pruneHeadsByMagnitude(model, options.pruneHeads);
  let sparsity = cfg.compression?.sparsity;
  if (options.sparsity !== undefined) {
    if (!model.namedModules().some(([, m]) => m instanceof Linear)) throw new ConfigError(`heed compress: ${name} has no Linear layer, so --sparsity has nothing to prune.`);
    sparsity = magnitudePrune(model, { sparsity: options.sparsity }).sparsity;
  }
  let quantizedModules = cfg.compression?.quantized?.modules.length ?? 0;
  if (options.quantize !== undefined) {
    if (!model.namedModules().some(([, m]) => m instanceof Linear)) throw new ConfigError(`heed compress: ${name} has no Linear layer, so --quantize ${options.quantize} has nothing to quantize.`);
    quantizedModules = (calibration ? quantizeStatic(model, calibration.batches) : quantizeDynamic(model)).modules.length;
  }
  const weights = options.weights ?? cfg.compression?.weightsDtype ?? 'float32';
  const files = Object.fromEntries(Object.entries(cfg.files).map(([role, file]) => [role, { name: file, copyFrom: join(dir, file) }]));
  await saveCheckpoint(out, {
    task: cfg.task, runId: cfg.runId, config: cfg.config, weights: model.stateDict(), weightsDtype: weights, files,
    compression: { ...compressionOf(model), ...(sparsity !== undefined ? { sparsity } : {}) },
  });
  return {
    out, task: cfg.task, weights, quantizedModules, headsPruned,
    bytesBefore: statSync(join(dir, WEIGHTS_FILE)).size, bytesAfter: statSync(join(out, WEIGHTS_FILE)).size,
  };
}

/**
 * The model of a spam or digits directory and its first n validation inputs, in batches of 32
 * (each batch the argument list of one model.call), for static quantization's calibration.
 */
async function calibrationSample(task: string, dir: string, n: number): Promise<{ model: Module; batches: unknown[][] }> {
  const setups: Record<string, () => Promise<ClassifierCompressionSetup>> = {
    spam: async () => (await import('./spam.js')).spamCompressionSetup(dir),
    digits: async () => (await import('./digits.js')).digitsCompressionSetup(dir),
  };
  if (!Object.hasOwn(setups, task)) {
    throw new NotImplementedError(`heed compress: --quantize int8-static reads calibration inputs from the validation split of spam and digits only; '${task}' has no such reader yet. Fix: use --quantize int8 (dynamic), or quantizeStatic(model, batches) in the library with your own sample.`);
  }
  const s = await setups[task]();
  const N = Math.min(n, s.valid.labels.length), batches: unknown[][] = [];
  for (let i = 0; i < N; i += 32) batches.push([s.valid.inputs(Int32Array.from({ length: Math.min(32, N - i) }, (_, j) => i + j)).x]);
  return { model: s.model as unknown as Module, batches }; // ClassifierModel: the task models, all Modules
}

/**
 * Removes attention heads by the data-free magnitude score: `amount` < 1 is a fraction of all heads
 * (ranked globally, one head always kept per layer), a whole number is that many heads from every
 * layer (a ValueError naming the layer when it has no more than that). Returns the heads removed.
 */
function pruneHeadsByMagnitude(model: Module, amount: number): number {
  const scores = headMagnitudeImportance(model);
  let plan: HeadPruningPlan;
  if (amount < 1) plan = headsToPrune(scores, amount);
  else {
    plan = {};
    for (const [layer, s] of Object.entries(scores)) {
      if (amount >= s.length) {
        throw new ValueError(`heed compress: --prune-heads ${amount} would remove ${amount} heads from '${layer}', which has ${s.length}; at least one head must stay. Fix: remove at most ${s.length - 1} heads per layer, or give a fraction such as 0.3.`);
      }
      plan[layer] = Array.from(s, (v, h) => ({ v, h })).sort((a, b) => a.v - b.v || a.h - b.h).slice(0, amount).map((e) => e.h).sort((a, b) => a - b);
    }
  }
  return pruneHeads(model, plan);
}
