/**
 * StandardScaler for series: (x − mean) / std, with mean and std fitted on a training range only.
 *
 * Fitting on the whole series would leak the validation and test periods' level into training
 * (a model would learn from the future's mean); fitting on [0, end) cannot.
 * test/data/timeseries.test.ts checks that changing values after `end` leaves the scaler unchanged.
 */
import { ValueError } from '../errors.js';

export interface ScalerState {
  mean: number;
  std: number;
}

export class StandardScaler {
  constructor(readonly mean: number, readonly std: number) {
    if (!Number.isFinite(mean) || !(std > 0) || !Number.isFinite(std)) {
      throw new ValueError(`StandardScaler: mean ${mean}, std ${std}; expected a finite mean and a positive finite std.`);
    }
  }

  /** Fits on values[0, end): the training range, nothing after it. A constant range gets std 1. */
  static fit(values: ArrayLike<number>, end = values.length): StandardScaler {
    if (!(end >= 1) || end > values.length) throw new ValueError(`StandardScaler.fit: end ${end}, expected 1..${values.length}.`);
    let sum = 0;
    for (let t = 0; t < end; t++) sum += values[t];
    const mean = sum / end;
    let sq = 0;
    for (let t = 0; t < end; t++) sq += (values[t] - mean) ** 2;
    const std = Math.sqrt(sq / end);
    return new StandardScaler(mean, std > 0 ? std : 1);
  }

  static fromState(s: ScalerState): StandardScaler {
    return new StandardScaler(s.mean, s.std);
  }

  state(): ScalerState {
    return { mean: this.mean, std: this.std };
  }

  transform(x: number): number {
    return (x - this.mean) / this.std;
  }

  inverse(z: number): number {
    return z * this.std + this.mean;
  }
}
