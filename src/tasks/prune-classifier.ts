/**
 * Attention-head pruning of a trained classifier (spam, digits), then fine-tuning
 * (Michel et al. 2019): heads are scored on the validation split (src/compress/prune-heads.ts),
 * the given fraction of all heads with the lowest scores is removed for real, the pruned model is
 * fine-tuned for a few steps on the training split, and saved as a model directory whose
 * config.json records the pruned heads (it reloads with loadPredictor and serves).
 *
 * Each classifier task exports a `<task>CompressionSetup(dir)` giving its model and data.
 */
import { Tensor } from '../tensor/tensor.js';
import { crossEntropy } from '../ops/loss.js';
import { Module } from '../nn/module.js';
import { headImportance, headsToPrune, pruneHeads, type HeadPruningPlan } from '../compress/prune-heads.js';
import { compressionOf } from '../compress/record.js';
import { ConfigError } from '../errors.js';
import { scoreClassifier, trainClassifier, type ClassifierData, type ClassifierModel } from './classify.js';
import type { CheckpointContents } from '../io/checkpoint.js';
import type { RunOptions, TaskSpec, TrainConfig, TrainSummary } from './common.js';

export interface ClassifierCompressionSetup {
  spec: TaskSpec<TrainConfig>;
  config: TrainConfig & { batchSize: number };
  model: ClassifierModel;
  names: string[];
  train: ClassifierData;
  valid: ClassifierData;
  checkpoint(): Omit<CheckpointContents, 'weights' | 'optimizer' | 'trainerState' | 'runId'>;
}

export interface PruneClassifierOptions {
  /** Fraction of all attention heads to remove, in [0, 1). */
  fraction: number;
  /** Fine-tuning steps after pruning (0 = none; the pruned model is saved as is). */
  fineTuneSteps: number;
  /** Learning rate of the fine-tuning (default: a tenth of the config's). */
  lr?: number;
  /** Validation examples used to score the heads (default 256). */
  scoreExamples?: number;
  /** Skip scoring the unpruned model (accuracyBefore is then NaN): for sweeps that score it once. */
  skipBefore?: boolean;
}

export interface PruneClassifierResult {
  plan: HeadPruningPlan;
  headsRemoved: number;
  headsTotal: number;
  /** Validation accuracy before pruning, right after pruning, and after fine-tuning. */
  accuracyBefore: number;
  accuracyPruned: number;
  accuracyFineTuned: number;
  summary: TrainSummary | null;
}

/** Prunes `fraction` of the heads of s.model, fine-tunes it and saves it into run.out (see the file header). */
export async function pruneClassifierHeads(s: ClassifierCompressionSetup, o: PruneClassifierOptions, run: RunOptions): Promise<PruneClassifierResult> {
  if (!(o.fraction >= 0 && o.fraction < 1)) throw new ConfigError(`pruneClassifierHeads: fraction=${o.fraction}, expected a fraction of the heads in [0, 1).`);
  const model = s.model as unknown as Module;
  const accuracy = () => scoreClassifier([{ model: s.model, data: s.valid }], s.names).accuracy;
  const accuracyBefore = o.skipBefore ? NaN : accuracy();
  const n = Math.min(o.scoreExamples ?? 256, s.valid.labels.length);
  const batches: Int32Array[] = [];
  for (let i = 0; i < n; i += 32) batches.push(Int32Array.from({ length: Math.min(32, n - i) }, (_, j) => i + j));
  const scores = headImportance(model, batches, (idx) => {
    const y = new Tensor(Int32Array.from(idx, (i) => s.valid.labels[i]), [idx.length]);
    return crossEntropy(s.model.call(s.valid.inputs(idx).x), y);
  });
  const plan = headsToPrune(scores, o.fraction);
  const headsRemoved = pruneHeads(model, plan);
  const headsTotal = Object.values(scores).reduce((a, v) => a + v.length, 0);
  const accuracyPruned = accuracy();
  let summary: TrainSummary | null = null;
  const checkpoint = () => ({ ...s.checkpoint(), compression: compressionOf(model) });
  if (o.fineTuneSteps > 0) {
    const config = { ...s.config, maxSteps: o.fineTuneSteps, warmupSteps: 0, lr: o.lr ?? s.config.lr / 10, evalEvery: o.fineTuneSteps, timeLimit: 0, patience: 0, distillFrom: '' };
    summary = await trainClassifier({ spec: s.spec, config, model: s.model, train: s.train, valid: s.valid, names: s.names, checkpoint }, run);
  } else {
    const { saveCheckpoint } = await import('../io/checkpoint.js');
    await saveCheckpoint(run.out, { ...checkpoint(), runId: run.runId, weights: model.stateDict() });
  }
  return { plan, headsRemoved, headsTotal, accuracyBefore, accuracyPruned, accuracyFineTuned: accuracy(), summary };
}
