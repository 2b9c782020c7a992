/**
 * Forecast: a PatchTST-style Transformer (src/models/forecaster.ts) trained with the pinball
 * loss to forecast one or more series H steps ahead, with quantiles.
 *
 * Data (`data` key): 'births' (the built-in preset, US daily births 1969–1988, public domain),
 * or the path of any CSV with a time column and one or more numeric series. Gaps and duplicate
 * timestamps are refused unless a fill policy is given (`gaps`, `duplicates`; src/data/timeseries.ts).
 *
 * Protocol: the last `testSteps` steps are the test period, the `validSteps` before them the
 * validation period, the rest is training (scalers and MASE scales are fitted there only).
 * Validation and test forecasts are made at rolling origins every `originEvery` steps and
 * scored at each reported horizon (`horizons`, e.g. 7 and 28: the first 7 and all 28 steps of
 * each forecast) by MAE, sMAPE and MASE (season `season`). The best checkpoint is chosen on the
 * validation MASE averaged over the horizons; `heed eval --split test` reports the test period
 * once, beside the baselines on the same origins: naive, seasonal naive (7 and 364) and a ridge
 * autoregression on lags (`ridgeLags`, `ridgeLambda`, fitted on the training period).
 *
 * `ridgeBlend: w` (a hybrid, 0 = off) moves every quantile of heed's forecast by w · (ridge − heed's
 * median): the point forecast becomes (1 − w) · heed + w · ridge, the band keeps its width. The
 * ridge is the baseline's own (`ridgeLags`, `ridgeLambda`), fitted where the baseline is: on the
 * training period, or on train + valid for a refit model; w is chosen on validation.
 *
 * `refit: true` is the second stage of that protocol: with the configuration and step count
 * chosen on validation, the model trains on train + valid (every window whose target ends before
 * the test period), with no validation and no checkpoint selection, and the ridge baseline is then
 * fitted on train + valid too, so both see the same history before the test period. Such a model
 * is scored on test only (valid is inside its training data).
 *
 * Predictor input: an origin date ('1988-06-01': forecast from that day, given the data before
 * it), or an object { origin, series?, history? } — `history` (≥ contextLength values ending the
 * step before origin) forecasts from values the data file does not hold.
 *
 * Letters: B instances, L context length, H horizon, Q quantile levels, O origins, S series.
 */
import { resolve as resolvePath } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { manualSeed } from '../tensor/rng.js';
import { noGrad } from '../autograd/mode.js';
import { BatchIterator } from '../data/batching.js';
import { DUPLICATE_POLICIES, GAP_POLICIES, formatTimestamp, loadBirths, parseTimestamp, readTimeSeriesCsv, type DuplicatePolicy, type GapPolicy, type TimeSeriesFrame } from '../data/timeseries.js';
import { ForecastDataset, type ForecastSplit, type WindowRef } from '../data/forecast-dataset.js';
import { NUM_CALENDAR_FIELDS, calendarIndices } from '../data/calendar.js';
import { StandardScaler, type ScalerState } from '../data/scaler.js';
import { PatchTSTForecaster, FORECASTER_DEFAULTS, type ForecasterConfig } from '../models/forecaster.js';
import { pinballLoss } from '../train/pinball-loss.js';
import { Trainer } from '../train/trainer.js';
import { intervalCoverage, maseScale, rollingOrigins, scoreRollingOrigin, type HorizonScores, type OriginForecaster } from '../train/metrics/forecast.js';
import { RidgeAutoregression, naiveForecaster, parseLags, seasonalNaiveForecaster } from '../train/forecast-baselines.js';
import { AttentionRecorder } from '../nn/attention/recorder.js';
import { loadCheckpoint } from '../io/checkpoint.js';
import { parseUntrustedJson } from '../io/json.js';
import { readTextFileSync } from '../io/read-file.js';
import { CheckpointError, ConfigError, NotImplementedError, ShapeError, ValueError } from '../errors.js';
import type { ConfigSchema } from '../models/config.js';
import type { Prediction, PredictOptions, Predictor } from './predictor.js';
import {
  TRAIN_SCHEMA, TRAIN_DEFAULTS, buildCheckpointModel, ensembleSuffix, makeOptimizer, makeScheduler, modelDirList, resolveTaskConfig, trainerOptions,
  type EvalResult, type ModelDirs, type RunOptions, type TaskDefinition, type TaskSpec, type TrainConfig, type TrainSummary,
} from './common.js';

