/**
 * Checkpoint directories. A model is a directory:
 *
 *   config.json            { format: 'heed.model', version: 1, task, runId, heedVersion, config, files }
 *                          `config` holds the task's whole config (architecture + hyper-parameters);
 *                          `files` maps roles to the other files, e.g. { srcVocab: 'graphemes.vocab.json' }.
 *   model.safetensors      weights; dotted names = module paths (Module.stateDict keys). F32, or F16/BF16
 *                          (weight-only storage, widened to float32 at load), plus I8 + F32 scales for
 *                          int8-quantized layers (nn.QuantizedLinear's state dict)
 *   <vocabulary files>     named in config.files (heed.vocab JSON)
 *   optimizer.safetensors  optional: optimizer buffers; metadata holds groups and step counts
 *   trainer_state.json     optional: step, epoch, RNG state, batch-iterator state, best metric, schedule
 *
 * Saving is atomic and recoverable. A save of `<parent>/<name>` goes through sibling directories
 * whose names say how far it got:
 *
 *   .<name>.tmp-<pid>-<id>   being written (incomplete)
 *   .<name>.new-<pid>-<id>   written and flushed (complete), about to replace <name>
 *   .<name>.old-<pid>-<id>   the previous <name>, moved aside (complete), removed last
 *
 * so the steps are: write tmp → rename tmp to new → rename <name> to old → rename new to <name>
 * → remove old. A process killed at any point leaves <name> or a complete copy beside it, and
 * recoverCheckpoint (run by every save and by resume) finishes the swap with the newest complete
 * copy (new, else old) and removes the leftovers.
 *
 * Loading validates every file and throws CheckpointError naming the file and the fix; it never
 * executes anything from the directory. Files are read through read-file.ts (regular files of a
 * bounded size only), weights must be finite, and names from files are looked up as own keys only.
 *
 * A compressed model (src/compress/) records in config.json's optional `compression` how it differs
 * from the architecture config.model describes (pruned heads, int8 layers, weight storage dtype), so
 * a loader builds config.model, replays those structural changes, then loads the weights.
 *
 * `runId` identifies the training run that made a directory. Saving into a directory that holds a
 * different run's model is refused unless `overwrite` is set (see assertWritableOut).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Tensor } from '../tensor/tensor.js';
import { readSafetensors, toFloat32, writeSafetensors, type RawTensor } from './safetensors.js';
import { float32ToBFloat16, float32ToFloat16 } from './float16.js';
import { FILE_LIMITS, readRegularFile, readTextFileSync } from './read-file.js';
import { writeFileDurable } from './write-file.js';
import { parseUntrustedJson, preview, quoteName } from './json.js';
import { CheckpointError, ValueError } from '../errors.js';
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
  /** Present for a compressed model: the changes to replay on config.model before loading the weights. */
  compression?: CompressionRecord;
}

/** How a compressed checkpoint differs from its architecture config (written by src/compress/). */
export interface CompressionRecord {
  /** Attention heads removed, by module path of the attention layer: indices of the original heads. */
  prunedHeads?: Record<string, number[]>;
  /** Linear layers replaced by int8 QuantizedLinear, by module path; static: each has a calibrated inputScale. */
  quantized?: { dtype: 'int8'; scheme: 'dynamic' | 'static'; modules: string[] };
  /** Storage dtype of the float weights in model.safetensors ('float32' when absent). */
  weightsDtype?: WeightsDtype;
  /** Fraction of zero weights left by magnitude pruning (informational). */
  sparsity?: number;
}

/** Float weight storage in model.safetensors: full, IEEE half, or bfloat16 (both widened at load). */
export type WeightsDtype = 'float32' | 'float16' | 'bfloat16';
export const WEIGHTS_DTYPES: readonly WeightsDtype[] = ['float32', 'float16', 'bfloat16'];

export interface CheckpointContents {
  task: string;
  runId: string;
  config: Record<string, unknown>;
  /** Weights by dotted name (float32, or int8 for quantized layers). */
  weights: Record<string, Tensor>;
  /** How the float weights are stored (default float32); compression.weightsDtype is set to match. */
  weightsDtype?: WeightsDtype;
  /** See CompressionRecord; saved in config.json. */
  compression?: CompressionRecord;
  /** Extra files: role → file name → contents (a JSON-serialisable object, or the bytes of a file to copy). */
  files?: Record<string, { name: string; json: unknown } | { name: string; copyFrom: string }>;
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
  /** Float weights widened to float32 whatever their storage dtype; int8 weights as int8. */
  weights: Record<string, Tensor>;
  /** config.json's compression record, or undefined for an uncompressed model. */
  compression?: CompressionRecord;
}

