/**
 * compressModelDir: a trained model directory → a compressed copy in a new directory, for any
 * task (what `heed compress` runs). The model is loaded through its task's Predictor (so every
 * task, and a model compressed before, loads as it serves), then in order:
 *   1. magnitude pruning of the Linear weights to `sparsity` (optional; no fine-tuning here);
 *   2. dynamic int8 quantization of every Linear (`quantize: 'int8'`, optional);
 *   3. saved with the float weights stored as float32, float16 or bfloat16 (`weights`).
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
import { magnitudePrune } from '../compress/magnitude-prune.js';
import { compressionOf } from '../compress/record.js';
import { CheckpointError, ConfigError, NotImplementedError } from '../errors.js';
import { getTask } from './index.js';

export interface CompressOptions {
  /** 'int8': dynamic int8 quantization of every Linear layer. */
  quantize?: 'int8';
  /** Storage dtype of the float weights (default: the input's). */
  weights?: WeightsDtype;
  /** Magnitude-prune this fraction of the Linear weights (global), before quantizing. */
  sparsity?: number;
}

export interface CompressResult {
  out: string;
  task: string;
  /** Bytes of model.safetensors before and after. */
  bytesBefore: number;
  bytesAfter: number;
  quantizedModules: number;
  weights: WeightsDtype;
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
  if (options.quantize !== undefined && options.quantize !== 'int8') throw new ConfigError(`heed compress: --quantize '${String(options.quantize)}', expected int8.`);
  if (options.weights !== undefined && !WEIGHTS_DTYPES.includes(options.weights)) throw new ConfigError(`heed compress: weights '${String(options.weights)}', expected one of ${WEIGHTS_DTYPES.join(', ')}.`);
  if (options.sparsity !== undefined && !(options.sparsity >= 0 && options.sparsity < 1)) throw new ConfigError(`heed compress: --sparsity ${options.sparsity}, expected a fraction in [0, 1).`);
  if (options.quantize === undefined && options.weights === undefined && options.sparsity === undefined) {
    throw new ConfigError('heed compress: nothing to do. Fix: pass --quantize int8, --weights fp16|bf16 and/or --sparsity <fraction>.');
  }
  const cfg = readModelConfig(dir);
  checkOut(dir, out);
  const predictor = await getTask(cfg.task).loadPredictor(dir);
  const model = (predictor as { model?: unknown }).model; // the task predictors (classifier, g2p) expose the model they run
  if (!(model instanceof Module)) throw new NotImplementedError(`heed compress: the '${cfg.task}' task's predictor does not expose its model, so it cannot be compressed yet.`);
  if (options.quantize !== undefined && cfg.compression?.quantized) {
    throw new ConfigError(`heed compress: '${dir}' is already quantized (${cfg.compression.quantized.modules.length} int8 layers); quantizing twice would compound the rounding. Fix: compress the fp32 model it came from.`);
  }
  let sparsity = cfg.compression?.sparsity;
  if (options.sparsity !== undefined) sparsity = magnitudePrune(model, { sparsity: options.sparsity }).sparsity;
  const q = options.quantize === 'int8' ? quantizeDynamic(model) : null;
  const weights = options.weights ?? cfg.compression?.weightsDtype ?? 'float32';
  const files = Object.fromEntries(Object.entries(cfg.files).map(([role, name]) => [role, { name, copyFrom: join(dir, name) }]));
  await saveCheckpoint(out, {
    task: cfg.task, runId: cfg.runId, config: cfg.config, weights: model.stateDict(), weightsDtype: weights, files,
    compression: { ...compressionOf(model), ...(sparsity !== undefined ? { sparsity } : {}) },
  });
  return {
    out, task: cfg.task, weights, quantizedModules: q?.modules.length ?? cfg.compression?.quantized?.modules.length ?? 0,
    bytesBefore: statSync(join(dir, WEIGHTS_FILE)).size, bytesAfter: statSync(join(out, WEIGHTS_FILE)).size,
  };
}
