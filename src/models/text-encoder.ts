/**
 * TransformerTextEncoder: token embedding + learned positions + a pre-norm Transformer encoder,
 * the backbone shared by EncoderClassifier, TokenTagger and MultimodalFusion (BERT-style,
 * Devlin et al. 2019, without the pretraining heads).
 *
 * (Named so it does not shadow the global TextEncoder of the Encoding API; it was
 * models.TextEncoder before.)
 *
 * Letters: B batch, T tokens, D dModel.
 */
import { Tensor } from '../tensor/tensor.js';
import { eq, mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { cat } from '../ops/shape.js';
import { zeros } from '../tensor/creation.js';
import { Module } from '../nn/module.js';
import { Embedding } from '../nn/embedding.js';
import { LayerNorm } from '../nn/norm.js';
import { Dropout } from '../nn/dropout.js';
import { LearnedPositionalEmbedding } from '../nn/positional.js';
import { TransformerEncoder, TransformerEncoderLayer } from '../nn/transformer.js';
import type { ConfigSchema } from './config.js';
import { DTypeError, ShapeError, fmtShape } from '../errors.js';

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

export class TransformerTextEncoder extends Module {
  readonly config: Readonly<TransformerTextEncoderConfig>;
  tokEmbed: Embedding;
  posEmbed: LearnedPositionalEmbedding;
  drop: Dropout;
  encoder: TransformerEncoder;

  constructor(c: TransformerTextEncoderConfig) {
    super();
    this.config = Object.freeze({ ...c });
    this.tokEmbed = new Embedding(c.vocabSize, c.dModel, { paddingIdx: c.padId });
    this.posEmbed = new LearnedPositionalEmbedding(c.maxLen, c.dModel);
    this.drop = new Dropout(c.dropout);
    this.encoder = new TransformerEncoder(c.numLayers, () => new TransformerEncoderLayer(c.dModel, c.numHeads, {
      dimFeedforward: c.dimFeedforward, dropout: c.dropout, normFirst: true, activation: 'gelu',
    }), new LayerNorm(c.dModel));
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
  override forward(ids: Tensor, paddingMask: Tensor | null = null, prefix: Tensor | null = null): Tensor {
    if (ids.dtype !== 'int32' || ids.ndim !== 2) throw new DTypeError(`TransformerTextEncoder: ids must be (B, T) int32, received ${ids.dtype} ${fmtShape(ids.shape)}.`);
    const P = prefix ? prefix.shape[1] : 0;
    if (ids.shape[1] + P > this.config.maxLen) {
      throw new ShapeError(`TransformerTextEncoder: ${ids.shape[1] + P} positions exceed maxLen=${this.config.maxLen}. Fix: truncate the input to ${this.config.maxLen - P} tokens or raise maxLen.`);
    }
    let x = this.tokEmbed.call(ids); // (B, T, D)
    let pad = this.paddingMask(ids, paddingMask); // (B, T)
    if (prefix) {
      x = cat([prefix, x], 1); // (B, P + T, D)
      pad = cat([zeros([ids.shape[0], P], { dtype: 'bool' }), pad], 1); // (B, P + T)
    }
    x = this.drop.call(this.posEmbed.call(x)); // (B, P + T, D)
    return this.encoder.call(x, { keyPaddingMask: pad }); // (B, P + T, D)
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