/** A short random id for a new training run. */
export function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(4).toString('hex')}`;
}

/** FP16's largest finite value: a weight beyond it would be stored as ±Infinity. */
const FLOAT16_MAX = 65504;

/**
 * A weight as stored: int8 as I8; float as F32, or narrowed to F16/BF16 (round to nearest even).
 * Narrowing refuses a weight F16 cannot hold rather than writing Infinity.
 */
function rawWeight(name: string, t: Tensor, dtype: WeightsDtype): RawTensor {
  const shape = [...t.shape];
  if (t.dtype === 'int8') return { dtype: 'I8', shape, data: t.data as Int8Array };
  const f32 = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
  if (dtype === 'float32') return { dtype: 'F32', shape, data: f32 };
  if (dtype === 'bfloat16') return { dtype: 'BF16', shape, data: float32ToBFloat16(f32) };
  for (let i = 0; i < f32.length; i++) {
    if (Math.abs(f32[i]) > FLOAT16_MAX) {
      throw new ValueError(`saveCheckpoint: weight '${name}' holds ${f32[i]} at flat index ${i}, beyond float16's range (±${FLOAT16_MAX}). Fix: store the weights as bfloat16 (same range as float32) or float32.`);
    }
  }
  return { dtype: 'F16', shape, data: float32ToFloat16(f32) };
}

/** Flushes a directory's entries (the renames in it); best effort where directories cannot be opened. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => null);
  if (fh === null) return;
  try {
    await fh.sync().catch(() => undefined);
  } finally {
    await fh.close();
  }
}

const STAGES = ['tmp', 'new', 'old'] as const;
type Stage = (typeof STAGES)[number];

function stagePath(target: string, stage: Stage): string {
  return join(dirname(target), `.${basename(target)}.${stage}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Whether a process with this id is running (and is not this one, whose saves are sequential). */
function otherProcessAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Finishes a save of `dir` that a killed process left half done, and removes stale staging
 * directories (see the file header). When `dir` is missing or a complete newer copy sits beside
 * it, the newest complete copy becomes `dir`. Directories of another live process's save are left
 * alone. Returns the path of the copy it promoted, or null.
 */
export async function recoverCheckpoint(dir: string): Promise<string | null> {
  const target = resolve(dir);
  const parent = dirname(target);
  const prefix = `.${basename(target)}.`;
  const names = await readdir(parent).catch(() => [] as string[]);
  const found: Record<Stage, { path: string; mtimeMs: number }[]> = { tmp: [], new: [], old: [] };
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    // heed 0.1 named its stages .<name>.tmp-<pid>-<id> (complete once a '.old' sibling exists) and .<name>.tmp-<pid>-<id>.old.
    const m = /^(tmp|new|old)-(\d+)-[0-9a-f]+(\.old)?$/.exec(name.slice(prefix.length));
    if (m === null || otherProcessAlive(Number(m[2]))) continue;
    let stage = m[1] as Stage;
    if (stage === 'tmp' && m[3] !== undefined) stage = 'old';
    else if (stage === 'tmp' && names.includes(`${name}.old`)) stage = 'new';
    const path = join(parent, name);
    const st = await stat(path).catch(() => null);
    if (st !== null) found[stage].push({ path, mtimeMs: st.mtimeMs });
  }
  const newest = (list: { path: string; mtimeMs: number }[]) => [...list].sort((a, b) => b.mtimeMs - a.mtimeMs)[0]?.path ?? null;
  let promoted: string | null = null;
  const complete = newest(found.new);
  if (complete !== null) {
    // A save got as far as a complete copy: finish it (this copy is newer than dir).
    if (existsSync(target)) {
      const aside = stagePath(target, 'old');
      await rename(target, aside);
      found.old.push({ path: aside, mtimeMs: 0 });
    }
    await rename(complete, target);
    promoted = complete;
  } else if (!existsSync(target)) {
    // dir is gone and only a moved-aside copy is left (heed 0.1 killed mid-swap): take it back.
    promoted = newest(found.old);
    if (promoted !== null) await rename(promoted, target);
  }
  for (const stage of STAGES) {
    for (const { path } of found[stage]) if (path !== promoted) await rm(path, { recursive: true, force: true });
  }
  if (promoted !== null) await syncDir(parent);
  return promoted;
}

/**
 * Saves a checkpoint directory atomically and recoverably (see the file header). Saves of one
 * directory must not run concurrently within a process (the Trainer awaits each).
 */
