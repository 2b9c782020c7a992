/**
 * The training-path fused Linear of a Transformer block:
 *
 *   linearDropout(x, W, b, { activation, p, residual }) = residual + dropout_p(act(x · Wᵀ + b))
 *
 * x (…, in), W (out, in), b (out) or null, residual (…, out) or null → (…, out); act 'none', 'relu' or 'gelu'.
 * It equals the composition `add(residual, dropout(relu(linear(x, W, b)), p))` (the same generator
 * draw, the same mask, the same float32 arithmetic), but runs as one GEMM whose epilogue applies
 * bias, ReLU, the dropout mask and the residual while each output tile is in cache (native
 * linearFused), where the composition runs four kernels that each read and write the whole output.
 *
 * Backward (dy = g):
 *   d residual = g                                          (passed through, no copy)
 *   dz = dropout(g) with the forward's seed                  (act 'none': the mask is re-hashed)
 *   dz = g · 1/(1 − p) where y > 0, else 0                   (act 'relu': y > 0 ⇔ kept ∧ z > 0)
 *   dx = dz · W,  dW = dzᵀ · x,  db = Σ_rows dz               (linear's backward on dz: db summed off the dW
 *                                                             GEMM's packing of dzᵀ, linearBackwardFused; only
 *                                                             when no norm wrote dz for 'none' with p > 0, one
 *                                                             pass writes dz and db: dropoutBackwardBias)
 * The dropout-only Linear's dz is written by the next layerNorm's backward (DropoutGrad), without db.
 * The ReLU Linear's dz is written by the next linearDropout's backward when that reads y (the FFN's
 * second Linear): its dx GEMM writes dx · 1/(1 − p) where y > 0 straight from each output tile
 * (linearBackwardFused's maskScale), where the ReLU Linear's backward would run reluDropoutBackward
 * over it once more. See ReluFold below.
 * ReLU with a residual would need z's sign, which y no longer shows, so that pair is refused;
 * a Transformer block never asks for it (the ReLU is inside the FFN, the residual after it).
 *
 * GELU's backward needs the pre-activation z, which its output does not show (dropped elements,
 * and gelu is not one-to-one), and recomputing z is a whole GEMM. So with act 'gelu' the GEMM writes
 * z (bias in its epilogue) and one elementwise pass (geluDropout) writes y, keeping z:
 *   dz = dropout(g) · gelu'(z)                                (one pass, geluDropoutBackward)
 * against the composed ops' gelu, dropout, dropout backward and gelu backward (four passes).
 * Off the tape (no input requires grad: eval, inference) gelu runs in the GEMM's epilogue instead.
 */
import { Tensor } from '../tensor/tensor.js';
import { k } from '../backend/registry.js';
import { record, needsGrad } from '../autograd/node.js';
import { defaultGenerator, type Generator } from '../tensor/rng.js';
import { promoteFloat } from '../tensor/dtype.js';
import { sameShape } from '../tensor/shape.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { emptyFloatTensor, floatTensor, f32, requireFloat } from './util.js';
import { checkLinear, linearInputGrads } from './matmul.js';
import { add } from './elementwise.js';
import { ACT_GELU } from '../backend/js/gemm.js';
import { DropoutGrad, markDropoutOutput, type ResidualGrad } from './residual-grad.js';

export interface LinearDropoutOptions {
  /** Applied after the bias, before the dropout: 'none' (default), 'relu' or 'gelu' (the erf form). */
  activation?: 'none' | 'relu' | 'gelu';
  /** Dropout probability, in [0, 1); 0 (default) keeps everything. */
  p?: number;
  /** When false, dropout is the identity (eval mode). Default true. */
  training?: boolean;
  /** Added after the dropout; same shape as the output. Not allowed with activation 'relu'. */
  residual?: Tensor | null;
  /** Seeds the dropout mask (one draw per call, as dropout); default the global generator. */
  generator?: Generator;
  /**
   * Hands the residual's gradient to a layerNorm's backward instead of the tape (ops/residual-grad.ts);
   * the residual is then not a taped input. For nn/transformer.ts, which links both ends.
   */
  residualGradTo?: ResidualGrad | null;
}

