/**
 * The public API is the package entry: a user's project whose node_modules/heed is the built
 * package (test/api/package-build.ts) imports every documented name through package.json
 * "exports", type-checks against the emitted .d.ts, and uses the main ones end to end.
 *
 * "Documented" means: each `heed.<name>` the README shows, each name an error message tells the
 * user to call, and the groups the README describes (safetensors, checkpoints, batching and
 * padding, metrics, adversarial training, trained models).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../core/import-graph.ts';
import { builtPackage } from './package-build.ts';

/** Values a user is told to use, by where they are told so. */
const DOCUMENTED_VALUES: Record<string, string[]> = {
  'tensors (README, DESIGN names)': ['Tensor', 'tensor', 'scalar', 'zeros', 'ones', 'full', 'arange', 'eye', 'rand', 'randn', 'randint', 'manualSeed', 'Generator'],
  'ops (README, DESIGN names)': ['matmul', 'softmax', 'logSoftmax', 'layerNorm', 'gelu', 'relu', 'dropout', 'crossEntropy', 'scaledDotProductAttention', 'reshape', 'transpose', 'cat'],
  'autograd (README)': ['noGrad', 'gradcheck', 'inferenceMode'],
  'fused encoder inference (CHANGELOG)': ['markWeightsChanged', 'weightsVersion', 'setFusedEncoderEnabled'],
  'fused CNN inference (CHANGELOG)': ['setFusedCnnEnabled'],
  'backends (README, error messages: "use setBackend(...)")': ['setBackend', 'getBackend', 'backendInfo', 'setNumThreads'],
  'errors (DESIGN)': ['HeedError', 'ShapeError', 'DTypeError', 'ConfigError', 'CheckpointError', 'ValueError'],
  'namespaces (README)': ['nn', 'models', 'optim'],
  'training (README)': ['Trainer', 'AdversarialEmbedding'],
  'metrics': ['classificationReport', 'formatClassificationReport', 'wordErrorRate', 'phonemeErrorRate', 'editDistance'],
  'data (error messages: "build with Vocab.fromTokens")': ['Vocab', 'BatchIterator', 'padSequences', 'PAD_ID', 'BOS_ID', 'EOS_ID', 'UNK_ID'],
  'io': ['readSafetensors', 'writeSafetensors', 'parseSafetensors', 'serializeSafetensors', 'toFloat32', 'toInt32', 'saveCheckpoint', 'loadCheckpoint', 'readModelConfig', 'loadOptimizerState', 'loadTrainerState'],
  'trained models (README)': ['TASKS', 'loadPredictor', 'evaluate'],
  'nn (README, src/nn/attention/README.md, error messages)': ['nn.Linear', 'nn.Embedding', 'nn.LayerNorm', 'nn.MultiheadAttention', 'nn.TransformerEncoderLayer', 'nn.AttentionRecorder', 'nn.layoutToMask', 'nn.reportAttention'],
  'models (README)': ['models.Seq2SeqTransformer', 'models.GPT', 'models.EncoderClassifier', 'models.TokenTagger', 'models.ViT', 'models.LstmAttentionSeq2Seq', 'models.MultimodalFusion'],
  'optim (README, DESIGN)': ['optim.SGD', 'optim.Adam', 'optim.AdamW'],
  'checkpoint recovery (error messages, CHANGELOG)': ['recoverCheckpoint'],
  'entity and translation metrics (CHANGELOG)': ['getEntities', 'getEntitiesStrict', 'detectScheme', 'entityReport', 'formatEntityReport', 'corpusBleu', 'computeBleu', 'corpusChrf', 'tokenize13a', 'repairTags', 'constrainedDecode'],
  'masks and sequence layers (CHANGELOG)': ['nn.resolveMask', 'nn.additiveMask', 'nn.allowedMask', 'nn.maskedSoftmax', 'nn.CRF', 'nn.GRU', 'nn.BatchNorm1d', 'nn.BatchNorm2d', 'nn.MaxPool2d', 'nn.AvgPool2d', 'nn.AdaptiveAvgPool2d', 'nn.AdaptiveMaxPool2d', 'nn.SqueezeExcitation', 'nn.CBAM', 'nn.QuantizedLinear'],
  'pooling, batch norm, compression (CHANGELOG, README)': ['batchNorm', 'maxPool2d', 'avgPool2d', 'adaptiveAvgPool2d', 'adaptiveMaxPool2d', 'quantizeDynamic', 'quantizeStatic'],
  'ONNX export (CHANGELOG)': ['exportOnnx', 'writeOnnx', 'OnnxExportError'],
  'model configs (CHANGELOG)': ['models.TransformerTextEncoder', 'models.defineModelConfig', 'models.ConfiguredModel'],
  'pruning, distillation, compressed checkpoints (CHANGELOG, README)': ['magnitudePrune', 'GradualPruning', 'PruningMask', 'headImportance', 'headMagnitudeImportance', 'headsToPrune', 'pruneHeads', 'prunedHeadsOf', 'attentionLayers', 'distillationLoss', 'softTargetKL', 'compressionOf', 'applyCompression'],
  'transfer learning and PEFT (CHANGELOG, README)': ['models.MaskedLM', 'getPeftModel', 'peft.getPeftModel', 'peft.LoraLinear', 'peft.BottleneckAdapter', 'peft.PrefixAttention', 'peft.savePeftAdapter', 'peft.loadPeftAdapter', 'peft.LoraEmbedding'],
  'recommendation (CHANGELOG)': ['hitRateAtK', 'ndcgAtK', 'rankAmong', 'fullRank', 'topK', 'sampleNegative', 'sampleNegatives', 'rankNextItems', 'summarizeRanks',
    'historyAndTarget', 'loadMovieTweetings', 'prepareSequences', 'parseRatings', 'parseMovies', 'trainItemCounts', 'popularityScorer', 'bprScorer', 'trainBPR',
    'binaryCrossEntropyWithLogits', 'models.SASRec', 'models.ItemSideFusion', 'models.BPRMF', 'models.padHistories'],
  'convolution, images and continual learning (CHANGELOG, README)': ['conv1d', 'conv2d', 'im2col', 'models.CnnClassifier', 'continual.ReservoirBuffer', 'continual.OnlineEWC', 'continual.softTargetLoss', 'continual.asymmetricCrossEntropy', 'continual.continualMetrics'],
  'Hugging Face checkpoints (CHANGELOG, README)': ['fromPretrained', 'savePretrained', 'HF_ARCHITECTURES', 'hfArchitecture', 'heedToHf', 'hfToHeed',
    'models.Bert', 'models.BertForMaskedLM', 'models.BertForSequenceClassification', 'models.BertForTokenClassification', 'toHalfStorage', 'HalfLinear', 'HalfEmbedding'],
  'tokenizers (README, CHANGELOG)': ['Tokenizer', 'loadTokenizer', 'tokenizerFromJSON', 'bertTokenizerFromVocab', 'gpt2TokenizerFromFiles', 'checkTokenizerVocabSize'],
  'forecasting (CHANGELOG)': ['models.PatchTSTForecaster', 'parseTimeSeriesCsv', 'readTimeSeriesCsv', 'loadBirths', 'StandardScaler', 'ForecastDataset', 'calendarIndices', 'pinballLoss',
    'meanAbsoluteError', 'symmetricMape', 'maseScale', 'meanAbsoluteScaledError', 'pinballLossValue', 'intervalCoverage', 'rollingOrigins', 'scoreRollingOrigin',
    'naiveForecaster', 'seasonalNaiveForecaster', 'RidgeAutoregression', 'usFederalHolidays', 'holidayFeatures', 'US_FEDERAL_HOLIDAYS'],
  'tasks and data files (README, CHANGELOG issue 13)': ['registerTask', 'defineTask', 'taskNames', 'importTaskModules', 'DataLoader', 'readTable',
    'tableFormatOf', 'readConll', 'readLines', 'readTextChunks', 'confusionMatrix', 'DataError'],
};

