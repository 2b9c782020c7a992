/**
 * fromPretrained / savePretrained: Hugging Face checkpoint directories as heed models.
 *
 *   const mlm = await fromPretrained('checkpoints/bert-tiny');          // a models.BertForMaskedLM
 *   const logits = mlm.forward(ids, { attentionMask });
 *   await savePretrained(mlm, 'out/bert-tiny');                          // loads back bit-identically
 *
 * config.json's `architectures[0]` picks the heed model (src/io/hf/architectures.ts), its keys
 * become the heed config, and each weight is copied under the name the architecture's name map
 * gives it (GPT-2's Conv1D weights transposed, F16/BF16 widened to float32). As HF's
 * from_pretrained: a base checkpoint loads into a head model (the head is newly initialized and
 * reported), a head checkpoint into a base model (the head's weights are reported unexpected),
 * tied weights stay tied, and the model comes back in eval mode.
 *
 * This sits in models/ because it builds models; the layout itself (names, files, config keys)
 * is io/hf/, which knows no model class.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import { CheckpointError, ConfigError, fmtShape } from '../errors.js';
import { toFloat32, type RawTensor, type SafetensorsDType } from '../io/safetensors.js';
import { float32ToBFloat16, float32ToFloat16 } from '../io/float16.js';
import { quoteName } from '../io/json.js';
import {
  architectureOf, heedConfigOf, hfArchitecture, heedToHf, hfToHeed, isIgnoredHfKey, requireHfName, BERT_ARCHITECTURES, GPT2_ARCHITECTURES, VIT_ARCHITECTURE,
  readHfConfig, readHfWeights, writeHfDirectory, type HfArchitecture, type HfConfig, type HeedModelName, type WriteHfOptions,
} from '../io/hf/index.js';
import { Bert, BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification } from './bert.js';
import { GPT } from './gpt.js';
import { ViT } from './vit.js';
import { hasHalfStorage, toHalfStorage, type HalfDtype } from './half-storage.js';

/** Every model fromPretrained returns. */
export type PretrainedModel = Bert | BertForMaskedLM | BertForSequenceClassification | BertForTokenClassification | GPT | ViT;

const BUILD: Record<HeedModelName, (c: Record<string, unknown>) => PretrainedModel> = {
  Bert: (c) => Bert.fromConfig(c),
  BertForMaskedLM: (c) => BertForMaskedLM.fromConfig(c),
  BertForSequenceClassification: (c) => BertForSequenceClassification.fromConfig(c),
  BertForTokenClassification: (c) => BertForTokenClassification.fromConfig(c),
  GPT: (c) => GPT.fromConfig(c),
  ViT: (c) => ViT.fromConfig(c),
};

export interface PretrainedLoadReport {
  /** The HF architecture the model was built as. */
  architecture: string;
  /** HF names of weights the model has and the checkpoint lacks (they keep their fresh initialisation). */
  missingKeys: string[];
  /** Checkpoint keys the model has no place for. */
  unexpectedKeys: string[];
  /** heed names of the parameters that were not loaded (HF's "newly initialized" weights). */
  newlyInitialized: string[];
  /** Keys skipped because their shape differs (only with ignoreMismatchedSizes). */
  mismatchedKeys: { key: string; checkpoint: number[]; model: number[] }[];
}

export interface FromPretrainedOptions {
  /** Build this HF architecture instead of config.json's architectures[0] (same model_type), e.g. a new head. */
  architecture?: string;
  /** heed config keys that replace the checkpoint's (e.g. { numLabels: 5 } for a new classifier). */
  config?: Record<string, unknown>;
  /** Throw a CheckpointError when a weight is missing or unexpected (default false: report, as HF). */
  strict?: boolean;
  /** Skip (and report) weights whose shape differs instead of throwing (HF's ignore_mismatched_sizes). */
  ignoreMismatchedSizes?: boolean;
  /** Receives the load report; default: one console.warn line when something was missing or unexpected. */
  onReport?: (report: PretrainedLoadReport) => void;
  /**
   * Resident weight storage: 'float32' (default), or 'float16' / 'bfloat16' for inference at half
   * the memory (Linear and Embedding weights kept in 16 bits, widened where used; half-storage.ts).
   */
  dtype?: 'float32' | HalfDtype;
}

