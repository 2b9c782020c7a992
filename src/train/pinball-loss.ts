/**
 * The pinball (quantile) loss for quantile forecasters (src/models/forecaster.ts), composed from
 * primitive ops so its gradient is theirs. Minimising it at level q makes ŷ_q the q-quantile of
 * the target's conditional distribution; at q = 0.5 it is half the absolute error, so the median
 * forecast is the MAE-optimal point forecast.
 *
 * Letters: B instances, H horizon, Q levels.
 */
import { Tensor } from '../tensor/tensor.js';
import { add, sub, mul, relu, neg } from '../ops/elementwise.js';
import { reshape } from '../ops/shape.js';
import { mean } from '../ops/reduce.js';
import { ShapeError, fmtShape } from '../errors.js';

/**
 * Pinball loss, mean over every element: for level q and error e = y − ŷ_q, max(q·e, (q − 1)·e),
 * written q·relu(e) + (1 − q)·relu(−e).
 *
 * Args:
 *   pred: (B, H, Q) quantile forecasts.
 *   target: (B, H) actual values.
 *   levels: the Q levels.
 * Returns: a scalar.
 */
export function pinballLoss(pred: Tensor, target: Tensor, levels: readonly number[]): Tensor {
  const [B, H, Q] = pred.shape;
  if (pred.ndim !== 3 || target.ndim !== 2 || target.shape[0] !== B || target.shape[1] !== H || Q !== levels.length) {
    throw new ShapeError(`pinballLoss: pred ${fmtShape(pred.shape)}, target ${fmtShape(target.shape)}, ${levels.length} levels; expected pred (B, H, Q), target (B, H) and Q levels.`);
  }
  const e = sub(reshape(target, [B, H, 1]), pred); // (B, H, Q)
  const q = new Tensor(Float32Array.from(levels), [1, 1, Q]);
  const oneMinusQ = new Tensor(Float32Array.from(levels, (l) => 1 - l), [1, 1, Q]);
  const loss = add(mul(relu(e), q), mul(relu(neg(e)), oneMinusQ)); // (B, H, Q)
  return mean(loss);
}

