/**
 * ER-ACE's asymmetric cross-entropy (Caccia et al. 2022, "New Insights on Reducing Abrupt
 * Representation Change in Online Continual Learning"), the loss of experience replay in the
 * class-incremental setting.
 *
 * A replay batch is `incoming` new examples followed by examples drawn from the memory. Plain
 * replay scores every row against every class seen so far, so the many new examples push the old
 * classes' logits down and the classifier drifts toward the newest task. ACE separates the two:
 *
 *   incoming rows   cross-entropy over the incoming classes only (old classes' logits masked)
 *   replayed rows   cross-entropy over every seen class
 *
 *   L = mean_incoming CE(z_i |_{incoming classes}, y_i) + mean_replay CE(z_j |_{seen classes}, y_j)
 *
 * so new data never pushes old classes down; only the memory teaches the boundary between old and
 * new. Evaluation then uses the full classifier (all seen classes).
 *
 *   const loss = asymmetricCrossEntropy(model.call(x), labels, { incoming: 32, seenClasses: [0, 1, 2, 3] });
 *
 * Letters: B = incoming + replayed rows, C classes.
 */
import { Tensor } from '../../tensor/tensor.js';
import { add, crossEntropy, mul, sum } from '../../ops/index.js';
import { ShapeError, ValueError, fmtShape } from '../../errors.js';

export interface AsymmetricCrossEntropyOptions {
  /** The first `incoming` rows are new data; the rest are replayed from memory. */
  incoming: number;
  /** Classes the incoming rows are scored over; default: the classes among their labels. */
  incomingClasses?: readonly number[];
  /** Classes the replayed rows are scored over; default: all C. */
  seenClasses?: readonly number[];
}

/** (B, C) logits, B integer labels → the scalar ACE loss (a mean per part, summed). */
export function asymmetricCrossEntropy(logits: Tensor, labels: Int32Array, options: AsymmetricCrossEntropyOptions): Tensor {
  if (logits.ndim !== 2 || logits.shape[0] !== labels.length) {
    throw new ShapeError(`asymmetricCrossEntropy: logits ${fmtShape(logits.shape)} and ${labels.length} labels; expected (B, C) logits with one label per row.`);
  }
  const [B, C] = logits.shape;
  const n = options.incoming;
  if (!Number.isInteger(n) || n < 0 || n > B) throw new ValueError(`asymmetricCrossEntropy: incoming=${n}, expected an integer in [0, B = ${B}].`);
  for (const l of labels) if (!Number.isInteger(l) || l < 0 || l >= C) throw new ValueError(`asymmetricCrossEntropy: label ${l} is outside [0, C = ${C}).`);
  const incomingClasses = options.incomingClasses ?? [...new Set(labels.subarray(0, n))];
  const seen = options.seenClasses ?? Array.from({ length: C }, (_, c) => c);
  const mask = new Float32Array(B * C).fill(-1e9); // (B, C) additive: 0 where a row may be predicted as the class
  const weight = new Float32Array(B); // 1/part size: each part's loss is its own mean
  for (let b = 0; b < B; b++) {
    const allowed = b < n ? incomingClasses : seen;
    for (const c of allowed) mask[b * C + c] = 0;
    if (mask[b * C + labels[b]] !== 0) {
      throw new ValueError(`asymmetricCrossEntropy: row ${b} has label ${labels[b]}, which is not among its allowed classes [${allowed.join(', ')}] (${b < n ? 'incoming' : 'replayed'} row). Fix: include it in ${b < n ? 'incomingClasses' : 'seenClasses'}.`);
    }
    weight[b] = 1 / (b < n ? n : B - n);
  }
  const rows = crossEntropy(add(logits, new Tensor(mask, [B, C])), new Tensor(labels, [B]), { reduction: 'none' }); // (B)
  return sum(mul(rows, new Tensor(weight, [B])));
}
