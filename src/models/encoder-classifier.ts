/**
 * EncoderClassifier: a Transformer encoder over tokens, pooled to one vector (a learned
 * CLS vector in front, as BERT, or the mean of the non-padding positions), then a linear
 * head. Used by the spam task.
 *
 *   const clf = new EncoderClassifier({ vocabSize: 5000, numClasses: 2 });
 *   const logits = clf.forward(ids);            // (B, numClasses)
 *
 * Letters: B batch, T tokens, D dModel, K numClasses.
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { narrow, reshape, expand } from '../ops/shape.js';
import { Parameter } from '../nn/parameter.js';
import { Linear } from '../nn/linear.js';
import { Dropout } from '../nn/dropout.js';
import { normal } from '../nn/init.js';
import { TransformerTextEncoder, TEXT_ENCODER_SCHEMA, TEXT_ENCODER_SIZES, maskedMean, type TransformerTextEncoderConfig } from './text-encoder.js';
import { ConfiguredModel, defineModelConfig, type ModelInit } from './config.js';

export interface EncoderClassifierConfig extends TransformerTextEncoderConfig {
  numClasses: number;
  pooling: 'cls' | 'mean';
}

export const ENCODER_CLASSIFIER_DEFAULTS: Readonly<Omit<EncoderClassifierConfig, 'vocabSize' | 'numClasses'>> = Object.freeze({
  dModel: 128, // small: classification needs less width than generation
  numHeads: 4, // head dim 32
  numLayers: 2, // bag-of-words already does well on spam; depth adds little
  dimFeedforward: 512, // 4·dModel
  dropout: 0.1,
  maxLen: 256, // mails are truncated to their first 255 tokens (+ CLS)
  padId: 0, // the vocab module reserves id 0 for padding
  pooling: 'cls', // BERT's choice; 'mean' is often as good on short texts
});

export const ENCODER_CLASSIFIER_CONFIG = defineModelConfig<EncoderClassifierConfig, 'vocabSize' | 'numClasses'>({
  model: 'EncoderClassifier',
  schema: { ...TEXT_ENCODER_SCHEMA, numClasses: 'number', pooling: ['cls', 'mean'] },
  defaults: ENCODER_CLASSIFIER_DEFAULTS,
  positiveInts: [...TEXT_ENCODER_SIZES, 'numClasses'],
});

export class EncoderClassifier extends ConfiguredModel<EncoderClassifierConfig> {
  clsToken: Parameter | null;
  backbone: TransformerTextEncoder;
  drop: Dropout;
  head: Linear;

  /** Args: config: vocabSize and numClasses are required; the rest default to ENCODER_CLASSIFIER_DEFAULTS. */
  constructor(config: ModelInit<EncoderClassifierConfig, 'vocabSize' | 'numClasses'>) {
    super(ENCODER_CLASSIFIER_CONFIG, config);
    const c = this.config;
    this.clsToken = c.pooling === 'cls' ? new Parameter(normal(empty([1, 1, c.dModel]), 0, 0.02)) : null; // (1, 1, D)
    this.backbone = new TransformerTextEncoder(c);
    this.drop = new Dropout(c.dropout);
    this.head = new Linear(c.dModel, c.numClasses);
  }

  /** Rebuilds a model from a saved config (config.json's `model`). */
  static fromConfig(saved: Record<string, unknown>): EncoderClassifier {
    return new EncoderClassifier(ENCODER_CLASSIFIER_CONFIG.load(saved));
  }

  /** ids (B, T) int32, paddingMask (B, T) bool true = pad (default ids == padId) → logits (B, K). */
  override forward(ids: Tensor, paddingMask: Tensor | null = null): Tensor {
    const [B] = ids.shape, D = this.config.dModel;
    const pad = this.backbone.paddingMask(ids, paddingMask); // (B, T)
    let pooled: Tensor;
    if (this.clsToken) {
      const h = this.backbone.call(ids, pad, expand(this.clsToken, [B, 1, D])); // (B, 1 + T, D)
      pooled = reshape(narrow(h, 1, 0, 1), [B, D]); // (B, D)
    } else {
      pooled = maskedMean(this.backbone.call(ids, pad), pad); // (B, D)
    }
    return this.head.call(this.drop.call(pooled)); // (B, K)
  }
}