/** Types a user needs to annotate what the values above take and return. */
const DOCUMENTED_TYPES = [
  'Tensor', 'DType', 'NestedArray', 'CreateOptions', 'RandomOptions', 'AttentionOptions', 'GradcheckOptions', 'BackendInfo',
  'TrainerOptions', 'TrainerTask', 'TrainResult', 'AdversarialOptions', 'ClassificationReport', 'ClassificationReportOptions',
  'BatchingOptions', 'BatchIteratorState', 'PaddedBatch', 'EncodeOptions', 'DecodeOptions', 'VocabJSON',
  'RawTensor', 'SafetensorsFile', 'SafetensorsDType', 'CheckpointContents', 'LoadedCheckpoint', 'ModelConfigFile', 'OptimizerStateDict',
  'ModelDirs', 'Predictor', 'Prediction', 'PredictOptions', 'EvalResult', 'AttentionMap', 'OnnxExport', 'OnnxGraphFile',
  'PretrainedModel', 'PretrainedLoadReport', 'FromPretrainedOptions', 'SavePretrainedOptions', 'HfArchitecture', 'NameMap', 'NameRule', 'MappedName', 'HalfDtype',
  'AddedToken', 'BatchEncoding', 'Encoding', 'TokenizerCallOptions', 'TruncationStrategy',
  'TimeSeriesFrame', 'TimeSeriesCsvOptions', 'GapPolicy', 'DuplicatePolicy', 'HorizonScores', 'OriginForecaster', 'RidgeOptions',
  'CustomTask', 'TaskContext', 'TaskData', 'TaskPredictor', 'DataLoaderOptions', 'TableRow', 'ConllSentence',
  'NextItemScorer', 'NextItemEvalOptions', 'NextItemRanks', 'MovieTweetings', 'SequenceSplit', 'BPRTrainOptions', 'RecommendPrediction', 'Recommendation',
];

