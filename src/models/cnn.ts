/**
 * CnnClassifier: a small VGG-style convolutional network with an attention module in every
 * stage, for image classification (Fashion-MNIST by default). The attention is the config's
 * choice, so the same network with and without it is one flag apart:
 *
 *   'none'   plain CNN (the baseline)
 *   'se'     squeeze-and-excitation channel gates (Hu et al. 2018)
 *   'cbam'   channel then spatial gates (Woo et al. 2018)
 *   'mhsa'   a Transformer encoder layer over the last stage's H·W positions, with learned
 *            positions (a hybrid CNN + self-attention, as in BoTNet / ViT-hybrid)
 *
 *   stage s (channels Cs = width·2^s):  [conv3×3 → BatchNorm → ReLU] × 2 → attention → maxpool 2×2
 *   head:  global average pool → dropout → linear
 *
 *   const cnn = new CnnClassifier({ numClasses: 10, attention: 'cbam' });
 *   cnn.forward(images)                       // (B, 1, 28, 28) → (B, 10)
 *
 * Letters: B batch, C channels, I imageSize, S stages, Cs stage channels, h = I / 2^S, K classes.
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { add } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { reshape, transpose } from '../ops/shape.js';
import { adaptiveAvgPool2d } from '../ops/pool.js';
import { Module, ModuleList } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { Conv2d } from '../nn/conv.js';
import { BatchNorm2d } from '../nn/batch-norm.js';
import { MaxPool2d } from '../nn/pool.js';
import { Linear } from '../nn/linear.js';
import { Dropout } from '../nn/dropout.js';
import { SqueezeExcitation } from '../nn/squeeze-excitation.js';
import { CBAM } from '../nn/cbam.js';
import { TransformerEncoderLayer } from '../nn/transformer.js';
import { truncNormal } from '../nn/init.js';
import { ConfiguredModel, defineModelConfig, type ModelInit } from './config.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { runFusedCnn } from './fused-cnn.js';

export const CNN_ATTENTION = ['none', 'se', 'cbam', 'mhsa'] as const;
export type CnnAttention = (typeof CNN_ATTENTION)[number];

export interface CnnClassifierConfig {
  numClasses: number;
  /** Side of the square input image, in pixels. */
  imageSize: number;
  inChannels: number;
  /** Channels of the first stage; each stage doubles them. */
  width: number;
  /** Number of stages; each halves the image side, so imageSize must be divisible by 2^stages. */
  stages: number;
  attention: CnnAttention;
  /** SE / CBAM bottleneck ratio (hidden = C / reduction). */
  reduction: number;
  /** Heads of the 'mhsa' layer. */
  numHeads: number;
  /** Dropout before the classifier (and inside the 'mhsa' layer). */
  dropout: number;
}

export const CNN_DEFAULTS: Readonly<Omit<CnnClassifierConfig, 'numClasses'>> = Object.freeze({
  imageSize: 28, // Fashion-MNIST
  inChannels: 1,
  width: 32, // 32 → 64 channels: ≈ 40 MFLOP per 28×28 image forward
  stages: 2, // 28 → 14 → 7
  attention: 'cbam',
  reduction: 8, // SE/CBAM hidden width C/8: 4 and 8 channels at width 32
  numHeads: 4,
  dropout: 0.2,
});

export const CNN_CONFIG = defineModelConfig<CnnClassifierConfig, 'numClasses'>({
  model: 'CnnClassifier',
  schema: {
    numClasses: 'number', imageSize: 'number', inChannels: 'number', width: 'number', stages: 'number',
    attention: CNN_ATTENTION, reduction: 'number', numHeads: 'number', dropout: 'number',
  },
  defaults: CNN_DEFAULTS,
  positiveInts: ['numClasses', 'imageSize', 'inChannels', 'width', 'stages', 'reduction', 'numHeads'],
  check: (c) => {
    if (c.imageSize % 2 ** c.stages !== 0) {
      throw new ConfigError(`CnnClassifier: imageSize=${c.imageSize} is not divisible by 2^stages = ${2 ** c.stages}; each stage halves the image. Fix: use fewer stages.`);
    }
    const last = c.width * 2 ** (c.stages - 1);
    if (c.attention === 'mhsa' && last % c.numHeads !== 0) {
      throw new ConfigError(`CnnClassifier: the last stage has ${last} channels, not divisible by numHeads=${c.numHeads}. Fix: pick numHeads dividing ${last}.`);
    }
  },
});

