/**
 * heed — attention models in TypeScript. This file is the only public entry point.
 *
 *   import * as heed from 'heed';
 *   const q = heed.randn([1, 4, 16, 32]);
 *   const out = heed.scaledDotProductAttention(q, q, q, { isCausal: true });
 */
import './ops/methods.js';

export { Tensor } from './tensor/tensor.js';
export type { NestedArray } from './tensor/tensor.js';
export type { DType } from './tensor/dtype.js';
export { tensor, scalar, zeros, ones, full, zerosLike, onesLike, arange, eye, rand, randn, randint } from './tensor/creation.js';
export type { CreateOptions, RandomOptions } from './tensor/creation.js';
export { Generator, manualSeed, getRngState, setRngState } from './tensor/rng.js';
export * from './ops/index.js';
export { noGrad, isGradEnabled, setGradEnabled } from './autograd/mode.js';
export { gradcheck } from './autograd/gradcheck.js';
export type { GradcheckOptions, GradcheckResult } from './autograd/gradcheck.js';
export { setBackend, getBackend, backendInfo, setNumThreads } from './backend/registry.js';
export type { BackendInfo, BackendName } from './backend/registry.js';
export * from './errors.js';
export { VERSION } from './version.js';
export * as nn from './nn/index.js';
export * as models from './models/index.js';
export * as optim from './train/optim/index.js';
export { Trainer } from './train/trainer.js';
export type { TrainerOptions, TrainerTask, TrainResult } from './train/trainer.js';
export { getEntities, getEntitiesStrict, detectScheme, TAG_SCHEMES } from './train/metrics/entity-spans.js';
export type { EntitySpan, EntityOptions, TagScheme } from './train/metrics/entity-spans.js';
export { entityReport, formatEntityReport } from './train/metrics/entity-report.js';
export type { EntityReport, EntityReportOptions } from './train/metrics/entity-report.js';
export { corpusBleu, computeBleu, BLEU_SMOOTHING } from './train/metrics/bleu.js';
export type { BleuOptions, BleuScore, BleuSmoothing } from './train/metrics/bleu.js';
export { corpusChrf, chrfFromStatistics } from './train/metrics/chrf.js';
export type { ChrfOptions, ChrfScore } from './train/metrics/chrf.js';
export { tokenize13a } from './train/metrics/tokenizer-13a.js';
export { repairTags, constrainedDecode } from './train/tag-repair.js';
export type { RepairOptions } from './train/tag-repair.js';
export { saveCheckpoint, loadCheckpoint } from './io/checkpoint.js';
export { TASKS, loadPredictor, evaluate } from './tasks/index.js';
export type { ModelDirs } from './tasks/index.js';