/** The config.json keys heed does not model, kept per loaded model so savePretrained writes them back. */
const hfExtras = new WeakMap<Module, HfConfig>();

/** Loads a Hugging Face checkpoint directory into the heed model its architecture names. */
export async function fromPretrained(dir: string, options: FromPretrainedOptions = {}): Promise<PretrainedModel> {
  const source = `${dir}/config.json`;
  const hfConfig = readHfConfig(dir);
  const arch = architectureOf(hfConfig, source, options.architecture);
  const config = { ...heedConfigOf(arch, hfConfig, source), ...(options.config ?? {}) };
  const model = BUILD[arch.heedModel](config);
  const weights = await readHfWeights(dir);
  const report = loadHfWeights(model, arch, weights.tensors, weights.fileOf, options);
  if (options.strict && (report.missingKeys.length > 0 || report.unexpectedKeys.length > 0)) {
    throw new CheckpointError(`fromPretrained: ${dir} does not match ${arch.name}. Missing: ${list(report.missingKeys)}. Unexpected: ${list(report.unexpectedKeys)}. Fix: check the architecture, or load without { strict: true } to initialise the missing weights.`);
  }
  (options.onReport ?? warnReport)(report);
  hfExtras.set(model, { ...hfConfig });
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float16' && dtype !== 'bfloat16') throw new ConfigError(`fromPretrained: dtype '${String(dtype)}', expected 'float32', 'float16' or 'bfloat16'.`);
  if (dtype !== 'float32') toHalfStorage(model, dtype);
  return model.eval();
}

function list(keys: readonly string[]): string {
  return `[${keys.slice(0, 8).join(', ')}${keys.length > 8 ? `, … (${keys.length} in all)` : ''}]`;
}

function warnReport(r: PretrainedLoadReport): void {
  if (r.newlyInitialized.length > 0) console.warn(`heed: some weights of ${r.architecture} were not in the checkpoint and are newly initialized: ${list(r.missingKeys)}. Train the model before using it for predictions.`);
  if (r.unexpectedKeys.length > 0) console.warn(`heed: some checkpoint weights were not used by ${r.architecture}: ${list(r.unexpectedKeys)}.`);
}

/** Renames keys when a base checkpoint meets a head model, or a head checkpoint a base model (HF's base_model_prefix rule). */
function adaptPrefix(arch: HfArchitecture, keys: string[]): Map<string, string> {
  const p = `${arch.basePrefix}.`;
  const hasPrefix = keys.some((k) => k.startsWith(p));
  const out = new Map<string, string>();
  for (const k of keys) {
    if (!arch.isBase && !hasPrefix) out.set(k, p + k); // base checkpoint → head model
    else if (arch.isBase && hasPrefix) out.set(k, k.startsWith(p) ? k.slice(p.length) : k); // head checkpoint → base model
    else out.set(k, k);
  }
  return out;
}

