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
import { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Dropout } from '../nn/dropout.js';
import { TextEncoder } from './text-encoder.js';
import { resolveConfig, requirePositiveInts, type ConfigSchema } from './config.js';

export interface TokenTaggerConfig {
  vocabSize: number;
  numTags: number;
  dModel: number;
  numHeads: number;
  numLayers: number;
  dimFeedforward: number;
  dropout: number;
  maxLen: number;
  padId: number;
}

const SCHEMA: ConfigSchema<TokenTaggerConfig> = {
  vocabSize: 'number', numTags: 'number', dModel: 'number', numHeads: 'number', numLayers: 'number',
  dimFeedforward: 'number', dropout: 'number', maxLen: 'number', padId: 'number',
};

export const TOKEN_TAGGER_DEFAULTS: Readonly<Omit<TokenTaggerConfig, 'vocabSize' | 'numTags'>> = Object.freeze({
  dModel: 128, // tagging is local; a small width suffices
  numHeads: 4,
  numLayers: 2,
  dimFeedforward: 512, // 4·dModel
  dropout: 0.1,
  maxLen: 128, // sentences rarely exceed 100 tokens
  padId: 0, // the vocab module reserves id 0 for padding
});

export class TokenTagger extends Module {
  readonly config: Readonly<TokenTaggerConfig>;
  backbone: TextEncoder;
  drop: Dropout;
  head: Linear;

  constructor(config: Partial<TokenTaggerConfig> & Pick<TokenTaggerConfig, 'vocabSize' | 'numTags'>) {
    super();
    const c = resolveConfig('TokenTagger', SCHEMA, TOKEN_TAGGER_DEFAULTS, config);
    requirePositiveInts('TokenTagger', c, ['vocabSize', 'numTags', 'dModel', 'numHeads', 'numLayers', 'dimFeedforward', 'maxLen']);
    this.config = Object.freeze({ ...c });
    this.backbone = new TextEncoder(c);
    this.drop = new Dropout(c.dropout);
    this.head = new Linear(c.dModel, c.numTags);
  }

  toConfig(): TokenTaggerConfig {
    return { ...this.config };
  }

  static fromConfig(config: Record<string, unknown>): TokenTagger {
    return new TokenTagger(config as unknown as TokenTaggerConfig);
  }

  /** ids (B, T) int32 → logits (B, T, K). Padding positions get logits too; mask them in the loss (ignoreIndex). */
  override forward(ids: Tensor, paddingMask: Tensor | null = null): Tensor {
    return this.head.call(this.drop.call(this.backbone.call(ids, paddingMask))); // (B, T, K)
  }
}
