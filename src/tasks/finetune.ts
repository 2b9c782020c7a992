/**
 * Transfer learning and parameter-efficient fine-tuning for the tasks whose model has a
 * TransformerTextEncoder under `backbone` (spam, and the tag template's WordTagger): the config
 * keys, and the code that turns them into an initialised, partly frozen or adapted model
 * (prepareFinetune does all of it for a freshly built model).
 *
 *   heed train spam --init-from runs/mlm                          full fine-tuning from a pretrained backbone
 *   heed train spam --init-from runs/mlm --freeze encoder        train the head only (feature extraction)
 *   heed train spam --init-from runs/mlm --freeze encoder --unfreeze-every 100   gradual unfreezing
 *   heed train spam --init-from runs/mlm --body-lr-ratio 0.3     discriminative learning rates
 *   heed train spam --init-from runs/mlm --peft lora --lora-r 8  LoRA on q, v and (rank 1) the word table; or adapter, prefix
 *
 * - `initFrom`: a heed model directory whose weights include `backbone.*` (heed pretrain mlm
 *   writes one; a trained spam model is one too). The task takes that directory's vocabulary and
 *   backbone sizes, copies every `backbone.*` weight, and reports the weights it initialised anew
 *   (the head), as Hugging Face's "newly initialized" warning. Or a Hugging Face checkpoint
 *   directory (BERT, RoBERTa, DistilBERT): the task's model is then that architecture with the
 *   task's head, reading the directory's tokenizer (hf-finetune.ts); the options below apply alike,
 *   since heed's Bert* models keep their encoder under `backbone.*` too.
 * - Gradual unfreezing (ULMFiT, Howard & Ruder 2018): the head trains from step 0; every
 *   `unfreezeEvery` steps the next group from the top is unfrozen: the last encoder layer (with the
 *   final norm), then the one below, ..., and last the embeddings.
 * - Discriminative learning rates: the backbone's parameter groups get lr · bodyLrRatio.
 * - PEFT (`peft`): the base is frozen and only the adapter and the head (modulesToSave, trained in
 *   full, as peft does for sequence classification) train; LoRA's default targets are q and v plus a
 *   rank-1 update of the word table (loraEmbedR); the
 *   optimizer holds no state for frozen weights and autograd computes no gradient for them. The
 *   run's model.safetensors then holds only those weights, and the run directory also gets
 *   adapter_config.json + adapter_model.safetensors in peft's layout.
 * - `labelFraction`: train on this share of the labelled training examples (chosen by a hash of
 *   the example's id, so a 10% run's examples are the same every time), for the few-label rows of
 *   the transfer table.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadCheckpoint, CONFIG_FILE, type LoadedCheckpoint } from '../io/checkpoint.js';
import { readTextFileSync, FILE_LIMITS } from '../io/read-file.js';
import { Vocab } from '../data/vocab.js';
import { fnv1a32 } from '../data/split.js';
import type { Module } from '../nn/module.js';
import { isNoDecay } from '../train/optim/optimizer.js';
import { getPeftModel, type PeftConfig, type PeftModel } from '../train/peft/peft-model.js';
import { loadPeftAdapter, savePeftAdapter, type AdapterKeyNames } from '../train/peft/checkpoint.js';
import { readSafetensors } from '../io/safetensors.js';
import { Tensor } from '../tensor/tensor.js';
import { WEIGHTS_FILE } from '../io/checkpoint.js';
import { CheckpointError, ConfigError } from '../errors.js';
import { isHfDirectory } from '../io/hf/index.js';
import { initFromHf, loadHfPretrained, type HfPretrained } from './hf-finetune.js';
import type { ConfigSchema } from '../models/config.js';
import { architectureOf, makeOptimizer, type TrainConfig } from './common.js';
import type { TrainableModel } from '../train/trainer.js';

export interface FinetuneConfig {
  /** A pretrained heed model directory whose backbone.* weights start this model ('' = from scratch). */
  initFrom: string;
  /** 'encoder': freeze the backbone (the head trains); 'none': train everything. */
  freeze: 'none' | 'encoder';
  /** With freeze 'encoder': unfreeze one more backbone group from the top every this many steps (0 = never). */
  unfreezeEvery: number;
  /** The backbone's learning rate as a share of lr (discriminative fine-tuning). */
  bodyLrRatio: number;
  /** Parameter-efficient fine-tuning of the backbone: 'lora', 'adapter' (bottleneck), 'prefix', or 'none'. */
  peft: 'none' | 'lora' | 'adapter' | 'prefix';
  loraR: number;
  loraAlpha: number;
  loraDropout: number;
  /**
   * LoRA: rank of an update of the word table (backbone.tokEmbed) beside the Linear layers' (0 =
   * leave the table frozen as it is; read only with peft 'lora'). Default 1: a small text model is
   * mostly its word table, and a pretrained table that has not learned the task's words cannot
   * become informative through the Linear layers (BENCHMARKS.md, "PEFT against full fine-tuning").
   */
  loraEmbedR: number;
  /** Module-name globs the adapters target, comma-separated ('' = the method's default). */
  peftTargets: string;
  /** Bottleneck width of each adapter. */
  adapterSize: number;
  /** Virtual tokens of prefix tuning. */
  prefixLength: number;
  /** Share of the labelled training examples to train on (1 = all). */
  labelFraction: number;
}

