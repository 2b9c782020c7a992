/**
 * Checkpoint directories. A model is a directory:
 *
 *   config.json            { format: 'heed.model', version: 1, task, runId, heedVersion, config, files }
 *                          `config` holds the task's whole config (architecture + hyper-parameters);
 *                          `files` maps roles to the other files, e.g. { srcVocab: 'graphemes.vocab.json' }.
 *   model.safetensors      float32 weights; dotted names = module paths (Module.stateDict keys)
 *   <vocabulary files>     named in config.files (heed.vocab JSON)
 *   optimizer.safetensors  optional: optimizer buffers; metadata holds groups and step counts
 *   trainer_state.json     optional: step, epoch, RNG state, batch-iterator state, best metric, schedule
 *
 * Saving is atomic: everything is written to a temporary sibling directory, flushed, and renamed
 * over the target (the old directory is moved aside first and removed after). A crash leaves the old
 * checkpoint or the new one. Loading validates every file and throws CheckpointError naming the file
 * and the fix; it never executes anything from the directory.
 *
 * `runId` identifies the training run that made a directory. Saving into a directory that holds a
 * different run's model is refused unless `overwrite` is set (see assertWritableOut).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Tensor } from '../tensor/tensor.js';
import { readSafetensors, writeSafetensors, type RawTensor } from './safetensors.js';
import { CheckpointError } from '../errors.js';
import { VERSION } from '../version.js';
import type { OptimizerStateDict } from './optimizer-state.js';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const TRAINER_STATE_FILE = 'trainer_state.json';

export interface ModelConfigFile {
  format: 'heed.model';
  version: 1;
  task: string;
  runId: string;
  heedVersion: string;
  /** The task's config: architecture and hyper-parameters. */
  config: Record<string, unknown>;
  /** Role → file name inside the directory (vocabularies, tokenizer). */
  files: Record<string, string>;
}

export interface CheckpointContents {
  task: string;
  runId: string;
  config: Record<string, unknown>;
  /** Weights by dotted name (float32). */
  weights: Record<string, Tensor>;
  /** Extra files: role → file name → contents (JSON-serialisable objects are written as JSON). */
  files?: Record<string, { name: string; json: unknown }>;
  optimizer?: OptimizerStateDict;
  trainerState?: Record<string, unknown>;
}

export interface LoadedCheckpoint {
  dir: string;
  task: string;
  runId: string;
  config: Record<string, unknown>;
  /** config.files resolved: role → absolute path. */
  files: Record<string, string>;
  weights: Record<string, Tensor>;
}

