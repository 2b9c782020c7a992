/**
 * 2-D pooling over (B, C, H, W): maxPool2d, avgPool2d, adaptiveMaxPool2d, adaptiveAvgPool2d,
 * as torch.nn.functional's. All four are one idea: every output cell (oh, ow) reduces a
 * rectangle of its input plane, rows [h0, h1) × cols [w0, w1). They differ only in how the
 * rectangles are laid out (windowsFixed / windowsAdaptive) and in the reduction (max or mean).
 *
 *   fixed:     h0 = oh·stride − padding,  h1 = min(h0 + kernel, H)  (clipped to the input; the
 *              padding is −∞ for max, and zeros that count in the divisor for avg by default)
 *   adaptive:  h0 = ⌊oh·H / Ho⌋,  h1 = ⌈(oh + 1)·H / Ho⌉           (PyTorch's start/end rule)
 *
 * Backward:
 *   max:  out = x[argmax]            → dx[argmax] += g (the first maximum in row-major order, as PyTorch)
 *   avg:  out = Σ_window x / divisor → dx[window] += g / divisor
 *
 * maxPool2d runs on a kernel pair (maxPoolForward / maxPoolBackward, native where the addon loaded;
 * specs: ../backend/specs/cnn.ts), and global average pooling (adaptiveAvgPool2d to 1×1) on the
 * reduceAxis kernel. The rest are plain TypeScript loops over the contiguous storage (float32 or
 * float64), so every op gradchecks in float64.
 *
 *   maxPool2d(x, { kernelSize: 2 })              // (B, C, 28, 28) → (B, C, 14, 14)
 *   adaptiveAvgPool2d(x, 1)                      // (B, C, H, W) → (B, C, 1, 1)
 *
 * Letters: B batch, C channels, H W input size, Ho Wo output size.
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/node.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { requireFloat, floatTensor, emptyFloatTensor, f32 } from './util.js';
import { k } from '../backend/registry.js';
import { reshape } from './shape.js';

export type Size2 = number | readonly [number, number];

export interface Pool2dOptions {
  /** Window size, k or [kh, kw]. */
  kernelSize: Size2;
  /** Step between windows (default: kernelSize, as PyTorch). */
  stride?: Size2 | null;
  /** Implicit padding on each side (default 0); at most half the kernel, as PyTorch. */
  padding?: Size2;
  /** Use ⌈⌉ instead of ⌊⌋ for the output size (default false); a window must still start inside the input or left padding. */
  ceilMode?: boolean;
}

