/**
 * TransformerTextEncoder: token embedding + learned positions + a pre-norm Transformer encoder,
 * the backbone shared by EncoderClassifier, TokenTagger and MultimodalFusion (BERT-style,
 * Devlin et al. 2019, without the pretraining heads). TextEncoderOptions make it BERT's exact
 * backbone too (models/bert.ts): post-norm layers, token-type embeddings, a LayerNorm over the
 * embedding sum, its eps, and RoBERTa's positions.
 *
 * (Named so it does not shadow the global TextEncoder of the Encoding API; it was
 * models.TextEncoder before.)
 *
 * Letters: B batch, T tokens, D dModel.
 */
import { Tensor } from '../tensor/tensor.js';
import { add, eq, mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { cat } from '../ops/shape.js';
import { zeros } from '../tensor/creation.js';
import { Module } from '../nn/module.js';
import { Embedding } from '../nn/embedding.js';
import { LayerNorm } from '../nn/norm.js';
import { Dropout } from '../nn/dropout.js';
import { LearnedPositionalEmbedding } from '../nn/positional.js';
import { TransformerEncoder, TransformerEncoderLayer } from '../nn/transformer.js';
import { runEncoder } from './fused-encoder.js';
import type { ConfigSchema } from './config.js';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';

/** The backbone's keys; the configs of the models built on it extend this. */
export interface TransformerTextEncoderConfig {
  vocabSize: number;
  dModel: number;
  numHeads: number;
  numLayers: number;
  dimFeedforward: number;
  dropout: number;
  /** Longest input (positions), the learned position table's size. */
  maxLen: number;
  padId: number;
}

/** The backbone keys' schema, spread into the schema of every model built on it. */
export const TEXT_ENCODER_SCHEMA: ConfigSchema<TransformerTextEncoderConfig> = Object.freeze({
  vocabSize: 'number', dModel: 'number', numHeads: 'number', numLayers: 'number',
  dimFeedforward: 'number', dropout: 'number', maxLen: 'number', padId: 'number',
});

/** The backbone keys that must be positive integers. */
export const TEXT_ENCODER_SIZES = Object.freeze(['vocabSize', 'dModel', 'numHeads', 'numLayers', 'dimFeedforward', 'maxLen'] as const);

/** How the backbone differs from heed's default (pre-norm, no token types): BERT's options. */
export interface TextEncoderOptions {
  /** Pre-norm layers and a final LayerNorm (default true), or post-norm layers without one (BERT). */
  normFirst?: boolean;
  /** eps of every LayerNorm (default 1e-5; BERT 1e-12). */
  layerNormEps?: number;
  /** Feed-forward activation (default 'gelu', exact). */
  activation?: 'gelu' | 'gelu_tanh' | 'relu';
  /** Rows of the token-type (segment) table; 0 = none (default). */
  typeVocabSize?: number;
  /** A LayerNorm over the embedding sum (BERT), default false. */
  embeddingNorm?: boolean;
  /**
   * 'absolute' (default): positions 0…T−1. 'offset' (RoBERTa): a non-padding token's position is
   * padId + 1 + the number of non-padding tokens before it; padding sits at padId.
   */
  positions?: 'absolute' | 'offset';
}

export interface TextEncoderCallOptions {
  /** (B, T) int32 segment ids (default zeros); needs typeVocabSize > 0. */
  tokenTypeIds?: Tensor | null;
  /** (B, T) int32 positions (default from `positions`). */
  positionIds?: Tensor | null;
  /**
   * (B, T, D) vectors added to the token embeddings before the positions: per-token features a
   * downstream model brings to a pretrained backbone (WordTagger's character and shape features).
   */
  addEmbeds?: Tensor | null;
}

export class TransformerTextEncoder extends Module {
  readonly config: Readonly<TransformerTextEncoderConfig>;
  readonly positions: 'absolute' | 'offset';
  tokEmbed: Embedding;
  posEmbed: LearnedPositionalEmbedding;
  typeEmbed: Embedding | null;
  embedNorm: LayerNorm | null;
  drop: Dropout;
  encoder: TransformerEncoder;

  constructor(c: TransformerTextEncoderConfig, o: TextEncoderOptions = {}) {
    super();
    this.config = Object.freeze({ ...c });
    const normFirst = o.normFirst ?? true, eps = o.layerNormEps ?? 1e-5, types = o.typeVocabSize ?? 0;
    this.positions = o.positions ?? 'absolute';
    this.tokEmbed = new Embedding(c.vocabSize, c.dModel, { paddingIdx: c.padId });
    this.posEmbed = new LearnedPositionalEmbedding(c.maxLen, c.dModel);
    this.typeEmbed = types > 0 ? new Embedding(types, c.dModel) : null;
    this.embedNorm = o.embeddingNorm ? new LayerNorm(c.dModel, { eps }) : null;
    this.drop = new Dropout(c.dropout);
    this.encoder = new TransformerEncoder(c.numLayers, () => new TransformerEncoderLayer(c.dModel, c.numHeads, {
      dimFeedforward: c.dimFeedforward, dropout: c.dropout, normFirst, activation: o.activation ?? 'gelu', layerNormEps: eps,
    }), normFirst ? new LayerNorm(c.dModel, { eps }) : null);
  }

  /**
   * RoBERTa's positions (modeling_roberta.create_position_ids_from_input_ids): padId + 1 + the
   * count of earlier non-padding tokens; padding tokens (ids == padId, whatever the mask) sit at padId. (B, T) int32.
   */
  offsetPositionIds(ids: Tensor): Tensor {
    const [B, T] = ids.shape, p = this.config.padId;
    const out = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      let n = 0;
      for (let t = 0; t < T; t++) out[b * T + t] = ids.data[b * T + t] === p ? p : p + ++n;
    }
    return new Tensor(out, [B, T]); // (B, T)
  }

  /** (B, T) bool padding mask (true = pad): the given one, or ids == padId. */
  paddingMask(ids: Tensor, given?: Tensor | null): Tensor {
    return given ?? eq(ids, this.config.padId); // (B, T)
  }

  /**
   * Args:
   *   ids: (B, T) int32.  prefix: optional (B, P, D) vectors put before the tokens (a CLS token).
   *   paddingMask: (B, T) bool, true = pad (default ids == padId).
   * Returns: (B, P + T, D).
   */
  override forward(ids: Tensor, paddingMask: Tensor | null = null, prefix: Tensor | null = null, o: TextEncoderCallOptions = {}): Tensor {
    if (ids.dtype !== 'int32' || ids.ndim !== 2) throw new DTypeError(`TransformerTextEncoder: ids must be (B, T) int32, received ${ids.dtype} ${fmtShape(ids.shape)}.`);
    const P = prefix ? prefix.shape[1] : 0;
    const last = this.positions === 'offset' ? this.config.padId + ids.shape[1] : ids.shape[1] + P - 1; // the largest position used
    if (o.positionIds == null && last >= this.config.maxLen) {
      const fits = this.positions === 'offset' ? this.config.maxLen - this.config.padId - 1 : this.config.maxLen - P;
      throw new ShapeError(`TransformerTextEncoder: ${ids.shape[1] + P} positions exceed maxLen=${this.config.maxLen} (the largest position would be ${last}). Fix: truncate the input to ${fits} tokens or raise maxLen.`);
    }
    if (prefix && (this.positions === 'offset' || o.tokenTypeIds || o.positionIds)) {
      throw new ValueError('TransformerTextEncoder: a prefix cannot be combined with offset positions, tokenTypeIds or positionIds (they index the tokens only). Fix: put the prefix among the tokens.');
    }
    let x = this.tokEmbed.call(ids); // (B, T, D)
    let pad = this.paddingMask(ids, paddingMask); // (B, T)
    if (this.typeEmbed) x = add(x, this.typeEmbed.call(o.tokenTypeIds ?? zeros(ids.shape, { dtype: 'int32' }))); // (B, T, D)
    else if (o.tokenTypeIds) throw new ValueError('TransformerTextEncoder: tokenTypeIds given, but the model has no token-type embeddings (typeVocabSize 0).');
    if (o.addEmbeds) {
      if (o.addEmbeds.ndim !== 3 || o.addEmbeds.shape[0] !== ids.shape[0] || o.addEmbeds.shape[1] !== ids.shape[1] || o.addEmbeds.shape[2] !== this.config.dModel) {
        throw new ShapeError(`TransformerTextEncoder: addEmbeds must be (B, T, D) = ${fmtShape([...ids.shape, this.config.dModel])} like the token embeddings, received ${fmtShape(o.addEmbeds.shape)}.`);
      }
      x = add(x, o.addEmbeds); // (B, T, D)
    }
    if (prefix) {
      x = cat([prefix, x], 1); // (B, P + T, D)
      pad = cat([zeros([ids.shape[0], P], { dtype: 'bool' }), pad], 1); // (B, P + T)
    }
    const positionIds = o.positionIds ?? (this.positions === 'offset' ? this.offsetPositionIds(ids) : null); // (B, T) | null
    x = this.posEmbed.call(x, 0, positionIds); // (B, P + T, D)
    if (this.embedNorm) x = this.embedNorm.call(x); // (B, P + T, D)
    return runEncoder(this.encoder, this.drop.call(x), { keyPaddingMask: pad }); // (B, P + T, D); fused in inference (fused-encoder.ts)
  }
}

/** Mean over positions that are not padding: x (B, T, D), pad (B, T) → (B, D). */
export function maskedMean(x: Tensor, pad: Tensor): Tensor {
  const [B, T] = pad.shape;
  const keep = new Tensor(new (x.dtype === 'float64' ? Float64Array : Float32Array)(B * T), [B, T, 1]); // (B, T, 1)
  for (let b = 0; b < B; b++) {
    let n = 0;
    for (let t = 0; t < T; t++) if (!pad.data[b * T + t]) n++;
    for (let t = 0; t < T; t++) keep.data[b * T + t] = pad.data[b * T + t] ? 0 : 1 / Math.max(n, 1);
  }
  return sum(mul(x, keep), 1); // (B, D)
}
