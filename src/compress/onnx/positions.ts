/**
 * Position information in ONNX, mirroring nn/positional.ts:
 *
 *   tables   x + table[offset : offset + T]          learned (its weight) or sinusoidal (its own forward on zeros)
 *   RoPE     x·cos + rotateHalf(x)·sin                cos/sin tables of RotaryEmbedding.tables, sliced at the positions
 *   ALiBi    scores + slope_h · (j − p_i)             p_i = offset + i, the query's position (bottom-right, as with a cache)
 *
 * `offset` is always the position of the first new token: a (1) int64 value (the past length of a
 * KV cache) or null for 0.
 *
 * Letters: B batch, T / L new positions, S keys (offset + L), D model dim, H heads, hd head dim.
 */
import type { OnnxGraph } from '../../io/onnx/graph.js';
import type { Module } from '../../nn/module.js';
import { zeros } from '../../tensor/creation.js';
import { noGrad } from '../../autograd/mode.js';
import { LearnedPositionalEmbedding, SinusoidalPositionalEncoding, RotaryEmbedding } from '../../nn/positional.js';
import { expectModule, dimOf } from './layers.js';

/** Rows x[offset : offset + T] of a (maxLen, ·) table; T is dim 1 of `like`. */
function sliceRows(g: OnnxGraph, table: string, like: string, offset: string | null, axis = 1): string {
  const start = offset ?? g.int64([0]);
  const end = g.node('Add', [start, dimOf(g, like, axis)]); // (1)
  return g.node('Slice', [table, start, end, g.int64([0])]); // (T, ·)
}

/** x (B, T, D) + table[offset : offset + T] for a learned or sinusoidal position module. */
export function positionTableOnnx(g: OnnxGraph, m: Module, path: string, x: string, offset: string | null): string {
  let table: string;
  if (m.constructor === LearnedPositionalEmbedding) table = g.tensor(`${path}.weight`, (m as LearnedPositionalEmbedding).weight); // (maxLen, D)
  else {
    const pe = expectModule(m, SinusoidalPositionalEncoding, path);
    // The module's own forward on zeros gives its table exactly, whatever formula it uses.
    const t = noGrad(() => pe.forward(zeros([1, pe.maxLen, pe.dModel]))); // (1, maxLen, D)
    table = g.initializer(`${path}.table`, t.data as Float32Array, [pe.maxLen, pe.dModel], pe);
  }
  return g.scoped(path, () => g.node('Add', [x, sliceRows(g, table, x, offset)])); // (B, T, D)
}

/** RoPE on heads x (B, H, T, hd) at positions offset…offset + T − 1 (tables for maxLen positions are stored). */
export function rotaryOnnx(g: OnnxGraph, rope: RotaryEmbedding, x: string, offset: string | null, maxLen: number): string {
  const hd = rope.headDim, half = hd / 2;
  const [c, s] = rope.tables(maxLen, 0, 'float32'); // (maxLen, hd)
  const key = `rope:${hd}:${rope.base}:${maxLen}`; // every layer shares one pair of tables
  const cosTable = g.initializer('rope.cos', c.data as Float32Array, [maxLen, hd], `${key}:cos`);
  const sinTable = g.initializer('rope.sin', s.data as Float32Array, [maxLen, hd], `${key}:sin`);
  const cos = sliceRows(g, cosTable, x, offset, 2), sin = sliceRows(g, sinTable, x, offset, 2); // (T, hd)
  const x1 = g.node('Slice', [x, g.int64([0]), g.int64([half]), g.int64([3])]); // (B, H, T, hd/2)
  const x2 = g.node('Slice', [x, g.int64([half]), g.int64([hd]), g.int64([3])]); // (B, H, T, hd/2)
  const rot = g.node('Concat', [g.node('Mul', [x2, g.float(-1)]), x1], { axis: { i: 3 } }); // (B, H, T, hd)
  return g.node('Add', [g.node('Mul', [x, cos]), g.node('Mul', [rot, sin])]); // (B, H, T, hd)
}

/** Positions of the new queries (L, 1) and of all keys (offset + L), int64; L is dim 1 of `queries`. */
export function queryKeyPositions(g: OnnxGraph, queries: string, offset: string | null): { rows: string; cols: string } {
  const L = g.node('Squeeze', [dimOf(g, queries, 1), g.int64([0])]); // () int64
  const zero = g.int64([0], []), one = g.int64([1], []);
  const off = offset === null ? zero : g.node('Squeeze', [offset, g.int64([0])]); // ()
  const rows = g.node('Unsqueeze', [g.node('Add', [g.node('Range', [zero, L, one]), off]), g.int64([1])]); // (L, 1)
  const cols = g.node('Range', [zero, g.node('Add', [L, off]), one]); // (offset + L)
  return { rows, cols };
}

/** ALiBi: scores (B, H, L, S) + slope_h · (j − p_i), slopes (H) from the attention module. */
export function alibiOnnx(g: OnnxGraph, slopes: Float32Array, scores: string, queries: string, offset: string | null): string {
  const { rows, cols } = queryKeyPositions(g, queries, offset);
  const distance = g.node('Cast', [g.node('Sub', [cols, rows])], { to: { i: 1 } }); // (L, S) float
  const slope = g.initializer('alibi.slopes', slopes, [slopes.length, 1, 1], `alibi:${Array.from(slopes).join(',')}`); // (H, 1, 1), shared by the layers
  return g.node('Add', [scores, g.node('Mul', [slope, distance])]); // (B, H, L, S)
}