export async function saveCheckpoint(dir: string, c: CheckpointContents): Promise<void> {
  const target = resolve(dir);
  await mkdir(dirname(target), { recursive: true });
  await recoverCheckpoint(target);
  const tmp = stagePath(target, 'tmp');
  await mkdir(tmp);
  try {
    const files: Record<string, string> = {};
    for (const [role, f] of Object.entries(c.files ?? {})) {
      if (!isPlainFileName(f.name)) throw new CheckpointError(`saveCheckpoint: file name ${quoteName(f.name)} for '${role}' must be a plain file name.`);
      files[role] = f.name;
      const body = 'copyFrom' in f ? await readRegularFile(f.copyFrom, { what: `${role} file`, maxBytes: FILE_LIMITS.weights }) : JSON.stringify(f.json, null, 1) + '\n';
      await writeFileDurable(join(tmp, f.name), body);
    }
    const weightsDtype = c.weightsDtype ?? c.compression?.weightsDtype ?? 'float32';
    const weights: Record<string, RawTensor> = {};
    for (const [name, t] of Object.entries(c.weights)) weights[name] = rawWeight(name, t, weightsDtype);
    await writeSafetensors(join(tmp, WEIGHTS_FILE), weights, { format: 'pt', heed: VERSION, task: c.task });
    if (c.optimizer !== undefined) {
      const bufs: Record<string, RawTensor> = {};
      for (const [k, b] of Object.entries(c.optimizer.buffers)) bufs[k] = { dtype: 'F32', shape: b.shape, data: b.data };
      await writeSafetensors(join(tmp, OPTIMIZER_FILE), bufs, {
        paramGroups: JSON.stringify(c.optimizer.paramGroups),
        steps: JSON.stringify(c.optimizer.steps),
      });
    }
    if (c.trainerState !== undefined) await writeFileDurable(join(tmp, TRAINER_STATE_FILE), JSON.stringify(c.trainerState) + '\n');
    const cfg: ModelConfigFile = { format: 'heed.model', version: 1, task: c.task, runId: c.runId, heedVersion: VERSION, config: c.config, files };
    const compression: CompressionRecord = { ...c.compression, ...(weightsDtype !== 'float32' ? { weightsDtype } : {}) };
    if (Object.keys(compression).length > 0) cfg.compression = compression;
    await writeFileDurable(join(tmp, CONFIG_FILE), JSON.stringify(cfg, null, 2) + '\n');
    await syncDir(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  // The swap. From here on a kill leaves a complete copy that recoverCheckpoint promotes.
  const complete = stagePath(target, 'new');
  await rename(tmp, complete);
  let aside: string | null = null;
  if (existsSync(target)) {
    aside = stagePath(target, 'old');
    await rename(target, aside);
  }
  try {
    await rename(complete, target);
  } catch (err) {
    if (aside !== null) await rename(aside, target).catch(() => undefined);
    throw err;
  }
  await syncDir(dirname(target));
  if (aside !== null) await rm(aside, { recursive: true, force: true });
}

/** A file name config.json may point to: no directories, no hidden or special names. */
export function isPlainFileName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && name.length <= 255 && !/[\/\\\0]/.test(name) && !name.startsWith('.');
}

/** Reads a small JSON file of a checkpoint directory (bounded, regular file, no duplicate keys). */
function readJson(path: string, what: string, maxBytes: number): unknown {
  const text = readTextFileSync(path, { what, maxBytes });
  return parseUntrustedJson(text, path, what);
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
  const j = readJson(path, 'model config', FILE_LIMITS.config) as Partial<ModelConfigFile> | null;
  const bad = (what: string): never => {
    throw new CheckpointError(`${path}: ${what} Fix: this file was not written by heed or was edited; retrain or restore it.`);
  };
  if (j === null || typeof j !== 'object' || Array.isArray(j)) return bad('expected a JSON object.');
  if (j.format !== 'heed.model') bad(`format is ${preview(j.format)}, expected "heed.model".`);
  if (j.version !== 1) bad(`version is ${preview(j.version)}, expected 1.`);
  if (typeof j.task !== 'string' || j.task === '') bad(`task is ${preview(j.task)}, expected a task name such as "g2p".`);
  if (j.runId !== undefined && typeof j.runId !== 'string') bad(`runId is ${preview(j.runId)}, expected the id string of the training run.`);
  if (j.config === null || typeof j.config !== 'object' || Array.isArray(j.config)) bad('config must be an object.');
  if (j.files === null || typeof j.files !== 'object' || Array.isArray(j.files)) bad('files must be an object.');
  for (const [role, name] of Object.entries(j.files as Record<string, unknown>)) {
    if (!isPlainFileName(name)) bad(`files[${quoteName(role)}] is ${preview(name)}, expected a plain file name inside the directory (no '/', not hidden).`);
  }
  if (j.compression !== undefined) checkCompressionRecord(j.compression, bad);
  // Null-prototype copy: a role named 'constructor' or '__proto__' is looked up as an ordinary key.
  return { ...(j as ModelConfigFile), files: Object.assign(Object.create(null) as Record<string, string>, j.files) };
}

/** Validates config.json's compression record (untrusted: it steers how the model is rebuilt). */
function checkCompressionRecord(c: unknown, bad: (what: string) => never): void {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every((n) => typeof n === 'string' && n.length <= 1000);
  if (!isObject(c)) bad(`compression is ${preview(c)}, expected an object.`);
  const known = ['prunedHeads', 'quantized', 'weightsDtype', 'sparsity'];
  const extra = Object.keys(c).filter((k) => !known.includes(k));
  if (extra.length > 0) bad(`compression has unknown key(s) ${extra.slice(0, 5).map((k) => quoteName(k)).join(', ')}; expected ${known.join(', ')}.`);
  if (c.prunedHeads !== undefined) {
    if (!isObject(c.prunedHeads)) bad(`compression.prunedHeads is ${preview(c.prunedHeads)}, expected { "<attention module>": [head indices] }.`);
    for (const [m, heads] of Object.entries(c.prunedHeads)) {
      if (!Array.isArray(heads) || !heads.every((x) => Number.isInteger(x) && x >= 0 && x < 65536)) bad(`compression.prunedHeads[${quoteName(m)}] is ${preview(heads)}, expected a list of head indices.`);
    }
  }
  if (c.quantized !== undefined) {
    const q = c.quantized;
    if (!isObject(q) || q.dtype !== 'int8' || (q.scheme !== 'dynamic' && q.scheme !== 'static') || !isNames(q.modules)) {
      bad(`compression.quantized is ${preview(q)}, expected { "dtype": "int8", "scheme": "dynamic" or "static", "modules": [module names] }.`);
    }
  }
  if (c.weightsDtype !== undefined && !WEIGHTS_DTYPES.includes(c.weightsDtype as WeightsDtype)) bad(`compression.weightsDtype is ${preview(c.weightsDtype)}, expected one of ${WEIGHTS_DTYPES.join(', ')}.`);
  if (c.sparsity !== undefined && !(typeof c.sparsity === 'number' && c.sparsity >= 0 && c.sparsity <= 1)) bad(`compression.sparsity is ${preview(c.sparsity)}, expected a fraction in [0, 1].`);
}

/**
 * Throws a CheckpointError naming the tensor and the first bad element unless every value is finite.
 * NaN or ±Inf weights would load and serve confident wrong answers.
 */
function assertFiniteTensor(path: string, name: string, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new CheckpointError(`${path}: tensor ${quoteName(name)} holds ${data[i]} at flat index ${i}; weights must be finite. The file is corrupt or training diverged; restore it or retrain.`);
    }
  }
}

