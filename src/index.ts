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
export { inferenceMode } from './autograd/inference.js';
export { markWeightsChanged, weightsVersion } from './nn/weights-version.js';
export { setFusedEncoderEnabled } from './models/fused-encoder.js';
export { setFusedCnnEnabled } from './models/fused-cnn.js';
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
// Compression: static int8 quantization (activation scales calibrated on a sample).
export { quantizeStatic } from './compress/index.js';
export type { QuantizeStaticOptions, QuantizeStaticResult } from './compress/index.js';
// Compression: magnitude and attention-head pruning, distillation loss, a checkpoint's compression record.
export { magnitudePrune, GradualPruning, PruningMask, headImportance, headMagnitudeImportance, headsToPrune, pruneHeads, prunedHeadsOf, attentionLayers, distillationLoss, softTargetKL, compressionOf, applyCompression } from './compress/index.js';
export type { MagnitudePruneOptions, GradualPruningOptions, HeadPruningPlan, DistillationLossOptions } from './compress/index.js';
// ONNX export (opset 17): whole graphs, or encoder + decoder step / GPT with past key/values.
export { exportOnnx, writeOnnx } from './compress/onnx/export.js';
export type { OnnxExport, OnnxGraphFile } from './compress/onnx/export.js';
export * as optim from './train/optim/index.js';
export * as continual from './train/continual/index.js';
export { Trainer } from './train/trainer.js';
// Parameter-efficient fine-tuning (LoRA, bottleneck adapters, prefix tuning) with peft-layout adapter files.
export * as peft from './train/peft/index.js';
export { getPeftModel } from './train/peft/index.js';
export type { TrainerOptions, TrainerTask, TrainResult } from './train/trainer.js';

// Training: the Trainer's adversarial training on embeddings, and the evaluation metrics.
export { AdversarialEmbedding } from './train/adversarial.js';
export type { AdversarialOptions, HookableModule } from './train/adversarial.js';
export { editDistance, wordErrorRate, phonemeErrorRate, classificationReport, formatClassificationReport, confusionMatrix } from './train/metrics.js';
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

// Recommendation: ranking metrics, negative sampling, the next-item protocol (SASRec's sampled and
// full ranking), MovieTweetings preparation, and the PopRec / BPR-MF baselines.
export { hitRateAtK, ndcgAtK, rankAmong, fullRank, topK } from './train/metrics/ranking.js';
export { sampleNegative, sampleNegatives } from './data/negative-sampling.js';
export { rankNextItems, summarizeRanks, historyAndTarget } from './train/next-item-eval.js';
export type { NextItemScorer, NextItemEvalOptions, NextItemRanks } from './train/next-item-eval.js';
export { loadMovieTweetings, prepareSequences, parseRatings, parseMovies, trainItemCounts } from './data/movietweetings.js';
export type { MovieTweetings, SequenceSplit, Interaction, ItemInfo } from './data/movietweetings.js';
export { popularityScorer, bprScorer, trainBPR } from './tasks/recommend-baselines.js';
export type { BPRTrainOptions } from './tasks/recommend-baselines.js';
export type { RecommendPrediction, Recommendation } from './tasks/recommend-predictor.js';

// Data: vocabularies (ids 0..3 are <pad>, <bos>, <eos>, <unk>), length-bucketed batching, padding.
export { Vocab, PAD_ID, BOS_ID, EOS_ID, UNK_ID, SPECIAL_TOKENS } from './data/vocab.js';
export type { EncodeOptions, DecodeOptions, VocabJSON } from './data/vocab.js';
export { BatchIterator, padSequences } from './data/batching.js';
export type { BatchingOptions, BatchIteratorState, PaddedBatch } from './data/batching.js';
// Data files: a DataLoader over examples; streamed CSV/TSV/JSONL tables, CoNLL and text lines (errors name file:line:column).
export { DataLoader } from './data/data-loader.js';
export type { DataLoaderOptions } from './data/data-loader.js';
export { readTable, tableFormatOf, TABLE_FORMATS } from './data/table.js';
export type { TableFormat, TableOptions, TableRow } from './data/table.js';
export { readConll } from './data/conll.js';
export type { ConllFile, ConllOptions, ConllSentence, ConllScheme } from './data/conll.js';
export { readLines, readTextChunks } from './data/text-stream.js';
export type { NumberedLine, ReadTextOptions } from './data/text-stream.js';

