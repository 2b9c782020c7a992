/**
 * Specs of fused scaled-dot-product attention, forward and backward (reference:
 * ../js/attention.ts, native: native/attention.cpp). Letters as in the reference:
 *   q (B, H, Lq, D)   k (B, Hkv, Lk, D)   v (B, Hkv, Lk, Dv)   out (B, H, Lq, Dv)   lse (B, H, Lq)
 * The forward also reads keys and values in place from a preallocated cache: k (B, Hkv, kvStride, D)
 * and v (B, Hkv, kvStride, Dv) of which only the first Lk positions are read (kvStride = Lk when
 * they are exactly the keys), so KV-cached decoding appends without copying the cache.
 *
 * The strided pair (attentionForwardStrided, attentionBackwardStrided) reads and writes each of
 * q, k, v, out at element (b, h, i, d) = x[b·xStrideB + h·xStrideH + i·xStrideL + d] (d contiguous):
 * heads may sit side by side in the last dim, (B, L, H·d) with strides (L·H·d, d, H·d), so a
 * projection's output is read without a head-split copy and the output is written head-merged,
 * and q, k, v may be column blocks of one fused (B, L, 3·H·d) buffer (row stride 3·H·d, each passed
 * as a subarray at its column offset). In the backward a gradient has its tensor's layout: dq, dk,
 * dv use q, k, v's strides, dOut uses out's. The contiguous pair above is the case
 * x·StrideL = width, x·StrideH = L·width, x·StrideB = H·L·width.
 */
import { kernel, input, optionalInput, output, shape, scalar, option, type Check } from '../spec.js';

const LIMIT = 2 ** 40;

/** The parameters both directions share (C++: AttentionParams in native/kernels.h). */
const params = {
  B: shape(), H: shape(), Hkv: shape(), Lq: shape(), Lk: shape(), D: shape(), Dv: shape(),
  scale: scalar('float'),
  causal: option(),
  causalOffset: scalar('int', { min: -LIMIT, max: LIMIT, doc: 'key j is disallowed when causal and j > i + causalOffset' }),
  keyLengths: optionalInput('i32', { len: 'B' }),
  mask: optionalInput('f32', {
    minLen: 'B * H * Lq * Lk == 0 ? 0 : (B - 1) * maskStrideB + (H - 1) * maskStrideH + Lq * Lk',
    doc: 'additive, indexed b·maskStrideB + h·maskStrideH + i·Lk + j',
  }),
  maskStrideB: shape(), maskStrideH: shape(),
  alibiSlopes: optionalInput('f32', { len: 'H' }),
  dropoutP: scalar('float', { min: 0, max: 1, maxExclusive: true }),
  dropoutSeed: scalar('int', { min: -(2 ** 53), max: 2 ** 53, doc: 'taken modulo 2^32' }),
} as const;

const checks: Check[] = [
  { ok: 'H == 0 || (Hkv > 0 && H % Hkv == 0)', message: 'H must be a multiple of Hkv (each kv head serves H/Hkv query heads)' },
  { ok: 'Lq == 0 || Lk == 0 || B * H * Lq * Lk >= 0', message: 'B·H·Lq·Lk (the dropout index space) must fit in 2^53' },
];

export const attentionForward = kernel('attentionForward', {
  q: input('f32', { len: 'B * H * Lq * D' }),
  k: input('f32', { len: 'B * Hkv * kvStride * D' }),
  v: input('f32', { len: 'B * Hkv * kvStride * Dv' }),
  out: output('f32', { len: 'B * H * Lq * Dv' }),
  lse: output('f32', { len: 'B * H * Lq' }),
  ...params,
  kvStride: shape('positions between consecutive (b, kv head) blocks of k and v; Lk unless they are a cache with room to grow'),
}, { checks: [...checks, { ok: 'kvStride >= Lk', message: 'kvStride (the cache capacity) must hold the Lk keys read' }] });

