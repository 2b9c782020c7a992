/**
 * The bare model of a model directory, for the commands that work on the model itself rather than
 * through a task's Predictor (heed export, heed compress), on every built-in task:
 *
 *   - a task with its own loadModel (g2p, spam, digits, the templates) gives a real sample input;
 *   - otherwise the model is rebuilt from config.model by the architecture the task trains
 *     (recommend SASRec, forecast PatchTSTForecaster, mlm MaskedLM, clm GPT, fashion CnnClassifier
 *     or ViT, continual CnnClassifier), with its compression record replayed and its weights loaded
 *     strictly, exactly as the task's own loader builds it (buildCheckpointModel);
 *   - a Hugging Face directory loads through fromPretrained.
 * Without a task's real input, sampleInputsFor (compress/onnx/samples.ts) gives a valid one.
 */
import { loadCheckpoint } from '../io/checkpoint.js';
import type { Module } from '../nn/module.js';
import { fromPretrained } from '../models/pretrained.js';
import { EncoderClassifier } from '../models/encoder-classifier.js';
import { TokenTagger } from '../models/token-tagger.js';
import { ViT } from '../models/vit.js';
import { GPT } from '../models/gpt.js';
import { Seq2SeqTransformer } from '../models/seq2seq.js';
import { LstmAttentionSeq2Seq } from '../models/lstm-seq2seq.js';
import { CnnClassifier } from '../models/cnn.js';
import { MaskedLM } from '../models/masked-lm.js';
import { MultimodalFusion } from '../models/multimodal.js';
import { PatchTSTForecaster } from '../models/forecaster.js';
import { SASRec } from '../models/sasrec.js';
import { sampleInputsFor } from '../compress/onnx/samples.js';
import { NotImplementedError } from '../errors.js';
import { architectureOf, buildCheckpointModel, type TaskModel } from './common.js';

/** config.model's `model` name → how to build that architecture from its saved config. */
const BUILDERS: Readonly<Record<string, (c: Record<string, unknown>) => Module>> = Object.freeze({
  EncoderClassifier: (c) => EncoderClassifier.fromConfig(c),
  TokenTagger: (c) => TokenTagger.fromConfig(c),
  ViT: (c) => ViT.fromConfig(c),
  GPT: (c) => GPT.fromConfig(c),
  Seq2SeqTransformer: (c) => Seq2SeqTransformer.fromConfig(c),
  LstmAttentionSeq2Seq: (c) => LstmAttentionSeq2Seq.fromConfig(c),
  CnnClassifier: (c) => CnnClassifier.fromConfig(c),
  MaskedLM: (c) => MaskedLM.fromConfig(c),
  MultimodalFusion: (c) => MultimodalFusion.fromConfig(c),
  PatchTSTForecaster: (c) => PatchTSTForecaster.fromConfig(c),
  SASRec: (c) => SASRec.fromConfig(c),
});

/** The architecture each built-in task without its own loadModel trains, from its saved config. */
const TASK_ARCHITECTURES: Readonly<Record<string, (config: Record<string, unknown>) => string>> = Object.freeze({
  recommend: () => 'SASRec',
  forecast: () => 'PatchTSTForecaster',
  mlm: () => 'MaskedLM',
  clm: () => 'GPT',
  fashion: (c) => (c.architecture === 'vit' ? 'ViT' : 'CnnClassifier'),
  continual: () => 'CnnClassifier',
});

/** A heed model directory of task `task`, rebuilt from config.model by the task's architecture (see the file header). */
export async function loadArchitectureModel(dir: string, task: string): Promise<TaskModel> {
  const ck = await loadCheckpoint(dir, task);
  const arch = architectureOf(ck);
  const name = typeof arch.model === 'string' ? arch.model : Object.hasOwn(TASK_ARCHITECTURES, task) ? TASK_ARCHITECTURES[task](ck.config) : null;
  const build = name !== null && Object.hasOwn(BUILDERS, name) ? BUILDERS[name] : null;
  if (build === null) {
    throw new NotImplementedError(`${dir}: heed cannot rebuild the '${task}' task's model without its task's loader (architecture ${name === null ? 'unknown' : `'${name}'`}; known: ${Object.keys(BUILDERS).join(', ')}). Fix: give the task a loadModel (TaskDefinition.loadModel).`);
  }
  const model = buildCheckpointModel(ck, name!, build);
  return { model, sampleInputs: sampleInputsFor(model) };
}

/** A Hugging Face checkpoint directory as its heed model (Bert*, GPT, ViT). */
export async function loadHfModel(dir: string): Promise<TaskModel> {
  const model = await fromPretrained(dir);
  model.eval();
  return { model, sampleInputs: sampleInputsFor(model) };
}
