/**
 * ViT: the Vision Transformer (Dosovitskiy et al. 2021). The image is cut into patches by a
 * Conv2d with kernel = stride = patchSize, a learned class token is put in front, learned
 * positions are added, a pre-norm encoder runs, and the class token's output is classified.
 * Defaults fit the 8×8 UCI digits (patch 2 → 16 patches).
 *
 *   const vit = new ViT({ numClasses: 10 });
 *   const logits = vit.forward(images);          // images (B, 1, 8, 8) → (B, 10)
 *
 * Letters: B batch, C channels, I imageSize, p patchSize, N = (I/p)² patches, D dModel, K classes.
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { narrow, reshape, transpose, expand, cat } from '../ops/shape.js';
import { add } from '../ops/elementwise.js';
import { Module } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { Conv2d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import { LayerNorm } from '../nn/norm.js';
import { Dropout } from '../nn/dropout.js';
import { truncNormal } from '../nn/init.js';
import { TransformerEncoder, TransformerEncoderLayer } from '../nn/transformer.js';
import { runEncoder } from './fused-encoder.js';
import { ConfiguredModel, defineModelConfig, type ConfigSchema, type ModelInit } from './config.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';

/** The image keys, shared with MultimodalFusion. */
export interface PatchConfig {
  /** Side of the square input image, in pixels. */
  imageSize: number;
  /** Side of a square patch; it must divide imageSize. */
  patchSize: number;
  inChannels: number;
}

export const PATCH_SCHEMA: ConfigSchema<PatchConfig> = Object.freeze({ imageSize: 'number', patchSize: 'number', inChannels: 'number' });

/** Throws a ConfigError unless the patches tile the image. */
export function checkPatchGrid(model: string, c: PatchConfig): void {
  if (c.imageSize % c.patchSize !== 0) {
    throw new ConfigError(`${model}: imageSize=${c.imageSize} is not divisible by patchSize=${c.patchSize}. Fix: for 8×8 digits use patchSize 2 or 4.`);
  }
}

export interface ViTConfig extends PatchConfig {
  numClasses: number;
  dModel: number;
  numHeads: number;
  numLayers: number;
  dimFeedforward: number;
  dropout: number;
  activation: 'gelu' | 'gelu_tanh' | 'relu';
  /** eps of the LayerNorms inside the layers. */
  layerNormEps: number;
  /** eps of the final LayerNorm (HF's ViT uses layerNormEps for both). */
  finalNormEps: number;
}

export const VIT_DEFAULTS: Readonly<Omit<ViTConfig, 'numClasses'>> = Object.freeze({
  imageSize: 8, // UCI optical digits are 8×8
  patchSize: 2, // 16 patches of 2×2: enough tokens for attention to matter
  inChannels: 1, // grey levels
  dModel: 64, // 1,797 images: a small model avoids overfitting
  numHeads: 4, // head dim 16
  numLayers: 2,
  dimFeedforward: 128, // 2·dModel, small data
  dropout: 0.1,
  activation: 'gelu', // exact GELU, as ViT
  layerNormEps: 1e-5, // PyTorch's default (HF's ViT checkpoints: 1e-12)
  finalNormEps: 1e-6, // timm's ViT
});

export const VIT_CONFIG = defineModelConfig<ViTConfig, 'numClasses'>({
  model: 'ViT',
  schema: {
    ...PATCH_SCHEMA, numClasses: 'number', dModel: 'number', numHeads: 'number', numLayers: 'number', dimFeedforward: 'number', dropout: 'number',
    activation: ['gelu', 'gelu_tanh', 'relu'], layerNormEps: 'number', finalNormEps: 'number',
  },
  defaults: VIT_DEFAULTS,
  positiveInts: ['numClasses', 'imageSize', 'patchSize', 'inChannels', 'dModel', 'numHeads', 'numLayers', 'dimFeedforward'],
  check: (c) => checkPatchGrid('ViT', c),
});

/** Patch embedding: (B, C, I, I) → (B, N, D) by a strided convolution. */
export class PatchEmbedding extends Module {
  proj: Conv2d;

  constructor(inChannels: number, dModel: number, readonly patchSize: number) {
    super();
    this.proj = new Conv2d(inChannels, dModel, patchSize, { stride: patchSize });
  }

  override forward(x: Tensor): Tensor {
    const y = this.proj.call(x); // (B, D, I/p, I/p)
    const [B, D] = y.shape;
    return transpose(reshape(y, [B, D, -1]), 1, 2); // (B, N, D)
  }
}

export class ViT extends ConfiguredModel<ViTConfig> {
  patchEmbed: PatchEmbedding;
  clsToken: Parameter;
  posEmbed: Parameter;
  drop: Dropout;
  encoder: TransformerEncoder;
  head: Linear;

  /** Args: config: numClasses is required; the rest default to VIT_DEFAULTS. */
  constructor(config: ModelInit<ViTConfig, 'numClasses'>) {
    super(VIT_CONFIG, config);
    const c = this.config;
    const N = (c.imageSize / c.patchSize) ** 2;
    this.patchEmbed = new PatchEmbedding(c.inChannels, c.dModel, c.patchSize);
    this.clsToken = new Parameter(truncNormal(empty([1, 1, c.dModel]), 0, 0.02)); // (1, 1, D)
    this.posEmbed = new Parameter(truncNormal(empty([1, N + 1, c.dModel]), 0, 0.02)); // (1, N + 1, D)
    this.drop = new Dropout(c.dropout);
    this.encoder = new TransformerEncoder(c.numLayers, () => new TransformerEncoderLayer(c.dModel, c.numHeads, {
      dimFeedforward: c.dimFeedforward, dropout: c.dropout, normFirst: true, activation: c.activation, layerNormEps: c.layerNormEps,
    }), new LayerNorm(c.dModel, { eps: c.finalNormEps }));
    this.head = new Linear(c.dModel, c.numClasses);
  }

  /** Rebuilds a model from a saved config (config.json's `model`). */
  static fromConfig(saved: Record<string, unknown>): ViT {
    return new ViT(VIT_CONFIG.load(saved));
  }

  /** images (B, C, I, I) float → logits (B, K). */
  override forward(images: Tensor): Tensor {
    const c = this.config;
    if (images.ndim !== 4 || images.shape[1] !== c.inChannels || images.shape[2] !== c.imageSize || images.shape[3] !== c.imageSize) {
      throw new ShapeError(`ViT: images have shape ${fmtShape(images.shape)}, expected (B, ${c.inChannels}, ${c.imageSize}, ${c.imageSize}). Fix: reshape flat digits with images.reshape([B, 1, 8, 8]).`);
    }
    const B = images.shape[0];
    const patches = this.patchEmbed.call(images); // (B, N, D)
    let x = cat([expand(this.clsToken, [B, 1, c.dModel]), patches], 1); // (B, N + 1, D)
    x = this.drop.call(add(x, this.posEmbed)); // (B, N + 1, D)
    const h = runEncoder(this.encoder, x); // (B, N + 1, D); fused in inference (fused-encoder.ts)
    return this.head.call(reshape(narrow(h, 1, 0, 1), [B, c.dModel])); // (B, K)
  }
}
