/**
 * Per-architecture ONNX exporters: each walks one model's module tree (the fields its forward
 * uses, in the same order) with the layer exporters of ./layers.ts and ./transformer.ts, and
 * returns the graphs a runtime needs to reproduce the model:
 *
 *   EncoderClassifier  model:  input_ids (B, T) int32 → logits (B, K)
 *   TokenTagger        model:  input_ids (B, T) int32 → logits (B, T, K)
 *   ViT                model:  pixel_values (B, C, I, I) float32 → logits (B, K)
 *   GPT                model:  (learned, RoPE or ALiBi positions) input_ids (B, T), past_key_i / past_value_i (B, Hkv, P, hd)
 *                              → logits (B, T, V), present_key_i / present_value_i (B, Hkv, P + T, hd)
 *   Seq2SeqTransformer encoder: src_ids (B, S) → memory (B, S, D), memory_key_padding_mask (B, S) bool,
 *                              cross_key_i / cross_value_i (B, Hkv, S, hd) (each decoder layer's projected memory)
 *                      decoder: input_ids (B, T), memory_key_padding_mask, cross_*, past_key_i / past_value_i
 *                              → log_probs (B, T, V), present_key_i / present_value_i
 *
 * The padding mask of a text model is computed in the graph as ids == padId (heed's default), so
 * padded batches need no second input. Batch and sequence axes are dynamic (symbolic dims); a
 * sequence longer than the model's maxLen fails in the runtime (its position table slice is short),
 * as it fails in heed. A first decoder or GPT step passes past tensors with P = 0.
 *
 * Letters: B batch, T tokens, S source tokens, P past positions, D dModel, Hkv key/value heads (= heads unless
 * grouped-query attention), hd head dim, K classes, V vocabulary.
 */
import { OnnxGraph } from '../../io/onnx/graph.js';
import { finish, type OnnxGraphFile } from './graph-file.js';

export type { OnnxGraphFile } from './graph-file.js';
import type { Module } from '../../nn/module.js';
import { EncoderClassifier } from '../../models/encoder-classifier.js';
import { TokenTagger } from '../../models/token-tagger.js';
import { TransformerTextEncoder } from '../../models/text-encoder.js';
import { ViT, PatchEmbedding } from '../../models/vit.js';
import { GPT, GPTBlock } from '../../models/gpt.js';
import { Seq2SeqTransformer } from '../../models/seq2seq.js';
import { TransformerDecoder, TransformerDecoderLayer } from '../../nn/transformer.js';
import type { MultiheadAttention } from '../../nn/attention/multihead.js';
import { expectModule, linearOnnx, layerNormOnnx, embeddingOnnx, feedForwardOnnx, conv2dOnnx, dropoutOnnx, dimOf } from './layers.js';
import { positionTableOnnx } from './positions.js';
import { LearnedPositionalEmbedding } from '../../nn/positional.js';
import { attentionOnnx, keyValueOnnx, encoderOnnx, decoderLayerOnnx, keyPaddingAllowed, causalAllowed, type KeyValue } from './transformer.js';

/** (B, 1, D) learned vector repeated over the batch of `like` (B, …) → (B, 1, D). */
function expandOverBatch(g: OnnxGraph, vector: string, like: string, D: number): string {
  return g.node('Expand', [vector, g.node('Concat', [dimOf(g, like, 0), g.int64([1, D])], { axis: { i: 0 } })]);
}

/**
 * TransformerTextEncoder on input_ids, optionally after prefix vectors (B, P, D):
 * → hidden (B, P + T, D) and the padding mask (B, P + T) bool it used (true = pad).
 * BERT's options map too: token types (all 0, as heed's default), the embedding LayerNorm, and
 * RoBERTa's offset positions (padId + 1 + the count of earlier real tokens; padding at padId).
 */
