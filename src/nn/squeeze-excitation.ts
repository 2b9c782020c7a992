/**
 * SqueezeExcitation (Hu et al. 2018, "Squeeze-and-Excitation Networks"), as
 * torchvision.ops.SqueezeExcitation: each channel of a feature map is rescaled by a gate
 * computed from the globally average-pooled map.
 *
 *   s = σ(fc2(relu(fc1(avgpool(x)))))        (B, C, 1, 1)
 *   y = x · s                                (B, C, H, W)
 *
 * fc1 and fc2 are 1×1 convolutions, so the state dict (fc1.weight (S, C, 1, 1), fc1.bias,
 * fc2.weight (C, S, 1, 1), fc2.bias) is torchvision's: a key copy.
 *
 * Letters: B batch, C inputChannels, S squeezeChannels (C / reduction, 16 in the paper), H W size.
 */
import { Tensor } from '../tensor/tensor.js';
import { relu, sigmoid } from '../ops/elementwise.js';
import { adaptiveAvgPool2d } from '../ops/pool.js';
import { channelScale } from '../ops/channel-scale.js';
import { Module } from './module.js';
import { Conv2d } from './conv.js';
import { ShapeError, fmtShape } from '../errors.js';

export class SqueezeExcitation extends Module {
  fc1: Conv2d;
  fc2: Conv2d;

  /** Args: inputChannels C, squeezeChannels S (the bottleneck, e.g. C / 16). */
  constructor(readonly inputChannels: number, readonly squeezeChannels: number) {
    super();
    this.fc1 = new Conv2d(inputChannels, squeezeChannels, 1);
    this.fc2 = new Conv2d(squeezeChannels, inputChannels, 1);
  }

  /** The per-channel gate for x (B, C, H, W) → (B, C, 1, 1), in (0, 1). */
  scale(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inputChannels) {
      throw new ShapeError(`SqueezeExcitation: input has shape ${fmtShape(x.shape)}, expected (B, ${this.inputChannels}, H, W) with C = inputChannels.`);
    }
    const pooled = adaptiveAvgPool2d(x, 1); // (B, C, 1, 1), the mean of each plane
    return sigmoid(this.fc2.forward(relu(this.fc1.forward(pooled)))); // (B, C, 1, 1)
  }

  /** x (B, C, H, W) → (B, C, H, W). */
  override forward(x: Tensor): Tensor {
    return channelScale(x, this.scale(x)); // (B, C, H, W) = x · gate
  }
}
