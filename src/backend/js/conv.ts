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
