/**
 * Specs of fused scaled-dot-product attention, forward and backward (reference:
 * ../js/attention.ts, native: native/attention.cpp). Letters as in the reference:
 *   q (B, H, Lq, D)   k (B, Hkv, Lk, D)   v (B, Hkv, Lk, Dv)   out (B, H, Lq, Dv)   lse (B, H, Lq)
 * The forward also reads keys and values in place from a preallocated cache: k (B, Hkv, kvStride, D)
 * and v (B, Hkv, kvStride, Dv) of which only the first Lk positions are read (kvStride = Lk when
 * they are exactly the keys), so KV-cached decoding appends without copying the cache.
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
