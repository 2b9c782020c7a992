/**
 * Adapter-only checkpoints in HF peft's layout (peft's utils/save_and_load.py and
 * docs/source/developer_guides/checkpoint.md):
 *
 *   <dir>/adapter_config.json        peft_type, r, lora_alpha, lora_dropout, target_modules,
 *                                    modules_to_save, base_model_name_or_path, ... (peft's names)
 *   <dir>/adapter_model.safetensors  the adapter's weights only, under peft's keys
 *
 * Keys (M = a module path, P = a parameter path of the base model):
 *   LoRA             base_model.model.M.lora_A.weight (r, in), base_model.model.M.lora_B.weight (out, r)
 *   bottleneck       base_model.model.M.adapter.down.weight / .bias, ...up.weight / .bias
 *   prefix tuning    prompt_embeddings (P, numLayers·2·D): layer i's keys in columns [2i·D, (2i+1)·D),
 *                    its values in [(2i+1)·D, (2i+2)·D) (peft's past_key_values layout, heads major)
 *   modulesToSave    base_model.model.P (peft strips 'modules_to_save.<adapter>' on save)
 *
 * Module paths are the base model's: heed's dotted names for a heed model ("key_names": "heed" in
 * adapter_config.json); for a model fromPretrained built, HF's names ("hf", hf-names.ts), so the
 * file is the one peft writes for the PyTorch model, and a file peft wrote loads here. peft has no bottleneck adapter: 'BOTTLENECK' files are
 * heed's own and peft will not load them; LoRA and prefix files follow peft.
 *
 * Which base an adapter belongs to: adapter_config.json records the base's class
 * (auto_mapping.base_model_class), its name or path, and a SHA-256 of the base's frozen weights
 * (names, shapes, values). Loading onto another base is a CheckpointError that names both; a base
 * whose shapes differ fails on the first mismatching key.
 *
 * Letters: P prefix length, D = key/value width of one attention layer.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../nn/module.js';
import { readSafetensors, toFloat32, writeSafetensors, type RawTensor } from '../../io/safetensors.js';
import { readTextFileSync, FILE_LIMITS } from '../../io/read-file.js';
import { parseUntrustedJson } from '../../io/json.js';
import { writeFileDurable } from '../../io/write-file.js';
import { CheckpointError } from '../../errors.js';
import { PEFT_TYPES, PeftModel, getPeftModel, type PeftConfig, type PeftType } from './peft-model.js';
import { PrefixAttention } from './prefix.js';
import { hfArchitectureOfBase, heedModuleLists, heedPathToHf, hfModuleLists, hfPathToHeed } from './hf-names.js';
import { isFromPretrained } from '../../models/pretrained.js';
import { HF_ARCHITECTURES, hfToHeed } from '../../io/hf/index.js';
import { VERSION } from '../../version.js';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
const PREFIX = 'base_model.model.';

/** adapter_config.json as heed writes it (peft's field names). */
export interface AdapterConfigFile {
  peft_type: PeftType;
  task_type: string | null;
  base_model_name_or_path: string | null;
  auto_mapping: { base_model_class: string; parent_library: string };
  target_modules: string[];
  modules_to_save: string[] | null;
  inference_mode: boolean;
  /** Which names the module paths are: heed's dotted names, or Hugging Face's (absent in files peft wrote). */
  key_names?: AdapterKeyNames;
  /** SHA-256 of the base's frozen weights, to refuse an adapter made for another base. */
  base_model_sha256: string;
  heed_version: string;
  r?: number;
  lora_alpha?: number;
  lora_dropout?: number;
  rank_pattern?: Record<string, number>;
  alpha_pattern?: Record<string, number>;
  bias?: 'none';
  fan_in_fan_out?: boolean;
  adapter_size?: number;
  num_virtual_tokens?: number;
  num_layers?: number;
  token_dim?: number;
  num_attention_heads?: number;
  prefix_projection?: boolean;
}

/** SHA-256 over the names, shapes and float32 values of the base's weights (the parameters the adapter does not own). */
export function baseFingerprint(peft: PeftModel): string {
  const h = createHash('sha256');
  for (const [n, p] of peft.model.namedParameters()) {
    if (peft.ownsParameter(n)) continue;
    h.update(`${n}:${p.shape.join('x')};`);
    const f32 = p.data instanceof Float32Array ? p.data : Float32Array.from(p.data as ArrayLike<number>);
    h.update(new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength));
  }
  return h.digest('hex');
}

function raw(t: Tensor): RawTensor {
  return { dtype: 'F32', shape: [...t.shape], data: t.data instanceof Float32Array ? Float32Array.from(t.data) : Float32Array.from(t.data as ArrayLike<number>) };
}