/** Every `heed.a.b` the README shows, as 'a.b'. */
function readmeNames(): string[] {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8') + readFileSync(join(ROOT, 'src', 'nn', 'attention', 'README.md'), 'utf8');
  return [...new Set([...text.matchAll(/\bheed\.([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)?)/g)].map((m) => m[1]))].sort();
}

/** A user's project with node_modules/heed → the built package; removed by the caller. */
function userProject(pkg: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'heed-user-'));
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(pkg, join(dir, 'node_modules', 'heed'));
  symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'heed-user', private: true, type: 'module' }));
  return dir;
}

function runNode(cwd: string, file: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [file], { cwd, encoding: 'utf8', env: { ...process.env, HEED_QUIET: '1' }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('package.json declares the built entry and ships it', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; files: string[]; types: string; main: string };
  assert.deepEqual(pkg.exports['.'], { types: './dist/src/index.d.ts', default: './dist/src/index.js' });
  // One entry (DESIGN.md): a new subpath must be added here on purpose, with its own import test.
  assert.deepEqual(Object.keys(pkg.exports).sort(), ['.', './package.json']);
  assert.ok(pkg.files.includes('dist'));
  assert.equal(pkg.main, './dist/src/index.js');
});

test('every documented name imports from the built package, as a user would', async (t) => {
  const { dir: pkg } = await builtPackage();
  const user = userProject(pkg);
  t.after(() => rmSync(user, { recursive: true, force: true }));
  const names = [...new Set([...Object.values(DOCUMENTED_VALUES).flat(), ...readmeNames()])];
  writeFileSync(join(user, 'names.mjs'), `
    import * as heed from 'heed';
    const missing = [];
    for (const name of ${JSON.stringify(names)}) {
      const value = name.split('.').reduce((o, k) => (o == null ? undefined : o[k]), heed);
      if (value === undefined) missing.push(name);
    }
    console.log(JSON.stringify({ missing, exports: Object.keys(heed).length }));
  `);
  const r = runNode(user, 'names.mjs');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { missing: string[]; exports: number };
  assert.deepEqual(out.missing, []);
  assert.ok(out.exports > 80, `only ${out.exports} exports`);
  // The README check must have read names, or it would prove nothing.
  assert.ok(readmeNames().includes('scaledDotProductAttention') && readmeNames().includes('nn.MultiheadAttention'), readmeNames().join(' '));
});

