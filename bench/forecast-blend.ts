/**
 * Validation-only choice of the hybrid weight (`ridgeBlend`, src/tasks/forecast.ts): scores one
 * model or a seed ensemble (quantiles averaged) on the validation period for each weight w of
 * the ridge AR in the forecast, beside the ridge alone, and names the w with the lowest mean
 * MASE over the horizons. Reads no test data.
 *
 *   node --import tsx bench/forecast-blend.ts runs/a[,runs/b,...] [--weights 0,0.1,0.2,0.3,0.4] [--out file.json]
 */
import { writeFileSync } from 'node:fs';
import { loadCheckpoint } from '../src/io/checkpoint.js';
import { buildCheckpointModel } from '../src/tasks/common.js';
import { PatchTSTForecaster } from '../src/models/forecaster.js';
import { loadFrame, resolveForecastConfig, scoreBaselines, scoreModel, type ForecastConfig, type MethodScores } from '../src/tasks/forecast.js';
import { ForecastDataset } from '../src/data/forecast-dataset.js';
import { readArgs } from './args.ts';

export interface BlendRow {
  weight: number;
  mase: Record<number, number>;
  meanMase: number;
}

/** Validation MASE per weight for already-loaded models of one config; and the chosen weight. */
export function blendGrid(models: PatchTSTForecaster[], c: ForecastConfig, weights: readonly number[]): { rows: BlendRow[]; ridge: Record<number, number>; chosen: number } {
  const ds = new ForecastDataset(loadFrame(c), { contextLength: c.contextLength, horizon: c.horizon, validSteps: c.validSteps, testSteps: c.testSteps, season: c.season });
  const row = (s: MethodScores) => Object.fromEntries(s.horizons.map((h) => [h.horizon, h.mase])) as Record<number, number>;
  const rows = weights.map((w) => {
    const s = scoreModel(models, ds, { ...c, ridgeBlend: w }, 'valid');
    return { weight: w, mase: row(s), meanMase: s.horizons.reduce((a, h) => a + h.mase, 0) / s.horizons.length };
  });
  const ridge = row(scoreBaselines(ds, { ...c, refit: false }, 'valid').scores.find((s) => s.method.startsWith('ridge'))!);
  const chosen = rows.reduce((a, b) => (b.meanMase < a.meanMase ? b : a)).weight;
  return { rows, ridge, chosen };
}

async function main(): Promise<void> {
  const flags = readArgs(import.meta.url, {
    weights: { kind: 'numbers', default: [0, 0.1, 0.2, 0.3, 0.4], min: 0, max: 1, help: 'blend weights of the ridge AR tried' },
    out: { kind: 'string', help: 'results file (JSON)' },
  }, { positional: { name: 'dirs', help: 'the forecast run directories, comma-separated', min: 1, max: 1 } });
  const dirs = flags._[0].split(',');
  const weights = flags.weights;
  const models: PatchTSTForecaster[] = [];
  let c: ForecastConfig | null = null;
  for (const d of dirs) {
    const ck = await loadCheckpoint(d, 'forecast');
    const { model: _m, ...rest } = ck.config as Record<string, unknown>;
    c ??= resolveForecastConfig(rest);
    models.push(buildCheckpointModel(ck, 'PatchTSTForecaster', (m) => PatchTSTForecaster.fromConfig(m)));
  }
  const g = blendGrid(models, { ...c!, refit: false }, weights);
  const below = (m: Record<number, number>) => Object.entries(m).map(([h, v]) => `@${h} ${v.toFixed(4)} (${(100 * (1 - v / g.ridge[Number(h)])).toFixed(1)}% below ridge)`).join(', ');
  console.log(`ridge: ${Object.entries(g.ridge).map(([h, v]) => `@${h} ${v.toFixed(4)}`).join(', ')}`);
  for (const r of g.rows) console.log(`w ${r.weight}: ${below(r.mase)}`);
  console.log(`chosen on validation: w ${g.chosen}`);
  if (flags.out !== undefined) writeFileSync(flags.out, JSON.stringify({ models: dirs, split: 'valid', ...g }, null, 2) + '\n');
}

if (process.argv[1]?.endsWith('forecast-blend.ts')) await main();
