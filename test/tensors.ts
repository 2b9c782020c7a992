/**
 * Comparing tensors in tests: the one max-abs-difference helper every numerical test uses.
 */
import assert from 'node:assert/strict';
import type { Tensor } from '../src/index.ts';

/** The largest |a[i] − b[i]|, after asserting that the two tensors have the same shape. */
export function maxDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape, 'maxDiff: the tensors have different shapes');
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}