export function textEncoderOnnx(g: OnnxGraph, m: Module, path: string, ids: string, prefix: string | null): { hidden: string; pad: string } {
  const enc = expectModule(m, TransformerTextEncoder, path);
  const padId = enc.config.padId;
  let x = embeddingOnnx(g, enc.tokEmbed, `${path}.tokEmbed`, ids); // (B, T, D)
  let pad = g.scoped(path, () => g.node('Equal', [ids, g.int32([padId], [])])); // (B, T)
  if (enc.typeEmbed) {
    const typeRow = g.scoped(`${path}.typeEmbed`, () => g.node('Gather', [g.tensor(`${path}.typeEmbed.weight`, enc.typeEmbed!.weight), g.int64([0], [])], { axis: { i: 0 } })); // (D): token type 0
    x = g.scoped(path, () => g.node('Add', [x, typeRow])); // (B, T, D)
  }
  if (prefix !== null) {
    g.scoped(path, () => {
      x = g.node('Concat', [prefix, x], { axis: { i: 1 } }); // (B, P + T, D)
      const P = dimOf(g, prefix, 1);
      const notPad = g.node('Expand', [g.bool(false, [1, 1]), g.node('Concat', [dimOf(g, ids, 0), P], { axis: { i: 0 } })]); // (B, P)
      pad = g.node('Concat', [notPad, pad], { axis: { i: 1 } }); // (B, P + T)
    });
  }
  if (enc.positions === 'offset') {
    const pe = expectModule(enc.posEmbed, LearnedPositionalEmbedding, `${path}.posEmbed`);
    x = g.scoped(`${path}.posEmbed`, () => {
      const real = g.node('Cast', [g.node('Not', [pad])], { to: { i: 6 } }); // (B, T) int32
      const counted = g.node('Add', [g.node('CumSum', [real, g.int32([1], [])]), g.int32([padId], [])]); // (B, T)
      const positions = g.node('Where', [pad, g.int32([padId], []), counted]); // (B, T)
      return g.node('Add', [x, g.node('Gather', [g.tensor(`${path}.posEmbed.weight`, pe.weight), positions], { axis: { i: 0 } })]); // (B, T, D)
    });
  } else {
    x = positionTableOnnx(g, enc.posEmbed, `${path}.posEmbed`, x, null); // (B, P + T, D)
  }
  if (enc.embedNorm) x = layerNormOnnx(g, enc.embedNorm, `${path}.embedNorm`, x); // (B, P + T, D)
  x = dropoutOnnx(enc.drop, `${path}.drop`, x); // (B, P + T, D)
  const hidden = encoderOnnx(g, enc.encoder, `${path}.encoder`, x, g.scoped(path, () => keyPaddingAllowed(g, pad))); // (B, P + T, D)
  return { hidden, pad };
}

/** Mean over the positions that are not padding, as models/text-encoder.ts maskedMean: x (B, T, D), pad (B, T) → (B, D). */
export function maskedMeanOnnx(g: OnnxGraph, x: string, pad: string): string {
  const keep = g.node('Cast', [g.node('Not', [pad])], { to: { i: 1 } }); // (B, T) float
  const n = g.node('Max', [g.node('ReduceSum', [keep, g.int64([1])], { keepdims: { i: 1 } }), g.float(1)]); // (B, 1)
  const w = g.node('Unsqueeze', [g.node('Div', [keep, n]), g.int64([2])]); // (B, T, 1)
  return g.node('ReduceSum', [g.node('Mul', [x, w]), g.int64([1])], { keepdims: { i: 0 } }); // (B, D)
}

export function encoderClassifierOnnx(model: EncoderClassifier): OnnxGraphFile[] {
  const g = new OnnxGraph('EncoderClassifier');
  const D = model.config.dModel;
  const ids = g.input('input_ids', 'int32', ['batch', 'sequence']);
  let pooled: string;
  if (model.clsToken) {
    const cls = expandOverBatch(g, g.tensor('clsToken', model.clsToken), ids, D); // (B, 1, D)
    const { hidden } = textEncoderOnnx(g, model.backbone, 'backbone', ids, cls); // (B, 1 + T, D)
    pooled = g.node('Gather', [hidden, g.int64([0], [])], { axis: { i: 1 } }); // (B, D)
  } else {
    const { hidden, pad } = textEncoderOnnx(g, model.backbone, 'backbone', ids, null); // (B, T, D)
    pooled = maskedMeanOnnx(g, hidden, pad); // (B, D)
  }
  const logits = linearOnnx(g, model.head, 'head', dropoutOnnx(model.drop, 'drop', pooled)); // (B, K)
  g.output('logits', logits, 'float32', ['batch', model.config.numClasses]);
  return [finish(g, 'model', `heed EncoderClassifier (${model.config.pooling} pooling); padding = input_ids == ${model.config.padId}`)];
}

export function tokenTaggerOnnx(model: TokenTagger): OnnxGraphFile[] {
  const g = new OnnxGraph('TokenTagger');
  const ids = g.input('input_ids', 'int32', ['batch', 'sequence']);
  const { hidden } = textEncoderOnnx(g, model.backbone, 'backbone', ids, null); // (B, T, D)
  g.output('logits', linearOnnx(g, model.head, 'head', dropoutOnnx(model.drop, 'drop', hidden)), 'float32', ['batch', 'sequence', model.config.numTags]);
  return [finish(g, 'model', `heed TokenTagger; padding = input_ids == ${model.config.padId}`)];
}