export const FINETUNE_SCHEMA: ConfigSchema<FinetuneConfig> = {
  initFrom: 'string', freeze: ['none', 'encoder'], unfreezeEvery: 'number', bodyLrRatio: 'number', peft: ['none', 'lora', 'adapter', 'prefix'],
  loraR: 'number', loraAlpha: 'number', loraDropout: 'number', loraEmbedR: 'number', peftTargets: 'string', adapterSize: 'number', prefixLength: 'number', labelFraction: 'number',
};

export const FINETUNE_DEFAULTS: Readonly<FinetuneConfig> = Object.freeze({
  initFrom: '',
  freeze: 'none',
  unfreezeEvery: 0,
  bodyLrRatio: 1,
  peft: 'none',
  loraR: 8, // peft's default rank
  loraAlpha: 16, // scaling α / r = 2
  loraDropout: 0.05,
  loraEmbedR: 1,
  peftTargets: '',
  adapterSize: 16,
  prefixLength: 10,
  labelFraction: 1,
});

/** The modules each method adapts when peftTargets is empty. */
export const DEFAULT_PEFT_TARGETS: Readonly<Record<Exclude<FinetuneConfig['peft'], 'none'>, string>> = Object.freeze({
  // q and v (Hu et al.'s choice, and peft's default for BERT), with loraEmbedR's update of the word table: 1.8% of the spam model.
  lora: 'qProj,vProj',
  adapter: '*.selfAttn.outProj,*.linear2', // Houlsby's two places per layer
  prefix: 'selfAttn', // every self-attention
});

/** The word table of a text backbone, the module loraEmbedR adapts. */
const EMBED_TARGET = 'backbone.tokEmbed';

const PEFT_TYPE = { lora: 'LORA', adapter: 'BOTTLENECK', prefix: 'PREFIX_TUNING' } as const;

/** Checks the fine-tuning keys' ranges and combinations. */
export function checkFinetuneConfig(task: string, c: FinetuneConfig): void {
  if (!(c.bodyLrRatio > 0 && c.bodyLrRatio <= 10)) throw new ConfigError(`${task} config: 'bodyLrRatio' is ${c.bodyLrRatio}, expected a value in (0, 10].`);
  if (!(c.labelFraction > 0 && c.labelFraction <= 1)) throw new ConfigError(`${task} config: 'labelFraction' is ${c.labelFraction}, expected a share in (0, 1].`);
  if (!Number.isInteger(c.unfreezeEvery) || c.unfreezeEvery < 0) throw new ConfigError(`${task} config: 'unfreezeEvery' is ${c.unfreezeEvery}, expected an integer ≥ 0.`);
  if (c.unfreezeEvery > 0 && c.freeze !== 'encoder') throw new ConfigError(`${task} config: 'unfreezeEvery' unfreezes a frozen encoder gradually; it needs --freeze encoder.`);
  if (c.peft !== 'none' && c.freeze !== 'none') throw new ConfigError(`${task} config: --peft ${c.peft} already freezes the base model; leave --freeze at none.`);
  if (!Number.isInteger(c.loraEmbedR) || c.loraEmbedR < 0) throw new ConfigError(`${task} config: 'loraEmbedR' is ${c.loraEmbedR}, expected an integer ≥ 0 (0 = no update of the word table).`);
  if (c.peft !== 'none' && c.initFrom === '') throw new ConfigError(`${task} config: --peft ${c.peft} adapts a pretrained model; give it with --init-from <dir>.`);
}

