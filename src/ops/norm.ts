/**
 * layerNorm and rmsNorm over the trailing `normalizedShape` dims, on fused kernels.
 * The composed versions (layerNormReference, rmsNormReference) are the definitions
 * the kernels must equal; tests check both ways.
 *
 *   layerNorm(x, [D], w, b)  = (x − mean) / sqrt(var + eps) · w + b     (biased var)
 *   rmsNorm(x, [D], w)       = x / sqrt(mean(x²) + eps) · w
 */
import { Tensor } from '../tensor/tensor.js';
import { k } from '../backend/registry.js';
import { record } from '../autograd/node.js';
import { endsWith, numel, sameShape } from '../tensor/shape.js';
import { ShapeError, fmtShape } from '../errors.js';
import { requireFloat, floatTensor, emptyFloatTensor, f32 } from './util.js';
import { add, mul, sub, div, sqrt } from './elementwise.js';
import { mean, variance } from './reduce.js';
import { dropoutOutputOf, type ResidualGrad } from './residual-grad.js';

function checkNorm(op: string, x: Tensor, normalizedShape: readonly number[], params: [string, Tensor | null][]): [number, number] {
  requireFloat(x, op, 'input');
  const n = normalizedShape.length;
  if (n === 0 || n > x.ndim || !endsWith(x.shape, normalizedShape)) {
    throw new ShapeError(`${op}: input has shape ${fmtShape(x.shape)}, expected it to end with normalizedShape ${fmtShape(normalizedShape)}. ` +
      `Fix: normalizedShape lists the trailing dims to normalize over, e.g. [${x.shape[x.ndim - 1] ?? 'D'}] for the last one.`);
  }
  for (const [name, p] of params) {
    if (p !== null && !sameShape(p.shape, normalizedShape)) {
      throw new ShapeError(`${op}: ${name} has shape ${fmtShape(p.shape)}, expected normalizedShape ${fmtShape(normalizedShape)}.`);
    }
  }
  const cols = numel(normalizedShape);
  return [x.size / Math.max(cols, 1), cols];
}

export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  return layerNormLinked(x, normalizedShape, weight, bias, eps, {});
}

/** The residual links of layerNormLinked (ops/residual-grad.ts); each one optional. */
export interface NormResidualLinks {
  /** Pre-norm: a gradient for the norm's input x, added to dx in the backward kernel. */
  input?: ResidualGrad | null;
  /** Post-norm: a gradient for the norm's output, added to dy in the backward kernel. */
  output?: ResidualGrad | null;
}

/**
 * layerNorm whose backward also adds the residual gradients waiting in `links` (see
 * ops/residual-grad.ts): dx = LN_backward(dy + output link) + input link, in the same two passes
 * over each row as the plain backward, where the tape would run a separate add over the tensor.
 * Same values and gradients as layerNorm followed or preceded by the taped residual add.
 */
export function layerNormLinked(x: Tensor, normalizedShape: readonly number[], weight: Tensor | null, bias: Tensor | null, eps: number, links: NormResidualLinks): Tensor {
  const [rows, cols] = checkNorm('layerNorm', x, normalizedShape, [['weight', weight], ['bias', bias]]);
  const y = emptyFloatTensor(x.dtype, x.shape);
  const meanBuf = floatTensor(x.dtype, [rows]), rstd = floatTensor(x.dtype, [rows]);
  k.layerNormForward({ x: f32(x), weight: weight && f32(weight), bias: bias && f32(bias), y: f32(y), mean: f32(meanBuf), rstd: f32(rstd), rows, cols, eps });
  const inputs = weight && bias ? [x, weight, bias] : weight ? [x, weight] : bias ? [x, bias] : [x];
  // x came out of a dropout whose backward this pass can do too (ops/residual-grad.ts DropoutGrad);
  // looked up now, while the forward's objects are in cache, rather than in the backward
  const drop = dropoutOutputOf(x) ?? null;
  return record(y, 'layerNorm', inputs, (g) => {
    const dyAdd = links.output ? links.output.take() : null, dxAdd = links.input ? links.input.take() : null;
    const dx = emptyFloatTensor(g.dtype, x.shape);
    const dw = weight ? floatTensor(g.dtype, weight.shape) : null;
    const db = bias ? floatTensor(g.dtype, bias.shape) : null;
    // Two literals rather than one spread into the other (a spread plus fields takes V8's slow path)
    if (drop !== null) {
      const dz = emptyFloatTensor(g.dtype, x.shape);
      k.layerNormBackwardDropout({
        x: f32(x), weight: weight && f32(weight), mean: f32(meanBuf), rstd: f32(rstd), dy: f32(g), dyAdd: dyAdd && f32(dyAdd),
        dx: f32(dx), dxAdd: dxAdd && f32(dxAdd), dweight: dw && f32(dw), dbias: db && f32(db), rows, cols,
        dz: f32(dz), p: drop.p, seed: drop.seed,
      });
      drop.fill(dx, dz);
    } else {
      k.layerNormBackward({
        x: f32(x), weight: weight && f32(weight), mean: f32(meanBuf), rstd: f32(rstd), dy: f32(g), dyAdd: dyAdd && f32(dyAdd),
        dx: f32(dx), dxAdd: dxAdd && f32(dxAdd), dweight: dw && f32(dw), dbias: db && f32(db), rows, cols,
      });
    }
    return dw && db ? [dx, dw, db] : dw ? [dx, dw] : db ? [dx, db] : [dx];
  }, true); // deferrable: allocations and kernels only
}

export function rmsNorm(x: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null, eps = 1e-6): Tensor {
  const [rows, cols] = checkNorm('rmsNorm', x, normalizedShape, [['weight', weight]]);
  const y = emptyFloatTensor(x.dtype, x.shape);
  const rstd = floatTensor(x.dtype, [rows]);
  k.rmsNormForward({ x: f32(x), weight: weight && f32(weight), y: f32(y), rstd: f32(rstd), rows, cols, eps });
  const inputs = [x, ...(weight ? [weight] : [])];
  return record(y, 'rmsNorm', inputs, (g) => {
    const dx = emptyFloatTensor(g.dtype, x.shape);
    const dw = weight ? floatTensor(g.dtype, weight.shape) : null;
    k.rmsNormBackward({ x: f32(x), weight: weight && f32(weight), rstd: f32(rstd), dy: f32(g), dx: f32(dx), dweight: dw && f32(dw), rows, cols });
    return [dx, ...(dw ? [dw] : [])];
  }, true); // deferrable: allocations and kernels only
}

/** layerNorm composed from primitives: the definition the fused kernel must equal. */
export function layerNormReference(x: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  checkNorm('layerNormReference', x, normalizedShape, [['weight', weight], ['bias', bias]]);
  const dims = normalizedShape.map((_, i) => x.ndim - normalizedShape.length + i);
  const mu = mean(x, dims, { keepDim: true });
  const v = variance(x, dims, { keepDim: true, correction: 0 });
  let y = div(sub(x, mu), sqrt(add(v, eps)));
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}

/** rmsNorm composed from primitives. */
export function rmsNormReference(x: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null, eps = 1e-6): Tensor {
  checkNorm('rmsNormReference', x, normalizedShape, [['weight', weight]]);
  const dims = normalizedShape.map((_, i) => x.ndim - normalizedShape.length + i);
  let y = div(x, sqrt(add(mean(mul(x, x), dims, { keepDim: true }), eps)));
  if (weight) y = mul(y, weight);
  return y;
}
