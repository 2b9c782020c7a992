/**
 * Reference im2col / col2im (specs: ../specs/conv.ts). x (B, C, H, W) ↔ cols (B, Ho, Wo, C, kh, kw).
 * A tap at padded position (y, x) outside [0, H) × [0, W) reads 0 and takes no gradient.
 */
import type { Params } from '../table.js';

type Geometry = Omit<Params<'im2col'>, 'x' | 'cols'>;

/** Calls visit(colsIndex, xIndex) for every tap that lands inside the input, in cols order. */
function forEachTap(g: Geometry, visit: (col: number, src: number) => void): void {
  const { B, C, H, W, kh, kw, Ho, Wo, strideH, strideW, padH, padW, dilationH, dilationW } = g;
  let col = 0;
  for (let b = 0; b < B; b++) for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
    for (let c = 0; c < C; c++) {
      const plane = (b * C + c) * H;
      for (let i = 0; i < kh; i++) {
        const y = oh * strideH + i * dilationH - padH;
        for (let j = 0; j < kw; j++, col++) {
          const x = ow * strideW + j * dilationW - padW;
          if (y >= 0 && y < H && x >= 0 && x < W) visit(col, (plane + y) * W + x);
        }
      }
    }
  }
}

export function im2col(p: Params<'im2col'>): void {
  const { x, cols } = p;
  cols.fill(0);
  forEachTap(p, (col, src) => { cols[col] = x[src]; });
}

export function col2im(p: Params<'col2im'>): void {
  const { dCols, dx } = p;
  forEachTap(p, (col, src) => { dx[src] += dCols[col]; });
}

type ConvGeometry = Omit<Params<'conv2dForward'>, 'x' | 'weight' | 'bias' | 'y'>;

/**
 * Calls visit(yIndex, weightIndex, xIndex) for every (output, tap) pair whose tap lands inside
 * the input, for the grouped convolution of ../specs/conv.ts (the definition, as plain loops).
 */
function forEachConvTap(g: ConvGeometry, visit: (yi: number, wi: number, xi: number) => void): void {
  const { B, C, H, W, O, groups, kh, kw, Ho, Wo, strideH, strideW, padH, padW, dilationH, dilationW } = g;
  const Cg = C / groups, Og = O / groups;
  for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) {
    const c0 = Math.floor(o / Og) * Cg;
    for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
      const yi = ((b * O + o) * Ho + oh) * Wo + ow;
      for (let c = 0; c < Cg; c++) for (let i = 0; i < kh; i++) {
        const y = oh * strideH + i * dilationH - padH;
        if (y < 0 || y >= H) continue;
        for (let j = 0; j < kw; j++) {
          const x = ow * strideW + j * dilationW - padW;
          if (x >= 0 && x < W) visit(yi, ((o * Cg + c) * kh + i) * kw + j, ((b * C + c0 + c) * H + y) * W + x);
        }
      }
    }
  }
}

export function conv2dForward(p: Params<'conv2dForward'>): void {
  const { x, weight, bias, y } = p, P = p.Ho * p.Wo;
  for (let r = 0; r < p.B * p.O; r++) y.fill(bias ? bias[r % p.O] : 0, r * P, (r + 1) * P);
  forEachConvTap(p, (yi, wi, xi) => { y[yi] += weight[wi] * x[xi]; });
}

export function conv2dBackward(p: Params<'conv2dBackward'>): void {
  const { x, weight, dy, dx, dWeight, dBias } = p, P = p.Ho * p.Wo;
  dx?.fill(0);
  dWeight?.fill(0);
  if (dBias) {
    dBias.fill(0);
    for (let r = 0; r < p.B * p.O; r++) for (let q = 0; q < P; q++) dBias[r % p.O] += dy[r * P + q];
  }
  forEachConvTap(p, (yi, wi, xi) => {
    if (dx) dx[xi] += dy[yi] * weight[wi];
    if (dWeight) dWeight[wi] += dy[yi] * x[xi];
  });
}

export function conv2dTransposedForward(p: Params<'conv2dTransposedForward'>): void {
  const { x, weightT, bias, y, B, C, H, W, O, kh, kw, Ho, Wo, padH, padW, relu } = p;
  for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
    let s = bias ? bias[o] : 0;
    for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) {
      const yy = oh + i - padH;
      if (yy < 0 || yy >= H) continue;
      for (let j = 0; j < kw; j++) {
        const xx = ow + j - padW;
        if (xx >= 0 && xx < W) s += weightT[((c * kh + i) * kw + j) * O + o] * x[((b * C + c) * H + yy) * W + xx];
      }
    }
    y[((b * O + o) * Ho + oh) * Wo + ow] = relu && !(s > 0) ? 0 : s;
  }
}