/** A short random id for a new training run. */
export function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(4).toString('hex')}`;
}

function rawF32(t: Tensor): RawTensor {
  return { dtype: 'F32', shape: [...t.shape], data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>) };
}

/** Saves a checkpoint directory atomically (temporary sibling directory + rename). */
export async function saveCheckpoint(dir: string, c: CheckpointContents): Promise<void> {
  const target = resolve(dir);
  await mkdir(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp);
  try {
    const files: Record<string, string> = {};
    for (const [role, f] of Object.entries(c.files ?? {})) {
      if (f.name.includes('/') || f.name.startsWith('.')) throw new CheckpointError(`saveCheckpoint: file name '${f.name}' for '${role}' must be a plain file name.`);
      files[role] = f.name;
      await writeFile(join(tmp, f.name), JSON.stringify(f.json, null, 1) + '\n');
    }
    const weights: Record<string, RawTensor> = {};
    for (const [name, t] of Object.entries(c.weights)) weights[name] = rawF32(t);
    await writeSafetensors(join(tmp, WEIGHTS_FILE), weights, { format: 'pt', heed: VERSION, task: c.task });
    if (c.optimizer !== undefined) {
      const bufs: Record<string, RawTensor> = {};
      for (const [k, b] of Object.entries(c.optimizer.buffers)) bufs[k] = { dtype: 'F32', shape: b.shape, data: b.data };
      await writeSafetensors(join(tmp, OPTIMIZER_FILE), bufs, {
        paramGroups: JSON.stringify(c.optimizer.paramGroups),
        steps: JSON.stringify(c.optimizer.steps),
      });
    }
    if (c.trainerState !== undefined) await writeFile(join(tmp, TRAINER_STATE_FILE), JSON.stringify(c.trainerState) + '\n');
    const cfg: ModelConfigFile = { format: 'heed.model', version: 1, task: c.task, runId: c.runId, heedVersion: VERSION, config: c.config, files };
    await writeFile(join(tmp, CONFIG_FILE), JSON.stringify(cfg, null, 2) + '\n');
    // Swap: old → aside, tmp → target, remove aside.
    let aside: string | null = null;
    if (existsSync(target)) {
      aside = `${tmp}.old`;
      await rename(target, aside);
    }
    await rename(tmp, target);
    if (aside !== null) await rm(aside, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CheckpointError(`${path}: cannot read the ${what} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Fix: point to a directory written by 'heed train', or retrain.`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(`${path}: the ${what} is not valid JSON (${(err as Error).message}). The file is corrupt; retrain or restore it.`);
  }
}

/** Reads and checks config.json only (cheap; used to route a directory to its task). */
export function readModelConfig(dir: string): ModelConfigFile {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CheckpointError(`'${dir}' is not a model directory (it does not exist or is a file). Fix: pass the --out directory of 'heed train' (for example ./runs/demo).`);
  }
  const path = join(dir, CONFIG_FILE);
  if (!existsSync(path)) {
    throw new CheckpointError(`${path}: missing. '${dir}' is not a heed model directory (expected ${CONFIG_FILE} and ${WEIGHTS_FILE}). Fix: pass the --out directory of 'heed train'.`);
  }
  const j = readJson(path, 'model config') as Partial<ModelConfigFile> | null;
  const bad = (what: string): never => {
    throw new CheckpointError(`${path}: ${what} Fix: this file was not written by heed or was edited; retrain or restore it.`);
  };
  if (j === null || typeof j !== 'object' || Array.isArray(j)) return bad('expected a JSON object.');
  if (j.format !== 'heed.model') bad(`format is ${JSON.stringify(j.format)}, expected "heed.model".`);
  if (j.version !== 1) bad(`version is ${JSON.stringify(j.version)}, expected 1.`);
  if (typeof j.task !== 'string' || j.task === '') bad(`task is ${JSON.stringify(j.task)}, expected a task name such as "g2p".`);
  if (j.config === null || typeof j.config !== 'object' || Array.isArray(j.config)) bad('config must be an object.');
  if (j.files === null || typeof j.files !== 'object' || Array.isArray(j.files)) bad('files must be an object.');
  return j as ModelConfigFile;
}

/**
 * Loads and validates a model directory: config.json, model.safetensors (float32 only) and the
 * files config.json names. `expectedTask` rejects a directory trained for another task.
 */
export async function loadCheckpoint(dir: string, expectedTask?: string): Promise<LoadedCheckpoint> {
  const cfg = readModelConfig(dir);
  if (expectedTask !== undefined && cfg.task !== expectedTask) {
    throw new CheckpointError(`${join(dir, CONFIG_FILE)}: this is a '${cfg.task}' model, expected a '${expectedTask}' model. Fix: use a directory trained with 'heed train ${expectedTask}', or run the '${cfg.task}' task on it.`);
  }
  const files: Record<string, string> = {};
  for (const [role, name] of Object.entries(cfg.files)) {
    const p = join(dir, String(name));
    if (typeof name !== 'string' || name.includes('/') || !existsSync(p)) {
      throw new CheckpointError(`${p}: missing (config.json names it as the '${role}' file). Fix: restore the file or retrain the model.`);
    }
    files[role] = p;
  }
  const wpath = join(dir, WEIGHTS_FILE);
  if (!existsSync(wpath)) throw new CheckpointError(`${wpath}: missing. Fix: restore the weights file or retrain the model.`);
  const st = await readSafetensors(wpath);
  const weights: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(st.tensors)) {
    if (t.dtype !== 'F32') {
      throw new CheckpointError(`${wpath}: tensor '${name}' has dtype ${t.dtype}, expected F32 (heed stores float32 weights). Fix: convert the checkpoint to float32 or retrain.`);
    }
    weights[name] = new Tensor(t.data as Float32Array, t.shape);
  }
  return { dir, task: cfg.task, runId: cfg.runId, config: cfg.config, files, weights };
}

/** Loads the optimizer state saved beside the weights. */
export async function loadOptimizerState(dir: string): Promise<OptimizerStateDict> {
  const path = join(dir, OPTIMIZER_FILE);
  if (!existsSync(path)) throw new CheckpointError(`${path}: missing; the directory holds no optimizer state to resume from. Fix: resume from the run's 'last' checkpoint, or train without --resume.`);
  const st = await readSafetensors(path);
  let paramGroups: OptimizerStateDict['paramGroups'];
  let steps: OptimizerStateDict['steps'];
  try {
    paramGroups = JSON.parse(st.metadata.paramGroups);
    steps = JSON.parse(st.metadata.steps);
  } catch {
    throw new CheckpointError(`${path}: metadata 'paramGroups'/'steps' missing or not JSON. The file is corrupt; train without --resume.`);
  }
  const buffers: OptimizerStateDict['buffers'] = {};
  for (const [k, t] of Object.entries(st.tensors)) {
    if (t.dtype !== 'F32') throw new CheckpointError(`${path}: tensor '${k}' has dtype ${t.dtype}, expected F32.`);
    buffers[k] = { shape: t.shape, data: t.data as Float32Array };
  }
  return { paramGroups, buffers, steps };
}

