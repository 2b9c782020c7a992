/**
 * ONNX exporter for SASRec's scoring graph (models/sasrec.ts scoreNext): a batch of right-padded
 * histories → the score of every item as the next one.
 *
 *   SASRec  model:  item_ids (B, T) int32, lengths (B) int32 → scores (B, N + 1)
 *
 *   x      = table[item_ids] · √D + posEmbed[maxLen − length + t]   (0 at padding)
 *   h      = causal pre-norm encoder(x)
 *   scores = h[b, length_b − 1] · tableᵀ
 *
 * The item table is a function of the weights only (the bare ID embedding, or with fusion
 * 'attention' ItemSideFusion over every item's title and genres), so heed computes it once at
 * export and the graph stores the result as a constant: the fusion's cross-attention never runs at
 * serving time, in heed's predictor (which caches the table too) or in the runtime.
 *
 * Letters: B histories, T positions, D dModel, N items (row 0 = padding).
 */
import { OnnxGraph } from '../../io/onnx/graph.js';
import { noGrad } from '../../autograd/mode.js';
import { SASRec } from '../../models/sasrec.js';
import { embeddingOnnx, dimOf } from './layers.js';
import { encoderOnnx, causalAllowed } from './transformer.js';
import { finish, type OnnxGraphFile } from './graph-file.js';

export function sasRecOnnx(model: SASRec): OnnxGraphFile[] {
  const c = model.config, D = c.dModel;
  const g = new OnnxGraph('SASRec');
  const ids = g.input('item_ids', 'int32', ['batch', 'sequence']);
  const lengths = g.input('lengths', 'int32', ['batch']);
  const t = noGrad(() => model.itemTable()); // (N + 1, D)
  const table = g.initializer('itemTable', t.data as Float32Array, [...t.shape], model.itemEmbed);
  const x = g.node('Mul', [g.node('Gather', [table, ids], { axis: { i: 0 } }), g.float(Math.sqrt(D))]); // (B, T, D)

  // Positions count back from the newest item: maxLen − length + t on real items, 0 on padding.
  const T = g.node('Cast', [g.node('Squeeze', [dimOf(g, ids, 1), g.int64([0])])], { to: { i: 6 } }); // () int32
  const steps = g.node('Range', [g.int32([0], []), T, g.int32([1], [])]); // (T)
  const len = g.node('Unsqueeze', [lengths, g.int64([1])]); // (B, 1)
  const counted = g.node('Add', [steps, g.node('Sub', [g.int32([c.maxLen], []), len])]); // (B, T)
  const positions = g.node('Where', [g.node('Less', [steps, len]), counted, g.int32([0], [])]); // (B, T)
  const h = encoderOnnx(g, model.encoder, 'encoder', g.node('Add', [x, embeddingOnnx(g, model.posEmbed, 'posEmbed', positions)]), causalAllowed(g, ids, null)); // (B, T, D)

  // The hidden state at each history's last item, as a one-hot weighted sum over positions.
  const isLast = g.node('Cast', [g.node('Equal', [steps, g.node('Sub', [len, g.int32([1], [])])])], { to: { i: 1 } }); // (B, T) float
  const last = g.node('ReduceSum', [g.node('Mul', [h, g.node('Unsqueeze', [isLast, g.int64([2])])]), g.int64([1])], { keepdims: { i: 0 } }); // (B, D)
  const tableT = g.initializer('itemTable.T', transpose2d(t.data as Float32Array, t.shape[0], D), [D, t.shape[0]], `${table}:T`); // (D, N + 1)
  g.output('scores', g.node('MatMul', [last, tableT]), 'float32', ['batch', c.numItems + 1]);
  return [finish(g, 'model', `heed SASRec next-item scores; histories right-padded with item 0, lengths ≥ 1${model.side ? '; the ItemSideFusion item table is precomputed' : ''}`)];
}

function transpose2d(src: Float32Array, R: number, C: number): Float32Array {
  const out = new Float32Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = src[r * C + c];
  return out;
}
