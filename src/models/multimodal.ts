/**
 * MultimodalFusion: classifies a (text, image) pair. Text goes through a TextEncoder, the
 * image through ViT-style patch tokens; then either
 *   'cross':  text tokens attend to image patches (a TransformerDecoderLayer without the
 *             causal mask, as in ViLBERT / Flamingo's cross-attention), or
 *   'concat': one joint encoder layer runs over [text; image] tokens (single-stream, VisualBERT),
 * and the mean of the fused text tokens feeds a linear head.
 *
 * Letters: B batch, T text tokens, N image patches, D dModel, K numClasses.
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { add } from '../ops/elementwise.js';
import { cat, narrow } from '../ops/shape.js';
import { zeros } from '../tensor/creation.js';
import { Module } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { Linear } from '../nn/linear.js';
import { LayerNorm } from '../nn/norm.js';
import { truncNormal } from '../nn/init.js';
import { TransformerDecoderLayer, TransformerEncoderLayer } from '../nn/transformer.js';
import { TextEncoder, maskedMean } from './text-encoder.js';
import { PatchEmbedding } from './vit.js';
import { resolveConfig, requirePositiveInts, type ConfigSchema } from './config.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';

export interface MultimodalConfig {
  vocabSize: number;
  numClasses: number;
  imageSize: number;
  patchSize: number;
  inChannels: number;
  dModel: number;
  numHeads: number;
  numLayers: number;
  dimFeedforward: number;
  dropout: number;
  maxLen: number;
  padId: number;
  fusion: 'cross' | 'concat';
}

const SCHEMA: ConfigSchema<MultimodalConfig> = {
  vocabSize: 'number', numClasses: 'number', imageSize: 'number', patchSize: 'number', inChannels: 'number',
  dModel: 'number', numHeads: 'number', numLayers: 'number', dimFeedforward: 'number', dropout: 'number',
  maxLen: 'number', padId: 'number', fusion: ['cross', 'concat'],
};

export const MULTIMODAL_DEFAULTS: Readonly<Omit<MultimodalConfig, 'vocabSize' | 'numClasses'>> = Object.freeze({
  imageSize: 8, // the bundled digits
  patchSize: 2, // 16 patches
  inChannels: 1,
  dModel: 64, // both towers share the width so fusion needs no projection
  numHeads: 4,
  numLayers: 1, // per tower; fusion adds one more layer
  dimFeedforward: 128,
  dropout: 0.1,
  maxLen: 32, // short captions or questions
  padId: 0,
  fusion: 'cross', // text queries attend to patches: cheaper than a joint sequence
});

export class MultimodalFusion extends Module {
  readonly config: Readonly<MultimodalConfig>;
  text: TextEncoder;
  patchEmbed: PatchEmbedding;
  imagePos: Parameter;
  imageEncoder: TransformerEncoderLayer;
  fusion: TransformerDecoderLayer | TransformerEncoderLayer;
  norm: LayerNorm;
  head: Linear;

  constructor(config: Partial<MultimodalConfig> & Pick<MultimodalConfig, 'vocabSize' | 'numClasses'>) {
    super();
    const c = resolveConfig('MultimodalFusion', SCHEMA, MULTIMODAL_DEFAULTS, config);
    requirePositiveInts('MultimodalFusion', c, ['vocabSize', 'numClasses', 'imageSize', 'patchSize', 'inChannels', 'dModel', 'numHeads', 'numLayers', 'maxLen']);
    if (c.imageSize % c.patchSize !== 0) throw new ConfigError(`MultimodalFusion: imageSize=${c.imageSize} is not divisible by patchSize=${c.patchSize}.`);
    this.config = Object.freeze({ ...c });
    const layer = { dimFeedforward: c.dimFeedforward, dropout: c.dropout, normFirst: true, activation: 'gelu' as const };
    this.text = new TextEncoder(c);
    this.patchEmbed = new PatchEmbedding(c.inChannels, c.dModel, c.patchSize);
    this.imagePos = new Parameter(truncNormal(empty([1, (c.imageSize / c.patchSize) ** 2, c.dModel]), 0, 0.02)); // (1, N, D)
    this.imageEncoder = new TransformerEncoderLayer(c.dModel, c.numHeads, layer);
    this.fusion = c.fusion === 'cross' ? new TransformerDecoderLayer(c.dModel, c.numHeads, layer) : new TransformerEncoderLayer(c.dModel, c.numHeads, layer);
    this.norm = new LayerNorm(c.dModel);
    this.head = new Linear(c.dModel, c.numClasses);
  }

  toConfig(): MultimodalConfig {
    return { ...this.config };
  }

  static fromConfig(config: Record<string, unknown>): MultimodalFusion {
    return new MultimodalFusion(config as unknown as MultimodalConfig);
  }

  /** ids (B, T) int32, images (B, C, I, I) → logits (B, K). */
  override forward(ids: Tensor, images: Tensor): Tensor {
    const c = this.config;
    if (images.ndim !== 4 || images.shape[0] !== ids.shape[0] || images.shape[1] !== c.inChannels || images.shape[2] !== c.imageSize) {
      throw new ShapeError(`MultimodalFusion: images have shape ${fmtShape(images.shape)}, expected (${ids.shape[0]}, ${c.inChannels}, ${c.imageSize}, ${c.imageSize}) for ${ids.shape[0]} texts.`);
    }
    const pad = this.text.paddingMask(ids); // (B, T)
    const t = this.text.call(ids, pad); // (B, T, D)
    const img = this.imageEncoder.call(add(this.patchEmbed.call(images), this.imagePos)); // (B, N, D)
    let fused: Tensor;
    if (this.fusion instanceof TransformerDecoderLayer) {
      fused = this.fusion.call(t, img, { tgtKeyPaddingMask: pad }); // (B, T, D)
    } else {
      const N = img.shape[1], B = ids.shape[0];
      const joint = this.fusion.call(cat([t, img], 1), { keyPaddingMask: cat([pad, zeros([B, N], { dtype: 'bool' })], 1) }); // (B, T + N, D)
      fused = narrow(joint, 1, 0, t.shape[1]); // (B, T, D)
    }
    return this.head.call(maskedMean(this.norm.call(fused), pad)); // (B, K)
  }
}