/**
 * Reads a safetensors file of float32 tensors (weights or optimizer buffers): a regular file of
 * bounded size, every tensor F32 and finite. The result has a null prototype.
 */
async function readFloat32Tensors(path: string, what: string): Promise<{ tensors: Record<string, RawTensor & { data: Float32Array }>; metadata: Record<string, string> }> {
  const st = await readSafetensors(path);
  for (const [name, t] of Object.entries(st.tensors)) {
    if (t.dtype !== 'F32') {
      throw new CheckpointError(`${path}: tensor ${quoteName(name)} has dtype ${t.dtype}, expected F32 (heed stores float32 ${what}). Fix: convert the checkpoint to float32 or retrain.`);
    }
    assertFiniteTensor(path, name, t.data as Float32Array);
  }
  return st as { tensors: Record<string, RawTensor & { data: Float32Array }>; metadata: Record<string, string> };
}

/**
 * Loads and validates a model directory: config.json, model.safetensors (float32, finite) and the
 * files config.json names. `expectedTask` rejects a directory trained for another task.
 */
export async function loadCheckpoint(dir: string, expectedTask?: string): Promise<LoadedCheckpoint> {
  const cfg = readModelConfig(dir);
  if (expectedTask !== undefined && cfg.task !== expectedTask) {
    throw new CheckpointError(`${join(dir, CONFIG_FILE)}: this is a ${quoteName(cfg.task)} model, expected a '${expectedTask}' model. Fix: use a directory trained with 'heed train ${expectedTask}', or run the ${quoteName(cfg.task)} task on it.`);
  }
  const files: Record<string, string> = Object.create(null);
  for (const [role, name] of Object.entries(cfg.files)) {
    const p = join(dir, name);
    if (!existsSync(p)) {
      throw new CheckpointError(`${p}: missing (config.json names it as the ${quoteName(role)} file). Fix: restore the file or retrain the model.`);
    }
    files[role] = p;
  }
  const wpath = join(dir, WEIGHTS_FILE);
  if (!existsSync(wpath)) throw new CheckpointError(`${wpath}: missing. Fix: restore the weights file or retrain the model.`);
  const weights = await readWeights(wpath);
  return { dir, task: cfg.task, runId: cfg.runId, config: cfg.config, files, weights, compression: cfg.compression };
}