/** The prefix modules in model order, each with its (P, D) key and value tables. */
function prefixLayers(model: Module): [string, PrefixAttention][] {
  return model.namedModules().filter((e): e is [string, PrefixAttention] => e[1] instanceof PrefixAttention);
}

/** heed's adapter parameter names → peft's: loraA.weight → lora_A.weight, loraEmbeddingA → lora_embedding_A. */
const LEAVES: readonly [heed: string, peft: string][] = [
  ['.loraA.weight', '.lora_A.weight'], ['.loraB.weight', '.lora_B.weight'], ['.loraEmbeddingA', '.lora_embedding_A'], ['.loraEmbeddingB', '.lora_embedding_B'],
];

function toPeftLeaf(k: string): string {
  for (const [h, p] of LEAVES) if (k.endsWith(h)) return k.slice(0, -h.length) + p;
  return k;
}

function fromPeftLeaf(k: string): string {
  for (const [h, p] of LEAVES) if (k.endsWith(p)) return k.slice(0, -p.length) + h;
  return k;
}

/** Which names an adapter file's module paths are: heed's dotted names, or Hugging Face's (hf-names.ts). */
export type AdapterKeyNames = 'heed' | 'hf';

/** heed adapter state dict → peft's keys; `keyNames` 'hf' writes HF module paths. */
export function toPeftKeys(peft: PeftModel, keyNames: AdapterKeyNames = 'heed'): Record<string, Tensor> {
  const arch = keyNames === 'hf' ? hfArchitectureOfBase(peft.model, 'savePeftAdapter') : null;
  const sd = peft.stateDict();
  const out: Record<string, Tensor> = {};
  if (peft.config.peftType === 'PREFIX_TUNING') {
    const layers = prefixLayers(peft.model);
    const P = peft.config.numVirtualTokens, D = layers[0][1].prefixKey.shape[1], Lyr = layers.length;
    const packed = new Float32Array(P * Lyr * 2 * D);
    layers.forEach(([, m], i) => {
      for (let p = 0; p < P; p++) {
        packed.set(m.prefixKey.data.subarray(p * D, (p + 1) * D) as Float32Array, p * Lyr * 2 * D + 2 * i * D);
        packed.set(m.prefixValue.data.subarray(p * D, (p + 1) * D) as Float32Array, p * Lyr * 2 * D + (2 * i + 1) * D);
      }
    });
    out.prompt_embeddings = new Tensor(packed, [P, Lyr * 2 * D]);
  }
  for (const [k, t] of Object.entries(sd)) {
    if (/\.prefix(Key|Value)$/.test(k)) continue;
    out[PREFIX + toPeftLeaf(arch ? heedPathToHf(arch, k) : k)] = t;
  }
  return out;
}

/** peft's keys → heed adapter state dict (the inverse of toPeftKeys, for the model `peft` wraps). */
export function fromPeftKeys(peft: PeftModel, tensors: Record<string, Tensor>, source: string, keyNames: AdapterKeyNames = 'heed'): Record<string, Tensor> {
  const arch = keyNames === 'hf' ? hfArchitectureOfBase(peft.model, source) : null;
  const sd: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) {
    if (k === 'prompt_embeddings') continue;
    if (!k.startsWith(PREFIX)) throw new CheckpointError(`${source}: key '${k}' does not start with '${PREFIX}', so it is not a peft adapter weight.`);
    const leaf = fromPeftLeaf(k.slice(PREFIX.length));
    sd[arch ? hfPathToHeed(arch, leaf, source) : leaf] = t;
  }
  if (peft.config.peftType === 'PREFIX_TUNING') {
    const pe = tensors.prompt_embeddings;
    const layers = prefixLayers(peft.model);
    const P = peft.config.numVirtualTokens, D = layers[0][1].prefixKey.shape[1], Lyr = layers.length;
    if (pe === undefined) throw new CheckpointError(`${source}: holds no 'prompt_embeddings', which a PREFIX_TUNING adapter needs.`);
    if (pe.ndim !== 2 || pe.shape[0] !== P || pe.shape[1] !== Lyr * 2 * D) {
      throw new CheckpointError(`${source}: 'prompt_embeddings' has shape [${pe.shape.join(', ')}], expected [${P}, ${Lyr * 2 * D}] (${P} virtual tokens × ${Lyr} layers · 2 · ${D}) for this base model: the adapter was made for another base model. Fix: load it onto the base it was trained on.`);
    }
    layers.forEach(([name, m], i) => {
      const k = new Float32Array(P * D), v = new Float32Array(P * D);
      for (let p = 0; p < P; p++) {
        k.set(pe.data.subarray(p * Lyr * 2 * D + 2 * i * D, p * Lyr * 2 * D + (2 * i + 1) * D) as Float32Array, p * D);
        v.set(pe.data.subarray(p * Lyr * 2 * D + (2 * i + 1) * D, p * Lyr * 2 * D + (2 * i + 2) * D) as Float32Array, p * D);
      }
      sd[`${name}.prefixKey`] = new Tensor(k, [P, D]);
      sd[`${name}.prefixValue`] = new Tensor(v, [P, D]);
      void m;
    });
  }
  return sd;
}