export interface AvgPool2dOptions extends Pool2dOptions {
  /** Count the zero padding in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
}

/** Each output cell's rectangle along one axis: [start, end) clipped to the input, and the divisor length (avg with padding). */
interface Windows {
  start: Int32Array;
  end: Int32Array;
  /** Window length counting padding (countIncludePad); end − start otherwise. */
  padded: Int32Array;
}

/** [v, v] for a number, else the two entries. */
export const pair = (v: Size2): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

function checkInput(op: string, x: Tensor): [number, number, number, number] {
  requireFloat(x, op, 'input');
  if (x.ndim !== 4 && x.ndim !== 3) {
    throw new ShapeError(`${op}: input has shape ${fmtShape(x.shape)}, expected (B, C, H, W) or (C, H, W).`);
  }
  const [B, C, H, W] = x.ndim === 4 ? x.shape : [1, ...x.shape];
  if (H === 0 || W === 0) throw new ShapeError(`${op}: input has shape ${fmtShape(x.shape)} with an empty plane; expected H, W ≥ 1.`);
  return [B, C, H, W];
}

/** The fixed-window layout along one axis of size n (PyTorch's pooling_output_shape). */
function windowsFixed(op: string, axis: string, n: number, k: number, s: number, p: number, ceil: boolean): Windows {
  if (!Number.isInteger(k) || k <= 0 || !Number.isInteger(s) || s <= 0 || !Number.isInteger(p) || p < 0) {
    throw new ConfigError(`${op}: kernelSize=${k}, stride=${s}, padding=${p} on ${axis}; expected positive integer kernelSize and stride and integer padding ≥ 0.`);
  }
  if (p > k / 2) throw new ConfigError(`${op}: padding=${p} on ${axis} is more than half of kernelSize=${k}; expected padding ≤ ${Math.floor(k / 2)} (as PyTorch), so no window lies entirely in the padding.`);
  const span = n + 2 * p - k;
  if (span < 0) throw new ShapeError(`${op}: input size ${n} on ${axis} is smaller than kernelSize ${k} with padding ${p}; expected ${axis} + 2·padding ≥ kernelSize.`);
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // with ceilMode the last window must start inside the input or the left padding
  if (ceil && (out - 1) * s >= n + p) out--;
  const w: Windows = { start: new Int32Array(out), end: new Int32Array(out), padded: new Int32Array(out) };
  for (let o = 0; o < out; o++) {
    const a = o * s - p, b = Math.min(a + k, n + p);
    w.padded[o] = b - a;
    w.start[o] = Math.max(a, 0);
    w.end[o] = Math.min(b, n);
  }
  return w;
}

/** The adaptive layout: out cells tile n with start ⌊o·n/out⌋ and end ⌈(o+1)·n/out⌉. */
function windowsAdaptive(op: string, axis: string, n: number, out: number): Windows {
  if (!Number.isInteger(out) || out <= 0) throw new ConfigError(`${op}: outputSize=${out} on ${axis}; expected a positive integer.`);
  const w: Windows = { start: new Int32Array(out), end: new Int32Array(out), padded: new Int32Array(out) };
  for (let o = 0; o < out; o++) {
    w.start[o] = Math.floor((o * n) / out);
    w.end[o] = Math.ceil(((o + 1) * n) / out);
    w.padded[o] = w.end[o] - w.start[o];
  }
  return w;
}

/** Max over every rectangle, remembering where the maximum was for backward. */
function maxPool(op: string, x: Tensor, wh: Windows, ww: Windows): Tensor {
  const [B, C, H, W] = checkInput(op, x);
  const Ho = wh.start.length, Wo = ww.start.length, planes = B * C;
  const out = floatTensor(x.dtype, [B, C, Ho, Wo]);
  const arg = new Int32Array(out.size); // flat input index of each output's maximum
  const xd = x.data, od = out.data;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * H * W;
    for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
      let best = -Infinity, at = -1;
      for (let i = wh.start[oh]; i < wh.end[oh]; i++) for (let j = ww.start[ow]; j < ww.end[ow]; j++) {
        const v = xd[base + i * W + j];
        // strict '>' keeps the first maximum; a NaN wins, so it propagates as in PyTorch
        if (v > best || Number.isNaN(v) || at < 0) { best = v; at = base + i * W + j; if (Number.isNaN(v)) break; }
      }
      const o = (pl * Ho + oh) * Wo + ow;
      od[o] = best;
      arg[o] = at;
    }
  }
  const y = x.ndim === 4 ? out : reshape(out, [C, Ho, Wo]);
  // forward: out = x[argmax]  →  dx[argmax] += g
  return record(y, op, [x], (g) => {
    const gx = floatTensor(g.dtype, x.shape);
    for (let o = 0; o < arg.length; o++) gx.data[arg[o]] += g.data[o];
    return [gx];
  });
}

/** Mean over every rectangle, dividing by the clipped size or, with countIncludePad, the padded size. */
function avgPool(op: string, x: Tensor, wh: Windows, ww: Windows, countIncludePad: boolean): Tensor {
  const [B, C, H, W] = checkInput(op, x);
  const Ho = wh.start.length, Wo = ww.start.length, planes = B * C;
  const div = new Float64Array(Ho * Wo);
  for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
    div[oh * Wo + ow] = countIncludePad ? wh.padded[oh] * ww.padded[ow] : (wh.end[oh] - wh.start[oh]) * (ww.end[ow] - ww.start[ow]);
  }
  const out = floatTensor(x.dtype, [B, C, Ho, Wo]);
  const xd = x.data, od = out.data;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * H * W;
    for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
      let s = 0;
      for (let i = wh.start[oh]; i < wh.end[oh]; i++) for (let j = ww.start[ow]; j < ww.end[ow]; j++) s += xd[base + i * W + j];
      od[(pl * Ho + oh) * Wo + ow] = s / div[oh * Wo + ow];
    }
  }
  const y = x.ndim === 4 ? out : reshape(out, [C, Ho, Wo]);
  // forward: out = Σ_window x / divisor  →  dx[window] += g / divisor
  return record(y, op, [x], (g) => {
    const gx = floatTensor(g.dtype, x.shape), gd = gx.data;
    for (let pl = 0; pl < planes; pl++) {
      const base = pl * H * W;
      for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
        const v = g.data[(pl * Ho + oh) * Wo + ow] / div[oh * Wo + ow];
        for (let i = wh.start[oh]; i < wh.end[oh]; i++) for (let j = ww.start[ow]; j < ww.end[ow]; j++) gd[base + i * W + j] += v;
      }
    }
    return [gx];
  });
}

