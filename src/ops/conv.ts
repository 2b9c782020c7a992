/**
 * Convolution as torch.nn.functional's conv1d / conv2d.
 *
 *   im2col:  x (B, C, H, W) → cols (B, Ho·Wo, C·kh·kw)       one row per output position
 *   conv2d:  y[b] (O, Ho·Wo) = weight (O, C·kh·kw) · windows of x[b] (C·kh·kw, Ho·Wo) + bias
 *   groups:  the channels split into G independent convolutions;
 *            groups = C is a depthwise convolution (MobileNet).
 *
 * conv2d is one kernel pair (conv2dForward / conv2dBackward, specs: ../backend/specs/conv.ts):
 * natively, each image's windows are gathered into a cache-sized scratch and multiplied by the
 * weight in place, so the (B, Ho·Wo, C·kh·kw) matrix never exists and the output needs no
 * transpose. The im2col op (and its gradient col2im) stays for callers that want the windows.
 * Output size per axis, as PyTorch:
 *   Ho = ⌊(H + 2·padding − dilation·(kh − 1) − 1) / stride⌋ + 1
 *
 * Letters: B batch, C in channels, O out channels, H W input size, kh kw kernel size,
 * Ho Wo output size, P = Ho·Wo positions, K = kh·kw taps, G groups, Cg = C/G, Og = O/G.
 */
import { Tensor } from '../tensor/tensor.js';
import { k } from '../backend/registry.js';
import { record } from '../autograd/node.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { requireFloat, floatTensor, emptyFloatTensor, f32 } from './util.js';
import { pair, type Size2 } from './pool.js';
import { unsqueeze, squeeze } from './shape.js';

export interface Im2colOptions {
  /** Kernel size, k or [kh, kw]. */
  kernelSize: Size2;
  /** Step between windows (default 1). */
  stride?: Size2;
  /** Zero padding on each side (default 0). */
  padding?: Size2;
  /** Spacing between kernel taps (default 1). */
  dilation?: Size2;
}

export interface Conv2dOptions {
  stride?: Size2;
  padding?: Size2;
  dilation?: Size2;
  /** Independent channel groups (default 1); C and O must be divisible by it. */
  groups?: number;
}

export interface Conv1dOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
}

interface Geometry {
  B: number; C: number; H: number; W: number; kh: number; kw: number; Ho: number; Wo: number;
  strideH: number; strideW: number; padH: number; padW: number; dilationH: number; dilationW: number;
}

function checkInt(op: string, name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new ConfigError(`${op}: ${name}=${v}; expected an integer ≥ ${min}.`);
}

function outSize(op: string, axis: string, n: number, kernel: number, s: number, p: number, d: number): number {
  const o = Math.floor((n + 2 * p - d * (kernel - 1) - 1) / s) + 1;
  if (o <= 0) {
    throw new ShapeError(`${op}: input ${axis} = ${n} is too small for kernel ${kernel} (dilation ${d}) with padding ${p}; expected ${axis} + 2·padding ≥ ${d * (kernel - 1) + 1}.`);
  }
  return o;
}

function geometry(op: string, x: Tensor, o: Im2colOptions): Geometry {
  requireFloat(x, op, 'input');
  if (x.ndim !== 4) throw new ShapeError(`${op}: input has shape ${fmtShape(x.shape)}, expected 4 dims (B, C, H, W).`);
  const [B, C, H, W] = x.shape;
  const [kh, kw] = pair(o.kernelSize), [strideH, strideW] = pair(o.stride ?? 1);
  const [padH, padW] = pair(o.padding ?? 0), [dilationH, dilationW] = pair(o.dilation ?? 1);
  checkInt(op, 'kernelSize', kh, 1); checkInt(op, 'kernelSize', kw, 1);
  checkInt(op, 'stride', strideH, 1); checkInt(op, 'stride', strideW, 1);
  checkInt(op, 'padding', padH, 0); checkInt(op, 'padding', padW, 0);
  checkInt(op, 'dilation', dilationH, 1); checkInt(op, 'dilation', dilationW, 1);
  const Ho = outSize(op, 'H', H, kh, strideH, padH, dilationH), Wo = outSize(op, 'W', W, kw, strideW, padW, dilationW);
  return { B, C, H, W, kh, kw, Ho, Wo, strideH, strideW, padH, padW, dilationH, dilationW };
}