/** adapter_config.json's content for a PEFT model. */
export function adapterConfigOf(peft: PeftModel, baseModelNameOrPath: string | null, taskType: string | null = null, keyNames: AdapterKeyNames = 'heed'): AdapterConfigFile {
  const c = peft.config;
  const arch = keyNames === 'hf' ? hfArchitectureOfBase(peft.model, 'savePeftAdapter') : null;
  // HF names: full module paths, as peft lists them for the PyTorch model; heed names: the config's globs.
  const lists = arch ? hfModuleLists(arch, c, peft.targets, peft.savedNames)
    : { targetModules: [...c.targetModules], modulesToSave: [...c.modulesToSave], rankPattern: { ...c.rankPattern }, alphaPattern: { ...c.alphaPattern } };
  const file: AdapterConfigFile = {
    peft_type: c.peftType, task_type: taskType, base_model_name_or_path: baseModelNameOrPath,
    auto_mapping: arch ? { base_model_class: arch.name, parent_library: 'transformers' } : { base_model_class: peft.model.constructor.name, parent_library: 'heed.models' },
    target_modules: lists.targetModules, modules_to_save: lists.modulesToSave.length > 0 ? lists.modulesToSave : null,
    inference_mode: true, key_names: keyNames, base_model_sha256: baseFingerprint(peft), heed_version: VERSION,
  };
  // fan_in_fan_out: peft's flag for GPT-2's Conv1D, whose weight is stored (in, out); A and B have the same shapes either way.
  const conv1d = arch !== null && lists.targetModules.some((t) => hfToHeed(arch.nameMap, `${t}.weight`)?.transpose === true);
  if (c.peftType === 'LORA') Object.assign(file, { r: c.r, lora_alpha: c.loraAlpha, lora_dropout: c.loraDropout, rank_pattern: lists.rankPattern, alpha_pattern: lists.alphaPattern, bias: 'none', fan_in_fan_out: conv1d });
  if (c.peftType === 'BOTTLENECK') file.adapter_size = c.adapterSize;
  if (c.peftType === 'PREFIX_TUNING') {
    const layers = prefixLayers(peft.model);
    Object.assign(file, { num_virtual_tokens: c.numVirtualTokens, num_layers: layers.length, token_dim: layers[0][1].embedDim, num_attention_heads: layers[0][1].numHeads, prefix_projection: false });
  }
  return file;
}

/**
 * Writes <dir>/adapter_config.json and <dir>/adapter_model.safetensors (peft's layout).
 * baseModelNameOrPath: where the base model is (recorded for `heed serve` and for people).
 */