// io: safetensors files (read and written without executing anything from them) and checkpoint
// directories (config.json + model.safetensors + vocabularies + optional optimizer state).
export { readSafetensors, writeSafetensors, parseSafetensors, serializeSafetensors, toFloat32, toInt32 } from './io/safetensors.js';
export type { RawTensor, RawTensorData, SafetensorsDType, SafetensorsFile } from './io/safetensors.js';
export { saveCheckpoint, loadCheckpoint, readModelConfig, loadOptimizerState, loadTrainerState, recoverCheckpoint } from './io/checkpoint.js';
export type { CheckpointContents, LoadedCheckpoint, ModelConfigFile } from './io/checkpoint.js';
export type { OptimizerStateDict } from './io/optimizer-state.js';
// Hugging Face checkpoint directories (config.json + model.safetensors or shards): BERT, RoBERTa,
// DistilBERT, GPT-2 and ViT as heed models, and the heed ↔ HF name maps (for PEFT's target modules).
export { fromPretrained, savePretrained } from './models/pretrained.js';
export type { PretrainedModel, PretrainedLoadReport, FromPretrainedOptions, SavePretrainedOptions } from './models/pretrained.js';
// 16-bit weight storage for inference (fromPretrained's dtype: 'float16' | 'bfloat16'), widened where used.
export { toHalfStorage, HalfLinear, HalfEmbedding } from './models/half-storage.js';
export type { HalfDtype } from './models/half-storage.js';
export { HF_ARCHITECTURES, hfArchitecture, heedToHf, hfToHeed } from './io/hf/index.js';
export type { HfArchitecture, NameMap, NameRule, MappedName } from './io/hf/index.js';

// Trained models: the task registry, a model directory (or an ensemble of them) as a Predictor, evaluation.
export { TASKS, getTask, loadPredictor, evaluate, registerTask, defineTask, taskNames, importTaskModules } from './tasks/index.js';
export type { ModelDirs } from './tasks/index.js';
export type { CustomTask, TaskContext, TaskData, TaskPrediction, TaskPredictor, BatchConfig } from './tasks/define-task.js';
export type { EvalResult, TaskDefinition } from './tasks/common.js';
export type { Predictor, Prediction, PredictOptions, AttentionMap } from './tasks/predictor.js';

// Tokenizers: Hugging Face tokenizer.json / vocab.txt / vocab.json + merges.txt, same ids, with
// truncation, padding, offsets and word ids; checkTokenizerVocabSize for the model loader.
export { Tokenizer, loadTokenizer, tokenizerFromJSON, bertTokenizerFromVocab, gpt2TokenizerFromFiles, checkTokenizerVocabSize } from './data/tokenizers/index.js';
export type { AddedToken, BatchEncoding, Encoding, TokenizerCallOptions, TruncationStrategy } from './data/tokenizers/index.js';

// Forecasting: time series from CSV (gap and duplicate policies) or the births preset, train-only
// scaling, calendar features, the pinball loss, forecast metrics, rolling-origin scoring and baselines.
export { parseTimeSeriesCsv, readTimeSeriesCsv, loadBirths, regularize, parseTimestamp, formatTimestamp } from './data/timeseries.js';
export type { TimeSeriesFrame, TimeSeriesCsvOptions, RegularizeOptions, GapPolicy, DuplicatePolicy, TimeSeriesRow } from './data/timeseries.js';
export { StandardScaler } from './data/scaler.js';
export { ForecastDataset } from './data/forecast-dataset.js';
export type { ForecastDatasetOptions, ForecastSplit, WindowRef } from './data/forecast-dataset.js';
export { calendarIndices, CALENDAR_FIELDS } from './data/calendar.js';
export { usFederalHolidays, holidayFeatures, US_FEDERAL_HOLIDAYS } from './data/holidays.js';
export type { HolidayDate, UsFederalHoliday } from './data/holidays.js';
export { pinballLoss } from './train/pinball-loss.js';
export {
  meanAbsoluteError, symmetricMape, maseScale, meanAbsoluteScaledError, pinballLossValue, intervalCoverage, rollingOrigins, scoreRollingOrigin,
} from './train/metrics/forecast.js';
export type { HorizonScores, OriginForecaster } from './train/metrics/forecast.js';
export { naiveForecaster, seasonalNaiveForecaster, RidgeAutoregression, parseLags } from './train/forecast-baselines.js';
export type { RidgeOptions } from './train/forecast-baselines.js';
