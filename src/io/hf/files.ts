/**
 * A Hugging Face checkpoint directory on disk, read and written:
 *
 *   config.json                         the model's config (model_type, architectures, sizes)
 *   model.safetensors                   every weight, or, for a sharded checkpoint:
 *   model.safetensors.index.json        { metadata: { total_size }, weight_map: { key: shard file } }
 *   model-00001-of-00003.safetensors …  the shards
 *
 * Weights come back as stored (F32, F16 or BF16 raw words; see safetensors.ts); the caller widens
 * them. A directory holding only PyTorch pickles (pytorch_model.bin) is refused: loading one
 * would execute code from the file. Everything read is bounded and validated (read-file.ts).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, ConfigError } from '../../errors.js';
import { parseUntrustedJson, preview, quoteName } from '../json.js';
import { FILE_LIMITS, readTextFileSync } from '../read-file.js';
import { readSafetensors, writeSafetensors, type RawTensor } from '../safetensors.js';
import { writeFileDurable } from '../write-file.js';
import type { HfConfig } from './config.js';
import { isPlainFileName } from '../checkpoint.js';

export const HF_CONFIG_FILE = 'config.json';
export const HF_WEIGHTS_FILE = 'model.safetensors';
export const HF_INDEX_FILE = 'model.safetensors.index.json';

/** Whether `dir` looks like a Hugging Face checkpoint (config.json with a model_type, not heed's own format). */
export function isHfDirectory(dir: string): boolean {
  try {
    const c = readHfConfig(dir);
    return typeof c.model_type === 'string';
  } catch {
    return false;
  }
}

/** Reads and parses config.json (bounded, no duplicate keys, an object). */
export function readHfConfig(dir: string): HfConfig {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CheckpointError(`'${dir}' is not a directory. Fix: pass a Hugging Face checkpoint directory (config.json + model.safetensors).`);
  }
  const path = join(dir, HF_CONFIG_FILE);
  if (!existsSync(path)) throw new CheckpointError(`${path}: missing; a Hugging Face checkpoint directory holds config.json beside its weights. Fix: pass the directory save_pretrained wrote.`);
  const j = parseUntrustedJson(readTextFileSync(path, { what: 'model config', maxBytes: FILE_LIMITS.config }), path, 'model config');
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new ConfigError(`${path}: expected a JSON object, received ${preview(j)}.`);
  return j as HfConfig;
}

export interface HfWeights {
  /** Tensors by HF key, as stored (null prototype). */
  tensors: Record<string, RawTensor>;
  /** The file each key came from, for error messages. */
  fileOf: Record<string, string>;
}


/** Reads model.safetensors, or every shard model.safetensors.index.json names. */
export async function readHfWeights(dir: string): Promise<HfWeights> {
  const tensors: Record<string, RawTensor> = Object.create(null);
  const fileOf: Record<string, string> = Object.create(null);
  const single = join(dir, HF_WEIGHTS_FILE), index = join(dir, HF_INDEX_FILE);
  if (existsSync(single)) {
    const st = await readSafetensors(single);
    for (const [k, t] of Object.entries(st.tensors)) {
      tensors[k] = t;
      fileOf[k] = single;
    }
    return { tensors, fileOf };
  }
  if (!existsSync(index)) {
    const pickles = existsSync(join(dir, 'pytorch_model.bin')) || existsSync(join(dir, 'pytorch_model.bin.index.json'));
    throw new CheckpointError(pickles
      ? `${dir}: holds only PyTorch pickle weights (pytorch_model.bin); heed never loads pickles, because loading one runs code from the file. Fix: convert them in Python with safetensors.torch.save_file, or save_pretrained(..., safe_serialization=True).`
      : `${dir}: neither ${HF_WEIGHTS_FILE} nor ${HF_INDEX_FILE} is there. Fix: pass the directory save_pretrained wrote, with its weights.`);
  }
  const j = parseUntrustedJson(readTextFileSync(index, { what: 'shard index', maxBytes: FILE_LIMITS.config * 16 }), index, 'shard index');
  const map = (j as { weight_map?: unknown } | null)?.weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map)) {
    throw new CheckpointError(`${index}: 'weight_map' is ${preview(map)}, expected an object { key: shard file }. The index is corrupt; restore it.`);
  }
  const byFile = new Map<string, string[]>();
  for (const [key, file] of Object.entries(map as Record<string, unknown>)) {
    if (!isPlainFileName(file)) throw new CheckpointError(`${index}: weight_map[${quoteName(key)}] is ${preview(file)}, expected a plain file name inside the directory (no '/', not hidden).`);
    if (!byFile.has(file)) byFile.set(file, []);
    byFile.get(file)!.push(key);
  }
  for (const file of byFile.keys()) {
    if (!existsSync(join(dir, file))) {
      throw new CheckpointError(`${index}: names shard '${file}' (for ${byFile.get(file)!.length} weights such as '${byFile.get(file)![0]}'), which is missing from ${dir}. Fix: download or copy every shard the index lists.`);
    }
  }
  for (const [file, keys] of byFile) {
    const path = join(dir, file);
    const st = await readSafetensors(path);
    for (const key of keys) {
      if (!Object.hasOwn(st.tensors, key)) throw new CheckpointError(`${index}: says '${key}' is in ${file}, but ${path} does not hold it. The shards and the index disagree; restore them.`);
      tensors[key] = st.tensors[key];
      fileOf[key] = path;
    }
  }
  return { tensors, fileOf };
}

