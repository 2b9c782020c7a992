/**
 * Pooling layers, as torch.nn.MaxPool2d / AvgPool2d / AdaptiveMaxPool2d / AdaptiveAvgPool2d.
 * They hold no parameters; the ops and the window rules are in src/ops/pool.ts.
 *
 * Letters: B batch, C channels, H W input size, Ho Wo output size.
 */
import { Tensor } from '../tensor/tensor.js';
import { maxPool2d, avgPool2d, adaptiveMaxPool2d, adaptiveAvgPool2d } from '../ops/pool.js';
import type { Size2, Pool2dOptions, AvgPool2dOptions } from '../ops/pool.js';
import { Module } from './module.js';

/** Max over kernelSize windows; stride defaults to kernelSize. Options: stride, padding, ceilMode. */
export class MaxPool2d extends Module {
  readonly options: Pool2dOptions;

  constructor(kernelSize: Size2, options: Omit<Pool2dOptions, 'kernelSize'> = {}) {
    super();
    this.options = { ...options, kernelSize };
  }

  /** x (B, C, H, W) → (B, C, Ho, Wo). */
  override forward(x: Tensor): Tensor {
    return maxPool2d(x, this.options); // (B, C, Ho, Wo)
  }
}

/** Mean over kernelSize windows; stride defaults to kernelSize. Options: stride, padding, ceilMode, countIncludePad. */
export class AvgPool2d extends Module {
  readonly options: AvgPool2dOptions;

  constructor(kernelSize: Size2, options: Omit<AvgPool2dOptions, 'kernelSize'> = {}) {
    super();
    this.options = { ...options, kernelSize };
  }

  /** x (B, C, H, W) → (B, C, Ho, Wo). */
  override forward(x: Tensor): Tensor {
    return avgPool2d(x, this.options); // (B, C, Ho, Wo)
  }
}

/** Max over the windows that tile the plane into outputSize cells (start ⌊i·H/Ho⌋, end ⌈(i+1)·H/Ho⌉). */
export class AdaptiveMaxPool2d extends Module {
  constructor(readonly outputSize: Size2) {
    super();
  }

  /** x (B, C, H, W) → (B, C, Ho, Wo). */
  override forward(x: Tensor): Tensor {
    return adaptiveMaxPool2d(x, this.outputSize); // (B, C, Ho, Wo)
  }
}

/** Mean over the windows that tile the plane into outputSize cells; outputSize 1 is global average pooling. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Size2) {
    super();
  }

  /** x (B, C, H, W) → (B, C, Ho, Wo). */
  override forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize); // (B, C, Ho, Wo)
  }
}
