/**
 * TokenTagger: a Transformer encoder with a per-token linear head, for sequence labelling
 * (part-of-speech, named entities, phoneme alignment).
 *
 *   const tagger = new TokenTagger({ vocabSize: 100, numTags: 9 });
 *   const logits = tagger.forward(ids);         // (B, T, numTags)
 *
 * Letters: B batch, T tokens, D dModel, K numTags.
 */
import { Tensor } from '../tensor/tensor.js';
import { Linear } from '../nn/linear.js';
import { Dropout } from '../nn/dropout.js';
import { TransformerTextEncoder, TEXT_ENCODER_SCHEMA, TEXT_ENCODER_SIZES, type TransformerTextEncoderConfig } from './text-encoder.js';
import { ConfiguredModel, defineModelConfig, type ModelInit } from './config.js';

export interface TokenTaggerConfig extends TransformerTextEncoderConfig {
  numTags: number;
}

export const TOKEN_TAGGER_DEFAULTS: Readonly<Omit<TokenTaggerConfig, 'vocabSize' | 'numTags'>> = Object.freeze({
  dModel: 128, // tagging is local; a small width suffices
  numHeads: 4,
  numLayers: 2,
  dimFeedforward: 512, // 4·dModel
  dropout: 0.1,
  maxLen: 128, // sentences rarely exceed 100 tokens
  padId: 0, // the vocab module reserves id 0 for padding
});

export const TOKEN_TAGGER_CONFIG = defineModelConfig<TokenTaggerConfig, 'vocabSize' | 'numTags'>({
  model: 'TokenTagger',
  schema: { ...TEXT_ENCODER_SCHEMA, numTags: 'number' },
  defaults: TOKEN_TAGGER_DEFAULTS,
  positiveInts: [...TEXT_ENCODER_SIZES, 'numTags'],
});

export class TokenTagger extends ConfiguredModel<TokenTaggerConfig> {
  backbone: TransformerTextEncoder;
  drop: Dropout;
  head: Linear;

  /** Args: config: vocabSize and numTags are required; the rest default to TOKEN_TAGGER_DEFAULTS. */
  constructor(config: ModelInit<TokenTaggerConfig, 'vocabSize' | 'numTags'>) {
    super(TOKEN_TAGGER_CONFIG, config);
    const c = this.config;
    this.backbone = new TransformerTextEncoder(c);
    this.drop = new Dropout(c.dropout);
    this.head = new Linear(c.dModel, c.numTags);
  }

  /** Rebuilds a model from a saved config (config.json's `model`). */
  static fromConfig(saved: Record<string, unknown>): TokenTagger {
    return new TokenTagger(TOKEN_TAGGER_CONFIG.load(saved));
  }

  /** ids (B, T) int32 → logits (B, T, K). Padding positions get logits too; mask them in the loss (ignoreIndex). */
  override forward(ids: Tensor, paddingMask: Tensor | null = null): Tensor {
    return this.head.call(this.drop.call(this.backbone.call(ids, paddingMask))); // (B, T, K)
  }
}