/**
 * Reads model.safetensors: F32 tensors as they are, F16/BF16 widened to float32 (weight-only
 * storage), I8 as int8 tensors (quantized layers); every float value must be finite.
 */
async function readWeights(path: string): Promise<Record<string, Tensor>> {
  const st = await readSafetensors(path);
  const weights: Record<string, Tensor> = Object.create(null);
  for (const [name, t] of Object.entries(st.tensors)) {
    if (t.dtype === 'I8') {
      weights[name] = new Tensor(t.data as Int8Array, t.shape);
      continue;
    }
    if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') {
      throw new CheckpointError(`${path}: tensor ${quoteName(name)} has dtype ${t.dtype}, expected F32, F16 or BF16 (float weights) or I8 (int8-quantized weights). Fix: convert the checkpoint or retrain.`);
    }
    const data = toFloat32(t);
    assertFiniteTensor(path, name, data);
    weights[name] = new Tensor(data, t.shape);
  }
  return weights;
}

/** Loads the optimizer state saved beside the weights. */
export async function loadOptimizerState(dir: string): Promise<OptimizerStateDict> {
  const path = join(dir, OPTIMIZER_FILE);
  if (!existsSync(path)) throw new CheckpointError(`${path}: missing; the directory holds no optimizer state to resume from. Fix: resume from the run's 'last' checkpoint, or train without --resume.`);
  const st = await readFloat32Tensors(path, 'optimizer buffers');
  const meta = (key: string): unknown => {
    if (!Object.hasOwn(st.metadata, key)) throw new CheckpointError(`${path}: metadata '${key}' is missing. The file is corrupt; train without --resume.`);
    return parseUntrustedJson(st.metadata[key], `${path}: metadata '${key}'`, 'value');
  };
  const paramGroups = meta('paramGroups') as OptimizerStateDict['paramGroups'];
  const steps = meta('steps') as OptimizerStateDict['steps'];
  const buffers: OptimizerStateDict['buffers'] = Object.create(null);
  for (const [k, t] of Object.entries(st.tensors)) buffers[k] = { shape: t.shape, data: t.data };
  return { paramGroups, buffers, steps };
}

export async function loadTrainerState(dir: string): Promise<Record<string, unknown>> {
  const path = join(dir, TRAINER_STATE_FILE);
  const j = readJson(path, 'trainer state', FILE_LIMITS.trainerState);
  if (j === null || typeof j !== 'object' || Array.isArray(j)) {
    throw new CheckpointError(`${path}: expected a JSON object, received ${preview(j)}. The file is corrupt; train without --resume.`);
  }
  return j as Record<string, unknown>;
}

/** Files a training run writes into its --out directory; a directory holding only these is ours. */
// A PEFT run also writes its adapter in peft's layout (src/train/peft/checkpoint.ts's file names;
// io sits below train, so the names are repeated here).
const RUN_FILES = new Set([CONFIG_FILE, WEIGHTS_FILE, OPTIMIZER_FILE, TRAINER_STATE_FILE, 'metrics.jsonl', 'last', 'adapter_config.json', 'adapter_model.safetensors', 'hf']); // hf: a fine-tuned Hugging Face model's savePretrained copy (tasks/hf-finetune.ts)

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
  // Extra files the saved config names (a task's vocabularies, task-meta.json) were written by heed too.
  const named = new Set(Object.values(existing?.files ?? {}));
  const foreign = entries.filter((e) => !ours(e) && !named.has(e));
  if (foreign.length > 0) {
    throw new CheckpointError(`--out '${out}' holds files heed did not write (${foreign.slice(0, 5).join(', ')}); refusing to clear it even with ${flag}. Fix: choose a new or empty --out directory.`);
  }
  for (const e of entries) await rm(join(out, e), { recursive: true, force: true });
}
