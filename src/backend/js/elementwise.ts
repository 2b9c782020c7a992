/**
 * Reference elementwise kernels. Op codes are shared with the native backend.
 *
 * Broadcasting is resolved by the caller (src/ops/broadcast.ts) into per-input
 * strides over the output shape, a stride of 0 meaning "repeat along this dim".
 */
import type { Params } from '../table.js';
import { geluScalar, geluGradScalar, geluTanhScalar, geluTanhGradScalar, sigmoidScalar } from './scalar.js';

export const BinaryOp = { add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6 } as const;
export type BinaryOpCode = (typeof BinaryOp)[keyof typeof BinaryOp];

export const UnaryOp = {
  neg: 0, exp: 1, log: 2, sqrt: 3, tanh: 4, sigmoid: 5, relu: 6, gelu: 7, geluTanh: 8, silu: 9, abs: 10,
} as const;
export type UnaryOpCode = (typeof UnaryOp)[keyof typeof UnaryOp];

function apply2(op: number, x: number, y: number): number {
  switch (op) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    case 3: return x / y;
    case 4: return Math.pow(x, y);
    case 5: return x !== x || y !== y ? NaN : (x > y ? x : y);
    case 6: return x !== x || y !== y ? NaN : (x < y ? x : y);
    default: throw new Error(`binary: unknown op code ${op}`);
  }
}

/** out[i] = a[i] (op) b[i], all three of the same length. */
export function binarySame({ op, a, b, out }: Params<'binarySame'>): void {
  const n = out.length;
  switch (op) {
    case 0: for (let i = 0; i < n; i++) out[i] = a[i] + b[i]; return;
    case 1: for (let i = 0; i < n; i++) out[i] = a[i] - b[i]; return;
    case 2: for (let i = 0; i < n; i++) out[i] = a[i] * b[i]; return;
    case 3: for (let i = 0; i < n; i++) out[i] = a[i] / b[i]; return;
    default: for (let i = 0; i < n; i++) out[i] = apply2(op, a[i], b[i]);
  }
}

/**
 * out[idx] = a[idx · aStrides] (op) b[idx · bStrides] for every multi-index idx of outShape.
 */
export function binaryBroadcast({ op, a, aStrides, b, bStrides, out, outShape }: Params<'binaryBroadcast'>): void {
  const nd = outShape.length;
  const n = out.length;
  if (n === 0) return;
  const last = nd - 1;
  const inner = nd === 0 ? 1 : outShape[last];
  const sa = nd === 0 ? 0 : aStrides[last], sb = nd === 0 ? 0 : bStrides[last];
  const idx = new Array<number>(nd).fill(0);
  let ao = 0, bo = 0;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0; j < inner; j++) out[o + j] = apply2(op, a[ao + j * sa], b[bo + j * sb]);
    // advance the outer multi-index (all dims but the last)
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      ao += aStrides[d];
      bo += bStrides[d];
      if (idx[d] < outShape[d]) break;
      ao -= aStrides[d] * outShape[d];
      bo -= bStrides[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

/** out[i] = f(x[i]). */
export function unary({ op, x, out }: Params<'unary'>): void {
  const n = out.length;
  switch (op) {
    case 0: for (let i = 0; i < n; i++) out[i] = -x[i]; return;
    case 1: for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]); return;
    case 2: for (let i = 0; i < n; i++) out[i] = Math.log(x[i]); return;
    case 3: for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]); return;
    case 4: for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]); return;
    case 5: for (let i = 0; i < n; i++) out[i] = sigmoidScalar(x[i]); return;
    case 6: for (let i = 0; i < n; i++) { const v = x[i]; out[i] = v > 0 ? v : (v === v ? 0 : v); } return;
    case 7: for (let i = 0; i < n; i++) out[i] = geluScalar(x[i]); return;
    case 8: for (let i = 0; i < n; i++) out[i] = geluTanhScalar(x[i]); return;
    case 9: for (let i = 0; i < n; i++) { const v = x[i]; out[i] = v * sigmoidScalar(v); } return;
    case 10: for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]); return;
    default: throw new Error(`unary: unknown op code ${op}`);
  }
}

/**
 * dx[i] = dy[i] · f'(x[i]), given the forward input x and output y = f(x).
 * Uses whichever of x and y makes the derivative cheapest (exp' = y, tanh' = 1 − y², ...).
 */
export function unaryBackward({ op, x, y, dy, dx }: Params<'unaryBackward'>): void {
  const n = dx.length;
  switch (op) {
    case 0: for (let i = 0; i < n; i++) dx[i] = -dy[i]; return;
    case 1: for (let i = 0; i < n; i++) dx[i] = dy[i] * y[i]; return;
    case 2: for (let i = 0; i < n; i++) dx[i] = dy[i] / x[i]; return;
    case 3: for (let i = 0; i < n; i++) dx[i] = dy[i] * 0.5 / y[i]; return;
    case 4: for (let i = 0; i < n; i++) dx[i] = dy[i] * (1 - y[i] * y[i]); return;
    case 5: for (let i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1 - y[i]); return;
    case 6: for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0; return;
    case 7: for (let i = 0; i < n; i++) dx[i] = dy[i] * geluGradScalar(x[i]); return;
    case 8: for (let i = 0; i < n; i++) dx[i] = dy[i] * geluTanhGradScalar(x[i]); return;
    case 9: for (let i = 0; i < n; i++) { const s = sigmoidScalar(x[i]); dx[i] = dy[i] * s * (1 + x[i] * (1 - s)); } return;
    case 10: for (let i = 0; i < n; i++) dx[i] = dy[i] * Math.sign(x[i]); return;
    default: throw new Error(`unaryBackward: unknown op code ${op}`);
  }
}
