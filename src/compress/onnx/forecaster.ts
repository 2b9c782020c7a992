/**
 * ONNX exporter for the PatchTST forecaster (models/forecaster.ts), its forward line by line:
 *
 *   PatchTSTForecaster  model:  context (B, L) float32, calendar (B, H, F) int32 → quantiles (B, H, Q)
 *
 *   RevIN     μ, σ = mean and √(var + 1e-5) of each context; x̂ = (x − μ) / σ · w + b
 *   patches   x̂[n·S + p] gathered into (B, N, P) → patchEmbed + positions → encoder
 *   head      flatten (B, N·D) → (B, H, E) + calendar embeddings → out(gelu(·)) (B, H, Q)
 *   quantiles the 0.5 level as is, neighbours ± softplus steps (ordered by construction)
 *   inverse   (q − b) / (w + 1e-10) · σ + μ
 *
 * Letters: B instances, L context length, P patch length, S stride, N patches, D dModel, H horizon,
 * E head width, Q quantile levels, F calendar fields.
 */
import { OnnxGraph } from '../../io/onnx/graph.js';
import { PatchTSTForecaster, numPatches } from '../../models/forecaster.js';
import { NUM_CALENDAR_FIELDS } from '../../data/calendar.js';
import type { Embedding } from '../../nn/embedding.js';
import { embeddingOnnx, linearOnnx, activationOnnx, dropoutOnnx } from './layers.js';
import { encoderOnnx } from './transformer.js';
import { finish, type OnnxGraphFile } from './graph-file.js';

/** softplus(x) = relu(x) + log(1 + e^−|x|), as the model writes it (never overflows). */
function softplusOnnx(g: OnnxGraph, x: string): string {
  return g.node('Add', [g.node('Relu', [x]), g.node('Log', [g.node('Add', [g.node('Exp', [g.node('Neg', [g.node('Abs', [x])])]), g.float(1)])])]);
}

export function forecasterOnnx(model: PatchTSTForecaster): OnnxGraphFile[] {
  const c = model.config, N = numPatches(c), P = c.patchLength, S = c.patchStride, D = c.dModel, H = c.horizon, E = c.headDim, Q = model.levels.length;
  const g = new OnnxGraph('PatchTSTForecaster');
  const context = g.input('context', 'float32', ['batch', c.contextLength]);
  const calendar = g.input('calendar', 'int32', ['batch', H, NUM_CALENDAR_FIELDS]);
  const w = g.tensor('revinWeight', model.revinWeight), b = g.tensor('revinBias', model.revinBias); // (1)

  const { normed, mean, std } = g.scoped('revin', () => {
    const mean = g.node('ReduceMean', [context], { axes: { ints: [1] }, keepdims: { i: 1 } }); // (B, 1)
    const centred = g.node('Sub', [context, mean]); // (B, L)
    const variance = g.node('ReduceMean', [g.node('Mul', [centred, centred])], { axes: { ints: [1] }, keepdims: { i: 1 } }); // (B, 1)
    const std = g.node('Sqrt', [g.node('Add', [variance, g.float(1e-5)])]); // (B, 1)
    const index = g.int64(Array.from({ length: N * P }, (_, k) => Math.floor(k / P) * S + (k % P)), [N, P]); // (N, P)
    const patches = g.node('Gather', [g.node('Div', [centred, std]), index], { axis: { i: 1 } }); // (B, N, P)
    return { normed: g.node('Add', [g.node('Mul', [patches, w]), b]), mean, std }; // (B, N, P)
  });
  const x = dropoutOnnx(model.drop, 'drop', g.node('Add', [linearOnnx(g, model.patchEmbed, 'patchEmbed', normed), g.tensor('posEmbed', model.posEmbed)])); // (B, N, D)
  const h = encoderOnnx(g, model.encoder, 'encoder', x, null); // (B, N, D)
  let z = g.node('Reshape', [linearOnnx(g, model.head, 'head', g.node('Reshape', [h, g.int64([0, N * D])])), g.int64([0, H, E])]); // (B, H, E)
  if (c.calendar) {
    const tables: [string, Embedding][] = [['dayOfWeek', model.dayOfWeek], ['dayOfYear', model.dayOfYear], ['monthWeekday', model.monthWeekday], ['lastWeekday', model.lastWeekday]];
    if (model.holiday !== null && model.dayOff !== null) tables.push(['holiday', model.holiday], ['dayOff', model.dayOff]); // fields 4 and 5
    tables.forEach(([name, table], k) => {
      const field = g.node('Gather', [calendar, g.int64([k], [])], { axis: { i: 2 } }); // (B, H)
      z = g.node('Add', [z, embeddingOnnx(g, table, name, field)]); // (B, H, E)
    });
  }
  const raw = linearOnnx(g, model.out, 'out', activationOnnx(g, 'gelu', z)); // (B, H, Q)
  const mid = model.levels.indexOf(0.5);
  const level = (k: number): string => g.node('Slice', [raw, g.int64([k]), g.int64([k + 1]), g.int64([2])]); // (B, H, 1)
  const out: string[] = new Array<string>(Q);
  out[mid] = level(mid);
  for (let k = mid + 1; k < Q; k++) out[k] = g.node('Add', [out[k - 1], softplusOnnx(g, level(k))]);
  for (let k = mid - 1; k >= 0; k--) out[k] = g.node('Sub', [out[k + 1], softplusOnnx(g, level(k))]);
  const q = Q === 1 ? out[0] : g.node('Concat', out, { axis: { i: 2 } }); // (B, H, Q)
  const unit = (t: string): string => g.node('Unsqueeze', [t, g.int64([2])]); // (B, 1) → (B, 1, 1)
  const scaled = g.node('Mul', [g.node('Div', [g.node('Sub', [q, b]), g.node('Add', [w, g.float(1e-10)])]), unit(std)]); // (B, H, Q)
  g.output('quantiles', g.node('Add', [scaled, unit(mean)]), 'float32', ['batch', H, Q]);
  return [finish(g, 'model', `heed PatchTSTForecaster; quantile levels ${model.levels.join(', ')}`)];
}