/** TensorFlow-era BERT checkpoints name LayerNorm parameters gamma and beta; transformers renames them on load, and so does heed. */
function legacyLayerNormName(key: string): string {
  return /LayerNorm\.(gamma|beta)$/.test(key) ? key.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias') : key;
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** Copies checkpoint tensors (HF keys) into the model; returns the report. */
export function loadHfWeights(model: Module, arch: HfArchitecture, tensors: Record<string, RawTensor>, fileOf: Record<string, string> = {},
  o: Pick<FromPretrainedOptions, 'ignoreMismatchedSizes'> = {}): PretrainedLoadReport {
  const map = arch.nameMap;
  const own = new Map(Object.entries(model.stateDict()));
  const rename = adaptPrefix(arch, Object.keys(tensors));
  const byName = new Map<string, string>(); // HF key (after prefix and the gamma/beta rename) → original key
  for (const [orig, k] of rename) byName.set(legacyLayerNormName(k), orig);
  const loaded = new Set<Tensor>();
  const unexpectedKeys: string[] = [];
  const mismatchedKeys: PretrainedLoadReport['mismatchedKeys'] = [];
  for (const [key, orig] of byName) {
    if (isIgnoredHfKey(map, key)) continue;
    const alias = map.aliases?.[key];
    if (alias !== undefined && byName.has(alias)) continue; // the same tensor under its canonical key
    const mapped = hfToHeed(map, alias ?? key);
    const target = mapped === null ? undefined : own.get(mapped.name);
    if (mapped === null || target === undefined) {
      unexpectedKeys.push(orig);
      continue;
    }
    if (loaded.has(target)) continue; // a tied weight, already loaded under another name
    const raw = tensors[orig];
    const file = fileOf[orig] ?? 'the checkpoint';
    if (raw.dtype !== 'F32' && raw.dtype !== 'F16' && raw.dtype !== 'BF16' && raw.dtype !== 'F64') {
      throw new CheckpointError(`${file}: tensor ${quoteName(orig)} has dtype ${raw.dtype}, expected a float (F32, F16 or BF16) for ${mapped.name}. The checkpoint is not a float model.`);
    }
    const shape = mapped.transpose && raw.shape.length === 2 ? [raw.shape[1], raw.shape[0]] : raw.shape;
    if (shape.length !== target.shape.length || shape.some((d, i) => d !== target.shape[i])) {
      if (o.ignoreMismatchedSizes) {
        mismatchedKeys.push({ key: orig, checkpoint: [...raw.shape], model: [...target.shape] });
        continue;
      }
      throw new CheckpointError(`${file}: tensor ${quoteName(orig)} has shape ${fmtShape(raw.shape)}${mapped.transpose ? ' (stored transposed, Conv1D)' : ''}, but config.json makes ${arch.name}'s ${mapped.name} ${fmtShape(target.shape)}. Fix: correct config.json to the sizes the weights were saved with, or pass { ignoreMismatchedSizes: true } to initialise this weight anew (e.g. a head with another number of labels).`);
    }
    let data = toFloat32(raw);
    if (raw.dtype === 'F32') data = new Float32Array(data); // never share the file's buffer with a parameter
    if (mapped.transpose && raw.shape.length === 2) data = transpose2d(data, raw.shape[0], raw.shape[1]);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new CheckpointError(`${file}: tensor ${quoteName(orig)} holds ${data[i]} at flat index ${i}; weights must be finite. The file is corrupt or training diverged.`);
    }
    target.data.set(data);
    loaded.add(target);
  }
  const newlyInitialized: string[] = [];
  const missingKeys: string[] = [];
  const seen = new Set<Tensor>();
  for (const [name, t] of own) {
    if (loaded.has(t) || seen.has(t)) continue;
    seen.add(t);
    newlyInitialized.push(name);
    missingKeys.push(heedToHf(map, name)?.name ?? name);
  }
  return { architecture: arch.name, missingKeys, unexpectedKeys, newlyInitialized, mismatchedKeys };
}

