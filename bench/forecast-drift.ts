/**
 * Validation-only diagnostic for the forecasting benchmark: does heed's error grow with the
 * distance from the end of its training data faster than the ridge's? Splits the validation
 * period's rolling origins into its first and second year and scores heed (one model or a seed
 * ensemble, quantiles averaged) and the ridge AR of the model's config on each half. If heed
 * degrades more in the second year, refitting on train + valid before the test period
 * (`--refit`) is what closes a validation/test gap. Reads no test data.
 *
 *   node --import tsx bench/forecast-drift.ts runs/fc-s0[,runs/fc-s1,...] [--out bench/results/forecast-valid-<date>/drift.json]
 */
import { writeFileSync } from 'node:fs';
import { loadCheckpoint } from '../src/io/checkpoint.js';
import { buildCheckpointModel } from '../src/tasks/common.js';
import { PatchTSTForecaster } from '../src/models/forecaster.js';
import { ensembleForecast, loadFrame, reportHorizons, resolveForecastConfig } from '../src/tasks/forecast.js';
import { ForecastDataset } from '../src/data/forecast-dataset.js';
import { maseScale, rollingOrigins, scoreRollingOrigin } from '../src/train/metrics/forecast.js';
import { RidgeAutoregression, parseLags } from '../src/train/forecast-baselines.js';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, { out: { kind: 'string', help: 'results file (JSON)' } },
  { positional: { name: 'dirs', help: 'the forecast run directories, comma-separated', min: 1, max: 1 } });
const dirs = flags._[0].split(',');
const models: PatchTSTForecaster[] = [];
let config = null as ReturnType<typeof resolveForecastConfig> | null;
for (const d of dirs) {
  const ck = await loadCheckpoint(d, 'forecast');
  const { model, ...rest } = ck.config as Record<string, unknown>;
  config ??= resolveForecastConfig(rest);
  void model;
  models.push(buildCheckpointModel(ck, 'PatchTSTForecaster', (m) => PatchTSTForecaster.fromConfig(m)));
}
const c = config!;
const ds = new ForecastDataset(loadFrame(c), { contextLength: c.contextLength, horizon: c.horizon, validSteps: c.validSteps, testSteps: c.testSteps, season: c.season });
const y = ds.frame.values[0];
const [start, end] = ds.period('valid');
const origins = rollingOrigins(start, end, c.horizon, c.originEvery);
const H = c.horizon, Q = models[0].levels.length, mid = models[0].levels.indexOf(0.5);
const q = ensembleForecast(models, ds, origins.map((origin) => ({ series: 0, origin })));
const heed = origins.map((_, o) => Float64Array.from({ length: H }, (_, h) => q[(o * H + h) * Q + mid]));
const ridge = RidgeAutoregression.fit(y, ds.validStart, { lags: parseLags(c.ridgeLags), horizon: H, lambda: c.ridgeLambda }).forecaster(y);
const scale = maseScale(y, c.season, ds.validStart);
const hs = reportHorizons(c);
const half = origins.findIndex((t) => t >= start + 365);
const parts = { 'year 1': [0, half], 'year 2': [half, origins.length], all: [0, origins.length] } as const;
const result: Record<string, unknown> = { models: dirs };
for (const [name, [a, b]] of Object.entries(parts)) {
  const os = origins.slice(a, b);
  const h = scoreRollingOrigin(y, os, heed.slice(a, b), hs, scale);
  const r = scoreRollingOrigin(y, os, os.map(ridge), hs, scale);
  const row = Object.fromEntries(hs.map((hz, i) => [`h${hz}`, { heed: h[i].mase, ridge: r[i].mase, improvement: 1 - h[i].mase / r[i].mase }]));
  result[name] = { origins: os.length, ...row };
  console.log(`${name} (${os.length} origins): ${hs.map((hz, i) => `h${hz} heed ${h[i].mase.toFixed(3)} ridge ${r[i].mase.toFixed(3)} (${(100 * (1 - h[i].mase / r[i].mase)).toFixed(1)}% lower)`).join('; ')}`);
}
if (flags.out !== undefined) writeFileSync(flags.out, JSON.stringify(result, null, 2) + '\n');
