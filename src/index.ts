/**
 * heed — attention models in TypeScript. This file is the only public entry point: every name
 * the README, the docs or an error message tells a user to use is exported here.
 *
 *   import * as heed from 'heed';
 *   const q = heed.randn([1, 4, 16, 32]);
 *   const out = heed.scaledDotProductAttention(q, q, q, { isCausal: true });
 *
 * Groups: tensors and creation; the functional ops (and, through them, the Tensor methods
 * t.add(u), t.reshape(s), t.backward(), ...); autograd; backends; errors; `nn`, `models` and
 * `optim` as namespaces; training (Trainer, adversarial training, metrics); data (vocabularies,
 * batching, padding); io (safetensors, checkpoint directories); trained models (tasks,
 * loadPredictor, evaluate). test/api/package.test.ts imports each of them from the built package.
 */
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
// Compression: dynamic int8 quantization of Linear layers into nn.QuantizedLinear.
export { quantizeDynamic } from './compress/index.js';
export type { QuantizeDynamicOptions, QuantizeDynamicResult } from './compress/index.js';
// Compression: magnitude and attention-head pruning, distillation loss, a checkpoint's compression record.
export { magnitudePrune, GradualPruning, PruningMask, headImportance, headsToPrune, pruneHeads, prunedHeadsOf, attentionLayers, distillationLoss, softTargetKL, compressionOf, applyCompression } from './compress/index.js';
export type { MagnitudePruneOptions, GradualPruningOptions, HeadPruningPlan, DistillationLossOptions } from './compress/index.js';
export * as optim from './train/optim/index.js';
export * as continual from './train/continual/index.js';
export { Trainer } from './train/trainer.js';
export type { TrainerOptions, TrainerTask, TrainResult } from './train/trainer.js';

// Training: the Trainer's adversarial training on embeddings, and the evaluation metrics.
export { AdversarialEmbedding } from './train/adversarial.js';
export type { AdversarialOptions, HookableModule } from './train/adversarial.js';
export { editDistance, wordErrorRate, phonemeErrorRate, classificationReport, formatClassificationReport } from './train/metrics.js';
export type { ClassScores, ClassificationReport, ClassificationReportOptions } from './train/metrics.js';
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

// Data: vocabularies (ids 0..3 are <pad>, <bos>, <eos>, <unk>), length-bucketed batching, padding.
export { Vocab, PAD_ID, BOS_ID, EOS_ID, UNK_ID, SPECIAL_TOKENS } from './data/vocab.js';
export type { EncodeOptions, DecodeOptions, VocabJSON } from './data/vocab.js';
export { BatchIterator, padSequences } from './data/batching.js';
export type { BatchingOptions, BatchIteratorState, PaddedBatch } from './data/batching.js';

// io: safetensors files (read and written without executing anything from them) and checkpoint
// directories (config.json + model.safetensors + vocabularies + optional optimizer state).
export { readSafetensors, writeSafetensors, parseSafetensors, serializeSafetensors, toFloat32, toInt32 } from './io/safetensors.js';
export type { RawTensor, RawTensorData, SafetensorsDType, SafetensorsFile } from './io/safetensors.js';
export { saveCheckpoint, loadCheckpoint, readModelConfig, loadOptimizerState, loadTrainerState, recoverCheckpoint } from './io/checkpoint.js';
export type { CheckpointContents, LoadedCheckpoint, ModelConfigFile } from './io/checkpoint.js';
export type { OptimizerStateDict } from './io/optimizer-state.js';

// Trained models: the task registry, a model directory (or an ensemble of them) as a Predictor, evaluation.
export { TASKS, getTask, loadPredictor, evaluate } from './tasks/index.js';
export type { ModelDirs } from './tasks/index.js';
export type { EvalResult, TaskDefinition } from './tasks/common.js';
export type { Predictor, Prediction, PredictOptions, AttentionMap } from './tasks/predictor.js';
