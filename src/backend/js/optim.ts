/**
 * Reference fused AdamW step over flat parameter, gradient and moment buffers,
 * updated in place (PyTorch's torch.optim.AdamW, decoupled weight decay):
 *   p ← p − lr·wd·p
 *   m ← β1 m + (1 − β1) g,   v ← β2 v + (1 − β2) g²
 *   p ← p − lr · (m / (1 − β1^step)) / (sqrt(v / (1 − β2^step)) + eps)
 * step counts from 1.
 */
import type { Params } from '../table.js';
export function adamwStep({ param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step }: Params<'adamwStep'>): void {
  const bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    let p = param[i];
    p -= lr * weightDecay * p;
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = p - lr * (mi / bc1) / (Math.sqrt(vi / bc2) + eps);
  }
}

/** Values per block of sumSquares (native/optim.cpp kSumSqBlock); 16 lanes within a block. */
export const SUMSQ_BLOCK = 4096;

/**
 * Reference Σ x[i]² in float64 (the order native/optim.cpp uses, so both give the same bits):
 * each block of SUMSQ_BLOCK values is summed in 16 lanes (value i of the block into lane i % 16;
 * a float32 squared is exact in float64), the lanes are added 0..15, the blocks in order. The
 * float64 result goes into `out` as its 8 bytes (little-endian); sumSquaresResult reads it back.
 */
export function sumSquares({ x, out }: Params<'sumSquares'>): void {
  let total = 0;
  const lanes = new Float64Array(16);
  for (let b0 = 0; b0 < x.length; b0 += SUMSQ_BLOCK) {
    lanes.fill(0);
    const b1 = Math.min(x.length, b0 + SUMSQ_BLOCK);
    for (let i = b0; i < b1; i++) lanes[(i - b0) & 15] += x[i] * x[i];
    let block = 0;
    for (let j = 0; j < 16; j++) block += lanes[j];
    total += block;
  }
  new DataView(out.buffer, out.byteOffset, 8).setFloat64(0, total, true);
}

/** The float64 that sumSquares wrote into `out`. */
export function sumSquaresResult(out: Float32Array): number {
  return new DataView(out.buffer, out.byteOffset, 8).getFloat64(0, true);
}

/** Reference x[i] ← x[i] · alpha (the float64 product, rounded to float32 by the store). */
export function scaleInPlace({ x, alpha }: Params<'scaleInPlace'>): void {
  for (let i = 0; i < x.length; i++) x[i] *= alpha;
}

/** Float64 values per tensor in adamwStepMulti's `hyper`: lr, beta1, beta2, eps, weightDecay, step. */
export const ADAMW_HYPER = 6;

/** Reference multi-tensor AdamW: adamwStep on every entry with its own hyper-parameters. */
export function adamwStepMulti({ params, grads, m, v, hyper }: Params<'adamwStepMulti'>): void {
  for (let i = 0; i < params.length; i++) {
    const h = i * ADAMW_HYPER;
    adamwStep({ param: params[i], grad: grads[i], m: m[i], v: v[i], lr: hyper[h], beta1: hyper[h + 1], beta2: hyper[h + 2], eps: hyper[h + 3], weightDecay: hyper[h + 4], step: hyper[h + 5] });
  }
}

/** Reference Σ of every entry's sumSquares, added in list order from 0 (float64 bytes into `out`). */
export function sumSquaresMulti({ xs, out }: Params<'sumSquaresMulti'>): void {
  let total = 0;
  for (let i = 0; i < xs.length; i++) {
    sumSquares({ x: xs[i], out });
    total += sumSquaresResult(out);
  }
  new DataView(out.buffer, out.byteOffset, 8).setFloat64(0, total, true);
}

/** Reference scaleInPlace over every entry. */
export function scaleInPlaceMulti({ xs, alpha }: Params<'scaleInPlaceMulti'>): void {
  for (let i = 0; i < xs.length; i++) scaleInPlace({ x: xs[i], alpha });
}
