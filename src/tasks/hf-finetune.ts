/**
 * Fine-tuning a task from a Hugging Face checkpoint directory (`heed train spam|tag --init-from
 * <HF dir>`): what differs from starting at a heed `pretrain mlm` directory (finetune.ts).
 *
 * A heed backbone reads the task's own words into a pre-norm encoder; an HF checkpoint reads its
 * own tokenizer's subword ids into BERT's post-norm encoder. So with an HF directory the task's
 * model *becomes* the checkpoint's architecture with the task's head, as HF's
 * AutoModelFor{Sequence,Token}Classification.from_pretrained(dir, num_labels=K) builds it:
 *
 *   spam  → {Bert,Roberta,DistilBert}ForSequenceClassification   (models/bert.ts, numLabels 2)
 *   tag   → {Bert,Roberta,DistilBert}ForTokenClassification      (numLabels = the tag set)
 *
 * - The checkpoint may hold any head of its model_type (a base model, a masked LM, another
 *   classifier): its backbone weights are copied by the architecture's name map (loadHfWeights),
 *   unused weights (an MLM head) are listed, and the new head is reported as HF's "newly
 *   initialized" warning. A classifier head of another label count is re-initialised (HF's
 *   ignore_mismatched_sizes); a backbone weight of another shape is a CheckpointError.
 * - Text goes through the directory's tokenizer (tokenizer.json, vocab.txt, or vocab.json +
 *   merges.txt), checked against the model's vocab_size, with its special tokens, truncated to the
 *   model's positions; padding is the model's pad id and is masked out of attention.
 * - The run directory is a heed run (heed names, the task's metadata, the tokenizer), so `heed
 *   eval / predict / serve` load it through the task; after training, `<out>/hf/` also gets the
 *   best weights in the savePretrained layout, label names in id2label and tokenizer.json, which
 *   transformers' from_pretrained (and `heed predict <out>/hf`) load unchanged.
 *
 * Letters: B examples, T subword tokens, K labels.
 */
import { join } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import {
  BERT_ARCHITECTURES, hfArchitecture, heedConfigOf, readHfConfig, readHfWeights, type BertFlavor, type BertHead, type HfConfig, type HfWeights,
} from '../io/hf/index.js';
import { readSafetensors, toFloat32 } from '../io/safetensors.js';
import { WEIGHTS_FILE } from '../io/checkpoint.js';
import { loadTokenizer } from '../data/tokenizers/load.js';
import { checkTokenizerVocabSize } from '../data/tokenizers/check-vocab-size.js';
import type { Tokenizer } from '../data/tokenizers/tokenizer.js';
import { BertForSequenceClassification, BertForTokenClassification } from '../models/bert.js';
import { hfArchitectureOfModel, loadHfWeights, savePretrained } from '../models/pretrained.js';
import { CheckpointError, ConfigError } from '../errors.js';

/** The sub-directory of a run that holds its savePretrained copy. */
export const HF_EXPORT_DIR = 'hf';

/** An --init-from Hugging Face directory: its config.json, tokenizer and weights (as stored). */
export interface HfPretrained {
  kind: 'hf';
  dir: string;
  /** config.json as read. */
  config: HfConfig;
  modelType: string;
  tokenizer: Tokenizer;
  weights: HfWeights;
}

/** The model types a task head can be built for: the BERT family (models/bert.ts). */
export const HF_TASK_MODEL_TYPES: readonly BertFlavor[] = Object.keys(BERT_ARCHITECTURES) as BertFlavor[];

/**
 * Reads an HF directory for fine-tuning a task. A model_type without a task head in heed is a
 * ConfigError before anything else is read; the tokenizer is checked against the model by
 * hfTaskModelConfig.
 */
export async function loadHfPretrained(dir: string, task = 'train'): Promise<HfPretrained> {
  const config = readHfConfig(dir);
  const modelType = typeof config.model_type === 'string' ? config.model_type : '';
  if (!HF_TASK_MODEL_TYPES.includes(modelType as BertFlavor)) {
    const heads = (head: BertHead) => HF_TASK_MODEL_TYPES.map((t) => BERT_ARCHITECTURES[t][head]).join(', ');
    throw new ConfigError(`${task} --init-from ${dir}: model_type '${modelType.slice(0, 60)}' has no task head in heed; a task fine-tunes model_type ${HF_TASK_MODEL_TYPES.map((t) => `'${t}'`).join(', ')} (spam: ${heads('sequence-classification')}; tag: ${heads('token-classification')}). Fix: start from a BERT-family checkpoint.`);
  }
  return { kind: 'hf', dir, config, modelType, tokenizer: loadTokenizer(dir), weights: await readHfWeights(dir) };
}

/**
 * The heed config of `pre`'s architecture with the task's head (`head`) and K labels, after
 * checking that the tokenizer fits the embedding (a ConfigError naming the directory).
 * Returns the HF class name too (for messages and the saved config).
 */
