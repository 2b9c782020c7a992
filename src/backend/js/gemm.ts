/**
 * Reference single-precision GEMM, batched and strided:
 *
 *   C[b] = act(alpha · op(A[b]) · op(B[b]) + beta · C[b] + bias)
 *
 * op(A) is (m, k): A is stored (m, k) row-major, or (k, m) when transA.
 * op(B) is (k, n): B is stored (k, n) row-major, or (n, k) when transB.
 * C is (m, n) row-major. Batch b starts at b·strideA / b·strideB / b·strideC
 * elements; a stride of 0 broadcasts one matrix over the batch.
 * When beta is 0, C is not read (NaNs already in C do not leak), as in BLAS.
 * bias has length n (added to every row) or is null.
 * activation: 0 = none, 1 = relu, 2 = gelu (erf form).
 */
import type { Params } from '../table.js';
import { geluScalar } from './scalar.js';

export const ACT_NONE = 0;
export const ACT_RELU = 1;
export const ACT_GELU = 2;

export function sgemm({ a, b, c, batch, m, n, k, transA, transB, alpha, beta, strideA, strideB, strideC, bias, activation }: Params<'sgemm'>): void {
  const row = new Float64Array(n);
  for (let p = 0; p < batch; p++) {
    const aOff = p * strideA, bOff = p * strideB, cOff = p * strideC;
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let l = 0; l < k; l++) {
        const av = transA ? a[aOff + l * m + i] : a[aOff + i * k + l];
        if (transB) {
          for (let j = 0; j < n; j++) row[j] += av * b[bOff + j * k + l];
        } else {
          const bRow = bOff + l * n;
          for (let j = 0; j < n; j++) row[j] += av * b[bRow + j];
        }
      }
      const cRow = cOff + i * n;
      for (let j = 0; j < n; j++) {
        let v = alpha * row[j];
        if (beta !== 0) v += beta * c[cRow + j];
        if (bias !== null) v += bias[j];
        if (activation === ACT_RELU) v = v > 0 ? v : (v === v ? 0 : v);
        else if (activation === ACT_GELU) v = geluScalar(v);
        c[cRow + j] = v;
      }
    }
  }
}

/** gx = g · w and gw = gᵀ · x (the Linear's input and weight gradients): two sgemm calls. */
export function linearBackward({ g, x, w, gx, gw, rows, inF, outF }: Params<'linearBackward'>): void {
  const common = { batch: 1, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: ACT_NONE } as const;
  sgemm({ ...common, a: g, b: w, c: gx, m: rows, n: inF, k: outF, transA: false, transB: false });
  sgemm({ ...common, a: g, b: x, c: gw, m: outF, n: inF, k: rows, transA: true, transB: false });
}

/**
 * linearBackward's products (each only if its output is given) and gb = Σ_rows g in float64 in row order;
 * maskScale > 0: gx then goes through the relu-dropout that wrote x (reluDropoutBackward's arithmetic).
 */
export function linearBackwardFused({ g, x, w, gx, gw, gb, rows, inF, outF, maskScale }: Params<'linearBackwardFused'>): void {
  const common = { batch: 1, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: ACT_NONE } as const;
  if (gx) {
    sgemm({ ...common, a: g, b: w, c: gx, m: rows, n: inF, k: outF, transA: false, transB: false });
    if (maskScale > 0) for (let i = 0; i < rows * inF; i++) gx[i] = x[i] > 0 ? gx[i] * maskScale : 0;
  }
  if (gw) sgemm({ ...common, a: g, b: x, c: gw, m: outF, n: inF, k: rows, transA: true, transB: false });
  if (gb) {
    const sums = new Float64Array(outF);
    for (let r = 0; r < rows; r++) for (let c = 0; c < outF; c++) sums[c] += g[r * outF + c];
    for (let c = 0; c < outF; c++) gb[c] = sums[c];
  }
}