export interface ForecastConfig extends TrainConfig, Omit<ForecasterConfig, 'dropout'> {
  /** 'births' (built-in preset) or the path of a CSV file. */
  data: string;
  /** CSV time column; '' = a column named date/time/timestamp/datetime/ds, else the first. */
  timeColumn: string;
  /** CSV value columns, comma-separated; '' = every other column. */
  valueColumns: string;
  gaps: GapPolicy;
  duplicates: DuplicatePolicy;
  validSteps: number;
  testSteps: number;
  originEvery: number;
  /** Reported horizons, comma-separated, each ≤ horizon. */
  horizons: string;
  /** MASE season. */
  season: number;
  batchSize: number;
  /** Ridge baseline: lags ('1-28,357-371') and penalty. */
  ridgeLags: string;
  ridgeLambda: number;
  /** Train on train + valid (after choosing the configuration on valid); score on test only. */
  refit: boolean;
  /** Weight w in [0, 1) of the ridge AR in a hybrid forecast: heed's quantiles shifted by w · (ridge − heed median). */
  ridgeBlend: number;
}

export const FORECAST_SCHEMA: ConfigSchema<ForecastConfig> = {
  ...TRAIN_SCHEMA,
  data: 'string', timeColumn: 'string', valueColumns: 'string', gaps: GAP_POLICIES, duplicates: DUPLICATE_POLICIES, validSteps: 'number', testSteps: 'number',
  originEvery: 'number', horizons: 'string', season: 'number', batchSize: 'number', ridgeLags: 'string', ridgeLambda: 'number', refit: 'boolean', ridgeBlend: 'number',
  contextLength: 'number', horizon: 'number', patchLength: 'number', patchStride: 'number', dModel: 'number', numHeads: 'number', numLayers: 'number',
  dimFeedforward: 'number', headDim: 'number', quantiles: 'string', calendar: 'boolean', holidays: 'boolean',
};

export const FORECAST_DEFAULTS: Readonly<ForecastConfig> = Object.freeze({
  ...TRAIN_DEFAULTS,
  ...FORECASTER_DEFAULTS,
  // 56 weeks of context in 4-week patches (14 tokens): sees the same season a year back. Chosen over
  // the model's default 16 weeks in weekly patches by validation MASE (bench/forecast.ts).
  contextLength: 392,
  patchLength: 28,
  patchStride: 28,
  data: 'births',
  timeColumn: '',
  valueColumns: '',
  gaps: 'error' as GapPolicy, // never invent data silently
  duplicates: 'error' as DuplicatePolicy,
  validSteps: 730, // two years of daily data before the test period: model selection
  testSteps: 730, // the last two years: reported once
  originEvery: 7, // a new forecast every week: ~100 origins per period
  horizons: '7,28',
  season: 7, // daily data: MASE against last week's value
  batchSize: 64,
  ridgeLags: '1-371', // a year and a week of lags: best of a 4 × 4 grid on the births validation period (bench/forecast.ts)
  ridgeLambda: 0.1,
  refit: false,
  ridgeBlend: 0,
  labelSmoothing: 0, // classification only
  lr: 1e-3,
  weightDecay: 0.05,
  warmupSteps: 100,
  maxSteps: 1500, // ≈ 17 epochs of the births training windows; ~10 minutes on 2 busy cores
  evalEvery: 200,
  logEvery: 50,
});

const SPEC: TaskSpec<ForecastConfig> = {
  name: 'forecast', summary: 'time-series forecasting (CSV or the births preset) with a PatchTST-style Transformer and quantiles; metric MASE',
  schema: FORECAST_SCHEMA, defaults: FORECAST_DEFAULTS, metric: 'mase', metricMode: 'min',
};

export const BIRTHS_PRESET = 'births';