export function vitOnnx(model: ViT): OnnxGraphFile[] {
  const c = model.config, D = c.dModel;
  const g = new OnnxGraph('ViT');
  const images = g.input('pixel_values', 'float32', ['batch', c.inChannels, c.imageSize, c.imageSize]);
  const pe = expectModule(model.patchEmbed, PatchEmbedding, 'patchEmbed');
  const y = conv2dOnnx(g, pe.proj, 'patchEmbed.proj', images); // (B, D, I/p, I/p)
  const patches = g.scoped('patchEmbed', () => g.node('Transpose', [g.node('Reshape', [y, g.int64([0, D, -1])])], { perm: { ints: [0, 2, 1] } })); // (B, N, D)
  let x = g.node('Concat', [expandOverBatch(g, g.tensor('clsToken', model.clsToken), images, D), patches], { axis: { i: 1 } }); // (B, N + 1, D)
  x = dropoutOnnx(model.drop, 'drop', g.node('Add', [x, g.tensor('posEmbed', model.posEmbed)])); // (B, N + 1, D)
  const h = encoderOnnx(g, model.encoder, 'encoder', x, null); // (B, N + 1, D)
  const cls = g.node('Gather', [h, g.int64([0], [])], { axis: { i: 1 } }); // (B, D)
  g.output('logits', linearOnnx(g, model.head, 'head', cls), 'float32', ['batch', c.numClasses]);
  return [finish(g, 'model', 'heed ViT')];
}

/** The key/value heads of each attention layer (they differ between layers after head pruning). */
function kvHeads(layers: Module[]): number[] {
  return layers.map((a) => (a as MultiheadAttention).numKvHeads);
}

/** past_key_i / past_value_i inputs (B, H_i, P, hd), one pair per layer; H[i] = layer i's key/value heads. */
function pastInputs(g: OnnxGraph, H: number[], hd: number, pastAxis: string): KeyValue[] {
  return H.map((h, i) => ({
    key: g.input(`past_key_${i}`, 'float32', ['batch', h, pastAxis, hd]),
    value: g.input(`past_value_${i}`, 'float32', ['batch', h, pastAxis, hd]),
  }));
}

function presentOutputs(g: OnnxGraph, present: KeyValue[], H: number[], hd: number, axis: string): void {
  present.forEach((kv, i) => {
    g.output(`present_key_${i}`, kv.key, 'float32', ['batch', H[i], axis, hd]);
    g.output(`present_value_${i}`, kv.value, 'float32', ['batch', H[i], axis, hd]);
  });
}

export function gptOnnx(model: GPT): OnnxGraphFile[] {
  const c = model.config;
  const hd = c.dModel / c.numHeads;
  const H = kvHeads(model.h.toArray().map((b) => (b as GPTBlock).attn)); // the cache holds each layer's key/value heads
  const g = new OnnxGraph('GPT');
  const ids = g.input('input_ids', 'int32', ['batch', 'sequence']);
  const past = pastInputs(g, H, hd, 'past_sequence');
  const P = dimOf(g, past[0].key, 2); // (1)
  let x = embeddingOnnx(g, model.wte, 'wte', ids); // (B, T, C)
  if (model.wpe) x = positionTableOnnx(g, model.wpe, 'wpe', x, P); // (B, T, C); RoPE and ALiBi act inside attention
  x = dropoutOnnx(model.drop, 'drop', x); // (B, T, C)
  const allowed = causalAllowed(g, ids, P); // (T, P + T)
  const present: KeyValue[] = [];
  model.h.toArray().forEach((m, i) => {
    const path = `h.${i}`, block = expectModule(m, GPTBlock, path);
    const h = layerNormOnnx(g, block.ln1, `${path}.ln1`, x); // (B, T, C)
    const a = attentionOnnx(g, block.attn, `${path}.attn`, h, h, { allowed, past: past[i], positions: { offset: P, maxLen: c.maxLen } });
    present.push({ key: a.key, value: a.value });
    x = g.scoped(path, () => g.node('Add', [x, dropoutOnnx(block.drop, `${path}.drop`, a.output)])); // (B, T, C)
    const f = feedForwardOnnx(g, block.mlp, `${path}.mlp`, layerNormOnnx(g, block.ln2, `${path}.ln2`, x)); // (B, T, C)
    x = g.scoped(path, () => g.node('Add', [x, dropoutOnnx(block.drop, `${path}.drop`, f)])); // (B, T, C)
  });
  const logits = linearOnnx(g, model.lmHead, 'lmHead', layerNormOnnx(g, model.lnF, 'lnF', x)); // (B, T, V)
  g.output('logits', logits, 'float32', ['batch', 'sequence', c.vocabSize]);
  presentOutputs(g, present, H, hd, 'total_sequence');
  return [finish(g, 'model', 'heed GPT with past key/values: pass past_* with past_sequence = 0 on the first call, then the present_* of the last call')];
}

