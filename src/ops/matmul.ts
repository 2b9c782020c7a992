/**
 * matmul with batch broadcasting, and linear (x · Wᵀ + b), both on the sgemm kernel.
 *
 *   matmul(a (…, M, K), b (…, K, N)) → (…, M, N)
 *   1-D a is a row vector (dim removed after), 1-D b a column vector, as torch.matmul.
 *
 * Backward:  dA = dC · Bᵀ,  dB = Aᵀ · dC  (summed over broadcast batch dims).
 * When B is shared across the batch, dB is one GEMM over the flattened batch:
 *   dB = A_flatᵀ · dC_flat with A_flat (batch·M, K).
 */
import { Tensor } from '../tensor/tensor.js';
import { k } from '../backend/registry.js';
import { record } from '../autograd/node.js';
import { broadcastShapes, numel } from '../tensor/shape.js';
import { promoteFloat } from '../tensor/dtype.js';
import { ShapeError, fmtShape } from '../errors.js';
import { requireFloat, emptyFloatTensor, f32 } from './util.js';
import { expand, reshape, squeeze, unsqueeze } from './shape.js';
import { sumToShape } from './sum-to-shape.js';
import { ACT_NONE, ACT_RELU, ACT_GELU } from '../backend/js/gemm.js';
import { isGradEnabled } from '../autograd/mode.js';
import { relu, gelu } from './elementwise.js';

/** C = op(A)·op(B) over a batch, with per-operand batch strides (0 = shared). Raw, no autograd. */
function gemm(a: Tensor, b: Tensor, batch: number, m: number, n: number, kk: number,
  transA: boolean, transB: boolean, strideA: number, strideB: number, outShape: readonly number[]): Tensor {
  const c = emptyFloatTensor(promoteFloat(a.dtype, b.dtype), outShape);
  k.sgemm({ a: f32(a), b: f32(b), c: f32(c), batch, m, n, k: kk, transA, transB, alpha: 1, beta: 0, strideA, strideB, strideC: m * n, bias: null, activation: ACT_NONE });
  return c;
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  requireFloat(a, 'matmul', 'a');
  requireFloat(b, 'matmul', 'b');
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(`matmul: both inputs need at least 1 dim, received ${fmtShape(a.shape)} and ${fmtShape(b.shape)}. Fix: use mul for scalars.`);
  }
  // 1-D · 1-D is a dot product with a 0-d result, as torch.matmul
  if (a.ndim === 1 && b.ndim === 1) return reshape(matmul(unsqueeze(a, 0), unsqueeze(b, -1)), []);
  if (a.ndim === 1) return squeeze(matmul(unsqueeze(a, 0), b), -2);
  if (b.ndim === 1) return squeeze(matmul(a, unsqueeze(b, -1)), -1);

  const m = a.shape[a.ndim - 2], kk = a.shape[a.ndim - 1];
  const k2 = b.shape[b.ndim - 2], n = b.shape[b.ndim - 1];
  if (kk !== k2) {
    throw new ShapeError(
      `matmul: a has shape ${fmtShape(a.shape)} and b has shape ${fmtShape(b.shape)}; a's last dim (${kk}) must equal b's dim -2 (${k2}). ` +
      `Fix: transpose one input or check the layer sizes.`);
  }
  if (a.ndim === 2 && b.ndim === 2) return matmul2d(a, b, m, n, kk);
  const aBatch = a.shape.slice(0, -2), bBatch = b.shape.slice(0, -2);
  const batchShape = broadcastShapes(aBatch, bBatch, 'matmul', ['a batch dims', 'b batch dims']);
  const batch = numel(batchShape);
  const aFull = numel(aBatch) === batch, bFull = numel(bBatch) === batch;
  // Operands either cover the whole batch in order or are shared (stride 0); anything else is materialized.
  const A = aFull || numel(aBatch) === 1 ? a : expand(a, [...batchShape, m, kk]);
  const B = bFull || numel(bBatch) === 1 ? b : expand(b, [...batchShape, kk, n]);
  const sA = numel(A.shape.slice(0, -2)) === batch ? m * kk : 0;
  const sB = numel(B.shape.slice(0, -2)) === batch ? kk * n : 0;
  const out = gemm(A, B, batch, m, n, kk, false, false, sA, sB, [...batchShape, m, n]);

  return record(out, 'matmul', [a, b], (g) => {
    let ga: Tensor | null = null, gb: Tensor | null = null;
    if (a.requiresGrad) {
      // dA = dC · Bᵀ
      ga = gemm(g, B, batch, m, kk, n, false, true, m * n, sB, [...batchShape, m, kk]);
      ga = sumToShape(ga, a.shape);
    }
    if (b.requiresGrad) {
      if (sB === 0 && batch > 1) {
        // B shared: dB = A_flatᵀ · dC_flat, one GEMM over the batch
        const Af = sA === 0 ? expand(A, [...batchShape, m, kk]) : A;
        gb = gemm(Af, g, 1, kk, n, batch * m, true, false, 0, 0, [kk, n]);
        gb = reshape(gb, b.shape);
      } else {
        // dB = Aᵀ · dC per batch
        gb = gemm(A, g, batch, kk, n, m, true, false, sA, m * n, [...batchShape, kk, n]);
        gb = sumToShape(gb, b.shape);
      }
    }
    return [ga, gb];
  });
}