/** conv3×3 → BatchNorm → ReLU, twice; then the stage's attention; then 2×2 max pooling. */
export class ConvStage extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  attention: SqueezeExcitation | CBAM | null;
  pool: MaxPool2d;

  constructor(inChannels: number, channels: number, attention: CnnAttention, reduction: number) {
    super();
    // no conv bias: the BatchNorm after it has one
    this.conv1 = new Conv2d(inChannels, channels, 3, { padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(channels, { relu: true }); // BatchNorm → ReLU in one pass
    this.conv2 = new Conv2d(channels, channels, 3, { padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(channels, { relu: true });
    const hidden = Math.max(1, Math.floor(channels / reduction));
    this.attention = attention === 'se' ? new SqueezeExcitation(channels, hidden)
      : attention === 'cbam' ? new CBAM(channels, { reduction })
        : null;
    this.pool = new MaxPool2d(2);
  }

  /** x (B, Cin, H, W) → (B, C, H/2, W/2). */
  override forward(x: Tensor): Tensor {
    let h = this.bn1.call(this.conv1.call(x)); // relu(bn1(conv1(x)))
    h = this.bn2.call(this.conv2.call(h)); // relu(bn2(conv2(h)))
    if (this.attention) h = this.attention.call(h);
    return this.pool.call(h);
  }
}

export class CnnClassifier extends ConfiguredModel<CnnClassifierConfig> {
  stages: ModuleList<ConvStage>;
  /** 'mhsa' only: learned positions (1, h·h, C) and the self-attention layer over them. */
  posEmbed: Parameter | null;
  selfAttention: TransformerEncoderLayer | null;
  drop: Dropout;
  head: Linear;

  /** Args: config: numClasses is required; the rest default to CNN_DEFAULTS. */
  constructor(config: ModelInit<CnnClassifierConfig, 'numClasses'>) {
    super(CNN_CONFIG, config);
    const c = this.config;
    const widths = Array.from({ length: c.stages }, (_, s) => c.width * 2 ** s);
    const stageAttention: CnnAttention = c.attention === 'mhsa' ? 'none' : c.attention;
    this.stages = new ModuleList(widths.map((w, s) => new ConvStage(s === 0 ? c.inChannels : widths[s - 1], w, stageAttention, c.reduction)));
    const C = widths[widths.length - 1], side = c.imageSize / 2 ** c.stages;
    if (c.attention === 'mhsa') {
      this.posEmbed = new Parameter(truncNormal(empty([1, side * side, C]), 0, 0.02)); // (1, h·h, C)
      this.selfAttention = new TransformerEncoderLayer(C, c.numHeads, { dimFeedforward: 2 * C, dropout: c.dropout, normFirst: true, activation: 'gelu' });
    } else {
      this.posEmbed = null;
      this.selfAttention = null;
    }
    this.drop = new Dropout(c.dropout);
    this.head = new Linear(C, c.numClasses);
  }

  /** Rebuilds a model from a saved config (config.json's `model`). */
  static fromConfig(saved: Record<string, unknown>): CnnClassifier {
    return new CnnClassifier(CNN_CONFIG.load(saved));
  }

  /** images (B, C, I, I) → the last stage's feature map (B, Cs, h, h). */
  features(images: Tensor): Tensor {
    const c = this.config;
    if (images.ndim !== 4 || images.shape[1] !== c.inChannels || images.shape[2] !== c.imageSize || images.shape[3] !== c.imageSize) {
      throw new ShapeError(`CnnClassifier: images have shape ${fmtShape(images.shape)}, expected (B, ${c.inChannels}, ${c.imageSize}, ${c.imageSize}).`);
    }
    let x = images;
    for (const stage of this.stages) x = stage.call(x);
    return x;
  }

  /** images (B, C, I, I) → logits (B, K). */
  override forward(images: Tensor): Tensor {
    // inference (eval, no grad, CBAM): a few fused kernels on reused buffers (src/models/fused-cnn.ts)
    const fused = runFusedCnn(this, images, { model: CnnClassifier, stage: ConvStage });
    if (fused) return fused;
    const x = this.features(images); // (B, Cs, h, h)
    const [B, C, h, w] = x.shape;
    let pooled: Tensor;
    if (this.selfAttention && this.posEmbed) {
      const tokens = add(transpose(reshape(x, [B, C, h * w]), 1, 2), this.posEmbed); // (B, h·h, C)
      pooled = mean(this.selfAttention.call(tokens), 1); // (B, C)
    } else {
      pooled = reshape(adaptiveAvgPool2d(x, 1), [B, C]); // (B, C): global average pooling, one kernel each way
    }
    return this.head.call(this.drop.call(pooled)); // (B, K)
  }
}