export async function savePeftAdapter(dir: string, peft: PeftModel, options: { baseModelNameOrPath?: string | null; taskType?: string | null; keyNames?: AdapterKeyNames } = {}): Promise<void> {
  // A model fromPretrained built is saved under HF names by default: peft loads the file over the PyTorch model unchanged.
  const keyNames = options.keyNames ?? (isFromPretrained(peft.model) ? 'hf' : 'heed');
  const config = adapterConfigOf(peft, options.baseModelNameOrPath ?? null, options.taskType ?? null, keyNames); // checks every name maps before a file is written
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, RawTensor> = {};
  for (const [k, t] of Object.entries(toPeftKeys(peft, keyNames))) tensors[k] = raw(t);
  await writeSafetensors(join(dir, ADAPTER_WEIGHTS_FILE), tensors, { format: 'pt' });
  await writeFileDurable(join(dir, ADAPTER_CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
}

/** Reads and checks <dir>/adapter_config.json. */
export function readAdapterConfig(dir: string): AdapterConfigFile {
  const path = join(dir, ADAPTER_CONFIG_FILE);
  if (!existsSync(path)) throw new CheckpointError(`${path} does not exist: '${dir}' is not an adapter directory. Fix: give the directory a PEFT run wrote (it holds ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}).`);
  const j = parseUntrustedJson(readTextFileSync(path, { what: 'adapter config', maxBytes: FILE_LIMITS.config }), path, 'adapter config') as Record<string, unknown>;
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new CheckpointError(`${path}: expected a JSON object.`);
  if (!PEFT_TYPES.includes(j.peft_type as PeftType)) throw new CheckpointError(`${path}: peft_type ${JSON.stringify(j.peft_type)} is not supported; heed reads ${PEFT_TYPES.join(', ')}.`);
  if (!Array.isArray(j.target_modules) || j.target_modules.some((t) => typeof t !== 'string')) {
    throw new CheckpointError(`${path}: target_modules must be a list of module names${typeof j.target_modules === 'string' ? ' (a regular-expression string is not supported yet)' : ''}.`);
  }
  if (j.key_names !== undefined && j.key_names !== 'heed' && j.key_names !== 'hf') throw new CheckpointError(`${path}: key_names ${JSON.stringify(j.key_names)}, expected 'heed' or 'hf'.`);
  return j as unknown as AdapterConfigFile;
}

/** PeftConfig (heed's names) from adapter_config.json (peft's names). */
export function peftConfigOf(f: AdapterConfigFile): PeftConfig {
  return {
    peftType: f.peft_type, targetModules: f.target_modules, modulesToSave: f.modules_to_save ?? [],
    r: f.r, loraAlpha: f.lora_alpha, loraDropout: f.lora_dropout, rankPattern: f.rank_pattern, alphaPattern: f.alpha_pattern, adapterSize: f.adapter_size, numVirtualTokens: f.num_virtual_tokens,
  };
}

/**
 * The names a file's module paths are in: its key_names; for a file peft wrote (no key_names),
 * HF names when it was made for an HF class or the base model came from fromPretrained.
 */
function adapterKeyNames(f: AdapterConfigFile, model: Module): AdapterKeyNames {
  if (f.key_names === 'heed' || f.key_names === 'hf') return f.key_names;
  return HF_ARCHITECTURES.has(f.auto_mapping?.base_model_class ?? '') || isFromPretrained(model) ? 'hf' : 'heed';
}

/**
 * Puts the adapter saved in `dir` into `model` (in place) and returns the PeftModel. Refuses, with
 * a CheckpointError naming both, an adapter made for another base: another class, other shapes, or
 * (unless options.checkBase is false) other base weights than the ones it was trained on.
 */
export async function loadPeftAdapter(model: Module, dir: string, options: { checkBase?: boolean; baseName?: string } = {}): Promise<PeftModel> {
  const f = readAdapterConfig(dir);
  const path = join(dir, ADAPTER_CONFIG_FILE);
  const base = options.baseName ?? model.constructor.name;
  const made = `made for ${f.auto_mapping?.base_model_class ?? '(unknown class)'} '${f.base_model_name_or_path ?? '(unnamed)'}'`;
  const keyNames = adapterKeyNames(f, model);
  const arch = keyNames === 'hf' ? hfArchitectureOfBase(model, path) : null;
  const baseClass = arch ? arch.name : model.constructor.name;
  if (f.auto_mapping && f.auto_mapping.base_model_class !== baseClass) {
    throw new CheckpointError(`${path}: the adapter was ${made}, but the base model is a ${baseClass} (${base}). Fix: load it onto the base it was trained on.`);
  }
  let peft: PeftModel;
  try {
    const config = peftConfigOf(f);
    peft = getPeftModel(model, arch ? { ...config, ...heedModuleLists(model, arch, f.peft_type, f, path) } : config);
  } catch (err) {
    throw new CheckpointError(`${path}: the adapter was ${made} and does not fit ${base}: ${(err as Error).message}`);
  }
  const file = await readSafetensors(join(dir, ADAPTER_WEIGHTS_FILE));
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(file.tensors)) tensors[k] = new Tensor(toFloat32(t), t.shape);
  try {
    peft.loadStateDict(fromPeftKeys(peft, tensors, join(dir, ADAPTER_WEIGHTS_FILE), keyNames), { strict: true });
  } catch (err) {
    peft.unload();
    throw new CheckpointError(`${join(dir, ADAPTER_WEIGHTS_FILE)}: ${(err as Error).message}`);
  }
  // After the shapes (a clearer message when they differ), before anyone uses the model.
  if ((options.checkBase ?? true) && typeof f.base_model_sha256 === 'string' && f.base_model_sha256 !== baseFingerprint(peft)) {
    peft.unload();
    throw new CheckpointError(`${path}: the adapter was ${made}, whose weights differ from ${base}'s (SHA-256 ${f.base_model_sha256.slice(0, 12)}… vs ${baseFingerprint(peft).slice(0, 12)}…). Fix: serve it over the base it was trained on (base_model_name_or_path).`);
  }
  return peft;
}