export async function loadTrainerState(dir: string): Promise<Record<string, unknown>> {
  const path = join(dir, TRAINER_STATE_FILE);
  const text = await readFile(path, 'utf8').catch(() => {
    throw new CheckpointError(`${path}: missing; nothing to resume from. Fix: train without --resume.`);
  });
  try {
    const j = JSON.parse(text);
    if (j === null || typeof j !== 'object') throw new Error('not an object');
    return j;
  } catch (err) {
    throw new CheckpointError(`${path}: not valid JSON (${(err as Error).message}). The file is corrupt; train without --resume.`);
  }
}

/** Files a training run writes into its --out directory; a directory holding only these is ours. */
const RUN_FILES = new Set([CONFIG_FILE, WEIGHTS_FILE, OPTIMIZER_FILE, TRAINER_STATE_FILE, 'metrics.jsonl', 'last']);

/**
 * Checks that a training run may write to `out`:
 *   - a new or empty directory is fine;
 *   - a directory holding this run's own model (same runId) is fine (resume);
 *   - a directory holding another model is refused unless `overwrite`, then cleared;
 *   - a non-empty directory that is not a heed run is always refused (we never delete foreign files).
 */
export async function prepareOutDir(out: string, options: { overwrite?: boolean; runId?: string; flag?: string } = {}): Promise<void> {
  const flag = options.flag ?? '--overwrite';
  if (!existsSync(out)) {
    await mkdir(out, { recursive: true });
    return;
  }
  if (!statSync(out).isDirectory()) throw new CheckpointError(`--out '${out}' is a file, expected a directory. Fix: choose another --out path.`);
  const entries = readdirSync(out).filter((e) => !e.startsWith('.'));
  if (entries.length === 0) return;
  const hasConfig = existsSync(join(out, CONFIG_FILE)) || existsSync(join(out, 'last', CONFIG_FILE));
  const ours = (e: string) => RUN_FILES.has(e) || e.endsWith('.vocab.json');
  if (!hasConfig && !entries.every(ours)) {
    throw new CheckpointError(`--out '${out}' is not empty and does not hold a heed model (found ${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', ...' : ''}). heed never deletes files it did not write. Fix: choose a new or empty --out directory.`);
  }
  const cfgDir = existsSync(join(out, CONFIG_FILE)) ? out : join(out, 'last');
  let existing: ModelConfigFile | null = null;
  try {
    existing = readModelConfig(cfgDir);
  } catch {
    existing = null;
  }
  if (existing !== null && options.runId !== undefined && existing.runId === options.runId) return;
  if (!options.overwrite) {
    const what = existing ? `a '${existing.task}' model from run ${existing.runId}` : 'a model';
    throw new CheckpointError(`--out '${out}' already holds ${what}; refusing to replace it. Fix: pass ${flag} to replace it, --resume to continue that run, or choose another --out directory.`);
  }
  const foreign = entries.filter((e) => !ours(e));
  if (foreign.length > 0) {
    throw new CheckpointError(`--out '${out}' holds files heed did not write (${foreign.slice(0, 5).join(', ')}); refusing to clear it even with ${flag}. Fix: choose a new or empty --out directory.`);
  }
  for (const e of entries) await rm(join(out, e), { recursive: true, force: true });
}
