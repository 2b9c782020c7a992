/**
 * Reference layerNorm and rmsNorm over the last `cols` elements of each row.
 *
 *   layerNorm: y = (x − mean) · rstd · w + b,   rstd = 1 / sqrt(var + eps)   (biased var)
 *   rmsNorm:   y = x · rstd · w,                 rstd = 1 / sqrt(mean(x²) + eps)
 *
 * The forward saves mean and rstd per row for the backward. weight/bias may be null.
 */
import type { Params } from '../table.js';
import { dropout } from './dropout.js';

export function layerNormForward({ x, weight, bias, y, mean, rstd, rows, cols, eps }: Params<'layerNormForward'>): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = 0;
    for (let c = 0; c < cols; c++) m += x[o + c];
    m /= cols;
    let v = 0;
    for (let c = 0; c < cols; c++) { const d = x[o + c] - m; v += d * d; }
    const s = 1 / Math.sqrt(v / cols + eps);
    mean[r] = m;
    rstd[r] = s;
    for (let c = 0; c < cols; c++) {
      let t = (x[o + c] - m) * s;
      if (weight !== null) t *= weight[c];
      if (bias !== null) t += bias[c];
      y[o + c] = t;
    }
  }
}

/**
 * Backward of layerNormForward. With d = dy + dyAdd, xhat = (x − mean)·rstd and g = d·w:
 *   dx = rstd · (g − mean(g) − xhat · mean(g · xhat)) + dxAdd
 *   dweight = Σ_rows d · xhat,  dbias = Σ_rows d      (overwritten, not accumulated)
 * dyAdd and dxAdd (null = 0) are residual gradients added in the same passes (src/ops/norm.ts).
 */
export function layerNormBackward({ x, weight, mean, rstd, dy, dyAdd, dx, dxAdd, dweight, dbias, rows, cols }: Params<'layerNormBackward'>): void {
  if (dweight !== null) dweight.fill(0);
  if (dbias !== null) dbias.fill(0);
  const d = (i: number) => (dyAdd !== null ? dy[i] + dyAdd[i] : dy[i]);
  for (let r = 0; r < rows; r++) {
    const o = r * cols, m = mean[r], s = rstd[r];
    let sg = 0, sgx = 0;
    for (let c = 0; c < cols; c++) {
      const xhat = (x[o + c] - m) * s;
      const g = d(o + c) * (weight !== null ? weight[c] : 1);
      sg += g;
      sgx += g * xhat;
      if (dweight !== null) dweight[c] += d(o + c) * xhat;
      if (dbias !== null) dbias[c] += d(o + c);
    }
    sg /= cols;
    sgx /= cols;
    for (let c = 0; c < cols; c++) {
      const xhat = (x[o + c] - m) * s;
      const g = d(o + c) * (weight !== null ? weight[c] : 1);
      dx[o + c] = s * (g - sg - xhat * sgx) + (dxAdd !== null ? dxAdd[o + c] : 0);
    }
  }
}

/** layerNormBackward, then the dropout kernel's backward of dx (its mask from seed) into dz. */
export function layerNormBackwardDropout(a: Params<'layerNormBackwardDropout'>): void {
  const { dx, dz, p, seed } = a;
  layerNormBackward(a);
  dropout({ x: dx, out: dz, p, seed });
}

export function rmsNormForward({ x, weight, y, rstd, rows, cols, eps }: Params<'rmsNormForward'>): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let ss = 0;
    for (let c = 0; c < cols; c++) ss += x[o + c] * x[o + c];
    const s = 1 / Math.sqrt(ss / cols + eps);
    rstd[r] = s;
    for (let c = 0; c < cols; c++) y[o + c] = x[o + c] * s * (weight !== null ? weight[c] : 1);
  }
}

/**
 * Backward of rmsNormForward. With xhat = x·rstd and g = dy·w:
 *   dx = rstd · (g − xhat · mean(g · xhat)),   dweight = Σ_rows dy · xhat
 */
export function rmsNormBackward({ x, weight, rstd, dy, dx, dweight, rows, cols }: Params<'rmsNormBackward'>): void {
  if (dweight !== null) dweight.fill(0);
  for (let r = 0; r < rows; r++) {
    const o = r * cols, s = rstd[r];
    let sgx = 0;
    for (let c = 0; c < cols; c++) {
      const xhat = x[o + c] * s;
      const g = dy[o + c] * (weight !== null ? weight[c] : 1);
      sgx += g * xhat;
      if (dweight !== null) dweight[c] += dy[o + c] * xhat;
    }
    sgx /= cols;
    for (let c = 0; c < cols; c++) {
      const xhat = x[o + c] * s;
      const g = dy[o + c] * (weight !== null ? weight[c] : 1);
      dx[o + c] = s * (g - xhat * sgx);
    }
  }
}