function fixedLayout(op: string, x: Tensor, o: Pool2dOptions): [Windows, Windows] {
  if (o === undefined || o.kernelSize === undefined) throw new ConfigError(`${op}: options.kernelSize is required, e.g. ${op}(x, { kernelSize: 2 }).`);
  const [, , H, W] = checkInput(op, x);
  const [kh, kw] = pair(o.kernelSize), [sh, sw] = pair(o.stride ?? o.kernelSize), [ph, pw] = pair(o.padding ?? 0);
  const ceil = o.ceilMode ?? false;
  return [windowsFixed(op, 'H', H, kh, sh, ph, ceil), windowsFixed(op, 'W', W, kw, sw, pw, ceil)];
}

function adaptiveLayout(op: string, x: Tensor, outputSize: Size2): [Windows, Windows] {
  const [, , H, W] = checkInput(op, x);
  const [oh, ow] = pair(outputSize);
  return [windowsAdaptive(op, 'H', H, oh), windowsAdaptive(op, 'W', W, ow)];
}

/** Max over kernelSize windows (torch.nn.functional.max_pool2d; no dilation). x (B, C, H, W) → (B, C, Ho, Wo). */
export function maxPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  const [wh, ww] = fixedLayout('maxPool2d', x, options);
  const [B, C, H, W] = checkInput('maxPool2d', x);
  const [kh, kw] = pair(options.kernelSize), [strideH, strideW] = pair(options.stride ?? options.kernelSize), [padH, padW] = pair(options.padding ?? 0);
  const dims = { planes: B * C, H, W, Ho: wh.start.length, Wo: ww.start.length };
  const out = emptyFloatTensor(x.dtype, [B, C, dims.Ho, dims.Wo]);
  const argmax = new Int32Array(out.size); // index inside its plane of each output's maximum
  k.maxPoolForward({ x: f32(x), y: f32(out), argmax, ...dims, kh, kw, strideH, strideW, padH, padW });
  const y = x.ndim === 4 ? out : reshape(out, [C, dims.Ho, dims.Wo]);
  // forward: out = x[argmax]  →  dx[argmax] += g
  return record(y, 'maxPool2d', [x], (g) => {
    const gx = emptyFloatTensor(g.dtype, x.shape);
    k.maxPoolBackward({ dy: f32(g), argmax, dx: f32(gx), ...dims });
    return [gx];
  });
}

/** Mean over kernelSize windows (torch.nn.functional.avg_pool2d; no divisorOverride). x (B, C, H, W) → (B, C, Ho, Wo). */
export function avgPool2d(x: Tensor, options: AvgPool2dOptions): Tensor {
  return avgPool('avgPool2d', x, ...fixedLayout('avgPool2d', x, options), options.countIncludePad ?? true);
}

/** Max over the adaptive windows that tile the plane into outputSize cells. x (B, C, H, W) → (B, C, oh, ow). */
export function adaptiveMaxPool2d(x: Tensor, outputSize: Size2): Tensor {
  return maxPool('adaptiveMaxPool2d', x, ...adaptiveLayout('adaptiveMaxPool2d', x, outputSize));
}

/** Mean over the adaptive windows (adaptiveAvgPool2d(x, 1) is global average pooling). x (B, C, H, W) → (B, C, oh, ow). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Size2): Tensor {
  const layout = adaptiveLayout('adaptiveAvgPool2d', x, outputSize);
  if (layout[0].start.length === 1 && layout[1].start.length === 1) return globalAvgPool(x);
  return avgPool('adaptiveAvgPool2d', x, ...layout, false);
}

/**
 * The 1×1 case of adaptiveAvgPool2d (squeeze-and-excitation's squeeze): each plane's mean, as a
 * row sum on the reduceAxis kernel (native where the addon loaded) instead of the window loops.
 *   out = Σ_plane x / (H·W)  →  dx[plane] = g / (H·W) everywhere
 */
function globalAvgPool(x: Tensor): Tensor {
  const [B, C, H, W] = checkInput('adaptiveAvgPool2d', x);
  const planes = B * C, L = H * W;
  const out = emptyFloatTensor(x.dtype, [B, C, 1, 1]);
  k.reduceAxis({ op: 0, x: f32(x), out: f32(out), outer: planes, size: L, inner: 1 });
  const od = out.data;
  for (let pl = 0; pl < planes; pl++) od[pl] /= L;
  const y = x.ndim === 4 ? out : reshape(out, [C, 1, 1]);
  return record(y, 'adaptiveAvgPool2d', [x], (g) => {
    const gx = emptyFloatTensor(g.dtype, x.shape), gd = gx.data;
    for (let pl = 0; pl < planes; pl++) gd.fill(g.data[pl] / L, pl * L, (pl + 1) * L);
    return [gx];
  });
}
