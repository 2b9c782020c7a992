/**
 * Reference softmax / logSoftmax over one axis, input viewed as (outer, size, inner).
 *
 *   y_i = exp(x_i − max) / Σ_j exp(x_j − max)        (softmax)
 *   y_i = x_i − max − log Σ_j exp(x_j − max)          (logSoftmax)
 *
 * A row whose entries are all −∞ (a fully masked attention row) gives zeros for
 * softmax and −∞ for logSoftmax, where PyTorch gives NaN; see nn/attention/README.
 */
import type { Params } from '../table.js';

export function softmaxForward({ x, y, outer, size, inner, log }: Params<'softmaxForward'>): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * size * inner + j;
      let max = -Infinity;
      for (let i = 0; i < size; i++) { const v = x[base + i * inner]; if (v > max || v !== v) max = v; }
      if (max === -Infinity) {
        for (let i = 0; i < size; i++) y[base + i * inner] = log ? -Infinity : 0;
        continue;
      }
      let sum = 0;
      for (let i = 0; i < size; i++) sum += Math.exp(x[base + i * inner] - max);
      if (log) {
        const lse = max + Math.log(sum);
        for (let i = 0; i < size; i++) y[base + i * inner] = x[base + i * inner] - lse;
      } else {
        const inv = 1 / sum;
        for (let i = 0; i < size; i++) y[base + i * inner] = Math.exp(x[base + i * inner] - max) * inv;
      }
    }
  }
}

/**
 * Backward of softmaxForward, from its output y:
 *   softmax:    dx_i = y_i (dy_i − Σ_j dy_j y_j)
 *   logSoftmax: dx_i = dy_i − exp(y_i) Σ_j dy_j
 */
export function softmaxBackward({ y, dy, dx, outer, size, inner, log }: Params<'softmaxBackward'>): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * size * inner + j;
      let s = 0;
      if (log) {
        for (let i = 0; i < size; i++) s += dy[base + i * inner];
        for (let i = 0; i < size; i++) {
          const k = base + i * inner;
          const p = Math.exp(y[k]);
          dx[k] = dy[k] - p * s;
        }
      } else {
        for (let i = 0; i < size; i++) s += dy[base + i * inner] * y[base + i * inner];
        for (let i = 0; i < size; i++) { const k = base + i * inner; dx[k] = y[k] * (dy[k] - s); }
      }
    }
  }
}
