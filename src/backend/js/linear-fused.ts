/**
 * Reference kernels of the training-path fused Linear (specs: ../specs/linear-fused.ts): the
 * composition the native epilogue must equal, written as the separate steps
 * sgemm (bias, act) → dropout → + residual.
 */
import type { Params } from '../table.js';
import { sgemm } from './gemm.js';
import { dropout } from './dropout.js';
import { unary, UnaryOp } from './elementwise.js';
import { geluGradScalar } from './scalar.js';
import { reduceAxis, ReduceOp } from './reduce.js';

export function linearFused({ x, w, y, rows, outF, inF, bias, activation, p, seed, residual }: Params<'linearFused'>): void {
  sgemm({ a: x, b: w, c: y, batch: 1, m: rows, n: outF, k: inF, transA: false, transB: true, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias, activation });
  if (p > 0) dropout({ x: y, out: y, p, seed });
  if (residual !== null) for (let i = 0; i < rows * outF; i++) y[i] = residual[i] + y[i];
}

export function reluDropoutBackward({ y, dy, dz, scale }: Params<'reluDropoutBackward'>): void {
  for (let i = 0; i < dz.length; i++) dz[i] = y[i] > 0 ? dy[i] * scale : 0;
}

/** y = dropout_p(gelu(z)): gelu, then the dropout kernel with the same seed (its mask). */
export function geluDropout({ z, y, p, seed }: Params<'geluDropout'>): void {
  unary({ op: UnaryOp.gelu, x: z, out: y });
  if (p > 0) dropout({ x: y, out: y, p, seed });
}

/** dz = dy · gelu'(z) / (1 − p) where the dropout kernel with this seed keeps element i, else 0 (even where gelu'(z) is NaN). */
export function geluDropoutBackward({ z, dy, dz, p, seed }: Params<'geluDropoutBackward'>): void {
  const kept = new Float32Array(dz.length).fill(1); // 1/(1 − p) where kept, 0 where dropped
  if (p > 0) dropout({ x: kept, out: kept, p, seed });
  for (let i = 0; i < dz.length; i++) dz[i] = kept[i] === 0 ? 0 : dy[i] * kept[i] * geluGradScalar(z[i]);
}

/** dz = the dropout kernel's backward of dy (its mask from seed), then dbias = reduceAxis's float64 column sums of dz. */
export function dropoutBackwardBias({ dy, dz, dbias, rows, cols, p, seed }: Params<'dropoutBackwardBias'>): void {
  dropout({ x: dy, out: dz, p, seed });
  reduceAxis({ op: ReduceOp.sum, x: dz, out: dbias, outer: 1, size: rows, inner: cols });
}
