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
import { AutogradError } from '../errors.js';

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
 * once more for dz = dropout_p(dx) and db = Σ_rows dz (dropoutBackwardBias). With a DropoutGrad
 * attached to y (markDropoutOutput), the norm's kernel writes dz and db in the pass that writes dx
 * (layerNormBackwardDropout), and linearDropout's backward takes them: one pass over the tensor
 * and one kernel call fewer per sublayer.
 *
 * Only the very tensor the norm wrote counts: when y had another consumer, the tape sums y's
 * gradients into a new tensor, take() sees a different tensor and returns null, and linearDropout
 * computes dz itself as before. So attaching one never changes a gradient.
 */
export class DropoutGrad {
  private dx: Tensor | null = null;
  private dz: Tensor | null = null;
  private db: Tensor | null = null;

  /** p, seed: the producer's dropout; cols: its output features; sumBias: whether it wants Σ_rows dz. */
  constructor(readonly p: number, readonly seed: number, readonly cols: number, readonly sumBias: boolean) {}

  /** The norm's backward: dx as written, dz = dropout backward of dx, db = Σ_rows dz (null unless sumBias). */
  fill(dx: Tensor, dz: Tensor, db: Tensor | null): void {
    this.dx = dx;
    this.dz = dz;
    this.db = db;
  }

  /** The producer's backward: dz and db when g is the tensor the norm wrote, else null; resets. */
  take(g: Tensor): { dz: Tensor; db: Tensor | null } | null {
    const hit = this.dx === g && this.dz !== null ? { dz: this.dz, db: this.db } : null;
    this.dx = this.dz = this.db = null;
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

/**
 * ReluGrad: the FFN's ReLU + dropout backward folded into the next Linear's dx GEMM.
 *
 * In residualFfn (nn/residual-ffn.ts) h = linearDropout(x, W1, b1, relu, p) feeds only
 * linearDropout(h, W2, b2, …). Linked by one ReluGrad, the first records its output h and its scale
 * 1/(1 − p); the second's backward writes h's gradient already masked (dz1 = h > 0 ? dh · scale : 0,
 * in the GEMM's epilogue: linearBackwardFused) and records the tensor it wrote; the first's backward
 * then takes that tensor as its dz instead of reading h and dh once more (reluDropoutBackwardBias),
 * and its bias gradient is summed off its own dW GEMM's packing.
 *
 * The masked tensor is what the tape hands the first op as h's gradient, so the link is only for an h
 * that nothing else reads (residualFfn's hidden activation, never returned): take() checks it gets the
 * very tensor written, and throws if not, since a sum with another gradient would be wrong silently.
 */
export class ReluGrad {
  private y: Tensor | null = null;
  private scale = 1;
  private written: Tensor | null = null;

  /** The ReLU Linear's forward: its output y and dropout scale 1/(1 − p). */
  setOutput(y: Tensor, scale: number): void {
    this.y = y;
    this.scale = scale;
    this.written = null;
  }

  /** The next Linear's backward: the mask for its input x (null when x is not the recorded output). */
  maskFor(x: Tensor): { y: Tensor; scale: number } | null {
    return this.y !== null && this.y === x ? { y: this.y, scale: this.scale } : null;
  }

  /** The next Linear's backward: dz1, the masked gradient it wrote for the recorded output. */
  fill(dz: Tensor): void {
    this.written = dz;
  }

  /** The ReLU Linear's backward: true when g is the masked tensor written for it (then g is its dz); resets. */
  take(g: Tensor): boolean {
    const hit = this.written !== null;
    if (hit && this.written !== g) {
      throw new AutogradError('ReluGrad: the FFN\'s hidden activation received a gradient besides the next Linear\'s masked one, expected it to be read by that Linear alone. Fix: do not link a ReLU Linear whose output has other readers (residualFfn links only its own hidden activation).');
    }
    this.written = null;
    this.y = null;
    return hit;
  }
}
