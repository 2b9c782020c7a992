/** Optimizers, learning-rate schedules and gradient clipping (heed's torch.optim). */
export { Optimizer, paramGroups, isNoDecay } from './optimizer.js';
export type { OptimizerStateDict, ParamsInput, HasNamedParameters } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { Adam, AdamW } from './adam.js';
export type { AdamOptions } from './adam.js';
export { LRScheduler, lrFactor, SCHEDULE_KINDS } from './schedule.js';
export type { ScheduleKind, ScheduleOptions } from './schedule.js';
export { clipGradNorm, gradNorm } from './clip.js';
