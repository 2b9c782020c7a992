/**
 * Point and quantile forecast metrics, and the rolling-origin protocol that scores any forecaster
 * (heed's model and the baselines alike) the same way.
 *
 *   MAE   = mean |y − ŷ|
 *   sMAPE = 100 · mean 2|y − ŷ| / (|y| + |ŷ|)           (a term with y = ŷ = 0 counts 0; range 0..200)
 *   MASE  = MAE / scale,  scale = mean_{t ≥ m} |y_t − y_{t−m}| over the training range
 *           (Hyndman & Koehler 2006; m = 7 for daily data: the in-sample seasonal-naive error)
 *   pinball_q = mean max(q(y − ŷ_q), (q − 1)(y − ŷ_q))
 *
 * Rolling origin: a forecaster is asked, at each origin t (every `every` steps through a
 * period), for the next H values given everything before t; errors are pooled over origins and
 * over the first h steps of each forecast, for each reported horizon h.
 *
 * Letters: H forecast horizon, O origins.
 */
import { ValueError } from '../../errors.js';

function checkPair(op: string, actual: ArrayLike<number>, forecast: ArrayLike<number>): void {
  if (actual.length !== forecast.length) throw new ValueError(`${op}: actual has ${actual.length} values, forecast ${forecast.length}; expected equal lengths.`);
  if (actual.length === 0) throw new ValueError(`${op}: received empty series; expected at least one value.`);
}

export function meanAbsoluteError(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  checkPair('meanAbsoluteError', actual, forecast);
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += Math.abs(actual[i] - forecast[i]);
  return s / actual.length;
}

export function symmetricMape(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  checkPair('symmetricMape', actual, forecast);
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]) + Math.abs(forecast[i]);
    if (d > 0) s += (2 * Math.abs(actual[i] - forecast[i])) / d;
  }
  return (100 * s) / actual.length;
}

/** The MASE denominator: mean |y_t − y_{t−m}| over t in [m, end) of the training range. */
export function maseScale(train: ArrayLike<number>, season: number, end = train.length): number {
  if (!Number.isInteger(season) || season < 1) throw new ValueError(`maseScale: season ${season}, expected a positive integer.`);
  if (end <= season) throw new ValueError(`maseScale: ${end} training values, expected more than the season ${season}.`);
  let s = 0;
  for (let t = season; t < end; t++) s += Math.abs(train[t] - train[t - season]);
  const scale = s / (end - season);
  if (!(scale > 0)) throw new ValueError(`maseScale: the training series repeats exactly with period ${season} (scale 0), so MASE is undefined. Fix: use another season.`);
  return scale;
}

export function meanAbsoluteScaledError(actual: ArrayLike<number>, forecast: ArrayLike<number>, scale: number): number {
  return meanAbsoluteError(actual, forecast) / scale;
}

/** Pinball (quantile) loss of the level-q forecast. */
export function pinballLossValue(actual: ArrayLike<number>, forecast: ArrayLike<number>, q: number): number {
  checkPair('pinballLossValue', actual, forecast);
  if (!(q > 0 && q < 1)) throw new ValueError(`pinballLossValue: level ${q}, expected a value in (0, 1).`);
  let s = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = actual[i] - forecast[i];
    s += Math.max(q * e, (q - 1) * e);
  }
  return s / actual.length;
}

/** Origins start, start + every, ... with origin + horizon ≤ end (each forecast lies inside [start, end)). */
export function rollingOrigins(start: number, end: number, horizon: number, every: number): number[] {
  if (!Number.isInteger(every) || every < 1) throw new ValueError(`rollingOrigins: every ${every}, expected a positive integer.`);
  const out: number[] = [];
  for (let t = start; t + horizon <= end; t += every) out.push(t);
  if (out.length === 0) throw new ValueError(`rollingOrigins: the period [${start}, ${end}) is shorter than the horizon ${horizon}; no origin fits.`);
  return out;
}

/** A forecaster under rolling origin: given the origin t, the H values for t .. t+H−1 (seeing only < t). */
export type OriginForecaster = (origin: number) => ArrayLike<number>;

export interface HorizonScores {
  horizon: number;
  mae: number;
  smape: number;
  mase: number;
  /** Point forecasts scored (origins × horizon). */
  points: number;
}

/**
 * Scores forecasts made at each origin against `series`, pooled over origins, for each reported
 * horizon h (its first h steps). `forecasts[o]` is the forecast made at origins[o].
 */
export function scoreRollingOrigin(series: ArrayLike<number>, origins: readonly number[], forecasts: readonly ArrayLike<number>[], horizons: readonly number[], scale: number): HorizonScores[] {
  if (forecasts.length !== origins.length) throw new ValueError(`scoreRollingOrigin: ${forecasts.length} forecasts for ${origins.length} origins.`);
  return horizons.map((h) => {
    const actual: number[] = [], pred: number[] = [];
    origins.forEach((t, o) => {
      if (forecasts[o].length < h) throw new ValueError(`scoreRollingOrigin: the forecast at origin ${t} has ${forecasts[o].length} steps, fewer than the horizon ${h}.`);
      if (t + h > series.length) throw new ValueError(`scoreRollingOrigin: origin ${t} + horizon ${h} runs past the series (${series.length} values).`);
      for (let k = 0; k < h; k++) {
        actual.push(series[t + k]);
        pred.push(forecasts[o][k]);
      }
    });
    const mae = meanAbsoluteError(actual, pred);
    return { horizon: h, mae, smape: symmetricMape(actual, pred), mase: mae / scale, points: actual.length };
  });
}

/** Fraction of actual values inside [lower, upper] (a 10–90% band should cover about 0.8). */
export function intervalCoverage(actual: ArrayLike<number>, lower: ArrayLike<number>, upper: ArrayLike<number>): number {
  checkPair('intervalCoverage', actual, lower);
  checkPair('intervalCoverage', actual, upper);
  let n = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] >= lower[i] && actual[i] <= upper[i]) n++;
  return n / actual.length;
}