/** ids (B, T) → embed·√D (when scaleEmbeddings) + positions from `offset` (B, T, D), as Seq2SeqTransformer.embed. */
function seq2seqEmbedOnnx(g: OnnxGraph, model: Seq2SeqTransformer, side: 'src' | 'tgt', ids: string, offset: string | null): string {
  let x = embeddingOnnx(g, side === 'src' ? model.srcEmbed : model.tgtEmbed, `${side}Embed`, ids); // (B, T, D)
  if (model.config.scaleEmbeddings) x = g.node('Mul', [x, g.float(Math.sqrt(model.config.dModel))]); // (B, T, D)
  return dropoutOnnx(model.embDropout, 'embDropout', positionTableOnnx(g, side === 'src' ? model.srcPos : model.tgtPos, `${side}Pos`, x, offset)); // (B, T, D)
}

export function seq2seqOnnx(model: Seq2SeqTransformer): OnnxGraphFile[] {
  const c = model.config, hd = c.dModel / c.numHeads;
  const dec = expectModule(model.decoder, TransformerDecoder, 'decoder');
  const layers = dec.layers.toArray().map((l, i) => expectModule(l, TransformerDecoderLayer, `decoder.layers.${i}`));
  const H = kvHeads(layers.map((l) => l.selfAttn)), Hx = kvHeads(layers.map((l) => l.crossAttn)); // caches hold each layer's key/value heads

  // Encoder graph: memory, its padding mask, and every decoder layer's cross-attention keys/values.
  const e = new OnnxGraph('Seq2SeqEncoder');
  const src = e.input('src_ids', 'int32', ['batch', 'src_sequence']);
  const srcPad = e.node('Equal', [src, e.int32([c.padId], [])]); // (B, S)
  const memory = encoderOnnx(e, model.encoder, 'encoder', seq2seqEmbedOnnx(e, model, 'src', src, null), keyPaddingAllowed(e, srcPad)); // (B, S, D)
  e.output('memory', memory, 'float32', ['batch', 'src_sequence', c.dModel]);
  e.output('memory_key_padding_mask', srcPad, 'bool', ['batch', 'src_sequence']);
  layers.forEach((layer, i) => {
    const path = `decoder.layers.${i}`;
    const kv = keyValueOnnx(e, (layer as unknown as { crossAttn: Module }).crossAttn, `${path}.crossAttn`, memory); // (B, H, S, hd)
    e.output(`cross_key_${i}`, kv.key, 'float32', ['batch', Hx[i], 'src_sequence', hd]);
    e.output(`cross_value_${i}`, kv.value, 'float32', ['batch', Hx[i], 'src_sequence', hd]);
  });

  // Decoder step graph: new target tokens after P cached positions → log-probabilities and the grown cache.
  const d = new OnnxGraph('Seq2SeqDecoderStep');
  const ids = d.input('input_ids', 'int32', ['batch', 'sequence']);
  const pad = d.input('memory_key_padding_mask', 'bool', ['batch', 'src_sequence']);
  const cross = layers.map((_, i) => ({
    key: d.input(`cross_key_${i}`, 'float32', ['batch', Hx[i], 'src_sequence', hd]),
    value: d.input(`cross_value_${i}`, 'float32', ['batch', Hx[i], 'src_sequence', hd]),
  }));
  const past = pastInputs(d, H, hd, 'past_sequence');
  const P = dimOf(d, past[0].key, 2); // (1)
  let x = seq2seqEmbedOnnx(d, model, 'tgt', ids, P); // (B, T, D)
  const selfAllowed = causalAllowed(d, ids, P); // (T, P + T)
  const memoryAllowed = keyPaddingAllowed(d, pad); // (B, 1, 1, S)
  const present: KeyValue[] = [];
  layers.forEach((layer, i) => {
    const r = decoderLayerOnnx(d, layer, `decoder.layers.${i}`, x, { selfAllowed, memoryAllowed, past: past[i], cross: cross[i] });
    present.push({ key: r.key, value: r.value });
    x = r.output; // (B, T, D)
  });
  if (dec.norm) x = layerNormOnnx(d, dec.norm, 'decoder.norm', x); // (B, T, D)
  const logProbs = d.node('LogSoftmax', [linearOnnx(d, model.outProj, 'outProj', x)], { axis: { i: -1 } }); // (B, T, V)
  d.output('log_probs', logProbs, 'float32', ['batch', 'sequence', c.tgtVocabSize]);
  presentOutputs(d, present, H, hd, 'total_sequence');
  return [
    finish(e, 'encoder', `heed Seq2SeqTransformer encoder; padding = src_ids == ${c.padId}`),
    finish(d, 'decoder', 'heed Seq2SeqTransformer decoder step: pass past_* with past_sequence = 0 on the first step, then the present_* of the last step'),
  ];
}