export const attentionBackward = kernel('attentionBackward', {
  q: input('f32', { len: 'B * H * Lq * D' }),
  k: input('f32', { len: 'B * Hkv * Lk * D' }),
  v: input('f32', { len: 'B * Hkv * Lk * Dv' }),
  out: input('f32', { len: 'B * H * Lq * Dv' }),
  dOut: input('f32', { len: 'B * H * Lq * Dv' }),
  lse: input('f32', { len: 'B * H * Lq' }),
  dq: output('f32', { len: 'B * H * Lq * D' }),
  dk: output('f32', { len: 'B * Hkv * Lk * D' }),
  dv: output('f32', { len: 'B * Hkv * Lk * Dv' }),
  ...params,
}, { checks });

/** The least length holding element (n0−1, n1−1, n2−1, w−1) of a strided (n0, n1, n2, w) view; 0 when empty. */
function stridedLen(x: string, n0: string, n1: string, n2: string, w: string): string {
  return `${n0} * ${n1} * ${n2} * ${w} == 0 ? 0 : (${n0} - 1) * ${x}StrideB + (${n1} - 1) * ${x}StrideH + (${n2} - 1) * ${x}StrideL + ${w}`;
}

/** Strides of q, k, v, out: (b, h, i) → element offset; the last dim is contiguous. */
const strides = {
  qStrideB: shape(), qStrideH: shape(), qStrideL: shape(),
  kStrideB: shape(), kStrideH: shape(), kStrideL: shape(),
  vStrideB: shape(), vStrideH: shape(), vStrideL: shape(),
  outStrideB: shape(), outStrideH: shape(), outStrideL: shape(),
} as const;

/** Rows of an output must not overlap (two rows written by two threads): row stride ≥ width unless one row. */
const stridedChecks: Check[] = [
  ...checks,
  { ok: 'Lq <= 1 || outStrideL >= Dv', message: 'outStrideL must be ≥ Dv: output rows may not overlap' },
];

export const attentionForwardStrided = kernel('attentionForwardStrided', {
  q: input('f32', { minLen: stridedLen('q', 'B', 'H', 'Lq', 'D') }),
  k: input('f32', { minLen: stridedLen('k', 'B', 'Hkv', 'Lk', 'D') }),
  v: input('f32', { minLen: stridedLen('v', 'B', 'Hkv', 'Lk', 'Dv') }),
  out: output('f32', { minLen: stridedLen('out', 'B', 'H', 'Lq', 'Dv') }),
  lse: output('f32', { len: 'B * H * Lq' }),
  ...params,
  ...strides,
}, { checks: stridedChecks });

export const attentionBackwardStrided = kernel('attentionBackwardStrided', {
  q: input('f32', { minLen: stridedLen('q', 'B', 'H', 'Lq', 'D') }),
  k: input('f32', { minLen: stridedLen('k', 'B', 'Hkv', 'Lk', 'D') }),
  v: input('f32', { minLen: stridedLen('v', 'B', 'Hkv', 'Lk', 'Dv') }),
  out: input('f32', { minLen: stridedLen('out', 'B', 'H', 'Lq', 'Dv') }),
  dOut: input('f32', { minLen: stridedLen('out', 'B', 'H', 'Lq', 'Dv'), doc: 'the layout of out' }),
  lse: input('f32', { len: 'B * H * Lq' }),
  dq: output('f32', { minLen: stridedLen('q', 'B', 'H', 'Lq', 'D'), doc: 'the layout of q' }),
  dk: output('f32', { minLen: stridedLen('k', 'B', 'Hkv', 'Lk', 'D'), doc: 'the layout of k' }),
  dv: output('f32', { minLen: stridedLen('v', 'B', 'Hkv', 'Lk', 'Dv'), doc: 'the layout of v' }),
  ...params,
  ...strides,
}, { checks: [
  ...stridedChecks,
  { ok: 'Lq <= 1 || qStrideL >= D', message: 'qStrideL must be ≥ D: dq rows (q\'s layout) may not overlap' },
  { ok: 'Lk <= 1 || (kStrideL >= D && vStrideL >= Dv)', message: 'kStrideL ≥ D and vStrideL ≥ Dv: dk, dv rows (k, v\'s layout) may not overlap' },
] });
