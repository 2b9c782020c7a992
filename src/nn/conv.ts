/**
 * Conv1d and Conv2d (torch.nn.Conv1d / Conv2d): the parameters and their PyTorch init; the
 * computation is ops/conv.ts (im2col + one GEMM, native gather). Zero padding, stride,
 * dilation; Conv2d also takes groups (groups = C is a depthwise convolution).
 *
 * Letters: B batch, C in channels, O out channels, L / H / W input sizes, k kernel size,
 * Lo / Ho / Wo output sizes, G groups, Cg = C/G.
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { conv1d, conv2d } from '../ops/conv.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import { uniform } from './init.js';
import { checkPositiveInt } from './linear.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';

export interface ConvOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  bias?: boolean;
}

export interface Conv2dOptions extends ConvOptions {
  /** Split the channels into this many independent convolutions (default 1); inChannels = groups gives a depthwise conv. */
  groups?: number;
}

function checkOpts(op: string, o: ConvOptions): Required<ConvOptions> {
  const r = { stride: o.stride ?? 1, padding: o.padding ?? 0, dilation: o.dilation ?? 1, bias: o.bias ?? true };
  if (!Number.isInteger(r.stride) || r.stride <= 0 || !Number.isInteger(r.dilation) || r.dilation <= 0 || !Number.isInteger(r.padding) || r.padding < 0) {
    throw new ConfigError(`${op}: stride=${r.stride}, padding=${r.padding}, dilation=${r.dilation}; expected positive stride and dilation and padding ≥ 0.`);
  }
  return r;
}

export class Conv1d extends Module {
  readonly opts: Required<ConvOptions>;
  weight: Parameter;
  bias: Parameter | null;

  /** Args: inChannels C, outChannels O, kernelSize k; options stride, padding, dilation, bias. Init as PyTorch: U(±1/√(C·k)). */
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, options: ConvOptions = {}) {
    super();
    for (const [n, v] of [['inChannels', inChannels], ['outChannels', outChannels], ['kernelSize', kernelSize]] as const) checkPositiveInt('Conv1d', n, v);
    this.opts = checkOpts('Conv1d', options);
    const b = 1 / Math.sqrt(inChannels * kernelSize);
    this.weight = new Parameter(uniform(empty([outChannels, inChannels, kernelSize]), -b, b)); // (O, C, k)
    this.bias = this.opts.bias ? new Parameter(uniform(empty([outChannels]), -b, b)) : null; // (O)
  }

  /** x (B, C, L) → (B, O, Lo). */
  override forward(x: Tensor): Tensor {
    if (x.ndim !== 3 || x.shape[1] !== this.inChannels) throw new ShapeError(`Conv1d: input has shape ${fmtShape(x.shape)}, expected (B, ${this.inChannels}, L).`);
    const { stride, padding, dilation } = this.opts;
    return conv1d(x, this.weight, this.bias, { stride, padding, dilation });
  }
}

export class Conv2d extends Module {
  readonly opts: Required<ConvOptions>;
  readonly groups: number;
  readonly kernelSize: [number, number];
  weight: Parameter;
  bias: Parameter | null;

  /**
   * Args: inChannels C, outChannels O, kernelSize k or [kh, kw]; options stride, padding, dilation
   * (same on both axes), bias, groups G (C and O divisible by G). Init as PyTorch: U(±1/√(Cg·kh·kw)).
   */
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number | [number, number], options: Conv2dOptions = {}) {
    super();
    this.kernelSize = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    for (const [n, v] of [['inChannels', inChannels], ['outChannels', outChannels], ['kernelSize', this.kernelSize[0]], ['kernelSize', this.kernelSize[1]]] as const) checkPositiveInt('Conv2d', n, v);
    const { groups, ...convOptions } = options;
    this.opts = checkOpts('Conv2d', convOptions);
    this.groups = groups ?? 1;
    checkPositiveInt('Conv2d', 'groups', this.groups);
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new ConfigError(`Conv2d: inChannels=${inChannels} and outChannels=${outChannels} must both be divisible by groups=${this.groups}. Fix: pick groups dividing both (groups = inChannels for a depthwise conv).`);
    }
    const [kh, kw] = this.kernelSize, Cg = inChannels / this.groups;
    const b = 1 / Math.sqrt(Cg * kh * kw);
    this.weight = new Parameter(uniform(empty([outChannels, Cg, kh, kw]), -b, b)); // (O, Cg, kh, kw)
    this.bias = this.opts.bias ? new Parameter(uniform(empty([outChannels]), -b, b)) : null; // (O)
  }

  /** x (B, C, H, W) → (B, O, Ho, Wo). */
  override forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) throw new ShapeError(`Conv2d: input has shape ${fmtShape(x.shape)}, expected (B, ${this.inChannels}, H, W).`);
    const { stride, padding, dilation } = this.opts;
    return conv2d(x, this.weight, this.bias, { stride, padding, dilation, groups: this.groups });
  }
}
