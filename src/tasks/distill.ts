/**
 * Knowledge distillation in the built-in tasks (`heed train <task> --distill-from <teacher dir>`):
 * the training keys distillFrom / distillAlpha / distillTemperature (common.ts), the checks that a
 * teacher fits the student (same task, same vocabularies), and the loss that mixes the teacher's
 * soft targets into the hard loss (src/compress/distill.ts). A task calls these from its train();
 * the seq2seq task distills word-level: the teacher's per-step distributions under teacher forcing.
 */
import type { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/mode.js';
import { crossEntropy } from '../ops/loss.js';
import { distillationLoss } from '../compress/distill.js';
import { CheckpointError, ConfigError } from '../errors.js';
import type { TrainConfig } from './common.js';

/** How a training run distills, or null when it does not. */
export interface DistillSettings {
  teacherDir: string;
  alpha: number;
  temperature: number;
}

/** The distillation settings of a resolved task config (null without distillFrom); checks their ranges. */
export function distillSettings(c: TrainConfig): DistillSettings | null {
  if (!(c.distillAlpha >= 0 && c.distillAlpha <= 1)) throw new ConfigError(`config: 'distillAlpha' is ${c.distillAlpha}, expected a weight in [0, 1] (the share of the teacher's soft targets in the loss).`);
  if (!(c.distillTemperature > 0 && Number.isFinite(c.distillTemperature))) throw new ConfigError(`config: 'distillTemperature' is ${c.distillTemperature}, expected a finite value > 0 (2–4 is usual).`);
  if (c.distillFrom === '') return null;
  return { teacherDir: c.distillFrom, alpha: c.distillAlpha, temperature: c.distillTemperature };
}

/**
 * Throws a CheckpointError unless the teacher's vocabulary equals the student's: soft targets over
 * other classes or tokens would be matched to the wrong outputs.
 */
export function checkTeacherVocab(teacherDir: string, what: string, teacher: readonly string[], student: readonly string[]): void {
  if (teacher.length === student.length && teacher.every((t, i) => t === student[i])) return;
  const diff = teacher.findIndex((t, i) => t !== student[i]);
  throw new CheckpointError(`--distill-from '${teacherDir}': the teacher's ${what} (${teacher.length} tokens) differs from the student's (${student.length} tokens)` +
    (diff >= 0 && diff < Math.min(teacher.length, student.length) ? `, first at id ${diff} ('${teacher[diff]}' vs '${student[diff]}')` : '') +
    '. Distillation needs the same vocabulary. Fix: train the student on the same data with the same vocabulary settings as the teacher.');
}

/**
 * The training loss of a batch: the distillation mix when there is a teacher, else plain cross entropy.
 *
 * Args:
 *   student: (N, C) logits (rows = examples, or target positions flattened).
 *   teacherLogits: computes the teacher's (N, C) logits on the same inputs; run under noGrad here.
 *   target: (N) int32.
 */
export function studentLoss(student: Tensor, target: Tensor, d: DistillSettings | null, teacherLogits: () => Tensor, o: { labelSmoothing: number; ignoreIndex?: number }): Tensor {
  if (d === null) return crossEntropy(student, target, o);
  const t = noGrad(teacherLogits);
  return distillationLoss(student, t, target, { temperature: d.temperature, alpha: d.alpha, ignoreIndex: o.ignoreIndex, labelSmoothing: o.labelSmoothing });
}