/** The HF architecture a heed model is saved as (a ConfigError when it has no HF layout). */
export function hfArchitectureOfModel(model: Module): HfArchitecture {
  if (model instanceof GPT) {
    const c = model.config;
    if (!c.packedQkv || c.positional !== 'learned' || !c.bias || (c.numKvHeads !== 0 && c.numKvHeads !== c.numHeads)) {
      throw new ConfigError(`savePretrained: this GPT (packedQkv ${c.packedQkv}, positional '${c.positional}', bias ${c.bias}, numKvHeads ${c.numKvHeads}) has no GPT-2 layout. Fix: build it with packedQkv: true, positional: 'learned', bias: true and numKvHeads: 0 (GPT-2's architecture).`);
    }
    return hfArchitecture(GPT2_ARCHITECTURES['causal-lm']);
  }
  if (model instanceof ViT) {
    if (model.config.layerNormEps !== model.config.finalNormEps) {
      throw new ConfigError(`savePretrained: this ViT has layerNormEps ${model.config.layerNormEps} and finalNormEps ${model.config.finalNormEps}; HF's ViT has one layer_norm_eps for both. Fix: build it with equal values.`);
    }
    return hfArchitecture(VIT_ARCHITECTURE);
  }
  const head = model instanceof BertForMaskedLM ? 'masked-lm' : model instanceof BertForSequenceClassification ? 'sequence-classification'
    : model instanceof BertForTokenClassification ? 'token-classification' : model instanceof Bert ? 'base' : null;
  if (head === null) {
    throw new ConfigError(`savePretrained: ${model.constructor.name} has no Hugging Face layout. heed writes models.Bert, BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification, GPT and ViT. Fix: save it with saveCheckpoint (heed's own layout).`);
  }
  const flavor = (model as Bert).config.modelType;
  if (head === 'base' && flavor === 'distilbert' && (model as Bert).pooler !== null) {
    throw new ConfigError('savePretrained: DistilBertModel has no pooler. Fix: build the Bert with pooler: false.');
  }
  return hfArchitecture(BERT_ARCHITECTURES[flavor][head]);
}

export interface SavePretrainedOptions extends WriteHfOptions {
  /** Stored dtype (default 'F32'; 'F16' and 'BF16' halve the files and round the weights). */
  dtype?: Extract<SafetensorsDType, 'F32' | 'F16' | 'BF16'>;
  /** config.json keys heed does not model (label names in id2label, a source checkpoint's extras), under the model's own keys. */
  config?: HfConfig;
}

/**
 * Writes `model` as a Hugging Face checkpoint directory: config.json (the architecture and
 * sizes in HF's keys, over the keys of the config it was loaded from) and model.safetensors
 * (sharded above maxShardBytes). Tied weights are written once, under the embedding's name.
 */
export async function savePretrained(model: Module, dir: string, options: SavePretrainedOptions = {}): Promise<string[]> {
  if (hasHalfStorage(model)) throw new ConfigError(`savePretrained: this model keeps its weights in 16-bit inference storage (fromPretrained's dtype option), which stateDict() does not hold. Fix: load it with dtype 'float32' to save it; to write 16-bit files, pass { dtype: 'F16' } or 'BF16' to savePretrained.`);
  const arch = hfArchitectureOfModel(model);
  const dtype = options.dtype ?? 'F32';
  const tensors: Record<string, RawTensor> = {};
  const entries: [string, Tensor][] = [...model.namedParameters(), ...model.namedBuffers()];
  for (const [name, t] of entries) {
    const { name: key, transpose } = requireHfName(arch.nameMap, name);
    const src = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
    const data = transpose ? transpose2d(src, t.shape[0], t.shape[1]) : new Float32Array(src);
    const shape = transpose ? [t.shape[1], t.shape[0]] : [...t.shape];
    tensors[key] = dtype === 'F16' ? { dtype, shape, data: float32ToFloat16(data) }
      : dtype === 'BF16' ? { dtype, shape, data: float32ToBFloat16(data) } : { dtype: 'F32', shape, data };
  }
  const config = arch.configToHf((model as unknown as { config: Record<string, unknown> }).config, { ...(hfExtras.get(model) ?? {}), ...(options.config ?? {}) });
  config.torch_dtype = dtype === 'F32' ? 'float32' : dtype === 'F16' ? 'float16' : 'bfloat16';
  return writeHfDirectory(dir, config, tensors, options);
}


/** Whether fromPretrained built this model (its adapters are then saved under Hugging Face module names by default). */
export function isFromPretrained(model: Module): boolean {
  return hfExtras.has(model);
}
