/**
 * Conv1d and Conv2d (torch.nn.Conv1d / Conv2d) by im2col + one matmul:
 * the input windows are gathered into rows (indexSelect, so the gradient is the
 * scatter-add), then multiplied by the weight viewed as (O, C·k). Zero padding, stride, dilation.
 * Conv2d also takes groups (G): the channels split into G independent convolutions, one
 * batched matmul over the groups; groups = C is a depthwise convolution (MobileNet).
 *
 * Letters: B batch, C in channels, O out channels, L / H / W input sizes, k kernel size,
 * Lo / Ho / Wo output sizes, P = Ho·Wo output positions, G groups, Cg = C/G, Og = O/G.
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { alloc } from '../tensor/dtype.js';
import { linear, matmul } from '../ops/matmul.js';
import { add } from '../ops/elementwise.js';
import { indexSelect } from '../ops/indexing.js';
import { reshape, permute, transpose, cat } from '../ops/shape.js';
import { floatTensor } from '../ops/util.js';
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

/** Zero-pads dim by p on both sides. */
function pad(x: Tensor, dim: number, p: number): Tensor {
  if (p === 0) return x;
  const shape = [...x.shape];
  shape[dim] = p;
  const z = floatTensor(x.dtype, shape);
  return cat([z, x, z], dim);
}

function outSize(op: string, n: number, k: number, s: number, p: number, d: number): number {
  const o = Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
  if (o <= 0) throw new ShapeError(`${op}: input size ${n} is too small for kernel ${k} (dilation ${d}) with padding ${p}; expected n + 2·padding ≥ ${d * (k - 1) + 1}.`);
  return o;
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
    const { stride: s, padding: p, dilation: d } = this.opts, k = this.kernelSize, [B, C] = x.shape;
    const Lo = outSize('Conv1d', x.shape[2], k, s, p, d);
    const idx = alloc('int32', Lo * k);
    for (let t = 0; t < Lo; t++) for (let j = 0; j < k; j++) idx[t * k + j] = t * s + j * d;
    const cols = indexSelect(pad(x, 2, p), 2, new Tensor(idx, [Lo * k])); // (B, C, Lo·k)
    const rows = reshape(permute(reshape(cols, [B, C, Lo, k]), [0, 2, 1, 3]), [B, Lo, C * k]); // (B, Lo, C·k)
    const y = linear(rows, reshape(this.weight, [this.outChannels, C * k]), this.bias); // (B, Lo, O)
    return transpose(y, 1, 2); // (B, O, Lo)
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
    const { stride: s, padding: p, dilation: d } = this.opts, [kh, kw] = this.kernelSize, [B, C, H, W] = x.shape;
    const Ho = outSize('Conv2d', H, kh, s, p, d), Wo = outSize('Conv2d', W, kw, s, p, d), Wp = W + 2 * p;
    const xp = reshape(pad(pad(x, 2, p), 3, p), [B, C, (H + 2 * p) * Wp]); // (B, C, Hp·Wp)
    const K = kh * kw, P = Ho * Wo;
    const idx = alloc('int32', P * K);
    for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      idx[((oh * Wo + ow) * kh + i) * kw + j] = (oh * s + i * d) * Wp + ow * s + j * d;
    }
    const cols = indexSelect(xp, 2, new Tensor(idx, [P * K])); // (B, C, P·K)
    if (this.groups > 1) return this.groupedProduct(cols, B, P, K, Ho, Wo);
    const rows = reshape(permute(reshape(cols, [B, C, P, K]), [0, 2, 1, 3]), [B, P, C * K]); // (B, P, C·K)
    const y = linear(rows, reshape(this.weight, [this.outChannels, C * K]), this.bias); // (B, P, O)
    return reshape(transpose(y, 1, 2), [B, this.outChannels, Ho, Wo]); // (B, O, Ho, Wo)
  }

  /** groups > 1: group g's output channels see only its Cg input channels, one batched matmul over G. */
  private groupedProduct(cols: Tensor, B: number, P: number, K: number, Ho: number, Wo: number): Tensor {
    const G = this.groups, Cg = this.inChannels / G, Og = this.outChannels / G;
    const rows = reshape(permute(reshape(cols, [B, G, Cg, P, K]), [1, 0, 3, 2, 4]), [G, B * P, Cg * K]); // (G, B·P, Cg·K)
    const w = reshape(this.weight, [G, Og, Cg * K]); // (G, Og, Cg·K)
    const y = matmul(rows, transpose(w, 1, 2)); // (G, B·P, Og)
    let out = reshape(permute(reshape(y, [G, B, P, Og]), [1, 0, 3, 2]), [B, this.outChannels, Ho, Wo]); // (B, O, Ho, Wo)
    if (this.bias) out = add(out, reshape(this.bias, [1, this.outChannels, 1, 1])); // (B, O, Ho, Wo)
    return out;
  }
}