/** Resolves and range-checks a forecast config. */
export function resolveForecastConfig(user: Record<string, unknown>): ForecastConfig {
  const c = resolveTaskConfig(SPEC, user);
  for (const k of ['validSteps', 'testSteps', 'originEvery', 'season', 'batchSize'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new ConfigError(`forecast config: '${k}' is ${c[k]}, expected a positive integer.`);
  }
  reportHorizons(c);
  parseLags(c.ridgeLags);
  if (!(c.ridgeLambda >= 0)) throw new ConfigError(`forecast config: 'ridgeLambda' is ${c.ridgeLambda}, expected ≥ 0.`);
  if (!(c.ridgeBlend >= 0 && c.ridgeBlend < 1)) throw new ConfigError(`forecast config: 'ridgeBlend' is ${c.ridgeBlend}, expected a weight in [0, 1) (0 = heed alone).`);
  return c;
}

/** The reported horizons, ascending, each in [1, horizon]. */
export function reportHorizons(c: Pick<ForecastConfig, 'horizons' | 'horizon'>): number[] {
  const hs = c.horizons.split(',').map((s) => Number(s.trim()));
  if (hs.length === 0 || hs.some((h, i) => !Number.isInteger(h) || h < 1 || h > c.horizon || (i > 0 && h <= hs[i - 1]))) {
    throw new ConfigError(`forecast config: 'horizons' is '${c.horizons}', expected ascending integers in [1, horizon = ${c.horizon}], e.g. '7,28'.`);
  }
  return hs;
}

/** The frame a config names: the births preset or a CSV file read with its gap and duplicate policies. */
export function loadFrame(c: Pick<ForecastConfig, 'data' | 'timeColumn' | 'valueColumns' | 'gaps' | 'duplicates'>): TimeSeriesFrame {
  if (c.data === BIRTHS_PRESET) return loadBirths();
  const valueColumns = c.valueColumns.split(',').map((s) => s.trim()).filter(Boolean);
  return readTimeSeriesCsv(c.data, { timeColumn: c.timeColumn || undefined, valueColumns, gaps: c.gaps, duplicates: c.duplicates });
}

function datasetOf(frame: TimeSeriesFrame, c: ForecastConfig): ForecastDataset {
  return new ForecastDataset(frame, { contextLength: c.contextLength, horizon: c.horizon, validSteps: c.validSteps, testSteps: c.testSteps, season: c.season });
}

function modelConfig(c: ForecastConfig): Partial<ForecasterConfig> {
  return {
    contextLength: c.contextLength, horizon: c.horizon, patchLength: c.patchLength, patchStride: c.patchStride, dModel: c.dModel, numHeads: c.numHeads,
    numLayers: c.numLayers, dimFeedforward: c.dimFeedforward, headDim: c.headDim, dropout: c.dropout, quantiles: c.quantiles, calendar: c.calendar,
    holidays: c.holidays,
  };
}

/** Quantile forecasts (B, H, Q) in the series' own units, in batches, in eval mode. */
export function forecastWindows(model: PatchTSTForecaster, ds: ForecastDataset, windows: readonly WindowRef[], batch = 256): Float32Array {
  const { horizon: H } = model.config;
  const Q = model.levels.length;
  const out = new Float32Array(windows.length * H * Q);
  model.eval();
  noGrad(() => {
    for (let i = 0; i < windows.length; i += batch) {
      const w = windows.slice(i, i + batch);
      const { context, calendar } = ds.inputs(w);
      const y = model.forward(context, calendar).data as Float32Array; // (B, H, Q) scaled
      w.forEach(({ series }, b) => {
        const sc = ds.scalers[series];
        for (let k = 0; k < H * Q; k++) out[(i + b) * H * Q + k] = sc.inverse(y[b * H * Q + k]);
      });
    }
  });
  return out;
}

/** Per-method scores on one period: every horizon's MAE/sMAPE/MASE averaged over series. */
export interface MethodScores {
  method: string;
  horizons: HorizonScores[];
  /** Of the model's outer quantile band, at the longest horizon. */
  coverage?: number;
}

function averageOverSeries(perSeries: HorizonScores[][]): HorizonScores[] {
  return perSeries[0].map((h, i) => {
    const avg = (k: 'mae' | 'smape' | 'mase') => perSeries.reduce((a, s) => a + s[i][k], 0) / perSeries.length;
    return { horizon: h.horizon, mae: avg('mae'), smape: avg('smape'), mase: avg('mase'), points: perSeries.reduce((a, s) => a + s[i].points, 0) };
  });
}

/**
 * Quantile forecasts (B, H, Q) of an ensemble: each level averaged over the models. Averaging
 * keeps the levels ascending (a mean of ascending vectors is ascending), and averaging seeds
 * lowers the variance of the point forecast, which is most of a small model's error here.
 */
export function ensembleForecast(models: readonly PatchTSTForecaster[], ds: ForecastDataset, windows: readonly WindowRef[]): Float32Array {
  const sum = forecastWindows(models[0], ds, windows);
  for (const m of models.slice(1)) {
    const q = forecastWindows(m, ds, windows);
    for (let k = 0; k < sum.length; k++) sum[k] += q[k];
  }
  if (models.length > 1) for (let k = 0; k < sum.length; k++) sum[k] /= models.length;
  return sum;
}

/** The ridge AR of a config for one series, fitted where the ridge baseline is: [0, validStart), or [0, testStart) for a refit model. */
export function fitConfigRidge(ds: ForecastDataset, c: ForecastConfig, series: number): RidgeAutoregression {
  return RidgeAutoregression.fit(ds.frame.values[series], c.refit ? ds.testStart : ds.validStart, { lags: parseLags(c.ridgeLags), horizon: c.horizon, lambda: c.ridgeLambda });
}

/**
 * The hybrid forecast, in place: quantiles q (B, H, Q) of B forecasts shift by w · (ridge − median),
 * ridge[b] being the ridge's H-step point forecast for forecast b. The levels stay ascending (one
 * shift per step), the median becomes (1 − w) · heed + w · ridge.
 */
export function blendWithRidge(q: Float32Array, ridge: readonly ArrayLike<number>[], levels: readonly number[], w: number): void {
  const Q = levels.length, mid = levels.indexOf(0.5), H = ridge.length > 0 ? ridge[0].length : 0;
  if (q.length !== ridge.length * H * Q) throw new ShapeError(`blendWithRidge: ${q.length} quantile values for ${ridge.length} ridge forecasts × ${H} steps × ${Q} levels.`);
  ridge.forEach((r, b) => {
    for (let h = 0; h < H; h++) {
      const base = (b * H + h) * Q;
      const shift = w * (r[h] - q[base + mid]);
      for (let k = 0; k < Q; k++) q[base + k] += shift;
    }
  });
}

/** Scores the model (or an ensemble of models of one configuration, their quantiles averaged) on a period's rolling origins. */
export function scoreModel(model: PatchTSTForecaster | readonly PatchTSTForecaster[], ds: ForecastDataset, c: ForecastConfig, split: ForecastSplit): MethodScores {
  const models = Array.isArray(model) ? model : [model as PatchTSTForecaster];
  const [start, end] = ds.period(split);
  const origins = rollingOrigins(start, end, c.horizon, c.originEvery);
  const hs = reportHorizons(c);
  const H = c.horizon, Q = models[0].levels.length;
  const windows = Array.from({ length: ds.numSeries }, (_, s) => origins.map((origin) => ({ series: s, origin }))).flat();
  const q = ensembleForecast(models, ds, windows);
  if (c.ridgeBlend > 0) {
    const ridges = Array.from({ length: ds.numSeries }, (_, s) => fitConfigRidge(ds, c, s));
    blendWithRidge(q, windows.map(({ series, origin }) => ridges[series].predict(ds.frame.values[series], origin)), models[0].levels, c.ridgeBlend);
  }
  const mid = models[0].levels.indexOf(0.5);
  const perSeries: HorizonScores[][] = [];
  const actual: number[] = [], lower: number[] = [], upper: number[] = [];
  for (let s = 0; s < ds.numSeries; s++) {
    const y = ds.frame.values[s];
    const points = origins.map((t, o) => {
      const base = (s * origins.length + o) * H * Q;
      for (let h = 0; h < H; h++) {
        actual.push(y[t + h]);
        lower.push(q[base + h * Q]);
        upper.push(q[base + h * Q + Q - 1]);
      }
      return Float64Array.from({ length: H }, (_, h) => q[base + h * Q + mid]);
    });
    perSeries.push(scoreRollingOrigin(y, origins, points, hs, maseScale(y, c.season, ds.validStart)));
  }
  return { method: c.ridgeBlend > 0 ? `heed + ridge (w ${c.ridgeBlend})` : 'heed', horizons: averageOverSeries(perSeries), coverage: Q > 1 ? intervalCoverage(actual, lower, upper) : undefined };
}

/** The baselines on the same origins; one that needs more history than the first origin has is left out, with the reason. */
export function scoreBaselines(ds: ForecastDataset, c: ForecastConfig, split: ForecastSplit): { scores: MethodScores[]; skipped: string[] } {
  if (c.refit && split !== 'test') throw new ValueError(`forecast: a refit configuration fits on train + valid, so it scores the test period only, not '${split}'.`);
  const fitEnd = c.refit ? ds.testStart : ds.validStart; // the ridge sees what the model trained on
  const [start, end] = ds.period(split);
  const origins = rollingOrigins(start, end, c.horizon, c.originEvery);
  const hs = reportHorizons(c);
  const lags = parseLags(c.ridgeLags);
  const methods: { method: string; needs: number; make: (y: Float64Array) => OriginForecaster }[] = [
    { method: 'naive', needs: 1, make: (y) => naiveForecaster(y, c.horizon) },
    { method: 'seasonal naive 7', needs: 7, make: (y) => seasonalNaiveForecaster(y, c.horizon, 7) },
    { method: 'seasonal naive 364', needs: 364, make: (y) => seasonalNaiveForecaster(y, c.horizon, 364) },
    { method: `ridge AR (lags ${c.ridgeLags}, λ ${c.ridgeLambda})`, needs: Math.max(...lags), make: (y) => RidgeAutoregression.fit(y, fitEnd, { lags, horizon: c.horizon, lambda: c.ridgeLambda }).forecaster(y) },
  ];
  const scores: MethodScores[] = [];
  const skipped: string[] = [];
  for (const m of methods) {
    if (origins[0] < m.needs || (m.method.startsWith('ridge') && ds.validStart - c.horizon - m.needs < lags.length + 1)) {
      skipped.push(`${m.method}: needs ${m.needs} steps of history before the first origin and a training period to fit`);
      continue;
    }
    const perSeries = ds.frame.values.map((y) => {
      const f = m.make(y);
      return scoreRollingOrigin(y, origins, origins.map(f), hs, maseScale(y, c.season, ds.validStart));
    });
    scores.push({ method: m.method, horizons: averageOverSeries(perSeries) });
  }
  return { scores, skipped };
}

/** The validation metrics the Trainer logs; 'mase' (the selection metric) averages the horizons. */
function metricsOf(s: MethodScores): Record<string, number> {
  const out: Record<string, number> = { mase: s.horizons.reduce((a, h) => a + h.mase, 0) / s.horizons.length };
  for (const h of s.horizons) {
    out[`mase${h.horizon}`] = h.mase;
    out[`mae${h.horizon}`] = h.mae;
    out[`smape${h.horizon}`] = h.smape;
  }
  if (s.coverage !== undefined) out.coverage = s.coverage;
  return out;
}

/** What a model directory needs besides its weights to forecast: saved as series.json. */
interface SeriesFile {
  source: string;
  names: string[];
  stepMs: number;
  start: string;
  end: string;
  scalers: ScalerState[];
  validStart: number;
  testStart: number;
  repairs: TimeSeriesFrame['repairs'];
}

/** Reads and checks series.json: the scalers and grid a predictor trusts. */
function readSeriesFile(path: string): SeriesFile {
  const s = parseUntrustedJson(readTextFileSync(path, { what: 'series file (series.json)', maxBytes: 16 << 20 }), path, 'series file') as SeriesFile;
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const ok = s !== null && typeof s === 'object' && typeof s.source === 'string' && Array.isArray(s.names) && s.names.length > 0 &&
    s.names.every((n) => typeof n === 'string') && Array.isArray(s.scalers) && s.scalers.length === s.names.length &&
    s.scalers.every((x) => x !== null && typeof x === 'object' && finite(x.mean) && finite(x.std) && x.std > 0) &&
    finite(s.stepMs) && s.stepMs > 0 && typeof s.start === 'string' && typeof s.end === 'string' && Number.isInteger(s.validStart);
  if (!ok) throw new CheckpointError(`${path}: expected source, names, one scaler {mean, std > 0} per series, stepMs, start, end and validStart. The file is corrupt; restore it or retrain.`);
  try {
    parseTimestamp(s.start);
    parseTimestamp(s.end);
  } catch (err) {
    throw new CheckpointError(`${path}: ${(err as Error).message}`);
  }
  return s;
}

function seriesFile(ds: ForecastDataset, c: ForecastConfig): SeriesFile {
  const f = ds.frame;
  return {
    source: c.data === BIRTHS_PRESET ? BIRTHS_PRESET : resolvePath(c.data), names: f.names, stepMs: f.stepMs, start: formatTimestamp(f.time[0]),
    end: formatTimestamp(f.time[f.time.length - 1]), scalers: ds.scalers.map((s) => s.state()), validStart: ds.validStart, testStart: ds.testStart, repairs: f.repairs,
  };
}

async function train(user: Record<string, unknown>, run: RunOptions): Promise<TrainSummary> {
  const c = resolveForecastConfig(user);
  const ds = datasetOf(loadFrame(c), c);
  manualSeed(c.seed);
  const model = new PatchTSTForecaster(modelConfig(c));
  const windows = ds.trainingWindows(c.refit ? ds.testStart : ds.validStart);
  const print = run.print ?? console.log;
  const f = ds.frame;
  print(`forecast: ${f.names.length} series × ${ds.T} steps (${formatTimestamp(f.time[0])} .. ${formatTimestamp(f.time[ds.T - 1])}); train ${ds.validStart}, valid ${ds.testStart - ds.validStart}, test ${ds.T - ds.testStart} steps${c.refit ? ' (refit: training on train + valid, no validation)' : ''}; ` +
    `${windows.length} training windows; PatchTST ${model.numParameters().toLocaleString('en-US')} parameters` +
    (f.repairs.filled + f.repairs.duplicatesMerged > 0 ? `; ${f.repairs.filled} gap cell(s) filled (${c.gaps}), ${f.repairs.duplicatesMerged} duplicate row(s) merged (${c.duplicates})` : ''));
  const batches = new BatchIterator(new Int32Array(windows.length).fill(1), { batchSize: c.batchSize, seed: c.seed, shuffle: true });
  const optimizer = makeOptimizer(model, c);
  const scheduler = makeScheduler(optimizer, c);
  type Batch = { context: Tensor; calendar: Tensor; target: Tensor; tokens: number };
  const trainer = new Trainer<Batch>({
    model, optimizer, scheduler, batches,
    makeBatch: (idx) => {
      const { context, calendar, target } = ds.inputs(Array.from(idx, (i) => windows[i]));
      return { context, calendar, target: target as Tensor, tokens: idx.length * c.horizon };
    },
    loss: (b) => ({ loss: pinballLoss(model.call(b.context, b.calendar), b.target, model.levels), tokens: b.tokens }),
    evaluate: c.refit ? undefined : () => metricsOf(scoreModel(model, ds, c, 'valid')),
    checkpoint: () => ({ task: 'forecast', config: { ...c, model: model.toConfig() } as Record<string, unknown>, files: { series: { name: 'series.json', json: seriesFile(ds, c) } } }),
  }, trainerOptions(c, SPEC as unknown as TaskSpec<TrainConfig>, run));
  if (run.resume) await trainer.resume();
  const r = await trainer.fit();
  return { out: run.out, steps: r.step, seconds: r.seconds, tokensPerSecond: r.tokensPerSecond, stoppedBy: r.stoppedBy, best: r.best, metrics: r.lastEval };
}

interface LoadedForecaster {
  dir: string;
  model: PatchTSTForecaster;
  config: ForecastConfig;
  rawConfig: Record<string, unknown>;
  series: SeriesFile;
}

async function loadForecaster(dir: string): Promise<LoadedForecaster> {
  const ck = await loadCheckpoint(dir, 'forecast');
  const model = buildCheckpointModel(ck, 'PatchTSTForecaster', (m) => PatchTSTForecaster.fromConfig(m));
  const { model: _m, ...rest } = ck.config;
  let config: ForecastConfig;
  try {
    config = resolveForecastConfig(rest);
  } catch (err) {
    throw new CheckpointError(`${dir}/config.json: ${(err as Error).message}`);
  }
  const path = ck.files.series;
  if (path === undefined) throw new CheckpointError(`${dir}: config.json names no series.json (the scalers and the data source). Fix: retrain the model.`);
  return { dir, model, config, rawConfig: ck.config, series: readSeriesFile(path) };
}

/** The data a model was trained on, re-read and checked against the saved series.json. */
function reloadDataset(m: LoadedForecaster): ForecastDataset {
  const c = { ...m.config, data: m.series.source };
  const ds = datasetOf(loadFrame(c), c);
  const same = ds.validStart === m.series.validStart && ds.frame.names.join('\u0000') === m.series.names.join('\u0000') &&
    ds.scalers.every((s, i) => Math.abs(s.mean - m.series.scalers[i].mean) <= 1e-9 * Math.max(1, Math.abs(s.mean)));
  if (!same) {
    throw new CheckpointError(`${m.dir}: the data at '${m.series.source}' is not the data this model was trained on (its series, length or training-period statistics changed). Fix: restore the file, or retrain.`);
  }
  return ds;
}

async function evaluate(dir: ModelDirs, o: { split: string; limit?: number }): Promise<EvalResult> {
  const dirs = modelDirList(dir);
  if (o.split !== 'valid' && o.split !== 'test') throw new ValueError(`forecast eval: split '${o.split}', expected valid or test (rolling origins over that period).`);
  const loaded = await Promise.all(dirs.map((d) => loadForecaster(d)));
  const m = loaded[0];
  const ds = reloadDataset(m);
  const c = m.config;
  for (const other of loaded.slice(1)) checkSameProtocol(m, other);
  if (c.refit && o.split !== 'test') throw new ValueError(`forecast eval: ${dirs[0]} was refit on train + valid, so valid is inside its training data; evaluate it with --split test.`);
  const heed = scoreModel(loaded.map((x) => x.model), ds, c, o.split);
  const { scores, skipped } = scoreBaselines(ds, c, o.split);
  const all = [heed, ...scores];
  const [start, end] = ds.period(o.split);
  const origins = rollingOrigins(start, end, c.horizon, c.originEvery);
  const metrics: Record<string, number> = { ...metricsOf(heed), origins: origins.length };
  for (const s of scores) for (const h of s.horizons) metrics[`${baselineKey(s.method)}.mase${h.horizon}`] = h.mase;
  const lines = [
    `forecast ${o.split}${ensembleSuffix(dirs.length)}: ${ds.numSeries} series, ${origins.length} rolling origins every ${c.originEvery} steps from ${formatTimestamp(ds.timeAt(start))} to ${formatTimestamp(ds.timeAt(origins[origins.length - 1]))}; MASE season ${c.season}, scaled on the training period`,
    '',
    `| method | ${reportHorizons(c).map((h) => `MAE@${h} | sMAPE@${h} | MASE@${h}`).join(' | ')} |`,
    `|---|${reportHorizons(c).map(() => '---|---|---|').join('')}`,
    ...all.map((s) => `| ${s.method} | ${s.horizons.map((h) => `${h.mae.toFixed(1)} | ${h.smape.toFixed(2)} | ${h.mase.toFixed(3)}`).join(' | ')} |`),
  ];
  if (heed.coverage !== undefined) lines.push('', `heed's ${m.model.levels[0]}–${m.model.levels[m.model.levels.length - 1]} quantile band covers ${(100 * heed.coverage).toFixed(1)}% of actual values (horizon ${c.horizon}).`);
  if (skipped.length > 0) lines.push('', `left out: ${skipped.join('; ')}`);
  return { split: o.split, metrics, report: lines.join('\n') };
}

/**
 * The members of a forecast ensemble must forecast the same thing from the same inputs: the same
 * data and periods, context length, horizon, quantile levels and refit stage (seeds and other
 * training settings may differ). Otherwise a ConfigError naming the first difference.
 */
function checkSameProtocol(a: LoadedForecaster, b: LoadedForecaster): void {
  const keys = ['contextLength', 'horizon', 'quantiles', 'validSteps', 'testSteps', 'originEvery', 'horizons', 'season', 'refit', 'ridgeLags', 'ridgeLambda', 'ridgeBlend'] as const;
  for (const k of keys) {
    if (a.config[k] !== b.config[k]) {
      throw new ConfigError(`forecast eval: ensemble members ${a.dir} and ${b.dir} differ in '${k}' (${String(a.config[k])} vs ${String(b.config[k])}); an ensemble averages forecasts of one protocol. Fix: ensemble models trained with the same ${k}.`);
    }
  }
  if (a.series.source !== b.series.source) throw new ConfigError(`forecast eval: ensemble members ${a.dir} and ${b.dir} were trained on different data (${a.series.source} vs ${b.series.source}).`);
}

/** 'seasonal naive 7' → 'seasonalNaive7', 'ridge AR (...)' → 'ridge'. */
function baselineKey(method: string): string {
  if (method.startsWith('ridge')) return 'ridge';
  return method.replace(/ (\w)/g, (_, ch: string) => ch.toUpperCase());
}

/** The parsed predictor input. */
interface ForecastRequest {
  origin: number;
  series: number;
  /** Context values in the series' units, when given in the input. */
  history: number[] | null;
}

/** Answer of one forecast, in the series' units. */
export interface ForecastOutput {
  series: string;
  origin: string;
  timestamps: string[];
  /** The 0.5 quantile. */
  point: number[];
  /** Level → values, ascending levels. */
  quantiles: Record<string, number[]>;
  /** The actual values where the data holds them, else null entries. */
  actual: (number | null)[];
  /** The context the forecast was made from. */
  history: { timestamps: string[]; values: number[] };
}

export class ForecastPredictor implements Predictor {
  readonly task = 'forecast';
  private data: ForecastDataset | null = null;

  constructor(private readonly m: LoadedForecaster) {}

  get dir(): string {
    return this.m.dir;
  }

  get config(): Readonly<Record<string, unknown>> {
    return this.m.rawConfig;
  }

  get model(): PatchTSTForecaster {
    return this.m.model;
  }

  private ridges = new Map<number, RidgeAutoregression>();

  /** The ridge AR of a hybrid model (ridgeBlend > 0) for a series, fitted on the model's training data once. */
  private ridge(series: number): RidgeAutoregression {
    let r = this.ridges.get(series);
    if (r === undefined) {
      r = fitConfigRidge(this.dataset(), this.m.config, series);
      this.ridges.set(series, r);
    }
    return r;
  }

  /** The training data, read once on first use by a date-only input. */
  private dataset(): ForecastDataset {
    this.data ??= reloadDataset(this.m);
    return this.data;
  }

  private parse(input: unknown): ForecastRequest {
    const s = this.m.series;
    const L = this.m.config.contextLength;
    let obj: Record<string, unknown>;
    if (typeof input === 'string') {
      const t = input.trim();
      if (t.startsWith('{')) {
        try {
          obj = JSON.parse(t) as Record<string, unknown>;
        } catch {
          throw new ValueError(`forecast: input '${t.slice(0, 60)}' starts like JSON but does not parse. Expected an origin date (1988-06-01) or {"origin": "1988-06-01", "series": "...", "history": [...]}.`);
        }
      } else {
        obj = { origin: t };
      }
    } else if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
      obj = input as Record<string, unknown>;
    } else {
      throw new ValueError(`forecast: input is ${Array.isArray(input) ? 'an array' : typeof input}, expected an origin date string or an object { origin, series?, history? }.`);
    }
    const unknown = Object.keys(obj).filter((k) => !['origin', 'series', 'history'].includes(k));
    if (unknown.length > 0) throw new ValueError(`forecast: unknown input key(s) ${unknown.join(', ')}; expected origin, series, history.`);
    if (typeof obj.origin !== 'string') throw new ValueError(`forecast: 'origin' is ${JSON.stringify(obj.origin) ?? 'missing'}, expected a date string such as '1988-06-01' (the first forecast step).`);
    const originMs = parseTimestamp(obj.origin, 'forecast: origin');
    const t0 = parseTimestamp(s.start);
    if ((originMs - t0) % s.stepMs !== 0) throw new ValueError(`forecast: origin ${obj.origin} is off the data's grid (one step every ${s.stepMs / 1000} s from ${s.start}).`);
    const origin = (originMs - t0) / s.stepMs;
    let series = 0;
    if (obj.series !== undefined) {
      series = s.names.indexOf(String(obj.series));
      if (series < 0) throw new ValueError(`forecast: series '${String(obj.series).slice(0, 60)}' is not one of ${s.names.join(', ')}.`);
    }
    let history: number[] | null = null;
    if (obj.history !== undefined) {
      if (!Array.isArray(obj.history) || obj.history.length < L || obj.history.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
        throw new ValueError(`forecast: 'history' must be an array of at least contextLength = ${L} finite numbers (the values before origin), received ${Array.isArray(obj.history) ? `${obj.history.length} entries` : typeof obj.history}.`);
      }
      history = obj.history as number[];
      const c = this.m.config, need = Math.max(...parseLags(c.ridgeLags));
      if (c.ridgeBlend > 0 && history.length < need) {
        throw new ValueError(`forecast: this model blends in the ridge AR (ridgeBlend ${c.ridgeBlend}), whose longest lag is ${need}; 'history' has ${history.length} values, expected at least ${need}.`);
      }
    } else {
      const end = parseTimestamp(s.end);
      const T = (end - t0) / s.stepMs + 1;
      if (origin < L || origin > T) {
        throw new ValueError(`forecast: origin ${obj.origin} needs ${L} steps of data before it, and the data runs ${s.start} .. ${s.end}; pick an origin from ${formatTimestamp(t0 + L * s.stepMs)} to ${formatTimestamp(end + s.stepMs)}, or pass 'history'.`);
      }
    }
    return { origin, series, history };
  }

  validateInput(input: unknown): void {
    this.parse(input);
  }

  predict(inputs: readonly unknown[], options: PredictOptions = {}): Prediction[] {
    const reqs = inputs.map((x) => this.parse(x));
    const c = this.m.config, L = c.contextLength, H = c.horizon;
    const s = this.m.series;
    const t0 = parseTimestamp(s.start);
    const timeAt = (t: number) => t0 + t * s.stepMs;
    const B = reqs.length;
    const context = new Float32Array(B * L);
    const calendar = new Int32Array(B * H * NUM_CALENDAR_FIELDS);
    const histories: number[][] = [];
    const actuals: (number | null)[][] = [];
    reqs.forEach((r, b) => {
      const scaler = StandardScaler.fromState(s.scalers[r.series]);
      let hist: number[];
      let actual: (number | null)[];
      if (r.history !== null) {
        hist = r.history.slice(-L);
        actual = new Array<null>(H).fill(null);
      } else {
        const y = this.dataset().frame.values[r.series];
        hist = Array.from(y.subarray(r.origin - L, r.origin));
        actual = Array.from({ length: H }, (_, h) => (r.origin + h < y.length ? y[r.origin + h] : null));
      }
      hist.forEach((v, k) => (context[b * L + k] = scaler.transform(v)));
      for (let h = 0; h < H; h++) calendarIndices(timeAt(r.origin + h), calendar, (b * H + h) * NUM_CALENDAR_FIELDS);
      histories.push(hist);
      actuals.push(actual);
    });
    const model = this.m.model;
    model.eval();
    const rec = options.attention ? new AttentionRecorder(model) : null;
    const run = () => model.forward(new Tensor(context, [B, L]), new Tensor(calendar, [B, H, NUM_CALENDAR_FIELDS]));
    const y = noGrad(() => (rec ? rec.record(run) : run())).data as Float32Array; // (B, H, Q)
    const levels = model.levels, Q = levels.length;
    const q = new Float32Array(B * H * Q); // (B, H, Q) in the series' units
    reqs.forEach((r, b) => {
      const scaler = StandardScaler.fromState(s.scalers[r.series]);
      for (let k = 0; k < H * Q; k++) q[b * H * Q + k] = scaler.inverse(y[b * H * Q + k]);
    });
    if (c.ridgeBlend > 0) blendWithRidge(q, reqs.map((r, b) => this.ridge(r.series).predict(r.history ?? this.dataset().frame.values[r.series], r.history?.length ?? r.origin)), levels, c.ridgeBlend);
    const patchLabels = Array.from({ length: (L - c.patchLength) / c.patchStride + 1 }, (_, n) => `t-${L - n * c.patchStride}`);
    return reqs.map((r, b) => {
      const quantiles: Record<string, number[]> = {};
      levels.forEach((l, k) => (quantiles[String(l)] = Array.from({ length: H }, (_, h) => q[(b * H + h) * Q + k])));
      const output: ForecastOutput = {
        series: s.names[r.series], origin: formatTimestamp(timeAt(r.origin)),
        timestamps: Array.from({ length: H }, (_, h) => formatTimestamp(timeAt(r.origin + h))),
        point: quantiles['0.5'], quantiles, actual: actuals[b],
        history: { timestamps: Array.from({ length: L }, (_, k) => formatTimestamp(timeAt(r.origin - L + k))), values: histories[b] },
      };
      const p: Prediction = { input: inputs[b], output };
      if (rec) p.attention = rec.toAttentionMaps(b).map((map) => ({ ...map, queryTokens: patchLabels, keyTokens: patchLabels }));
      return p;
    });
  }
}

async function loadForecastPredictor(dir: ModelDirs): Promise<ForecastPredictor> {
  const dirs = modelDirList(dir);
  if (dirs.length > 1) throw new NotImplementedError('forecast predict: ensembles are scored by `heed eval runs/a,runs/b` only; predict and serve load one model directory. Fix: give one.');
  return new ForecastPredictor(await loadForecaster(dirs[0]));
}

export const FORECAST_TASK: TaskDefinition = {
  spec: SPEC as unknown as TaskSpec<TrainConfig>,
  train,
  evaluate,
  loadPredictor: loadForecastPredictor,
};