/** The plain (M, K)·(K, N) case without the batch bookkeeping: small matmuls are dispatch-bound. */
function matmul2d(a: Tensor, b: Tensor, m: number, n: number, kk: number): Tensor {
  const out = gemm(a, b, 1, m, n, kk, false, false, 0, 0, [m, n]);
  return record(out, 'matmul', [a, b], (g) => [
    a.requiresGrad ? gemm(g, b, 1, m, kk, n, false, true, 0, 0, [m, kk]) : null, // dA = dC · Bᵀ
    b.requiresGrad ? gemm(a, g, 1, kk, n, m, true, false, 0, 0, [kk, n]) : null, // dB = Aᵀ · dC
  ]);
}

/**
 * y = x · Wᵀ + b, as torch.nn.functional.linear.
 * x (…, in), weight (out, in), bias (out) or null → (…, out). One sgemm with a fused bias epilogue.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return linearAct(x, weight, bias, ACT_NONE);
}

/**
 * act(x · Wᵀ + b) for act 'relu' or 'gelu' (exact, erf), as relu(linear(…)) / gelu(linear(…)).
 * When no gradient is recorded (inside noGrad, or no input requires grad) the activation runs in
 * the GEMM's epilogue: one kernel call and one output instead of two, which is most of a small
 * inference FFN's overhead. Otherwise it is the two differentiable ops.
 * x (…, in), weight (out, in), bias (out) or null → (…, out).
 */
export function linearActivation(x: Tensor, weight: Tensor, bias: Tensor | null, activation: 'relu' | 'gelu'): Tensor {
  const taped = isGradEnabled() && (x.requiresGrad || weight.requiresGrad || (bias?.requiresGrad ?? false));
  if (taped) return activation === 'relu' ? relu(linear(x, weight, bias)) : gelu(linear(x, weight, bias));
  return linearAct(x, weight, bias, activation === 'relu' ? ACT_RELU : ACT_GELU);
}

/** Sizes of a linear call, after checking its arguments: x (…, inF), weight (outF, inF), bias (outF) or null. */
export interface LinearDims { outF: number; inF: number; rows: number; outShape: number[] }

/** Checks linear's arguments (op names the caller in the messages) and returns its sizes. */
export function checkLinear(x: Tensor, weight: Tensor, bias: Tensor | null, op = 'linear'): LinearDims {
  requireFloat(x, op, 'input');
  requireFloat(weight, op, 'weight');
  if (weight.ndim !== 2) throw new ShapeError(`${op}: weight must be 2-D (outFeatures, inFeatures), received ${fmtShape(weight.shape)}.`);
  // Indexed reads: destructuring a frozen array (every tensor's shape) takes V8's iterator path.
  const outF = weight.shape[0], inF = weight.shape[1];
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inF) {
    throw new ShapeError(`${op}: input has shape ${fmtShape(x.shape)}, expected its last dim to be inFeatures=${inF} (weight ${fmtShape(weight.shape)} is (outFeatures, inFeatures)). ` +
      'Fix: check the layer sizes; a weight stored as (inFeatures, outFeatures) needs a transpose.');
  }
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== outF)) {
    throw new ShapeError(`${op}: bias has shape ${fmtShape(bias.shape)}, expected [${outF}].`);
  }
  // rows = the product of the leading dims (not x.size / inF: inF may be 0); one pass, no intermediate arrays.
  // The output shape is frozen here, so the output tensor keeps it instead of copying it again. A spread,
  // not slice(): x.shape is frozen, and V8's slice of a frozen array takes a slow path (~0.4 µs against ~0.06).
  const outShape = [...x.shape];
  outShape[outShape.length - 1] = outF;
  let rows = 1;
  for (let i = 0; i < outShape.length - 1; i++) rows *= outShape[i];
  return { outF, inF, rows, outShape: Object.freeze(outShape) as number[] };
}

