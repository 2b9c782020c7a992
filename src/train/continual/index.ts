/**
 * heed.continual: reusable pieces for learning tasks one after another without forgetting the
 * earlier ones. The `continual` task (src/tasks/continual.ts) runs them on Split Fashion-MNIST.
 *
 *   ReservoirBuffer     experience replay's memory (reservoir sampling)
 *   OnlineEWC           elastic weight consolidation with a running diagonal Fisher
 *   softTargetLoss      learning without forgetting's distillation on the old classes
 *   asymmetricCrossEntropy  ER-ACE's replay loss: new data over the new classes, memory over all
 *   continualMetrics    average accuracy, backward transfer and forgetting of an accuracy matrix
 */
export { ReservoirBuffer } from './reservoir.js';
export { OnlineEWC } from './ewc.js';
export type { EWCOptions } from './ewc.js';
export { softTargetLoss } from './distill.js';
export type { SoftTargetOptions } from './distill.js';
export { asymmetricCrossEntropy } from './ace.js';
export type { AsymmetricCrossEntropyOptions } from './ace.js';
export { continualMetrics } from './metrics.js';
export type { ContinualSummary } from './metrics.js';
