/**
 * Reference reductions over one axis. The input is viewed as (outer, size, inner):
 * the reduced axis has `size` elements, `inner` is the product of the dims after it.
 * Output is (outer, inner).
 */
import type { Params } from '../table.js';

export const ReduceOp = { sum: 0, max: 1, min: 2 } as const;

export function reduceAxis({ op, x, out, outer, size, inner }: Params<'reduceAxis'>): void {
  // Rows of `inner` elements are combined in order i = 0, 1, ..., walking memory forwards;
  // sums accumulate in float64. max and min propagate NaN: once a lane holds NaN, it stays.
  const sum = op === 0 ? new Float64Array(inner) : null;
  for (let o = 0; o < outer; o++) {
    const at = o * inner;
    const base = o * size * inner;
    if (sum !== null) {
      sum.fill(0);
      for (let i = 0; i < size; i++) {
        const row = base + i * inner;
        for (let j = 0; j < inner; j++) sum[j] += x[row + j];
      }
      out.set(sum, at);
      continue;
    }
    out.fill(op === 1 ? -Infinity : Infinity, at, at + inner);
    for (let i = 0; i < size; i++) {
      const row = base + i * inner;
      if (op === 1) {
        for (let j = 0; j < inner; j++) { const v = x[row + j]; if (v > out[at + j] || v !== v) out[at + j] = v; }
      } else {
        for (let j = 0; j < inner; j++) { const v = x[row + j]; if (v < out[at + j] || v !== v) out[at + j] = v; }
      }
    }
  }
}

/** Index of the first maximum along the axis (NaN counts as the maximum, as in PyTorch). */
export function argmaxAxis({ x, out, outer, size, inner }: Params<'argmaxAxis'>): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * size * inner + j;
      let best = -Infinity, bi = 0;
      for (let i = 0; i < size; i++) {
        const v = x[base + i * inner];
        if (v !== v) { bi = i; break; }
        if (v > best) { best = v; bi = i; }
      }
      out[o * inner + j] = bi;
    }
  }
}
