/**
 * Learning without forgetting (Li & Hoiem 2017): while training a new task, the model's outputs
 * on the old classes are held close to what the model before this task (the teacher, frozen)
 * said on the same new inputs, by Hinton et al.'s (2015) soft-target loss at temperature T:
 *
 *   L = T² · KL( softmax(teacher / T) ‖ softmax(student / T) )       (mean over the batch)
 *
 * The T² keeps the gradient's scale independent of T. `classes` restricts both to the old
 * classes' logits (the heads of earlier tasks).
 *
 * Letters: B batch, C classes.
 */
import { Tensor } from '../../tensor/tensor.js';
import { softTargetKL } from '../../compress/distill.js';
import { indexSelect } from '../../ops/indexing.js';
import { ShapeError, fmtShape } from '../../errors.js';

export interface SoftTargetOptions {
  temperature?: number;
  /** Only these logit columns (e.g. the old tasks' classes). */
  classes?: readonly number[];
}

/** T² · KL(p_teacher ‖ p_student) at temperature T, averaged over the batch; teacher is not differentiated. */
export function softTargetLoss(student: Tensor, teacher: Tensor, options: SoftTargetOptions = {}): Tensor {
  if (student.ndim !== 2 || teacher.ndim !== 2 || student.shape[0] !== teacher.shape[0] || student.shape[1] !== teacher.shape[1]) {
    throw new ShapeError(`softTargetLoss: student ${fmtShape(student.shape)} and teacher ${fmtShape(teacher.shape)} logits must both be (B, C) of one shape.`);
  }
  const T = options.temperature ?? 2;
  let s = student, t = new Tensor(teacher.data, teacher.shape); // a detached copy of the teacher
  if (options.classes) {
    const cols = new Tensor(Int32Array.from(options.classes), [options.classes.length]);
    s = indexSelect(s, 1, cols);
    t = indexSelect(t, 1, cols);
  }
  return softTargetKL(s, t, T); // the distillation loss of src/compress/distill.ts, on the selected columns
}