export interface WriteHfOptions {
  /** Largest shard in bytes; a checkpoint above it is split (HF's max_shard_size). Default 5 GB, as HF. */
  maxShardBytes?: number;
  /** Replace a directory that already holds files (default false: refuse). */
  overwrite?: boolean;
}

/** Writes config.json and the weights (one file, or shards + index when larger than maxShardBytes). */
export async function writeHfDirectory(dir: string, config: HfConfig, tensors: Record<string, RawTensor>, o: WriteHfOptions = {}): Promise<string[]> {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new CheckpointError(`savePretrained: '${dir}' is a file, expected a directory. Fix: choose another path.`);
    const entries = readdirSync(dir).filter((e) => !e.startsWith('.'));
    if (entries.length > 0 && !o.overwrite) {
      throw new CheckpointError(`savePretrained: '${dir}' is not empty (${entries.slice(0, 4).join(', ')}${entries.length > 4 ? ', …' : ''}); refusing to write over it. Fix: choose a new directory, or pass { overwrite: true }.`);
    }
    const stale = entries.filter((e) => e === HF_CONFIG_FILE || e === HF_WEIGHTS_FILE || e === HF_INDEX_FILE || /^model-\d+-of-\d+\.safetensors$/.test(e));
    for (const e of stale) await rm(join(dir, e), { force: true });
  }
  await mkdir(dir, { recursive: true });
  const maxBytes = o.maxShardBytes ?? 5e9;
  const names = Object.keys(tensors);
  const shards: string[][] = [[]];
  let size = 0, total = 0;
  for (const n of names) {
    const b = tensors[n].data.byteLength;
    total += b;
    if (size > 0 && size + b > maxBytes) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(n);
    size += b;
  }
  const written: string[] = [];
  const metadata = { format: 'pt' }; // what transformers' load_file expects
  if (shards.length === 1) {
    await writeSafetensors(join(dir, HF_WEIGHTS_FILE), tensors, metadata);
    written.push(HF_WEIGHTS_FILE);
  } else {
    const N = shards.length, pad = (i: number) => String(i).padStart(5, '0');
    const weightMap: Record<string, string> = {};
    for (let s = 0; s < N; s++) {
      const file = `model-${pad(s + 1)}-of-${pad(N)}.safetensors`;
      const part: Record<string, RawTensor> = {};
      for (const n of shards[s]) {
        part[n] = tensors[n];
        weightMap[n] = file;
      }
      await writeSafetensors(join(dir, file), part, metadata);
      written.push(file);
    }
    await writeFileDurable(join(dir, HF_INDEX_FILE), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n');
    written.push(HF_INDEX_FILE);
  }
  await writeFileDurable(join(dir, HF_CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
  written.push(HF_CONFIG_FILE);
  return written;
}
