/**
 * Forecasting baselines, each an OriginForecaster (src/train/metrics/forecast.ts) so they are
 * scored by exactly the protocol the model is:
 *   - naive: every step repeats the last value;
 *   - seasonal naive with period m: step k repeats the value one (or more) whole periods back,
 *     ŷ_{t+k} = y_{t+k−m·(⌊k/m⌋+1)} (m = 7: last week; m = 364: the same weekday 52 weeks ago);
 *   - ridge linear autoregression on lags, direct strategy: one linear map from the lagged values
 *     y_{t−l} (l in `lags`) to all H future values, fitted in closed form,
 *     W = (XᵀX + λI)⁻¹XᵀY on centred, training-scaled data (the intercept is not penalised).
 *
 * Letters: H horizon, P lags, N training rows.
 */
import { ValueError } from '../errors.js';
import type { OriginForecaster } from './metrics/forecast.js';

function checkOrigin(op: string, origin: number, need: number): void {
  if (!Number.isInteger(origin) || origin < need) throw new ValueError(`${op}: origin ${origin}, expected an integer ≥ ${need} (that much history before it).`);
}

/** ŷ_{t+k} = y_{t−1} for k = 0..H−1. */
export function naiveForecaster(series: ArrayLike<number>, horizon: number): OriginForecaster {
  return (t) => {
    checkOrigin('naiveForecaster', t, 1);
    return new Float64Array(horizon).fill(series[t - 1]);
  };
}

/** ŷ_{t+k} = y_{t+k−m·(⌊k/m⌋+1)}: the last full season, repeated. */
export function seasonalNaiveForecaster(series: ArrayLike<number>, horizon: number, season: number): OriginForecaster {
  if (!Number.isInteger(season) || season < 1) throw new ValueError(`seasonalNaiveForecaster: season ${season}, expected a positive integer.`);
  return (t) => {
    checkOrigin(`seasonalNaiveForecaster(${season})`, t, season);
    return Float64Array.from({ length: horizon }, (_, k) => series[t + k - season * (Math.floor(k / season) + 1)]);
  };
}

/** Solves A x = b for symmetric positive definite A (P×P, row-major) by Cholesky; b is P×H, solved in place. */
export function solveSpd(A: Float64Array, b: Float64Array, P: number, H: number): Float64Array {
  const L = new Float64Array(P * P);
  for (let i = 0; i < P; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * P + j];
      for (let k = 0; k < j; k++) s -= L[i * P + k] * L[j * P + k];
      if (i === j) {
        if (!(s > 0)) throw new ValueError(`solveSpd: the matrix is not positive definite (pivot ${i} is ${s}). Fix: raise the ridge penalty.`);
        L[i * P + i] = Math.sqrt(s);
      } else {
        L[i * P + j] = s / L[j * P + j];
      }
    }
  }
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < P; i++) { // L z = b
      let s = b[i * H + h];
      for (let k = 0; k < i; k++) s -= L[i * P + k] * b[k * H + h];
      b[i * H + h] = s / L[i * P + i];
    }
    for (let i = P - 1; i >= 0; i--) { // Lᵀ x = z
      let s = b[i * H + h];
      for (let k = i + 1; k < P; k++) s -= L[k * P + i] * b[k * H + h];
      b[i * H + h] = s / L[i * P + i];
    }
  }
  return b;
}

export interface RidgeOptions {
  /** Lags l ≥ 1: the features are y_{t−l}. */
  lags: readonly number[];
  horizon: number;
  /** Ridge penalty λ on the standardized features (≥ 0). */
  lambda: number;
}

/** A fitted direct multi-horizon ridge autoregression. */
export class RidgeAutoregression {
  private constructor(
    readonly options: RidgeOptions,
    /** (P, H) weights on centred lag features. */
    readonly weights: Float64Array,
    readonly featureMean: Float64Array,
    readonly targetMean: Float64Array,
  ) {}

  /**
   * Fits on windows whose lags and targets all lie in series[0, end): origins t with
   * maxLag ≤ t and t + H ≤ end. Nothing at or after `end` is read.
   */
  static fit(series: ArrayLike<number>, end: number, options: RidgeOptions): RidgeAutoregression {
    const { lags, horizon: H, lambda } = options;
    if (lags.length === 0 || lags.some((l) => !Number.isInteger(l) || l < 1)) throw new ValueError(`RidgeAutoregression: lags [${lags.join(', ')}], expected positive integers.`);
    if (!(lambda >= 0)) throw new ValueError(`RidgeAutoregression: lambda ${lambda}, expected ≥ 0.`);
    const P = lags.length;
    const maxLag = Math.max(...lags);
    const N = end - H - maxLag + 1;
    if (N < P + 1) throw new ValueError(`RidgeAutoregression: ${N} training windows for ${P} lags and horizon ${H}; expected more than ${P}. Fix: use fewer lags or a longer training range.`);
    const xm = new Float64Array(P), ym = new Float64Array(H);
    for (let t = maxLag; t + H <= end; t++) {
      for (let p = 0; p < P; p++) xm[p] += series[t - lags[p]] / N;
      for (let h = 0; h < H; h++) ym[h] += series[t + h] / N;
    }
    const xtx = new Float64Array(P * P), xty = new Float64Array(P * H);
    const x = new Float64Array(P);
    for (let t = maxLag; t + H <= end; t++) {
      for (let p = 0; p < P; p++) x[p] = series[t - lags[p]] - xm[p];
      for (let i = 0; i < P; i++) {
        for (let j = 0; j <= i; j++) xtx[i * P + j] += x[i] * x[j];
        for (let h = 0; h < H; h++) xty[i * H + h] += x[i] * (series[t + h] - ym[h]);
      }
    }
    // λ is relative to the average feature variance, so one λ means the same on any units.
    let trace = 0;
    for (let i = 0; i < P; i++) trace += xtx[i * P + i];
    for (let i = 0; i < P; i++) {
      for (let j = 0; j < i; j++) xtx[j * P + i] = xtx[i * P + j];
      xtx[i * P + i] += lambda * (trace / P) + 1e-12 * trace;
    }
    return new RidgeAutoregression(options, solveSpd(xtx, xty, P, H), xm, ym);
  }

  /** The H values after origin t, from series[t − l] for each lag. */
  predict(series: ArrayLike<number>, t: number): Float64Array {
    const { lags, horizon: H } = this.options;
    checkOrigin('RidgeAutoregression.predict', t, Math.max(...lags));
    const out = Float64Array.from(this.targetMean);
    for (let p = 0; p < lags.length; p++) {
      const x = series[t - lags[p]] - this.featureMean[p];
      for (let h = 0; h < H; h++) out[h] += x * this.weights[p * H + h];
    }
    return out;
  }

  forecaster(series: ArrayLike<number>): OriginForecaster {
    return (t) => this.predict(series, t);
  }
}

/** '1-28,357-371' → [1, ..., 28, 357, ..., 371]: the lag-list syntax of the ridgeLags config key. */
export function parseLags(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN, hi = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || lo < 1 || hi < lo || hi > 100_000) throw new ValueError(`lags: '${part}' in '${text}' is not a lag or range; expected e.g. 1-28,364.`);
    for (let l = lo; l <= hi; l++) out.add(l);
  }
  if (out.size === 0) throw new ValueError(`lags: '${text}' names no lag; expected e.g. 1-28,364.`);
  return [...out].sort((a, b) => a - b);
}
