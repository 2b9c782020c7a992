/**
 * The statistical oracle for dropout, shared by the op test (test/ops/parity.test.ts) and the
 * module test (test/nn/layers.test.ts): every output is either exactly 0 or exactly x/(1 − p),
 * and the kept fraction is within 5 standard deviations of 1 − p (binomial: sd = √(p(1 − p)/n)).
 * For n = 40,000 and p = 0.5 the band is ±1.25%, so dropping everything, nothing, or the wrong
 * fraction fails, while a correct mask fails with probability < 1e-6.
 */
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/index.ts';

/** Checks y = dropout(x, p); x must have no zeros (so a dropped element is unambiguous). Returns the kept fraction. */
export function assertDropoutStatistics(x: Tensor, y: Tensor, p: number, what: string): number {
  assert.deepEqual([...y.shape], [...x.shape], `${what}: shape`);
  const scale = 1 / (1 - p);
  let kept = 0;
  for (let i = 0; i < x.size; i++) {
    const v = y.data[i];
    if (v === 0) continue;
    kept++;
    const want = Math.fround(x.data[i] * scale);
    assert.ok(Math.abs(v - want) <= 1e-6 * Math.abs(want), `${what}[${i}]: kept value ${v}, expected x·1/(1 − p) = ${want}`);
  }
  const n = x.size, rate = kept / n, sd = Math.sqrt(p * (1 - p) / n);
  assert.ok(Math.abs(rate - (1 - p)) <= 5 * sd, `${what}: kept ${kept} of ${n} (${rate.toFixed(4)}), expected ${1 - p} ± ${(5 * sd).toFixed(4)}`);
  return rate;
}
