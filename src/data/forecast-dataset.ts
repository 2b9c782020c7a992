/**
 * A time-series frame cut for forecasting: chronological train / valid / test periods, a
 * StandardScaler per series fitted on the training period only, and model inputs for any
 * (series, origin) pair.
 *
 *   |<------------------ train ------------------>|<--- valid --->|<--- test --->|
 *   0                                        validStart      testStart           T
 *
 * Training windows are (series, origin t) with context [t − L, t) and target [t, t + H) inside
 * the training period, so no training target is ever read from valid or test. Forecasts for valid
 * and test are made at rolling origins inside those periods from the actual history before each
 * origin (which, for test, includes the validation period).
 *
 * Letters: T grid steps, S series, L context length, H horizon, F calendar fields.
 */
import { ConfigError, ValueError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { StandardScaler } from './scaler.js';
import { NUM_CALENDAR_FIELDS, calendarIndices } from './calendar.js';
import type { TimeSeriesFrame } from './timeseries.js';

export type ForecastSplit = 'train' | 'valid' | 'test';

export interface ForecastDatasetOptions {
  contextLength: number;
  horizon: number;
  validSteps: number;
  testSteps: number;
  /** MASE season m: the training period must be longer than it. */
  season: number;
}

/** One model instance: series s, forecasting from origin t. */
export interface WindowRef {
  series: number;
  origin: number;
}

export class ForecastDataset {
  readonly T: number;
  readonly validStart: number;
  readonly testStart: number;
  /** One per series, fitted on [0, validStart). */
  readonly scalers: StandardScaler[];
  /** S arrays of (T,), each series scaled by its own training-period scaler. */
  readonly scaled: Float32Array[];

  constructor(readonly frame: TimeSeriesFrame, readonly options: ForecastDatasetOptions) {
    const { contextLength: L, horizon: H, validSteps, testSteps, season } = options;
    this.T = frame.time.length;
    this.testStart = this.T - testSteps;
    this.validStart = this.testStart - validSteps;
    const need = L + H + Math.max(season, 1);
    if (validSteps < H || testSteps < H || this.validStart < need) {
      throw new ConfigError(
        `forecast: ${this.T} steps cannot hold a training period of at least ${need} (contextLength ${L} + horizon ${H} + season ${season}) ` +
          `followed by validSteps ${validSteps} and testSteps ${testSteps} (each ≥ horizon ${H}). Fix: lower validSteps/testSteps or contextLength, or use a longer series.`,
      );
    }
    this.scalers = frame.values.map((v) => StandardScaler.fit(v, this.validStart));
    this.scaled = frame.values.map((v, s) => Float32Array.from(v, (x) => this.scalers[s].transform(x)));
  }

  get numSeries(): number {
    return this.frame.names.length;
  }

  /** [start, end) of a split's period: train = [0, validStart), valid, test. */
  period(split: ForecastSplit): [number, number] {
    if (split === 'train') return [0, this.validStart];
    if (split === 'valid') return [this.validStart, this.testStart];
    if (split === 'test') return [this.testStart, this.T];
    throw new ValueError(`forecast: split '${String(split)}', expected train, valid or test.`);
  }

  /**
   * Every training window: origins t with L ≤ t and t + H ≤ end, for every series. `end` is
   * validStart (the default: nothing read from valid or test) or testStart, to refit on train +
   * valid once the configuration has been chosen on valid.
   */
  trainingWindows(end: number = this.validStart): WindowRef[] {
    if (end !== this.validStart && end !== this.testStart) throw new ValueError(`forecast: training windows end at validStart (${this.validStart}) or testStart (${this.testStart}), received ${end}.`);
    const { contextLength: L, horizon: H } = this.options;
    const out: WindowRef[] = [];
    for (let s = 0; s < this.numSeries; s++) for (let t = L; t + H <= end; t++) out.push({ series: s, origin: t });
    return out;
  }

  /** Timestamp of grid step t (t may run past the data: the future continues the grid). */
  timeAt(t: number): number {
    return this.frame.time[0] + t * this.frame.stepMs;
  }

  /**
   * Model inputs for windows: context (B, L) scaled values before each origin, calendar
   * (B, H, F) of the forecast steps, and target (B, H) scaled values when every one is known.
   */
  inputs(windows: readonly WindowRef[]): { context: Tensor; calendar: Tensor; target: Tensor | null } {
    const { contextLength: L, horizon: H } = this.options;
    const B = windows.length;
    const context = new Float32Array(B * L);
    const calendar = new Int32Array(B * H * NUM_CALENDAR_FIELDS);
    const target = new Float32Array(B * H);
    let known = true;
    windows.forEach(({ series, origin }, b) => {
      if (origin < L || origin > this.T) throw new ValueError(`forecast: origin ${origin} needs ${L} values before it and must be ≤ ${this.T}.`);
      const z = this.scaled[series];
      context.set(z.subarray(origin - L, origin), b * L);
      for (let h = 0; h < H; h++) {
        calendarIndices(this.timeAt(origin + h), calendar, (b * H + h) * NUM_CALENDAR_FIELDS);
        if (origin + h < this.T) target[b * H + h] = z[origin + h];
        else known = false;
      }
    });
    return {
      context: new Tensor(context, [B, L]),
      calendar: new Tensor(calendar, [B, H, NUM_CALENDAR_FIELDS]),
      target: known ? new Tensor(target, [B, H]) : null,
    };
  }
}
