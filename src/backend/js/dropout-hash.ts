/**
 * The counter-based hash behind attention dropout, shared by the reference kernels,
 * the native kernels (native/attention.cpp) and any op that must reproduce a mask.
 *
 * Element idx (a flat index, taken modulo 2^32) of a call with seed s is kept iff
 *   u = lowbias32(idx ^ lowbias32(s)) / 2^32  ≥  p.
 * lowbias32 is Chris Wellons' 32-bit integer hash (2-round xorshift-multiply).
 */

/** lowbias32 on an unsigned 32-bit integer; returns an unsigned 32-bit integer. */
export function lowbias32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The uniform number in [0, 1) for element idx of a call seeded with seed. */
export function dropoutUniform(seed: number, idx: number): number {
  return lowbias32(((idx % 4294967296) ^ lowbias32(seed >>> 0)) >>> 0) / 4294967296;
}