/** linear with the sgemm epilogue `act` (ACT_NONE unless linearActivation saw that nothing is taped). */
function linearAct(x: Tensor, weight: Tensor, bias: Tensor | null, act: number): Tensor {
  const { outF, inF, rows, outShape } = checkLinear(x, weight, bias);
  const y = emptyFloatTensor(promoteFloat(x.dtype, weight.dtype), outShape);
  k.sgemm({ a: f32(x), b: f32(weight), c: f32(y), batch: 1, m: rows, n: outF, k: inF, transA: false, transB: true, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: bias ? f32(bias) : null, activation: act });
  if (act !== ACT_NONE) return y; // nothing taped (linearActivation checked)
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(y, 'linear', inputs, (g) => {
    const grads = linearGrads(g, x, weight, bias);
    return bias ? grads : grads.slice(0, 2);
  }, true); // deferrable: allocations and kernels only
}

/**
 * The gradients of y = x · Wᵀ + b from dy = g (…, outF): [dx, dW, db], each null when its input needs
 * no gradient (db also when there is no bias). Shared by linear and the fused training Linear.
 */
export function linearGrads(g: Tensor, x: Tensor, weight: Tensor, bias: Tensor | null): (Tensor | null)[] {
  return linearInputGrads(g, x, weight, x.requiresGrad, weight.requiresGrad, bias !== null && bias.requiresGrad);
}

/**
 * dx = dy · W and dW = dyᵀ · x of y = x · Wᵀ, each only if asked for (null otherwise), and db = Σ_rows dy
 * if needB; both products in one linearBackward call when both are wanted (on two threads each product
 * runs whole on its own thread). db rides on that call (linearBackwardFused: summed off the dW
 * product's packing of dyᵀ, not a reduction of its own over dy).
 * maskScale > 0 (x is the output of a relu-dropout): dx is returned through it, dx · maskScale where
 * x > 0, else 0, written by the dx product's epilogue (ops/linear-fused.ts's FFN fold).
 */
export function linearInputGrads(g: Tensor, x: Tensor, weight: Tensor, needX: boolean, needW: boolean, needB = false, maskScale = 0): [Tensor | null, Tensor | null, Tensor | null] {
  const outF = weight.shape[0], inF = weight.shape[1];
  let rows = 1; // the product of x's leading dims
  for (let i = 0; i < x.ndim - 1; i++) rows *= x.shape[i];
  const gx = needX ? emptyFloatTensor(g.dtype, x.shape) : null, gw = needW ? emptyFloatTensor(g.dtype, weight.shape) : null;
  const gb = needB ? emptyFloatTensor(g.dtype, [outF]) : null;
  if (gb || (gx && maskScale > 0)) {
    k.linearBackwardFused({ g: f32(g), x: f32(x), w: f32(weight), gx: gx ? f32(gx) : null, gw: gw ? f32(gw) : null, gb: gb ? f32(gb) : null, rows, inF, outF, maskScale });
  } else if (gx && gw) {
    k.linearBackward({ g: f32(g), x: f32(x), w: f32(weight), gx: f32(gx), gw: f32(gw), rows, inF, outF });
  } else if (gx) {
    // dx = dy · W   (rows, out)·(out, in)
    k.sgemm({ a: f32(g), b: f32(weight), c: f32(gx), batch: 1, m: rows, n: inF, k: outF, transA: false, transB: false, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: ACT_NONE });
  } else if (gw) {
    // dW = dyᵀ · x   (out, rows)·(rows, in)
    k.sgemm({ a: f32(g), b: f32(x), c: f32(gw), batch: 1, m: outF, n: inF, k: rows, transA: true, transB: false, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: ACT_NONE });
  }
  return [gx, gw, gb];
}