export function hfTaskModelConfig(pre: HfPretrained, head: Extract<BertHead, 'sequence-classification' | 'token-classification'>, numLabels: number): { architecture: string; model: Record<string, unknown> } {
  const flavor = pre.modelType as BertFlavor;
  const architecture = BERT_ARCHITECTURES[flavor][head];
  const arch = hfArchitecture(architecture);
  const model: Record<string, unknown> = { ...heedConfigOf(arch, pre.config, join(pre.dir, 'config.json')), numLabels };
  checkTokenizerVocabSize(pre.tokenizer, Number(model.vocabSize), pre.dir);
  return { architecture, model };
}

/** The models a task trains from an HF directory, built from their saved heed config (random weights until initFromHf). */
export function buildHfSequenceClassifier(config: Record<string, unknown>): BertForSequenceClassification {
  return BertForSequenceClassification.fromConfig(config);
}

export function buildHfTokenClassifier(config: Record<string, unknown>): BertForTokenClassification {
  return BertForTokenClassification.fromConfig(config);
}

/** Tokens a model takes: its position table, less RoBERTa's offset (positions start at padId + 1). */
export function hfMaxTokens(c: { maxLen?: number; padId?: number; positions?: string }): number {
  return (c.maxLen ?? 512) - (c.positions === 'offset' ? (c.padId ?? 0) + 1 : 0);
}

/**
 * Copies an HF checkpoint's weights into `model` (a Bert* model of the same model_type) and
 * returns HF's report lines: the newly initialized weights (HF names) and the unused ones.
 */
export function initFromHf(model: Module, pre: HfPretrained): { newlyInitialized: string[]; unused: string[] } {
  let arch;
  try {
    arch = hfArchitectureOfModel(model);
  } catch (err) {
    throw new ConfigError(`--init-from ${pre.dir}: a Hugging Face checkpoint initialises a model of its own architecture, but this task built a ${model.constructor.name}: ${(err as Error).message}`);
  }
  const r = loadHfWeights(model, arch, pre.weights.tensors, pre.weights.fileOf, { ignoreMismatchedSizes: true });
  // Only a head may differ in shape (another label count); a backbone weight that differs means another model.
  if (r.mismatchedKeys.length > 0 && r.newlyInitialized.some((n) => n.startsWith('backbone.'))) {
    const m = r.mismatchedKeys.map((k) => `${k.key} [${k.checkpoint.join(', ')}] vs [${k.model.join(', ')}]`).join('; ');
    throw new CheckpointError(`--init-from ${pre.dir}: weights of the backbone do not fit ${arch.name} built from its config.json (${m}). Fix: correct config.json to the sizes of the weights beside it.`);
  }
  return { newlyInitialized: r.missingKeys, unused: r.unexpectedKeys };
}

/** The special tokens the tokenizer puts before and after one sequence ([CLS] … [SEP], <s> … </s>). */
export function specialTokens(tok: Tokenizer): { before: number[]; after: number[] } {
  const e = tok.encodeWords(['a'], { addSpecialTokens: true });
  const first = e.wordIds.findIndex((w) => w !== null);
  const last = e.wordIds.length - 1 - [...e.wordIds].reverse().findIndex((w) => w !== null);
  return { before: e.ids.slice(0, first), after: e.ids.slice(last + 1) };
}

/**
 * Pads token-id rows (specials included) into ids (B, T) and the attention mask (B, T), 1 = token,
 * 0 = padding (filled with padId, as HF's collator pads).
 */
export function padTokenRows(rows: readonly ArrayLike<number>[], padId: number): { ids: Tensor; attentionMask: Tensor; tokens: number } {
  const B = rows.length;
  const T = Math.max(1, ...rows.map((r) => r.length));
  const ids = new Int32Array(B * T).fill(padId), mask = new Int32Array(B * T);
  let tokens = 0;
  rows.forEach((r, b) => {
    for (let t = 0; t < r.length; t++) {
      ids[b * T + t] = r[t];
      mask[b * T + t] = 1;
    }
    tokens += r.length;
  });
  return { ids: new Tensor(ids, [B, T]), attentionMask: new Tensor(mask, [B, T]), tokens };
}

/**
 * After training: the run's best weights (<out>/model.safetensors, heed names) written again as a
 * Hugging Face directory <out>/hf/ (savePretrained: config.json with the task's label names in
 * id2label (LABEL_i when null) over the source checkpoint's other keys, model.safetensors) with the tokenizer.json.
 */
export async function exportHfRun(out: string, model: Module, tokenizer: Tokenizer, labels: readonly string[] | null, source: HfConfig): Promise<string> {
  const best = await readSafetensors(join(out, WEIGHTS_FILE));
  const sd: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(best.tensors)) sd[k] = new Tensor(toFloat32(t), t.shape);
  model.loadStateDict(sd, { strict: true });
  const { architectures: _a, id2label: _i, label2id: _l, num_labels: _n, ...extras } = source;
  const names = labels === null ? {} : { id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])) };
  const dir = join(out, HF_EXPORT_DIR);
  await savePretrained(model, dir, { overwrite: true, config: { ...extras, ...names } });
  tokenizer.save(join(dir, 'tokenizer.json'));
  return dir;
}
