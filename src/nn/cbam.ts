/**
 * CBAM, the Convolutional Block Attention Module (Woo et al. 2018): channel attention, then
 * spatial attention, each a sigmoid gate multiplied into the feature map.
 *
 *   channel:  Mc = σ(mlp(avgpool(x)) + mlp(maxpool(x)))          (B, C, 1, 1)    x' = x · Mc
 *   spatial:  Ms = σ(conv7×7([mean_c(x'), max_c(x')]))           (B, 1, H, W)    y  = x' · Ms
 *
 * mlp = fc2(relu(fc1(·))) is one 1×1-conv bottleneck C → C/r → C shared by both pooled
 * descriptors. The spatial conv has no bias (the paper's f^{7×7}; the authors' code follows it
 * with BatchNorm, left out here). The two channel maps are stacked [average, maximum], in the
 * paper's order (the authors' code stacks [max, mean]; a checkpoint from it needs the two input
 * channels of spatialAttention.conv.weight swapped).
 *
 * Letters: B batch, C channels, R = C / reduction, H W size.
 */
import { Tensor } from '../tensor/tensor.js';
import { add, mul, relu, sigmoid } from '../ops/elementwise.js';
import { mean, max } from '../ops/reduce.js';
import { cat } from '../ops/shape.js';
import { channelScale } from '../ops/channel-scale.js';
import { Module } from './module.js';
import { Conv2d } from './conv.js';
import { checkPositiveInt } from './linear.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';

export interface CBAMOptions {
  /** Channel bottleneck ratio r: the MLP's hidden width is max(1, ⌊C / r⌋) (default 16, the paper's). */
  reduction?: number;
  /** Side of the spatial attention's square conv, odd (default 7, the paper's). */
  spatialKernelSize?: number;
}

/** Channel attention: a gate per channel from the average- and max-pooled descriptors. */
export class ChannelAttention extends Module {
  fc1: Conv2d;
  fc2: Conv2d;

  constructor(readonly channels: number, hidden: number) {
    super();
    this.fc1 = new Conv2d(channels, hidden, 1);
    this.fc2 = new Conv2d(hidden, channels, 1);
  }

  /** x (B, C, H, W) → Mc (B, C, 1, 1). */
  override forward(x: Tensor): Tensor {
    const mlp = (d: Tensor): Tensor => this.fc2.forward(relu(this.fc1.forward(d))); // (B, C, 1, 1)
    const avg = mean(x, [2, 3], { keepDim: true }); // (B, C, 1, 1)
    const mx = max(x, [2, 3], { keepDim: true }); // (B, C, 1, 1)
    return sigmoid(add(mlp(avg), mlp(mx))); // (B, C, 1, 1)
  }
}

/** Spatial attention: a gate per position from the channel-wise mean and max maps. */
export class SpatialAttention extends Module {
  conv: Conv2d;

  constructor(kernelSize: number) {
    super();
    this.conv = new Conv2d(2, 1, kernelSize, { padding: (kernelSize - 1) / 2, bias: false });
  }

  /** x (B, C, H, W) → Ms (B, 1, H, W). */
  override forward(x: Tensor): Tensor {
    const maps = cat([mean(x, 1, { keepDim: true }), max(x, 1, { keepDim: true })], 1); // (B, 2, H, W)
    return sigmoid(this.conv.forward(maps)); // (B, 1, H, W)
  }
}

export class CBAM extends Module {
  channelAttention: ChannelAttention;
  spatialAttention: SpatialAttention;

  /** Args: channels C; options reduction (16), spatialKernelSize (7). */
  constructor(readonly channels: number, options: CBAMOptions = {}) {
    super();
    checkPositiveInt('CBAM', 'channels', channels);
    const r = options.reduction ?? 16, k = options.spatialKernelSize ?? 7;
    checkPositiveInt('CBAM', 'reduction', r);
    if (!Number.isInteger(k) || k <= 0 || k % 2 === 0) throw new ConfigError(`CBAM: spatialKernelSize=${k}; expected a positive odd integer (7 in the paper) so the map keeps its size.`);
    this.channelAttention = new ChannelAttention(channels, Math.max(1, Math.floor(channels / r)));
    this.spatialAttention = new SpatialAttention(k);
  }

  /** x (B, C, H, W) → (B, C, H, W). */
  override forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.channels) {
      throw new ShapeError(`CBAM: input has shape ${fmtShape(x.shape)}, expected (B, ${this.channels}, H, W) with C = channels.`);
    }
    const xc = channelScale(x, this.channelAttention.forward(x)); // (B, C, H, W) = x · channel gate
    return mul(xc, this.spatialAttention.forward(xc)); // (B, C, H, W)
  }
}
