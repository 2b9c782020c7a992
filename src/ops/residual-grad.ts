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
