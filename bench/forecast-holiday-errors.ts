/**
 * Validation-only diagnostic: where the forecast error sits. Splits every validation forecast
 * point (101 rolling origins × 28 steps) by whether its day is within ±3 days of a US federal
 * holiday (src/data/holidays.ts), and reports each method's mean absolute error on those days and
 * on the others, and the share of its total error on holiday days: the ridge AR of the config
 * and each model given (one model each, not an ensemble). Reads no test data.
 *
 *   node --import tsx bench/forecast-holiday-errors.ts runs/a runs/b ... [--out file.json]
 */
import { writeFileSync } from 'node:fs';
import { loadCheckpoint } from '../src/io/checkpoint.js';
import { buildCheckpointModel } from '../src/tasks/common.js';
import { PatchTSTForecaster } from '../src/models/forecaster.js';
import { ensembleForecast, fitConfigRidge, loadFrame, resolveForecastConfig, type ForecastConfig } from '../src/tasks/forecast.js';
import { ForecastDataset } from '../src/data/forecast-dataset.js';
import { holidayFeatures } from '../src/data/holidays.js';
import { rollingOrigins } from '../src/train/metrics/forecast.js';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, { out: { kind: 'string', help: 'results file (JSON)' } },
  { positional: { name: 'run directories', help: 'the forecast models, one each', min: 0 } });
const dirs = flags._;
const loaded: { dir: string; model: PatchTSTForecaster; config: ForecastConfig }[] = [];
for (const dir of dirs) {
  const ck = await loadCheckpoint(dir, 'forecast');
  const { model: _m, ...rest } = ck.config;
  loaded.push({ dir, model: buildCheckpointModel(ck, 'PatchTSTForecaster', (m) => PatchTSTForecaster.fromConfig(m)), config: resolveForecastConfig(rest) });
}
const c = { ...loaded[0].config, refit: false };
const ds = new ForecastDataset(loadFrame(c), { contextLength: c.contextLength, horizon: c.horizon, validSteps: c.validSteps, testSteps: c.testSteps, season: c.season });
const y = ds.frame.values[0];
const [start, end] = ds.period('valid');
const origins = rollingOrigins(start, end, c.horizon, c.originEvery);
const H = c.horizon;
const nearHoliday = (t: number) => holidayFeatures(ds.timeAt(t)).holiday !== 0;

/** Point forecasts (O, H) → errors split by holiday days. */
function split(points: (t: number, h: number) => number): { holidayMae: number; otherMae: number; holidayShare: number; holidayPoints: number; otherPoints: number } {
  let hs = 0, hn = 0, os = 0, on = 0;
  origins.forEach((t, o) => {
    for (let h = 0; h < H; h++) {
      const e = Math.abs(points(o, h) - y[t + h]);
      if (nearHoliday(t + h)) (hs += e), hn++;
      else (os += e), on++;
    }
  });
  return { holidayMae: hs / hn, otherMae: os / on, holidayShare: hs / (hs + os), holidayPoints: hn, otherPoints: on };
}

const ridge = fitConfigRidge(ds, c, 0);
const ridgePoints = origins.map((t) => ridge.predict(y, t));
const rows: Record<string, ReturnType<typeof split>> = { [`ridge AR (lags ${c.ridgeLags}, λ ${c.ridgeLambda})`]: split((o, h) => ridgePoints[o][h]) };
for (const m of loaded) {
  const Q = m.model.levels.length, mid = m.model.levels.indexOf(0.5);
  const q = ensembleForecast([m.model], ds, origins.map((origin) => ({ series: 0, origin })));
  rows[`${m.dir} (holidays ${m.model.config.holidays})`] = split((o, h) => q[(o * H + h) * Q + mid]);
}
for (const [name, r] of Object.entries(rows)) {
  console.log(`${name}: MAE on days within ±3 of a holiday ${r.holidayMae.toFixed(1)} (${r.holidayPoints} points), other days ${r.otherMae.toFixed(1)} (${r.otherPoints}); ${(100 * r.holidayShare).toFixed(1)}% of the absolute error on holiday days`);
}
if (flags.out !== undefined) writeFileSync(flags.out, JSON.stringify({ split: 'valid', origins: origins.length, horizon: H, rows }, null, 2) + '\n');
