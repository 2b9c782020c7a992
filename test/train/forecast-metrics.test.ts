// Forecast metrics against hand-worked values, the rolling-origin protocol, and the baselines on tiny series.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  intervalCoverage, maseScale, meanAbsoluteError, meanAbsoluteScaledError, pinballLossValue, rollingOrigins, scoreRollingOrigin, symmetricMape,
} from '../../src/train/metrics/forecast.js';
import { RidgeAutoregression, naiveForecaster, parseLags, seasonalNaiveForecaster, solveSpd } from '../../src/train/forecast-baselines.js';
import { pinballLoss } from '../../src/train/pinball-loss.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { backward } from '../../src/autograd/engine.js';
import { ValueError } from '../../src/errors.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

// actual 10 20 30 40, forecast 12 18 33 40: errors 2 2 3 0.
const A = [10, 20, 30, 40], F = [12, 18, 33, 40];

test('MAE, sMAPE and MASE equal the hand-worked values', () => {
  close(meanAbsoluteError(A, F), 7 / 4);
  // sMAPE = 100/4 · (4/22 + 4/38 + 6/63 + 0)
  close(symmetricMape(A, F), 25 * (4 / 22 + 4 / 38 + 6 / 63));
  close(symmetricMape([0, 1], [0, 1]), 0, 0); // 0/0 terms count 0
  // scale with season 2 on 1 3 2 5 4 8: |2−1| |5−3| |4−2| |8−5| → 8/4 = 2
  close(maseScale([1, 3, 2, 5, 4, 8], 2), 2);
  close(maseScale([1, 3, 2, 5, 4, 8, 100], 2, 6), 2); // only the training range counts
  close(meanAbsoluteScaledError(A, F, 2), 0.875);
});

test('pinball loss equals the hand-worked value, and the tensor loss equals the metric', () => {
  // q = 0.9, e = y − ŷ = −2 2 −3 0 → max(0.9e, −0.1e) = 0.2 1.8 0.3 0 → 2.3/4
  close(pinballLossValue(A, F, 0.9), 0.575);
  close(pinballLossValue(A, F, 0.5), 0.5 * meanAbsoluteError(A, F));
  const levels = [0.1, 0.5, 0.9];
  const pred = new Tensor(Float32Array.from([12, 12, 13, 18, 19, 25, 30, 33, 35, 39, 40, 40]), [1, 4, 3], true); // (B, H, Q)
  const target = new Tensor(Float32Array.from(A), [1, 4]);
  const loss = pinballLoss(pred, target, levels);
  const byLevel = levels.map((q, k) => pinballLossValue(A, [0, 1, 2, 3].map((h) => pred.data[h * 3 + k]), q));
  close(loss.item(), byLevel.reduce((a, b) => a + b, 0) / 3, 1e-5);
  backward(loss);
  // d/dŷ of max(q·e, (q−1)·e) / 12: −q/12 below the target, (1 − q)/12 above it.
  close(pred.grad!.data[0], (1 - 0.1) / 12, 1e-7); // ŷ = 12 > y = 10 at level 0.1
  close(pred.grad!.data[3], -0.1 / 12, 1e-7); // ŷ = 18 < y = 20 at level 0.1
});

test('interval coverage counts the values inside the band', () => {
  close(intervalCoverage([1, 2, 3, 4], [0, 2.5, 3, 5], [2, 3, 3, 6]), 0.5);
});

test('metrics reject mismatched or empty inputs, and a season with scale 0', () => {
  assert.throws(() => meanAbsoluteError([1, 2], [1]), ValueError);
  assert.throws(() => symmetricMape([], []), /empty/);
  assert.throws(() => maseScale([1, 2, 1, 2], 2), /scale 0/);
  assert.throws(() => maseScale([1, 2], 2), /more than the season/);
});

test('rolling origins step through the period and every forecast stays inside it', () => {
  assert.deepEqual(rollingOrigins(10, 30, 5, 7), [10, 17, 24]);
  assert.throws(() => rollingOrigins(10, 12, 5, 1), /no origin fits/);
  // Two origins, horizon 3, reported at h = 1 and 3; forecasts miss by 1 everywhere.
  const y = Float64Array.from({ length: 12 }, (_, t) => t);
  const s = scoreRollingOrigin(y, [4, 8], [[5, 6, 7], [9, 10, 11]], [1, 3], 2);
  assert.deepEqual(s.map((h) => [h.horizon, h.mae, h.mase, h.points]), [[1, 1, 0.5, 2], [3, 1, 0.5, 6]]);
});

test('naive and seasonal-naive forecasts on a tiny series', () => {
  const y = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.deepEqual([...naiveForecaster(y, 3)(5)], [5, 5, 5]);
  // m = 3 at origin 6: y[3] y[4] y[5], then the same season again.
  assert.deepEqual([...seasonalNaiveForecaster(y, 5, 3)(6)], [4, 5, 6, 4, 5]);
  assert.throws(() => seasonalNaiveForecaster(y, 2, 7)(3), /origin 3/);
});

test('ridge autoregression recovers an exact AR(2) process and reads nothing after the training end', () => {
  // y_t = 5 + sin(0.3t) satisfies (y_t − 5) = 2cos(0.3)(y_{t−1} − 5) − (y_{t−2} − 5): every horizon is linear in two lags.
  const y = Float64Array.from({ length: 200 }, (_, t) => 5 + Math.sin(0.3 * t));
  const poisoned = Float64Array.from(y, (v, t) => (t >= 150 ? NaN : v));
  const ridge = RidgeAutoregression.fit(poisoned, 150, { lags: [1, 2], horizon: 4, lambda: 0 });
  const f = ridge.predict(y, 160);
  for (let h = 0; h < 4; h++) close(f[h], y[160 + h], 1e-6);
  // A strong penalty shrinks toward the training mean.
  const strong = RidgeAutoregression.fit(y, 150, { lags: [1, 2], horizon: 1, lambda: 1e6 });
  close(strong.predict(y, 160)[0], strong.targetMean[0], 1e-4);
  assert.throws(() => RidgeAutoregression.fit(y, 5, { lags: [1, 2, 3], horizon: 2, lambda: 1 }), /training windows/);
});

test('solveSpd solves a small system; parseLags reads ranges', () => {
  // [[4, 2], [2, 3]] x = [2, 1] → x = [0.5, 0]
  const x = solveSpd(Float64Array.from([4, 2, 2, 3]), Float64Array.from([2, 1]), 2, 1);
  close(x[0], 0.5);
  close(x[1], 0);
  assert.deepEqual(parseLags('1-3, 7,5'), [1, 2, 3, 5, 7]);
  assert.throws(() => parseLags('0-3'), /not a lag/);
  assert.throws(() => parseLags(''), /names no lag/);
});
