/**
 * Learning-rate schedules. Each is a factor f(step) of the base learning rate, as PyTorch's
 * LambdaLR: after `scheduler.step()` has been called t times, every group's lr is baseLr·f(t).
 *
 *   constant      f = 1 (after optional warmup)
 *   linear        warmup 0 → 1 over warmupSteps, then linear decay to minLrRatio at totalSteps
 *   cosine        warmup, then ½(1 + cos(π·progress)) from 1 to minLrRatio at totalSteps
 *   inverseSqrt   warmup, then √(warmupSteps / t)   (Vaswani et al. 2017, "noam" without d^-½)
 *   step          gamma^⌊t / stepSize⌋               (torch.optim.lr_scheduler.StepLR)
 *
 * Warmup is linear: f = t / warmupSteps for t < warmupSteps (transformers' get_*_schedule_with_warmup).
 */
import { ValueError, CheckpointError } from '../../errors.js';

export type ScheduleKind = 'constant' | 'linear' | 'cosine' | 'inverseSqrt' | 'step';
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['constant', 'linear', 'cosine', 'inverseSqrt', 'step'];

export interface ScheduleOptions {
  kind: ScheduleKind;
  warmupSteps?: number;
  /** Steps at which linear/cosine reach their floor. Required for those two. */
  totalSteps?: number;
  /** Floor of linear/cosine decay as a fraction of the base lr. Default 0. */
  minLrRatio?: number;
  /** For 'step': decay every stepSize steps by gamma. */
  stepSize?: number;
  gamma?: number;
}

/** The factor of the base lr after `t` scheduler steps. */
export function lrFactor(o: ScheduleOptions, t: number): number {
  const warmup = o.warmupSteps ?? 0;
  const floor = o.minLrRatio ?? 0;
  if (o.kind === 'step') return Math.pow(o.gamma ?? 0.1, Math.floor(t / (o.stepSize ?? 1)));
  if (t < warmup) return t / warmup;
  switch (o.kind) {
    case 'constant':
      return 1;
    case 'inverseSqrt':
      return warmup > 0 ? Math.sqrt(warmup / Math.max(t, 1)) : 1 / Math.sqrt(Math.max(t, 1));
    case 'linear':
    case 'cosine': {
      const total = o.totalSteps!;
      const progress = Math.min(1, Math.max(0, (t - warmup) / Math.max(1, total - warmup)));
      const shape = o.kind === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
      return floor + (1 - floor) * shape;
    }
  }
}

export function validateSchedule(o: ScheduleOptions): void {
  if (!SCHEDULE_KINDS.includes(o.kind)) {
    throw new ValueError(`LRScheduler: kind='${String(o.kind)}', expected one of ${SCHEDULE_KINDS.join(', ')}.`);
  }
  const int = (name: string, v: unknown, min: number) => {
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < min)) throw new ValueError(`LRScheduler: ${name}=${String(v)}, expected an integer ≥ ${min}.`);
  };
  int('warmupSteps', o.warmupSteps, 0);
  int('totalSteps', o.totalSteps, 1);
  int('stepSize', o.stepSize, 1);
  if ((o.kind === 'linear' || o.kind === 'cosine') && o.totalSteps === undefined) {
    throw new ValueError(`LRScheduler: kind='${o.kind}' needs totalSteps (the step at which the lr reaches its floor).`);
  }
  if (o.minLrRatio !== undefined && !(o.minLrRatio >= 0 && o.minLrRatio <= 1)) throw new ValueError(`LRScheduler: minLrRatio=${o.minLrRatio}, expected a value in [0, 1].`);
  if (o.gamma !== undefined && !(o.gamma > 0)) throw new ValueError(`LRScheduler: gamma=${o.gamma}, expected a positive number.`);
}

/** Anything with parameter groups holding an `lr` (every Optimizer). */
export interface HasLr {
  paramGroups: { hyper: { lr: number } & Record<string, number | boolean> }[];
}

export class LRScheduler {
  readonly baseLrs: number[];
  /** Scheduler steps taken so far. */
  stepCount = 0;

  /** Sets each group's lr to baseLr · f(0) right away (0 during warmup, as PyTorch's LambdaLR). */
  constructor(readonly optimizer: HasLr, readonly options: ScheduleOptions) {
    validateSchedule(options);
    this.baseLrs = optimizer.paramGroups.map((g) => g.hyper.lr);
    this.apply();
  }

  /** Advances one step and updates the learning rates. Call after optimizer.step(). */
  step(): void {
    this.stepCount++;
    this.apply();
  }

  /**
   * Jumps to (possibly fractional) step `t` and updates the learning rates. Used to run a schedule
   * over a time budget instead of a step count (Trainer option scheduleByTime).
   */
  setStep(t: number): void {
    this.stepCount = t;
    this.apply();
  }

  /** Current lr of each group. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.hyper.lr);
  }

  stateDict(): { stepCount: number; baseLrs: number[] } {
    return { stepCount: this.stepCount, baseLrs: [...this.baseLrs] };
  }

  loadStateDict(sd: { stepCount: number; baseLrs: number[] }): void {
    if (!Number.isInteger(sd?.stepCount) || !Array.isArray(sd.baseLrs) || sd.baseLrs.length !== this.baseLrs.length) {
      throw new CheckpointError(`LRScheduler.loadStateDict: expected {stepCount, baseLrs: [${this.baseLrs.length} numbers]}, received ${JSON.stringify(sd)}.`);
    }
    this.stepCount = sd.stepCount;
    sd.baseLrs.forEach((v, i) => (this.baseLrs[i] = v));
    this.apply();
  }

  private apply(): void {
    const f = lrFactor(this.options, this.stepCount);
    this.optimizer.paramGroups.forEach((g, i) => (g.hyper.lr = this.baseLrs[i] * f));
  }
}