/**
 * The FFN fold. A taped ReLU linearDropout records two nodes: `pre`, a stand-in for the pre-activation
 * z (it shares y's storage and is never read as values), whose backward takes dz and runs the Linear's
 * backward, and y = reluDropout(pre), whose backward is reluDropoutBackward (dz = g · scale where y > 0).
 * A linearDropout that reads y records `pre` as its input instead of y and returns its dx already
 * through the mask (linearBackwardFused's maskScale): that is pre's gradient. y's other consumers, if
 * any, still reach pre through y's node, and the tape adds the two: dz = mask(dx) + mask(the others'),
 * which is mask(their sum). So the fold holds for any number of consumers; with one (the FFN), y's node
 * gets no gradient and never runs, and dz is the dx GEMM's output, the bits of the unfolded path.
 * Not when y keeps its gradient (retainGrad before the consumer's forward): y.grad would miss dx.
 */
interface ReluFold {
  pre: Tensor;
  scale: number;
}
const reluOutputs = new WeakMap<Tensor, ReluFold>();

export function linearDropout(x: Tensor, weight: Tensor, bias: Tensor | null, options: LinearDropoutOptions = {}): Tensor {
  const op = 'linearDropout';
  const { outF, inF, rows, outShape } = checkLinear(x, weight, bias, op);
  const activation = options.activation ?? 'none';
  if (activation !== 'none' && activation !== 'relu' && activation !== 'gelu') {
    throw new ValueError(`${op}: activation='${String(activation)}', expected 'none', 'relu' or 'gelu'. Fix: apply other activations with their own op after linear.`);
  }
  const pIn = options.p ?? 0;
  if (!(pIn >= 0 && pIn < 1)) throw new ValueError(`${op}: p=${pIn}, expected a dropout probability in [0, 1).`);
  const p = (options.training ?? true) ? pIn : 0;
  const residual = options.residual ?? null;
  if (residual !== null) {
    requireFloat(residual, op, 'residual');
    if (!sameShape(residual.shape, outShape)) {
      throw new ShapeError(`${op}: residual has shape ${fmtShape(residual.shape)}, expected the output's shape ${fmtShape(outShape)}. Fix: add a broadcast residual with add() after the op.`);
    }
    if (activation !== 'none') {
      throw new ValueError(`${op}: activation '${activation}' with a residual is not supported (a Transformer block adds the residual after the FFN's second Linear, which has no activation). Fix: add the residual with add() after the op.`);
    }
  }
  // One generator draw per call with p > 0, as dropout: the same mask as the composed ops
  const seed = p > 0 ? (options.generator ?? defaultGenerator).nextU32() : 0;
  const dtype = promoteFloat(promoteFloat(x.dtype, weight.dtype), residual?.dtype ?? x.dtype);
  const y = emptyFloatTensor(dtype, outShape);
  const gelu = activation === 'gelu', taped = needsGrad(x, weight, bias, residual);
  if (gelu && !taped) {
    // off the tape (eval, inference) nothing needs z: gelu in the GEMM's epilogue, then the dropout
    k.sgemm({ a: f32(x), b: f32(weight), c: f32(y), batch: 1, m: rows, n: outF, k: inF, transA: false, transB: true, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: bias ? f32(bias) : null, activation: ACT_GELU });
    if (p > 0) k.dropout({ x: f32(y), out: f32(y), p, seed });
    return y;
  }
  // gelu on the tape: the GEMM writes z, kept for the backward, and one pass writes y = dropout(gelu(z))
  const z = gelu ? emptyFloatTensor(dtype, outShape) : null;
  k.linearFused({
    x: f32(x), w: f32(weight), y: f32(z ?? y), rows, outF, inF, bias: bias ? f32(bias) : null,
    activation: activation === 'relu' ? 1 : 0, p: z ? 0 : p, seed, residual: residual ? f32(residual) : null,
  });
  if (z) k.geluDropout({ z: f32(z), y: f32(y), p, seed });
  const link = options.residualGradTo ?? null;
  const tapedResidual = residual !== null && link === null;
  // x is a taped ReLU linearDropout's output: take its pre-activation's gradient (the FFN fold, ReluFold)
  const fold = taped ? reluOutputs.get(x) : undefined;
  const folded = fold !== undefined && !x.retainsGrad;
  const inputs = [folded ? fold.pre : x, weight];
  if (bias) inputs.push(bias);
  if (tapedResidual) inputs.push(residual);
  // act 'none' with dropout: a layerNorm reading y may write dz in its own backward (ops/residual-grad.ts DropoutGrad)
  // (the norm writes dz only: db is summed off this Linear's own dW GEMM, linearBackwardFused)
  const handoff = taped && activation === 'none' && p > 0 ? new DropoutGrad(p, seed) : null;
  if (handoff) markDropoutOutput(y, handoff);
  const backward = (g: Tensor): (Tensor | null)[] => {
    if (residual !== null && link !== null && residual.requiresGrad) link.put(g, add);
    // dz: the gradient at the GEMM's output (before the activation and the dropout). The bias
    // gradient (db = Σ_rows dz) comes off the dW GEMM's packing of dz (linearInputGrads), except for
    // dropout alone without a handed-off dz, where the pass that writes dz sums it.
    let dz = g;
    let db: Tensor | null = null;
    const sumBias = bias !== null && bias.requiresGrad;
    if (z) {
      dz = emptyFloatTensor(g.dtype, g.shape);
      k.geluDropoutBackward({ z: f32(z), dy: f32(g), dz: f32(dz), p, seed });
    } else if (p > 0 && activation === 'none') { // (relu: g is dz already, the pre node's, ReluFold)
      const pre = handoff?.take(g) ?? null; // dz written by the next layerNorm's backward, or null
      if (pre !== null) {
        dz = pre; // db: linearInputGrads sums it off the dW GEMM's packing of dz
      } else if (sumBias) {
        dz = emptyFloatTensor(g.dtype, g.shape);
        db = floatTensor(g.dtype, [outF]);
        k.dropoutBackwardBias({ dy: f32(g), dz: f32(dz), dbias: f32(db), rows, cols: outF, p, seed });
      } else {
        dz = emptyFloatTensor(g.dtype, g.shape);
        k.dropout({ x: f32(g), out: f32(dz), p, seed });
      }
    }
    const needB = db === null && bias !== null && bias.requiresGrad;
    const [gx, gw, gb] = linearInputGrads(dz, x, weight, x.requiresGrad, weight.requiresGrad, needB, folded ? fold.scale : 0);
    const grads = [gx, gw];
    if (bias) grads.push(db ?? gb);
    if (tapedResidual) grads.push(residual.requiresGrad ? g : null);
    return grads;
  };
  if (activation === 'relu' && taped) {
    // two nodes (ReluFold): pre (the Linear's backward from dz) and y = reluDropout(pre)
    // (db: summed off the dW GEMM's packing of dz, not in reluDropoutBackward: reluDropoutBackwardBias's
    // float64 sums cost more there than the packing's, bench/fold-backward-ab.ts)
    const scale = p > 0 ? Math.fround(1 / (1 - p)) : 1;
    const pre = record(new Tensor(y.data, outShape), 'linearDropout', inputs, backward, true);
    reluOutputs.set(y, { pre, scale });
    return record(y, 'reluDropout', [pre], (g) => {
      const dz = emptyFloatTensor(g.dtype, g.shape);
      k.reluDropoutBackward({ y: f32(y), dy: f32(g), dz: f32(dz), scale });
      return [dz];
    }, true); // deferrable: allocations and kernels only
  }
  return record(y, 'linearDropout', inputs, backward, true); // deferrable: allocations, kernels and add (a kernel) only
}
