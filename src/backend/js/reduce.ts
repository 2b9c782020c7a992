/**
 * Reference reductions over one axis. The input is viewed as (outer, size, inner):
 * the reduced axis has `size` elements, `inner` is the product of the dims after it.
 * Output is (outer, inner).
 */

export const ReduceOp = { sum: 0, max: 1, min: 2 } as const;

export function reduceAxis(op: number, x: Float32Array, out: Float32Array, outer: number, size: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * size * inner + j;
      let acc: number;
      if (op === 0) {
        acc = 0;
        for (let i = 0; i < size; i++) acc += x[base + i * inner];
      } else if (op === 1) {
        acc = -Infinity;
        for (let i = 0; i < size; i++) { const v = x[base + i * inner]; if (v > acc || v !== v) acc = v; if (acc !== acc) break; }
      } else {
        acc = Infinity;
        for (let i = 0; i < size; i++) { const v = x[base + i * inner]; if (v < acc || v !== v) acc = v; if (acc !== acc) break; }
      }
      out[o * inner + j] = acc;
    }
  }
}

/** Index of the first maximum along the axis (NaN counts as the maximum, as in PyTorch). */
export function argmaxAxis(x: Float32Array, out: Int32Array, outer: number, size: number, inner: number): void {
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