/** Whether a training example (by its stable id) is in the labelled share. */
export function inLabelFraction(id: string, fraction: number): boolean {
  return fraction >= 1 || fnv1a32(`label:${id}`) % 10000 < Math.round(fraction * 10000);
}

/** A pretrained directory: its checkpoint (weights, config) and its word vocabulary. */
export interface Pretrained {
  dir: string;
  checkpoint: LoadedCheckpoint;
  vocab: Vocab;
  /** config.model: the backbone sizes (dModel, numHeads, numLayers, dimFeedforward, maxLen, vocabSize). */
  arch: Record<string, unknown>;
}

/** Where a fine-tuned model starts: a heed directory (its backbone.* weights and vocabulary) or a Hugging Face one. */
export type InitSource = Pretrained | HfPretrained;

export function isHfPretrained(pre: InitSource | null): pre is HfPretrained {
  return (pre as HfPretrained | null)?.kind === 'hf';
}

/** Loads an --init-from directory: a Hugging Face checkpoint (hf-finetune.ts) or a heed one (loadPretrained). */
export async function loadInitSource(dir: string, task?: string): Promise<InitSource> {
  return isHfDirectory(dir) ? loadHfPretrained(resolve(dir), task) : loadPretrained(dir);
}

/** Loads a heed --init-from directory (heed pretrain mlm's, or a trained text model's). */
export async function loadPretrained(dir: string): Promise<Pretrained> {
  const abs = resolve(dir);
  const cfgPath = join(abs, CONFIG_FILE);
  if (!existsSync(cfgPath)) throw new ConfigError(`--init-from: '${dir}' holds no ${CONFIG_FILE}. Fix: give a directory that heed pretrain or heed train wrote.`);
  const raw = JSON.parse(readTextFileSync(cfgPath, { what: 'model config', maxBytes: FILE_LIMITS.config })) as Record<string, unknown>;
  if (raw.format !== 'heed.model' && (typeof raw.model_type === 'string' || Array.isArray(raw.architectures))) {
    throw new ConfigError(`--init-from: '${dir}' is a Hugging Face checkpoint (model_type ${JSON.stringify(raw.model_type)}), and loadPretrained reads heed directories. Fix: load it with loadInitSource(dir), which the spam and tag tasks use.`);
  }
  const checkpoint = await loadCheckpoint(abs);
  const vocabFile = checkpoint.files.vocab;
  if (vocabFile === undefined) throw new CheckpointError(`${cfgPath}: names no vocabulary file, so its token ids mean nothing to a downstream task. Fix: start from a text model (heed pretrain mlm).`);
  const vocab = Vocab.load(vocabFile);
  const arch = architectureOf(checkpoint);
  if (!Object.keys(checkpoint.weights).some((k) => k.startsWith('backbone.'))) {
    throw new CheckpointError(`${join(abs, 'model.safetensors')}: holds no backbone.* weights (it is a '${checkpoint.task}' model), so there is nothing to start a text encoder from. Fix: start from heed pretrain mlm's directory.`);
  }
  return { dir: abs, checkpoint, vocab, arch };
}

/**
 * Copies the pretrained backbone.* weights into `model` (shapes must match); returns the names of
 * the model's weights that did not come from the checkpoint ("newly initialized").
 */
export function initBackbone(model: Module, pre: InitSource): string[] {
  if (isHfPretrained(pre)) return initFromHf(model, pre).newlyInitialized;
  const backbone: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(pre.checkpoint.weights)) if (k.startsWith('backbone.')) backbone[k] = t;
  let r: { missingKeys: string[]; unexpectedKeys: string[] };
  try {
    r = model.loadStateDict(backbone, { strict: false });
  } catch (err) {
    throw new CheckpointError(`--init-from ${pre.dir}: ${(err as Error).message}`);
  }
  if (r.unexpectedKeys.length > 0) throw new CheckpointError(`--init-from ${pre.dir}: the checkpoint's backbone has weights this model lacks: ${r.unexpectedKeys.slice(0, 5).join(', ')}. Fix: build the task model with the pretrained sizes.`);
  return r.missingKeys;
}

/** The backbone's groups from the top (last layer + final norm) down to the embeddings, as name prefixes. */
function unfreezeGroups(model: Module): string[][] {
  const names = model.namedParameters().map(([n]) => n).filter((n) => n.startsWith('backbone.'));
  const layers = [...new Set(names.map((n) => /^backbone\.encoder\.layers\.(\d+)\./.exec(n)?.[1]).filter((x): x is string => x !== undefined))].map(Number).sort((a, b) => b - a);
  const groups = layers.map((l) => [`backbone.encoder.layers.${l}.`]);
  if (groups.length > 0) groups[0].push('backbone.encoder.norm.');
  // Last, everything else in the backbone: the embeddings (BERT's token types and embedding norm too).
  groups.push(['backbone.']);
  return groups;
}

