/**
 * ResidualGrad: a residual's gradient handed from one op's backward to a layerNorm's backward,
 * outside the tape, so that the norm's kernel adds it while it writes its own gradient instead of
 * the tape adding the two with one more kernel over the whole tensor.
 *
 * A Transformer block uses x twice: as the norm's input (pre-norm, h = LN(x)) or output (post-norm,
 * x = LN(s)), and as the residual of the GEMM that ends the next sublayer, linearDropout(…, residual
 * x). The tape would sum x's two gradients in a separate add. With a link, linearDropout's backward
 * puts the residual's gradient here (the residual is then not a taped input of linearDropout), and
 * the norm's backward takes it and adds it in its kernel (dx += it, pre-norm; dy += it, post-norm).
 *
 * Order: the sublayer's output depends on the norm's output, so the tape always runs the GEMM's
 * backward (which fills the link) before the norm's (which empties it). Both ops must be given the
 * link or neither (nn/transformer.ts decides once per sublayer); a link the norm never empties would
 * drop a gradient, which is why only the layers use it, never a public API.
 */
import type { Tensor } from '../tensor/tensor.js';

export class ResidualGrad {
  /** The residual's gradient, set by the consumer's backward and taken (reset) by the norm's. */
  grad: Tensor | null = null;

  /** Stores g (summing if a gradient is already waiting: the residual fed more than one fused op). */
  put(g: Tensor, sum: (a: Tensor, b: Tensor) => Tensor): void {
    this.grad = this.grad === null ? g : sum(this.grad, g);
  }

  /** The waiting gradient (null when none arrived), and resets the link. */
  take(): Tensor | null {
    const g = this.grad;
    this.grad = null;
    return g;
  }
}

/**
 * DropoutGrad: the dropout backward of an op's output, computed by the layerNorm that reads that
 * output, in its own backward pass.
 *
 * linearDropout (act 'none', p > 0) ends each Transformer sublayer, and the next layerNorm reads its
 * output y (pre-norm: the next sublayer's or the stack's final norm; post-norm: the norm after the
 * residual). The norm's backward writes y's gradient dx, and linearDropout's backward then read it
 * once more for dz = dropout_p(dx). With a DropoutGrad attached to y (markDropoutOutput), the norm's
 * kernel writes dz in the pass that writes dx (layerNormBackwardDropout), and linearDropout's
 * backward takes it: one pass over the tensor and one kernel call fewer per sublayer.
 *
 * Only the very tensor the norm wrote counts: when y had another consumer, the tape sums y's
 * gradients into a new tensor, take() sees a different tensor and returns null, and linearDropout
 * computes dz itself as before. So attaching one never changes a gradient.
 */
export class DropoutGrad {
  private dx: Tensor | null = null;
  private dz: Tensor | null = null;

  /** p, seed: the producer's dropout (its bias gradient comes off its own dW GEMM, linearBackwardFused). */
  constructor(readonly p: number, readonly seed: number) {}

  /** The norm's backward: dx as written, dz = dropout backward of dx. */
  fill(dx: Tensor, dz: Tensor): void {
    this.dx = dx;
    this.dz = dz;
  }

  /** The producer's backward: dz when g is the tensor the norm wrote, else null; resets. */
  take(g: Tensor): Tensor | null {
    const hit = this.dx === g ? this.dz : null;
    this.dx = this.dz = null;
    return hit;
  }
}

const dropoutOutputs = new WeakMap<Tensor, DropoutGrad>();

/** Attaches d to the producer's output y (linearDropout). */
export function markDropoutOutput(y: Tensor, d: DropoutGrad): void {
  dropoutOutputs.set(y, d);
}

/** The DropoutGrad attached to x, if x is such an output (layerNorm's backward asks). */
export function dropoutOutputOf(x: Tensor): DropoutGrad | undefined {
  return dropoutOutputs.get(x);
}
