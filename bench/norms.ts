/**
 * Memory-bound kernels: layerNorm forward/backward and softmax forward over
 * (rows, cols) float32, in GB/s of compulsory traffic (bytes read + written once).
 */
import { nk, nativeLoad, threadCounts, withThreads, timeMs, filled, skipped, type BenchRow } from './native-util.js';

export type { BenchRow };

export async function run(opts: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const kern = nk;
  if (!kern || !nativeLoad) return skipped('norms');
  const rows: BenchRow[] = [];
  const shapes = opts.quick ? [[4096, 768]] : [[4096, 768], [512, 4096], [8192, 1024]];
  for (const threads of threadCounts()) {
    withThreads(threads, () => {
      for (const [r, c] of shapes) {
        const n = r * c;
        const x = filled(n, 1), y = new Float32Array(n), w = filled(c, 2), b = filled(c, 3);
        const mean = new Float32Array(r), rstd = new Float32Array(r), dy = filled(n, 4), dx = new Float32Array(n);
        const dw = new Float32Array(c), db = new Float32Array(c);
        const budget = opts.quick ? 100 : 300;
        let ms = timeMs(() => kern.layerNormForward!({ x, weight: w, bias: b, y, mean, rstd, rows: r, cols: c, eps: 1e-5 }), budget);
        rows.push({ workload: `layerNorm fwd ${r}x${c}`, impl: 'heed-native', threads, ms, gbps: (8 * n) / ms / 1e6 });
        ms = timeMs(() => kern.layerNormBackward!({ x, weight: w, mean, rstd, dy, dyAdd: null, dx, dxAdd: null, dweight: dw, dbias: db, rows: r, cols: c }), budget);
        rows.push({ workload: `layerNorm bwd ${r}x${c}`, impl: 'heed-native', threads, ms, gbps: (12 * n) / ms / 1e6 });
        ms = timeMs(() => kern.softmaxForward!({ x, y, outer: r, size: c, inner: 1, log: false }), budget);
        rows.push({ workload: `softmax fwd ${r}x${c}`, impl: 'heed-native', threads, ms, gbps: (8 * n) / ms / 1e6 });
        ms = timeMs(() => kern.rmsNormForward!({ x, weight: w, y, rstd, rows: r, cols: c, eps: 1e-6 }), budget);
        rows.push({ workload: `rmsNorm fwd ${r}x${c}`, impl: 'heed-native', threads, ms, gbps: (8 * n) / ms / 1e6 });
      }
      const small = new Float32Array(64), small2 = new Float32Array(64), o = new Float32Array(64);
      const reps = 20000;
      const ms = timeMs(() => { for (let i = 0; i < reps; i++) kern.binarySame!({ op: 0, a: small, b: small2, out: o }); }, 100);
      rows.push({ workload: 'add of 64 floats (dispatch cost)', impl: 'heed-native', threads, ms: ms / reps, note: `${((ms / reps) * 1000).toFixed(2)} µs per call` });
    });
  }
  return rows;
}
