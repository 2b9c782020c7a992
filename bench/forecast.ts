/**
 * The forecasting benchmark (issue 14): heed's PatchTST-style forecaster against the baselines on
 * US daily births 1969–1988, one protocol for all (src/tasks/forecast.ts):
 *
 *   train 1969-01-01 .. 1985-01-01 | valid: 730 days | test: the last 730 days, 1987-01-02 .. 1988-12-31
 *   rolling origins every 7 days in a period; horizons 7 and 28; MAE, sMAPE, MASE (season 7,
 *   scaled on the training period).
 *
 * Model selection uses the validation period only:
 *   - heed: the Trainer keeps the checkpoint with the best validation MASE (mean of both horizons);
 *   - ridge AR: lags and λ are chosen from a small grid by the same validation MASE.
 * Then the test period is scored once, for heed and every baseline, and the goal is checked:
 * heed's test MASE ≥ 20% below the best baseline's at each horizon (best baseline per horizon,
 * chosen on test, i.e. the hardest comparison).
 *
 *   node --import tsx bench/forecast.ts --out bench/results/forecast-births-<time>.json [--max-steps 2000] [--run-dir runs/forecast-bench]
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { execFileSync } from 'node:child_process';
import { FORECAST_TASK, loadFrame, resolveForecastConfig, scoreBaselines, type ForecastConfig, type MethodScores } from '../src/tasks/forecast.js';
import { evaluate } from '../src/tasks/index.js';
import { ForecastDataset } from '../src/data/forecast-dataset.js';
import { newRunId, prepareOutDir } from '../src/io/checkpoint.js';
import { backendInfo } from '../src/index.js';

const RIDGE_LAGS = ['1-28', '1-28,357-371', '1-56,357-371', '1-371'];
const RIDGE_LAMBDAS = [0.001, 0.01, 0.1, 1];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const meanMase = (s: MethodScores) => s.horizons.reduce((a, h) => a + h.mase, 0) / s.horizons.length;

async function main(): Promise<void> {
  const out = arg('out', `bench/results/forecast-births-${new Date().toISOString().slice(0, 16).replace(/[-:]/g, '')}.json`);
  const runDir = arg('run-dir', 'runs/forecast-bench');
  const user = { maxSteps: Number(arg('max-steps', '2000')), seed: Number(arg('seed', '0')) };
  const started = { date: new Date().toISOString(), uptime: uptime(), loadavg: loadavg() };
  console.log(`forecast bench: ${started.uptime}`);

  // 1. Ridge baseline: lags and λ chosen on validation.
  const base = resolveForecastConfig(user);
  const ds = new ForecastDataset(loadFrame(base), { contextLength: base.contextLength, horizon: base.horizon, validSteps: base.validSteps, testSteps: base.testSteps, season: base.season });
  const ridgeGrid: { ridgeLags: string; ridgeLambda: number; valid: MethodScores }[] = [];
  for (const ridgeLags of RIDGE_LAGS) {
    for (const ridgeLambda of RIDGE_LAMBDAS) {
      const c: ForecastConfig = { ...base, ridgeLags, ridgeLambda };
      const valid = scoreBaselines(ds, c, 'valid').scores.find((s) => s.method.startsWith('ridge'))!;
      ridgeGrid.push({ ridgeLags, ridgeLambda, valid });
      console.log(`ridge lags ${ridgeLags} λ ${ridgeLambda}: valid MASE ${valid.horizons.map((h) => `@${h.horizon} ${h.mase.toFixed(3)}`).join(' ')}`);
    }
  }
  const ridge = ridgeGrid.reduce((a, b) => (meanMase(b.valid) < meanMase(a.valid) ? b : a));
  console.log(`chosen on validation: ridge lags ${ridge.ridgeLags}, λ ${ridge.ridgeLambda}`);

  // 2. heed: train, the best checkpoint by validation MASE.
  const config = resolveForecastConfig({ ...user, ridgeLags: ridge.ridgeLags, ridgeLambda: ridge.ridgeLambda });
  const runId = newRunId();
  await prepareOutDir(runDir, { overwrite: true, runId });
  const trainUptime = uptime();
  const summary = await FORECAST_TASK.train(config as unknown as Record<string, unknown>, { out: runDir, runId, progress: 'plain' });
  const trainedUptime = uptime();
  console.log(`trained ${summary.steps} steps in ${summary.seconds.toFixed(0)} s; ${trainedUptime}`);

  // 3. Validation (what was selected on) and the one test evaluation.
  const valid = await evaluate(runDir, { split: 'valid' });
  const test = await evaluate(runDir, { split: 'test' });
  console.log(valid.report);
  console.log(test.report);
  const horizons = config.horizons.split(',').map(Number);
  const baselines = ['naive', 'seasonalNaive7', 'seasonalNaive364', 'ridge'];
  const goal = horizons.map((h) => {
    const best = baselines.map((b) => ({ baseline: b, mase: test.metrics[`${b}.mase${h}`] })).reduce((a, b) => (b.mase < a.mase ? b : a));
    const heed = test.metrics[`mase${h}`];
    const improvement = 1 - heed / best.mase;
    return { horizon: h, heedMase: heed, bestBaseline: best.baseline, bestBaselineMase: best.mase, improvement, met: improvement >= 0.2 };
  });
  for (const g of goal) console.log(`h=${g.horizon}: heed MASE ${g.heedMase.toFixed(3)} vs best baseline ${g.bestBaseline} ${g.bestBaselineMase.toFixed(3)}: ${(100 * g.improvement).toFixed(1)}% lower; goal (≥ 20%) ${g.met ? 'met' : 'NOT met'}`);

  const result = {
    what: 'forecast: heed PatchTST-style forecaster vs baselines on US daily births 1969–1988, rolling origin (src/tasks/forecast.ts)',
    command: `node --import tsx bench/forecast.ts ${process.argv.slice(2).join(' ')}`.trim(),
    started, cpus: cpus().length, cpuModel: cpus()[0]?.model, backend: backendInfo(), threads: process.env.HEED_NUM_THREADS ?? 'default (all cores)',
    config: { ...config },
    ridgeSelection: { grid: ridgeGrid.map((g) => ({ ridgeLags: g.ridgeLags, ridgeLambda: g.ridgeLambda, validMase: Object.fromEntries(g.valid.horizons.map((h) => [h.horizon, h.mase])) })), chosen: { ridgeLags: ridge.ridgeLags, ridgeLambda: ridge.ridgeLambda } },
    training: { steps: summary.steps, seconds: summary.seconds, stoppedBy: summary.stoppedBy, bestValidMase: summary.best, uptimeBefore: trainUptime, uptimeAfter: trainedUptime },
    valid: { metrics: valid.metrics, report: valid.report },
    test: { metrics: test.metrics, report: test.report },
    goal,
    finished: { date: new Date().toISOString(), uptime: uptime() },
  };
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

await main();