/**
 * Freezes the backbone (freeze 'encoder') and returns the per-step hook of gradual unfreezing
 * (null when there is none). The hook is a pure function of the step, so a resumed run unfreezes
 * exactly what the uninterrupted run had unfrozen.
 */
export function setupFreezing(model: Module, c: FinetuneConfig): ((step: number) => void) | null {
  if (c.freeze !== 'encoder') return null;
  model.freeze('backbone.*');
  if (c.unfreezeEvery === 0) return null;
  const groups = unfreezeGroups(model);
  return (step) => {
    const open = Math.min(groups.length, Math.floor(step / c.unfreezeEvery));
    for (const [n, p] of model.namedParameters()) {
      if (!n.startsWith('backbone.')) continue;
      const g = groups.findIndex((prefixes) => prefixes.some((pre) => n.startsWith(pre)));
      p.requiresGrad = g >= 0 && g < open;
    }
  };
}

/**
 * Optimizer groups for fine-tuning: the head at lr, the backbone at lr · bodyLrRatio, each split
 * into decay / no-decay as paramGroups does. A frozen backbone is left out entirely (no optimizer
 * state), unless it will be unfrozen gradually: then it is in from the start, and the optimizer
 * skips it while it has no gradient.
 */
export function finetuneParamGroups(model: Module, c: FinetuneConfig & { lr: number; weightDecay: number }): { params: [string, Tensor][]; lr: number; weightDecay: number }[] {
  const keepFrozenBody = c.freeze === 'encoder' && c.unfreezeEvery > 0;
  const groups = new Map<string, { params: [string, Tensor][]; lr: number; weightDecay: number }>();
  for (const [n, p] of model.namedParameters()) {
    const body = n.startsWith('backbone.');
    if (!p.requiresGrad && !(body && keepFrozenBody)) continue;
    const lr = body ? c.lr * c.bodyLrRatio : c.lr;
    const wd = isNoDecay(n, p) ? 0 : c.weightDecay;
    const key = `${lr}/${wd}`;
    if (!groups.has(key)) groups.set(key, { params: [], lr, weightDecay: wd });
    groups.get(key)!.params.push([n, p]);
  }
  return [...groups.values()];
}

/** The PeftConfig the fine-tuning keys describe (null for peft 'none'); `save` are the task's new modules (its head). */
export function peftConfigFrom(c: FinetuneConfig, save: string[]): PeftConfig | null {
  if (c.peft === 'none') return null;
  const targets = (c.peftTargets || DEFAULT_PEFT_TARGETS[c.peft]).split(',').map((s) => s.trim()).filter((s) => s !== '');
  // The word table's update has its own rank, and alpha = r (scaling 1): its B starts at N(0, 1), not small.
  const embed = c.peft === 'lora' && c.loraEmbedR > 0 ? { targets: [EMBED_TARGET], rank: { [EMBED_TARGET]: c.loraEmbedR }, alpha: { [EMBED_TARGET]: c.loraEmbedR } } : null;
  return {
    peftType: PEFT_TYPE[c.peft], targetModules: embed ? [...targets, ...embed.targets] : targets, modulesToSave: save,
    r: c.loraR, loraAlpha: c.loraAlpha, loraDropout: c.loraDropout, adapterSize: c.adapterSize, numVirtualTokens: c.prefixLength,
    ...(embed ? { rankPattern: embed.rank, alphaPattern: embed.alpha } : {}),
  };
}

/** Puts the configured adapters into model (in place); null for peft 'none'. */
export function applyPeft(model: Module, c: FinetuneConfig, save: string[]): PeftModel | null {
  const cfg = peftConfigFrom(c, save);
  return cfg === null ? null : getPeftModel(model, cfg);
}

/** Whether a run's config.json describes a PEFT run (its model.safetensors holds only the adapter and the head). */
export function isPeftRun(config: Record<string, unknown>): boolean {
  return typeof config.peft === 'string' && config.peft !== 'none';
}

/**
 * After a PEFT run: the best checkpoint's adapter weights (<out>/model.safetensors, heed names) written
 * again in peft's layout beside them, naming the base directory. `keyNames` 'hf' (a Hugging Face
 * base) writes its module paths as transformers names them, so peft loads the adapter over the
 * PyTorch model unchanged.
 */