test('a user\'s TypeScript type-checks against the built package\'s declarations', async (t) => {
  const { dir: pkg } = await builtPackage();
  const user = userProject(pkg);
  t.after(() => rmSync(user, { recursive: true, force: true }));
  const file = join(user, 'user.ts');
  writeFileSync(file, `
    import * as heed from 'heed';
    import type { ${DOCUMENTED_TYPES.join(', ')} } from 'heed';
    const x: Tensor = heed.tensor([[1, 2], [3, 4]], { dtype: 'float32' });
    const y: Tensor = x.reshape([4]).mul(2);
    const raw: RawTensor = { dtype: 'F32', shape: [4], data: y.toFloat32Array() };
    const batch: PaddedBatch = heed.padSequences([[1, 2, 3], [4]]);
    const report: ClassificationReport = heed.classificationReport([0, 1, 1], [0, 1, 0]);
    const wer: number = heed.wordErrorRate([['HH', 'AY']], [[['HH', 'AY']]]);
    const it = new heed.BatchIterator([3, 1, 2], { batchSize: 2 });
    const state: BatchIteratorState = it.state();
    async function io(path: string): Promise<SafetensorsFile> {
      await heed.writeSafetensors(path, { w: raw });
      return heed.readSafetensors(path);
    }
    async function predict(dirs: ModelDirs): Promise<Prediction[]> {
      const p: Predictor = await heed.loadPredictor(dirs);
      return p.predict(['hello']);
    }
    const mha = new heed.nn.MultiheadAttention(16, 2);
    const opt = new heed.optim.AdamW(mha.parameters(), { lr: 1e-3 });
    // @ts-expect-error the package exports no such name
    heed.notAnExport;
    export { x, y, batch, report, wer, state, io, predict, opt };
  `);
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    strict: true, noEmit: true, skipLibCheck: true, types: ['node'], lib: ['lib.es2022.d.ts'],
  });
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file || d.file === undefined);
  const text = ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => user, getNewLine: () => '\n' });
  assert.equal(diagnostics.length, 0, text);
  // heed resolved to the package's emitted declarations (through the symlink), not to the sources.
  const entry = join(realpathSync(pkg), 'dist', 'src', 'index.d.ts');
  assert.ok(program.getSourceFiles().some((sf) => sf.fileName === entry), `${entry} not among the program's files`);
});

test('the built package works end to end: tensors, methods, safetensors, checkpoints, batching, metrics', async (t) => {
  const { dir: pkg } = await builtPackage();
  const user = userProject(pkg);
  t.after(() => rmSync(user, { recursive: true, force: true }));
  writeFileSync(join(user, 'use.mjs'), `
    import * as heed from 'heed';
    import { join } from 'node:path';
    const out = {};
    const x = heed.tensor([[1, 2], [3, 4]], { dtype: 'float32', requiresGrad: true });
    const loss = x.mul(x).sum();
    loss.backward();
    out.grad = Array.from(x.grad.data);
    out.intShape = heed.tensor([[1, 2, 3]], { dtype: 'int32' }).shape;
    const path = join(process.cwd(), 'w.safetensors');
    await heed.writeSafetensors(path, { w: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } }, { note: 'hi' });
    const f = await heed.readSafetensors(path);
    out.safetensors = { names: Object.keys(f.tensors), w: Array.from(heed.toFloat32(f.tensors.w)), note: f.metadata.note };
    const dir = join(process.cwd(), 'ckpt');
    await heed.saveCheckpoint(dir, { task: 'custom', runId: 'r1', config: { a: 1 }, weights: { 'lin.weight': heed.ones([2, 3]) } });
    const ck = await heed.loadCheckpoint(dir, 'custom');
    out.checkpoint = { task: ck.task, config: ck.config, shape: ck.weights['lin.weight'].shape };
    out.pad = heed.padSequences([[5, 6, 7], [8]]);
    const it = new heed.BatchIterator([3, 1, 2, 5], { batchSize: 2, shuffle: false });
    out.batches = it.numBatches;
    out.accuracy = heed.classificationReport([0, 1, 1, 0], [0, 1, 0, 0]).accuracy;
    out.wer = heed.wordErrorRate([['A'], ['B']], [[['A']], [['C']]]);
    out.vocab = heed.Vocab.fromTokens(['b', 'a']).encode(['a', 'b']);
    out.error = (() => { try { heed.tensor([1, 2], { shape: [2] }); } catch (e) { return [e instanceof heed.ValueError, e.message]; } })();
    console.log(JSON.stringify(out, (k, v) => (ArrayBuffer.isView(v) ? Array.from(v) : v)));
  `);
  const r = runNode(user, 'use.mjs');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual(out.grad, [2, 4, 6, 8]);
  assert.deepEqual(out.intShape, [1, 3]);
  assert.deepEqual(out.safetensors, { names: ['w'], w: [1, 2, 3, 4], note: 'hi' });
  assert.deepEqual(out.checkpoint, { task: 'custom', config: { a: 1 }, shape: [2, 3] });
  assert.deepEqual(out.pad, { data: [5, 6, 7, 8, 0, 0], lengths: [3, 1], shape: [2, 3] });
  assert.equal(out.batches, 2);
  assert.equal(out.accuracy, 0.75);
  assert.equal(out.wer, 0.5);
  assert.deepEqual(out.vocab, [4, 5]);
  assert.equal(out.error[0], true);
  assert.match(out.error[1], /unknown option 'shape'/);
});
