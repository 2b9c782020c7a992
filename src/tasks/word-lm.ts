/**
 * What the word-level language-model tasks (mlm, clm) share: cutting documents into chunks of
 * words, loading a trained directory (model + word vocabulary), and the one-directory, train/valid
 * rules of their predictor and evaluation.
 */
import { hashSplit } from '../data/split.js';
import { loadTexts } from '../data/text-corpus.js';
import { Vocab } from '../data/vocab.js';
import type { Module } from '../nn/module.js';
import { loadCheckpoint, CONFIG_FILE } from '../io/checkpoint.js';
import { CheckpointError, ValueError } from '../errors.js';
import { tokenize } from './spam.js';
import { architectureOf, buildCheckpointModel, modelDirList, type ModelDirs } from './common.js';

export const VOCAB_FILE = 'words.vocab.json';

/** Words of every document, cut into chunks of at most `size` words, hash-split 95 / 5 by chunk. */
export function chunkTexts(docs: readonly { id: string; text: string }[], size: number): { train: string[][]; valid: string[][] } {
  const out = { train: [] as string[][], valid: [] as string[][] };
  for (const d of docs) {
    const words = tokenize(d.text);
    for (let i = 0, k = 0; i < words.length; i += size, k++) {
      const chunk = words.slice(i, i + size);
      if (chunk.length < Math.min(8, size)) continue; // a tail of a few words teaches little
      out[hashSplit(`${d.id}#${k}`, 95, 5) === 'train' ? 'train' : 'valid'].push(chunk);
    }
  }
  return out;
}

/** A trained word-LM directory of `task`: its model (built and loaded strictly), config.json and vocabulary. */
export async function loadWordModel<M extends Module>(dir: string, task: string, kind: string, fromConfig: (c: Record<string, unknown>) => M): Promise<{ model: M; config: Record<string, unknown>; vocab: Vocab }> {
  const ck = await loadCheckpoint(dir, task);
  const vocab = Vocab.load(ck.files.vocab);
  const mc = architectureOf(ck);
  if (mc.vocabSize !== vocab.size) throw new CheckpointError(`${dir}/${CONFIG_FILE}: config.model.vocabSize is ${mc.vocabSize} but ${VOCAB_FILE} holds ${vocab.size} tokens; the directory mixes files of different models.`);
  return { model: buildCheckpointModel(ck, kind, fromConfig), config: ck.config, vocab };
}

/** The one directory of a language model (ensembles of them are not supported). */
export function singleDir(dir: ModelDirs, task: string): string {
  const dirs = modelDirList(dir);
  if (dirs.length > 1) throw new ValueError(`${task}: a checkpoint ensemble of language models is not supported; give one directory, received ${dirs.length}.`);
  return dirs[0];
}

/** The chunks of a split ('train' or 'valid': pretraining text has no test split) of the text a model was trained on. */
export async function splitChunks(task: string, config: Record<string, unknown>, maxLen: number, split: string, limit?: number): Promise<string[][]> {
  if (split !== 'train' && split !== 'valid') throw new ValueError(`${task} eval: split '${split}', expected train or valid (pretraining text has no test split).`);
  const chunks = chunkTexts(await loadTexts(String(config.corpus ?? ''), String(config.textFiles ?? '')), maxLen - 1)[split];
  return limit && limit > 0 ? chunks.slice(0, limit) : chunks;
}