export async function exportPeftRun(out: string, peft: PeftModel, baseDir: string, taskType: string, keyNames: AdapterKeyNames = 'heed'): Promise<void> {
  const best = await readSafetensors(join(out, WEIGHTS_FILE));
  const sd: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(best.tensors)) sd[k] = new Tensor(t.data as Float32Array, t.shape);
  peft.loadStateDict(sd);
  await savePeftAdapter(out, peft, { baseModelNameOrPath: baseDir, taskType, keyNames });
}

/**
 * Rebuilds a PEFT run's model: `model` (built from config.model) gets the backbone of the base
 * directory it was trained from (config.initFrom), then the run's adapter; loadPeftAdapter refuses a
 * base whose weights are not the ones the adapter was trained on. Returns the model in eval mode.
 */
export async function loadPeftRun<M extends Module>(model: M, dir: string, config: Record<string, unknown>): Promise<M> {
  const base = String(config.initFrom);
  initBackbone(model, await loadInitSource(base));
  await loadPeftAdapter(model, dir, { baseName: base });
  model.eval();
  return model;
}

/** What training a fine-tuned model needs beside the model: see prepareFinetune. */
export interface FinetuneSetup {
  /** The PeftModel the Trainer trains and checkpoints (adapter + new modules only), or undefined. */
  trainerModel?: TrainableModel;
  /** Head / body parameter groups at their learning rates (with --init-from), or undefined (the task's default). */
  optimizer?: ReturnType<typeof makeOptimizer>;
  /** Gradual unfreezing, called before each step, or undefined. */
  beforeStep?: (step: number) => void;
  /** The adapters, for exportPeftRun after training; null when the run is not PEFT. */
  peft: PeftModel | null;
}

/**
 * Everything the fine-tuning keys do to a freshly built `model`, in order: copies the pretrained
 * backbone in (and prints the newly initialised weights, as Hugging Face's warning), freezes it
 * (--freeze, --unfreeze-every), puts adapters in (--peft; `save` = the task's new modules, trained
 * in full and saved with the adapter), prints the trainable share, and builds the optimizer's
 * head / body groups (--body-lr-ratio). `pre` null = from scratch (only --freeze applies).
 */
export function prepareFinetune(task: string, model: Module, c: FinetuneConfig & TrainConfig, pre: InitSource | null, save: string[], print: (line: string) => void): FinetuneSetup {
  if (isHfPretrained(pre)) {
    // As transformers' warning after from_pretrained: HF names of the weights trained from scratch, and of those left unused.
    const r = initFromHf(model, pre);
    print(`${task}: ${model.constructor.name} initialised from ${pre.dir} (model_type ${pre.modelType}); newly initialized: ${r.newlyInitialized.join(', ') || '(none)'}${r.unused.length > 0 ? `; unused checkpoint weights: ${r.unused.length} (${r.unused.slice(0, 3).join(', ')}${r.unused.length > 3 ? ', …' : ''})` : ''}`);
  } else if (pre) {
    print(`${task}: backbone initialised from ${pre.dir}; newly initialized: ${initBackbone(model, pre).join(', ') || '(none)'}`);
    // The model now holds its own copy of the pretrained weights; the task keeps `pre` (its dir, vocab) to the end
    // of the run, and with it the checkpoint's copy: a second set of every base weight for the whole run.
    pre.checkpoint.weights = {};
  }
  const beforeStep = setupFreezing(model, c) ?? undefined;
  const peft = applyPeft(model, c, save);
  if (pre) {
    const trainable = model.numParameters({ trainableOnly: true }), total = model.numParameters();
    print(`${task}: ${trainable.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} parameters trainable (${((100 * trainable) / total).toFixed(2)}%)${c.peft !== 'none' ? `, ${c.peft}` : ''}`);
  }
  return { trainerModel: peft ?? undefined, optimizer: pre ? makeOptimizer(model, c, finetuneParamGroups(model, c)) : undefined, beforeStep, peft };
}

/**
 * The module and parameter names directly under `model` other than `backbone` that hold weights:
 * what a task adds on top of a pretrained backbone (its head, its own input features), trained in
 * full and saved with a PEFT adapter (peft's modules_to_save).
 */
export function newModuleNames(model: Module): string[] {
  const tops = new Set(model.namedParameters().map(([n]) => n.split('.')[0]));
  tops.delete('backbone');
  return [...tops];
}
