/**
 * MultimodalFusion: classifies a (text, image) pair. Text goes through a TransformerTextEncoder
 * (numLayers deep), the image through ViT-style patch tokens and one encoder layer; then either
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
import { Parameter } from '../nn/parameter.js';
import { Linear } from '../nn/linear.js';
import { LayerNorm } from '../nn/norm.js';
import { truncNormal } from '../nn/init.js';
import { TransformerDecoderLayer, TransformerEncoderLayer } from '../nn/transformer.js';
import { TransformerTextEncoder, TEXT_ENCODER_SCHEMA, TEXT_ENCODER_SIZES, maskedMean, type TransformerTextEncoderConfig } from './text-encoder.js';
import { PatchEmbedding, PATCH_SCHEMA, checkPatchGrid, type PatchConfig } from './vit.js';
import { ConfiguredModel, defineModelConfig, type ModelInit } from './config.js';
import { ShapeError, fmtShape } from '../errors.js';

/** The text keys (numLayers: the text tower's depth; the image tower is always one layer) and the image keys. */
export interface MultimodalConfig extends TransformerTextEncoderConfig, PatchConfig {
  numClasses: number;
  fusion: 'cross' | 'concat';
}

export const MULTIMODAL_DEFAULTS: Readonly<Omit<MultimodalConfig, 'vocabSize' | 'numClasses'>> = Object.freeze({
  imageSize: 8, // the bundled digits
  patchSize: 2, // 16 patches
  inChannels: 1,
  dModel: 64, // both towers share the width so fusion needs no projection
  numHeads: 4,
  numLayers: 1, // the text tower's depth; the image tower is one encoder layer, and fusion one more
  dimFeedforward: 128,
  dropout: 0.1,
  maxLen: 32, // short captions or questions
  padId: 0,
  fusion: 'cross', // text queries attend to patches: cheaper than a joint sequence
});

export const MULTIMODAL_CONFIG = defineModelConfig<MultimodalConfig, 'vocabSize' | 'numClasses'>({
  model: 'MultimodalFusion',
  schema: { ...TEXT_ENCODER_SCHEMA, ...PATCH_SCHEMA, numClasses: 'number', fusion: ['cross', 'concat'] },
  defaults: MULTIMODAL_DEFAULTS,
  positiveInts: [...TEXT_ENCODER_SIZES, 'imageSize', 'patchSize', 'inChannels', 'numClasses'],
  check: (c) => checkPatchGrid('MultimodalFusion', c),
});

export class MultimodalFusion extends ConfiguredModel<MultimodalConfig> {
  text: TransformerTextEncoder;
  patchEmbed: PatchEmbedding;
  imagePos: Parameter;
  imageEncoder: TransformerEncoderLayer;
  fusion: TransformerDecoderLayer | TransformerEncoderLayer;
  norm: LayerNorm;
  head: Linear;

  /** Args: config: vocabSize and numClasses are required; the rest default to MULTIMODAL_DEFAULTS. */
  constructor(config: ModelInit<MultimodalConfig, 'vocabSize' | 'numClasses'>) {
    super(MULTIMODAL_CONFIG, config);
    const c = this.config;
    const layer = { dimFeedforward: c.dimFeedforward, dropout: c.dropout, normFirst: true, activation: 'gelu' as const };
    this.text = new TransformerTextEncoder(c);
    this.patchEmbed = new PatchEmbedding(c.inChannels, c.dModel, c.patchSize);
    this.imagePos = new Parameter(truncNormal(empty([1, (c.imageSize / c.patchSize) ** 2, c.dModel]), 0, 0.02)); // (1, N, D)
    this.imageEncoder = new TransformerEncoderLayer(c.dModel, c.numHeads, layer);
    this.fusion = c.fusion === 'cross' ? new TransformerDecoderLayer(c.dModel, c.numHeads, layer) : new TransformerEncoderLayer(c.dModel, c.numHeads, layer);
    this.norm = new LayerNorm(c.dModel);
    this.head = new Linear(c.dModel, c.numClasses);
  }

  /** Rebuilds a model from a saved config (config.json's `model`). */
  static fromConfig(saved: Record<string, unknown>): MultimodalFusion {
    return new MultimodalFusion(MULTIMODAL_CONFIG.load(saved));
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
