/**
 * Shared helpers for the native-vs-reference kernel tests: loads both kernel tables,
 * makes seeded random data, and compares arrays with a tolerance that treats NaN
 * and ±Infinity as values that must match exactly.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { nativeRequired, nativeRequiredMessage } from '../requirements.ts';

process.env.HEED_QUIET = '1';
const registry = await import('../../src/backend/registry.js');

export const ref = registry.referenceKernels();
export const nat = registry.nativeKernels();
export const nativeMissing = nat === undefined ? 'native addon not built (run npm run build:native)' : undefined;

/**
 * The native kernel table; when the addon is not built, skips the test, or fails it under
 * HEED_REQUIRE_NATIVE=1 (test/requirements.ts).
 */
export function native(t: TestContext): NonNullable<typeof nat> | undefined {
  if (nat === undefined) {
    if (nativeRequired) assert.fail(nativeRequiredMessage());
    t.skip(nativeMissing);
    return undefined;
  }
  return nat;
}

/** mulberry32: a small seeded generator so failures reproduce. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(n: number, r: () => number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12), v = r();
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

export function randint(n: number, lo: number, hi: number, r: () => number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + Math.floor(r() * (hi - lo));
  return out;
}

/** |a − b| ≤ atol + rtol·|b| elementwise; NaN must meet NaN and ±Inf the same Inf. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, atol = 1e-5, rtol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let worst = -1, worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) assert.fail(`${what}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    const err = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) { worst = i; worstErr = err; }
  }
  if (worst >= 0) assert.fail(`${what}[${worst}]: got ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
}
