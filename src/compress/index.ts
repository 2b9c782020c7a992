/** Model compression: int8 quantization, pruning (weights and attention heads) and distillation (issue 15). */
export { quantizeDynamic } from './quantize-dynamic.js';
export type { QuantizeDynamicOptions, QuantizeDynamicResult } from './quantize-dynamic.js';
export { quantizeStatic } from './quantize-static.js';
export type { QuantizeStaticOptions, QuantizeStaticResult } from './quantize-static.js';
export { magnitudePrune, GradualPruning, PruningMask } from './magnitude-prune.js';
export type { MagnitudePruneOptions, GradualPruningOptions } from './magnitude-prune.js';
export { headImportance, headMagnitudeImportance, headsToPrune, pruneHeads, prunedHeadsOf, attentionLayers } from './prune-heads.js';
export type { HeadPruningPlan } from './prune-heads.js';
export { distillationLoss, softTargetKL } from './distill.js';
export type { DistillationLossOptions } from './distill.js';
export { compressionOf, applyCompression } from './record.js';
