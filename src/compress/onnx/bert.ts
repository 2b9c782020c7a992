/**
 * ONNX exporters for the BERT family (models/bert.ts: the Hugging Face Bert*, Roberta* and
 * DistilBert* checkpoints fromPretrained loads) and heed's own MaskedLM (models/masked-lm.ts):
 *
 *   Bert                          input_ids (B, T) int32 → last_hidden_state (B, T, D) [, pooler_output (B, D)]
 *   BertForMaskedLM, MaskedLM     input_ids (B, T) int32 → logits (B, T, V)
 *   BertForSequenceClassification input_ids (B, T) int32 → logits (B, K)
 *   BertForTokenClassification    input_ids (B, T) int32 → logits (B, T, K)
 *
 * As heed's forward without options: padding is input_ids == padId (HF's attention_mask is
 * exactly that for right-padded batches), token types are all 0, positions absolute (BERT,
 * DistilBERT) or RoBERTa's offset ones, computed in the graph. MaskedLM's forward returns the
 * rows flattened, (B·T, V); the graph keeps (B, T, V), the same values.
 *
 * Letters: B batch, T tokens, D dModel, V vocabulary, K labels.
 */
import { OnnxGraph } from '../../io/onnx/graph.js';
import type { Module } from '../../nn/module.js';
import { Bert, BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification, MaskedLMHead as BertLMHead, ClassificationHead } from '../../models/bert.js';
import { MaskedLM, MaskedLMHead } from '../../models/masked-lm.js';
import type { Parameter } from '../../nn/parameter.js';
import { expectModule, linearOnnx, layerNormOnnx, activationOnnx, dropoutOnnx } from './layers.js';
import { textEncoderOnnx } from './models.js';
import { finish, type OnnxGraphFile } from './graph-file.js';

/** h (B, T, D) → its first token (B, D). */
function firstTokenOnnx(g: OnnxGraph, h: string): string {
  return g.node('Gather', [h, g.int64([0], [])], { axis: { i: 1 } }); // (B, D)
}

function idsInput(g: OnnxGraph): string {
  return g.input('input_ids', 'int32', ['batch', 'sequence']);
}

const padDoc = (padId: number): string => `padding = input_ids == ${padId}; token types 0`;

export function bertOnnx(model: Bert): OnnxGraphFile[] {
  const c = model.config;
  const g = new OnnxGraph('Bert');
  const { hidden } = textEncoderOnnx(g, model.backbone, 'backbone', idsInput(g), null); // (B, T, D)
  g.output('last_hidden_state', hidden, 'float32', ['batch', 'sequence', c.dModel]);
  if (model.pooler) {
    const pooled = g.scoped('pooler', () => g.node('Tanh', [linearOnnx(g, model.pooler, 'pooler', firstTokenOnnx(g, hidden))])); // (B, D)
    g.output('pooler_output', pooled, 'float32', ['batch', c.dModel]);
  }
  return [finish(g, 'model', `heed Bert (${c.modelType}); ${padDoc(c.padId)}`)];
}

export function bertForMaskedLMOnnx(model: BertForMaskedLM): OnnxGraphFile[] {
  const c = model.config;
  const g = new OnnxGraph('BertForMaskedLM');
  const { hidden } = textEncoderOnnx(g, model.backbone, 'backbone', idsInput(g), null); // (B, T, D)
  const head = expectModule(model.lmHead, BertLMHead, 'lmHead');
  const a = g.scoped('lmHead', () => activationOnnx(g, head.activation, linearOnnx(g, head.dense, 'lmHead.dense', hidden))); // (B, T, D)
  const logits = linearOnnx(g, head.decoder, 'lmHead.decoder', layerNormOnnx(g, head.layerNorm, 'lmHead.layerNorm', a)); // (B, T, V)
  g.output('logits', logits, 'float32', ['batch', 'sequence', c.vocabSize]);
  return [finish(g, 'model', `heed BertForMaskedLM (${c.modelType}); ${padDoc(c.padId)}`)];
}

export function bertForSequenceClassificationOnnx(model: BertForSequenceClassification): OnnxGraphFile[] {
  const c = model.config;
  const g = new OnnxGraph('BertForSequenceClassification');
  const { hidden } = textEncoderOnnx(g, model.backbone, 'backbone', idsInput(g), null); // (B, T, D)
  const head = expectModule(model.head, ClassificationHead, 'head');
  const first = dropoutOnnx(model.drop, 'drop', firstTokenOnnx(g, hidden)); // (B, D)
  const h = linearOnnx(g, head.dense, 'head.dense', first); // (B, D)
  const act = g.scoped('head', () => g.node(head.activation === 'tanh' ? 'Tanh' : 'Relu', [h])); // (B, D)
  g.output('logits', linearOnnx(g, head.outProj, 'head.outProj', dropoutOnnx(head.drop, 'head.drop', act)), 'float32', ['batch', c.numLabels]);
  return [finish(g, 'model', `heed BertForSequenceClassification (${c.modelType}); ${padDoc(c.padId)}`)];
}

export function bertForTokenClassificationOnnx(model: BertForTokenClassification): OnnxGraphFile[] {
  const c = model.config;
  const g = new OnnxGraph('BertForTokenClassification');
  const { hidden } = textEncoderOnnx(g, model.backbone, 'backbone', idsInput(g), null); // (B, T, D)
  g.output('logits', linearOnnx(g, model.head, 'head', dropoutOnnx(model.drop, 'drop', hidden)), 'float32', ['batch', 'sequence', c.numLabels]);
  return [finish(g, 'model', `heed BertForTokenClassification (${c.modelType}); ${padDoc(c.padId)}`)];
}

/** heed's MaskedLM: its head is dense → GELU → LayerNorm → the decoder tied to the token embedding, plus its own bias. */
export function maskedLMOnnx(model: MaskedLM): OnnxGraphFile[] {
  const c = model.config;
  const g = new OnnxGraph('MaskedLM');
  const { hidden } = textEncoderOnnx(g, model.backbone, 'backbone', idsInput(g), null); // (B, T, D)
  const head = expectModule(model.lmHead as Module, MaskedLMHead, 'lmHead');
  const a = g.scoped('lmHead', () => activationOnnx(g, 'gelu', linearOnnx(g, head.dense, 'lmHead.dense', hidden))); // (B, T, D)
  const x = layerNormOnnx(g, head.norm, 'lmHead.norm', a); // (B, T, D)
  const decoderWeight = (head as unknown as { _decoderWeight: Parameter })._decoderWeight; // tied: backbone.tokEmbed.weight (V, D)
  const logits = g.scoped('lmHead', () => g.node('Add', [g.node('MatMul', [x, g.tensor('lmHead.decoder.weight', decoderWeight, { transpose: true })]), g.tensor('lmHead.bias', head.bias)])); // (B, T, V)
  g.output('logits', logits, 'float32', ['batch', 'sequence', c.vocabSize]);
  return [finish(g, 'model', `heed MaskedLM; logits for every position (B, T, V) (heed's forward flattens them to (B·T, V)); padding = input_ids == ${c.padId}`)];
}