/** The convolution windows of x (B, C, H, W) as rows: (B, Ho·Wo, C·kh·kw), zero-padded. */
export function im2col(x: Tensor, options: Im2colOptions): Tensor {
  return windows(x, geometry('im2col', x, options));
}

function windows(x: Tensor, g: Geometry): Tensor {
  const cols = emptyFloatTensor(x.dtype, [g.B, g.Ho * g.Wo, g.C * g.kh * g.kw]);
  k.im2col({ x: f32(x), cols: f32(cols), ...g });
  return record(cols, 'im2col', [x], (grad) => {
    const dx = floatTensor(grad.dtype, x.shape);
    k.col2im({ dCols: f32(grad), dx: f32(dx), ...g });
    return [dx];
  });
}

/**
 * 2-D convolution (torch.nn.functional.conv2d): x (B, C, H, W), weight (O, C/G, kh, kw),
 * bias (O) or null → (B, O, Ho, Wo).
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  requireFloat(weight, 'conv2d', 'weight');
  const G = options.groups ?? 1;
  checkInt('conv2d', 'groups', G, 1);
  if (weight.ndim !== 4) throw new ShapeError(`conv2d: weight has shape ${fmtShape(weight.shape)}, expected (O, C/groups, kh, kw).`);
  const [O, Cg, kh, kw] = weight.shape;
  if (x.ndim !== 4 || x.shape[1] !== Cg * G) {
    throw new ShapeError(`conv2d: input has shape ${fmtShape(x.shape)}, expected (B, ${Cg * G}, H, W) for weight ${fmtShape(weight.shape)} and groups=${G}.`);
  }
  if (O % G !== 0) throw new ConfigError(`conv2d: ${O} output channels are not divisible by groups=${G}.`);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== O)) throw new ShapeError(`conv2d: bias has shape ${fmtShape(bias.shape)}, expected (${O}).`);
  const g = geometry('conv2d', x, { kernelSize: [kh, kw], stride: options.stride, padding: options.padding, dilation: options.dilation });
  const args = { ...g, O, groups: G };
  const dtype = x.dtype === 'float64' || weight.dtype === 'float64' ? 'float64' : x.dtype;
  const y = emptyFloatTensor(dtype, [g.B, O, g.Ho, g.Wo]); // (B, O, Ho, Wo)
  k.conv2dForward({ x: f32(x), weight: f32(weight), bias: bias ? f32(bias) : null, y: f32(y), ...args });
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(y, 'conv2d', inputs, (grad) => {
    // y = W ⊛ x + b  →  dx = Wᵀ ⊛ dy (scattered back over the windows), dW = Σ dy·window, db = Σ dy
    const dx = x.requiresGrad ? emptyFloatTensor(grad.dtype, x.shape) : null;
    const dw = weight.requiresGrad ? emptyFloatTensor(grad.dtype, weight.shape) : null;
    const db = bias?.requiresGrad ? emptyFloatTensor(grad.dtype, bias.shape) : null;
    k.conv2dBackward({
      x: f32(x), weight: f32(weight), dy: f32(grad), dx: dx ? f32(dx) : null, dWeight: dw ? f32(dw) : null, dBias: db ? f32(db) : null, ...args,
    });
    return bias ? [dx, dw, db] : [dx, dw];
  });
}

/** 1-D convolution (torch.nn.functional.conv1d): x (B, C, L), weight (O, C/G, k) → (B, O, Lo). */
export function conv1d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv1dOptions = {}): Tensor {
  if (x.ndim !== 3) throw new ShapeError(`conv1d: input has shape ${fmtShape(x.shape)}, expected 3 dims (B, C, L).`);
  if (weight.ndim !== 3) throw new ShapeError(`conv1d: weight has shape ${fmtShape(weight.shape)}, expected (O, C/groups, k).`);
  const y = conv2d(unsqueeze(x, 2), unsqueeze(weight, 2), bias, {
    stride: [1, options.stride ?? 1], padding: [0, options.padding ?? 0], dilation: [1, options.dilation ?? 1], groups: options.groups,
  }); // (B, O, 1, Lo)
  return squeeze(y, 2);
}
