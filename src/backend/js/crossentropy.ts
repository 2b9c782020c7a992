/**
 * Reference fused cross-entropy over class logits, per row, with PyTorch semantics.
 *
 *   lse_r  = log Σ_c exp(x_rc)
 *   loss_r = (1 − ε)(lse_r − x_r,t) + ε (lse_r − mean_c x_rc)      (ε = labelSmoothing)
 * A row whose target equals ignoreIndex has loss 0 and zero gradient (its lse is
 * still written). Reduction (mean over non-ignored rows, ...) is the op's job.
 * logits (rows, classes), targets (rows), losses (rows), lse (rows).
 */
import type { Params } from '../table.js';

export function crossEntropyForward({ logits, targets, losses, lse, rows, classes, ignoreIndex, labelSmoothing }: Params<'crossEntropyForward'>): void {
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) { const v = logits[o + c]; if (v > max || v !== v) max = v; }
    let sum = 0, total = 0;
    for (let c = 0; c < classes; c++) { sum += Math.exp(logits[o + c] - max); total += logits[o + c]; }
    const l = max + Math.log(sum);
    lse[r] = l;
    const t = targets[r];
    if (t === ignoreIndex) { losses[r] = 0; continue; }
    losses[r] = (1 - labelSmoothing) * (l - logits[o + t]) + labelSmoothing * (l - total / classes);
  }
}

/**
 * Backward of crossEntropyForward, overwriting dLogits:
 *   dx_rc = dLoss_r · (softmax(x_r)_c − (1 − ε)·[c = t] − ε / classes),   0 for ignored rows.
 */
export function crossEntropyBackward({ logits, targets, lse, dLoss, dLogits, rows, classes, ignoreIndex, labelSmoothing }: Params<'crossEntropyBackward'>): void {
  for (let r = 0; r < rows; r++) {
    const o = r * classes, t = targets[r];
    if (t === ignoreIndex) { dLogits.fill(0, o, o + classes); continue; }
    const g = dLoss[r], l = lse[r], u = labelSmoothing / classes;
    for (let c = 0; c < classes; c++) {
      const p = Math.exp(logits[o + c] - l);
      dLogits[o + c] = g * (p - (c === t ? 1 - labelSmoothing : 0) - u);
    }
  }
}
