/**
 * Knowledge distillation loss (Hinton, Vinyals & Dean 2015): the student matches the teacher's
 * softened distribution as well as the hard labels.
 *
 *   p_t = softmax(z_teacher / T)          q_s = softmax(z_student / T)
 *   soft = T² · mean_rows KL(p_t ‖ q_s) = T² · mean_rows Σ_c p_t,c (log p_t,c − log q_s,c)
 *   hard = crossEntropy(z_student, target)                     (label smoothing optional)
 *   loss = α · soft + (1 − α) · hard
 *
 * The T² keeps the soft term's gradients on the scale of the hard term's as T grows (the
 * gradient of KL at temperature T carries a 1/T² factor). For a seq2seq model the rows are the
 * target positions, and the teacher's per-step distributions come from a teacher-forced pass over
 * the same gold prefix: word-level distillation (Kim & Rush 2016). Rows whose target is
 * ignoreIndex (padding) count in neither term.
 *
 * The teacher's logits are constants (computed under noGrad, or detached here); only the student
 * gets gradients. Built from primitives (logSoftmax, mul, sum), so its gradient is theirs
 * (gradcheck: test/compress/distill.test.ts).
 *
 * Letters: N rows (examples or target positions), C classes.
 */
import { Tensor } from '../tensor/tensor.js';
import { crossEntropy } from '../ops/loss.js';
import { logSoftmax, softmax } from '../ops/softmax.js';
import { add, mul, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { noGrad } from '../autograd/mode.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';

export interface DistillationLossOptions {
  /** Softmax temperature T > 0 for both distributions (default 2). */
  temperature?: number;
  /** Weight α ∈ [0, 1] of the soft (KL) term; 1 − α goes to the hard loss (default 0.5). */
  alpha?: number;
  /** Target value of rows to skip (padding), as crossEntropy (default −100). */
  ignoreIndex?: number;
  /** Label smoothing of the hard term (default 0). */
  labelSmoothing?: number;
}

/**
 * T² · mean over kept rows of KL(softmax(teacher/T) ‖ softmax(student/T)).
 *
 * Args:
 *   student: (N, C) logits; gradients flow into it.
 *   teacher: (N, C) logits; treated as constants.
 *   temperature: T > 0.
 *   keep: optional (N) 0/1 weights of the rows to average over (default all).
 * Returns: a scalar.
 */
export function softTargetKL(student: Tensor, teacher: Tensor, temperature: number, keep?: Float32Array): Tensor {
  if (student.ndim !== 2 || teacher.ndim !== 2 || student.shape[0] !== teacher.shape[0] || student.shape[1] !== teacher.shape[1]) {
    throw new ShapeError(`softTargetKL: student logits ${fmtShape(student.shape)} and teacher logits ${fmtShape(teacher.shape)} must both be (N, C) of the same shape. Fix: distill from a teacher with the same classes (vocabulary) as the student.`);
  }
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new ValueError(`softTargetKL: temperature=${temperature}, expected a finite value > 0.`);
  const N = student.shape[0];
  const invT = 1 / temperature;
  const [pT, logPT] = noGrad(() => {
    const zt = mul(teacher.detach(), invT); // (N, C)
    return [softmax(zt, -1), logSoftmax(zt, -1)]; // (N, C) each
  });
  const logQS = logSoftmax(mul(student, invT), -1); // (N, C)
  const klRows = sum(mul(pT, sub(logPT, logQS)), -1); // (N)
  const w = new Float32Array(N);
  let kept = 0;
  for (let i = 0; i < N; i++) kept += w[i] = keep ? keep[i] : 1;
  const scale = (temperature * temperature) / Math.max(kept, 1);
  for (let i = 0; i < N; i++) w[i] *= scale;
  return sum(mul(klRows, new Tensor(student.dtype === 'float64' ? Float64Array.from(w) : w, [N]))); // ()
}

/**
 * α · softTargetKL(student, teacher, T) + (1 − α) · crossEntropy(student, target).
 *
 * Args:
 *   student: (N, C) logits.
 *   teacher: (N, C) logits of the teacher on the same inputs.
 *   target: (N) int32 class indices (ignoreIndex rows skipped in both terms).
 * Returns: a scalar loss.
 */
export function distillationLoss(student: Tensor, teacher: Tensor, target: Tensor, options: DistillationLossOptions = {}): Tensor {
  const T = options.temperature ?? 2;
  const alpha = options.alpha ?? 0.5;
  if (!(alpha >= 0 && alpha <= 1)) throw new ValueError(`distillationLoss: alpha=${alpha}, expected a weight in [0, 1] (1 = only the teacher's soft targets, 0 = only the labels).`);
  if (target.ndim !== 1 || target.shape[0] !== student.shape[0]) {
    throw new ShapeError(`distillationLoss: target has shape ${fmtShape(target.shape)}, expected [${student.shape[0]}] (one class per row of student ${fmtShape(student.shape)}).`);
  }
  const ignore = options.ignoreIndex ?? -100;
  const keep = Float32Array.from(target.data as Int32Array, (t) => (t === ignore ? 0 : 1));
  const soft = softTargetKL(student, teacher, T, keep);
  if (alpha === 1) return soft;
  const hard = crossEntropy(student, target, { ignoreIndex: ignore, labelSmoothing: options.labelSmoothing ?? 0 });
  if (alpha === 0) return hard;
  return add(mul(soft, alpha), mul(hard, 1 - alpha));
}
