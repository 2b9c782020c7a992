/**
 * The forecast task end to end on a small CSV (two weekly-seasonal series, 420 days): `heed train
 * forecast` writes a model directory, `heed eval` scores heed and the baselines on rolling
 * origins, the Predictor forecasts from a date or from given history with ordered quantiles, and
 * `heed serve` answers what the in-process Predictor answers. Bad inputs: a CSV with gaps or
 * duplicate timestamps is refused with the fix, or trained with an explicit fill policy.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { evaluate, loadPredictor } from '../../src/tasks/index.js';
import { FORECAST_TASK, blendWithRidge, resolveForecastConfig, type ForecastOutput } from '../../src/tasks/forecast.js';
import { RidgeAutoregression, parseLags } from '../../src/train/forecast-baselines.js';
import { ForecastDataset } from '../../src/data/forecast-dataset.js';
import { NUM_CALENDAR_FIELDS, calendarIndices } from '../../src/data/calendar.js';
import { createServer, type HeedServer } from '../../src/serve/server.js';
import { formatTimestamp, parseTimeSeriesCsv } from '../../src/data/timeseries.js';
import { CheckpointError, ConfigError, NotImplementedError, ShapeError, ValueError } from '../../src/errors.js';
import { API_KEY } from '../serve/helpers.js';

const root = mkdtempSync(join(tmpdir(), 'heed-forecast-'));
const csvPath = join(root, 'sales.csv');
const dir = join(root, 'model');
const T = 420;
const day = (t: number) => formatTimestamp(Date.UTC(2020, 0, 1 + t));
const valueA = (t: number) => 100 + 10 * Math.sin((2 * Math.PI * t) / 7) + t / 20;
const valueB = (t: number) => 50 + (t % 7 === 5 ? 20 : 0) + ((t * 7919) % 13) / 4;
const rows = Array.from({ length: T }, (_, t) => `${day(t)},${valueA(t).toFixed(3)},${valueB(t).toFixed(3)}`);
const TINY = ['--data', csvPath, '--context-length', '28', '--horizon', '14', '--horizons', '7,14', '--patch-length', '7', '--patch-stride', '7',
  '--d-model', '16', '--num-heads', '2', '--num-layers', '1', '--dim-feedforward', '32', '--head-dim', '8', '--valid-steps', '56', '--test-steps', '56',
  '--max-steps', '6', '--eval-every', '3', '--warmup-steps', '1', '--batch-size', '16', '--ridge-lags', '1-14', '--log-every', '1', '--progress', 'none'];
let server: HeedServer;
const auth = { authorization: `Bearer ${API_KEY}` };

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => undefined;
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

before(async () => {
  writeFileSync(csvPath, ['date,a,b', ...rows].join('\n') + '\n');
  assert.equal(await quietly(() => main(['train', 'forecast', ...TINY, '--out', dir])), 0);
  server = createServer({ models: [{ name: 'fc', dir }], apiKeys: [API_KEY], logger: false, config: { port: 0, workers: 1 } });
  await server.ready;
});
after(async () => server?.close());

test('eval scores heed and every baseline on the same rolling origins of the test period', async () => {
  const r = await evaluate(dir, { split: 'test' });
  assert.equal(r.split, 'test');
  // test = the last 56 days; origins every 7 days with room for 14 steps: 56 − 14 = 42 → 7 origins.
  assert.equal(r.metrics.origins, 7);
  for (const k of ['mase7', 'mase14', 'mae7', 'smape14', 'coverage', 'naive.mase7', 'seasonalNaive7.mase14', 'seasonalNaive364.mase7', 'ridge.mase7']) {
    assert.ok(Number.isFinite(r.metrics[k]), `${k} = ${r.metrics[k]}`);
  }
  assert.match(r.report, /\| heed \|/);
  // The validation period starts at day 308: too early for last year's value.
  const valid = await evaluate(dir, { split: 'valid' });
  assert.ok(!('seasonalNaive364.mase7' in valid.metrics));
  assert.match(valid.report, /left out: seasonal naive 364/);
  await assert.rejects(evaluate(dir, { split: 'train' }), /expected valid or test/);
});

test('predict forecasts from a date: timestamps after the origin, ordered quantiles, the actual values and the context', async () => {
  const p = await loadPredictor(dir);
  assert.equal(p.task, 'forecast');
  const [r] = p.predict([day(380)], { attention: true });
  const o = r.output as ForecastOutput;
  assert.equal(o.series, 'a');
  assert.equal(o.origin, day(380));
  assert.deepEqual(o.timestamps, Array.from({ length: 14 }, (_, h) => day(380 + h)));
  assert.deepEqual(Object.keys(o.quantiles), ['0.1', '0.5', '0.9']);
  assert.deepEqual(o.point, o.quantiles['0.5']);
  for (let h = 0; h < 14; h++) assert.ok(o.quantiles['0.1'][h] <= o.point[h] && o.point[h] <= o.quantiles['0.9'][h]);
  assert.equal(o.actual.length, 14);
  assert.ok(Math.abs((o.actual[0] as number) - valueA(380)) < 1e-3);
  assert.equal(o.history.values.length, 28);
  assert.equal(o.history.timestamps[27], day(379));
  assert.equal(r.attention![0].queryTokens.length, 4); // 4 weekly patches
  // Past the end of the data: the future, with no actual values.
  const future = p.predict([{ origin: day(T), series: 'b' }])[0].output as ForecastOutput;
  assert.equal(future.series, 'b');
  assert.deepEqual(future.actual, new Array(14).fill(null));
  // Given history gives the same forecast as the same values read from the file.
  const history = Array.from({ length: 28 }, (_, k) => Number(valueA(352 + k).toFixed(3)));
  const given = p.predict([{ origin: day(380), history }])[0].output as ForecastOutput;
  given.point.forEach((v, h) => assert.ok(Math.abs(v - o.point[h]) < 1e-3));
});

test('predict rejects bad inputs with the reason', async () => {
  const p = await loadPredictor(dir);
  assert.throws(() => p.validateInput('yesterday'), (e: Error) => e instanceof ValueError && /not a date/.test(e.message));
  assert.throws(() => p.validateInput(day(3)), /needs 28 steps of data before it/);
  assert.throws(() => p.validateInput({ origin: day(100), series: 'zzz' }), /not one of a, b/);
  assert.throws(() => p.validateInput({ origin: day(100), history: [1, 2, 3] }), /at least contextLength = 28/);
  assert.throws(() => p.validateInput({ origin: day(100), extra: 1 }), /unknown input key/);
  assert.throws(() => p.validateInput(42), /expected an origin date/);
  assert.throws(() => p.validateInput(`${day(100)}T12:00`), /off the data's grid/);
});

test('heed serve answers a forecast exactly as the in-process predictor', async () => {
  const local = (await loadPredictor(dir)).predict([day(390)]);
  const r = await server.app.inject({ method: 'POST', url: '/v1/models/fc/predict', headers: auth, payload: { input: day(390) } });
  assert.equal(r.statusCode, 200, r.body);
  const served = r.json().predictions[0].output as ForecastOutput;
  assert.deepEqual(served, JSON.parse(JSON.stringify(local[0].output)));
  const bad = await server.app.inject({ method: 'POST', url: '/v1/models/fc/predict', headers: auth, payload: { input: 'not-a-date' } });
  assert.equal(bad.statusCode, 422, bad.body);
});

test('a CSV with a gap or a duplicate timestamp is refused with the fix, and trains under an explicit fill policy', async () => {
  const gapped = join(root, 'gapped.csv');
  writeFileSync(gapped, ['date,a,b', ...rows.filter((_, t) => t !== 200 && t !== 201), rows[10]].join('\n'));
  const user = { data: gapped, contextLength: 28, horizon: 14, horizons: '7,14', validSteps: 56, testSteps: 56 };
  const quiet = { progress: 'none' as const, print: () => {} };
  await assert.rejects(FORECAST_TASK.train(resolveForecastConfig(user) as never, { out: join(root, 'g0'), runId: 'g', ...quiet }), /duplicate timestamp.*--duplicates mean/);
  await assert.rejects(FORECAST_TASK.train(resolveForecastConfig({ ...user, duplicates: 'last' }) as never, { out: join(root, 'g1'), runId: 'g', ...quiet }), /2 gap\(s\).*--gaps interpolate/);
  const lines: string[] = [];
  const tiny = { ...user, duplicates: 'last', gaps: 'interpolate', dModel: 16, numHeads: 2, numLayers: 1, dimFeedforward: 32, headDim: 8, maxSteps: 2, evalEvery: 0, warmupSteps: 1, ridgeLags: '1-14' };
  await FORECAST_TASK.train(resolveForecastConfig(tiny) as never, { out: join(root, 'g2'), runId: 'g', progress: 'none', print: (l) => lines.push(l) });
  assert.match(lines.join('\n'), /4 gap cell\(s\) filled \(interpolate\), 1 duplicate row\(s\) merged \(last\)/);
  const [r] = (await loadPredictor(join(root, 'g2'))).predict([day(201)]);
  const o = r.output as ForecastOutput;
  // The filled day 200 sits on the line between days 199 and 202.
  assert.ok(Math.abs(o.history.values[27] - (valueA(199) + (1 / 3) * (valueA(202) - valueA(199)))) < 1e-2);
});

test('the CLI prints a forecast as one JSON line', async () => {
  const out: string[] = [];
  const log = console.log;
  console.log = (s: string) => out.push(s);
  try {
    assert.equal(await main(['predict', dir, day(390)]), 0);
  } finally {
    console.log = log;
  }
  const [input, json] = out[0].split('\t');
  assert.equal(input, day(390));
  assert.equal((JSON.parse(json) as ForecastOutput).timestamps.length, 14);
});

test('a corrupt series.json, or data changed since training, is a CheckpointError naming the file', async () => {
  const { cpSync, readFileSync } = await import('node:fs');
  const copy = join(root, 'corrupt');
  cpSync(dir, copy, { recursive: true });
  const file = join(copy, 'series.json');
  const good = readFileSync(file, 'utf8');
  writeFileSync(file, good.replace(/"std":\s*[0-9.e+-]+/, '"std": -1'));
  await assert.rejects(loadPredictor(copy), (e: Error) => e instanceof CheckpointError && /series\.json/.test(e.message));
  writeFileSync(file, '{"names": ["a"], "names": ["b"]}');
  await assert.rejects(loadPredictor(copy), /twice/);
  // The data file edited after training: the predictor refuses to read it as the training data.
  const moved = join(root, 'edited.csv');
  writeFileSync(moved, ['date,a,b', ...rows.map((r, t) => (t < 10 ? r.replace(/,(\d)/, ',9$1') : r))].join('\n'));
  writeFileSync(file, good.replace(JSON.stringify(csvPath), JSON.stringify(moved)));
  const p = await loadPredictor(copy);
  assert.throws(() => p.predict([day(300)]), (e: Error) => e instanceof CheckpointError && /not the data this model was trained on/.test(e.message));
});

test('a forecast run resumes from its last checkpoint', async () => {
  const out = join(root, 'resumed');
  const flags = TINY.map((f) => (f === '6' ? '2' : f));
  assert.equal(await quietly(() => main(['train', 'forecast', ...flags, '--out', out])), 0);
  assert.equal(await quietly(() => main(['train', 'forecast', '--out', out, '--resume', '--max-steps', '4', '--progress', 'none'])), 0);
  const { readFileSync } = await import('node:fs');
  const steps = readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.type === 'step').map((r) => r.step);
  assert.deepEqual(steps, [1, 2, 3, 4]);
});

test('refit trains on train + valid (windows end at the test period), fits the ridge there too, and scores test only', async () => {
  const refit = join(root, 'refit');
  assert.equal(await quietly(() => main(['train', 'forecast', ...TINY, '--refit', '--out', refit])), 0);
  const r = await evaluate(refit, { split: 'test' });
  assert.ok(Number.isFinite(r.metrics.mase7) && Number.isFinite(r.metrics['ridge.mase7']));
  const plain = await evaluate(dir, { split: 'test' });
  assert.notEqual(r.metrics['ridge.mase7'], plain.metrics['ridge.mase7'], 'the ridge of a refit model is fitted on train + valid');
  await assert.rejects(evaluate(refit, { split: 'valid' }), (e: Error) => e instanceof ValueError && /refit on train \+ valid.*--split test/.test(e.message));
});

test('eval of an ensemble averages its members\' quantiles, and refuses members of different protocols', async () => {
  const seed1 = join(root, 'seed1');
  assert.equal(await quietly(() => main(['train', 'forecast', ...TINY, '--seed', '1', '--out', seed1])), 0);
  const a = await evaluate(dir, { split: 'valid' });
  const b = await evaluate(seed1, { split: 'valid' });
  const ens = await evaluate([dir, seed1], { split: 'valid' });
  assert.match(ens.report, /ensemble of 2 models/);
  assert.notEqual(a.metrics.mae7, b.metrics.mae7, 'two seeds forecast differently');
  // The mean forecast's MAE is at most the members' mean MAE (the absolute error is convex).
  assert.ok(ens.metrics.mae7 <= (a.metrics.mae7 + b.metrics.mae7) / 2 + 1e-9, `${ens.metrics.mae7} vs ${a.metrics.mae7}, ${b.metrics.mae7}`);
  assert.equal(ens.metrics['ridge.mase7'], a.metrics['ridge.mase7'], 'the baselines do not depend on the ensemble');
  const other = join(root, 'ctx35');
  assert.equal(await quietly(() => main(['train', 'forecast', ...TINY.map((f) => (f === '28' ? '35' : f)), '--out', other])), 0);
  await assert.rejects(evaluate([dir, other], { split: 'valid' }), (e: Error) => e instanceof ConfigError && /differ in 'contextLength' \(28 vs 35\)/.test(e.message));
  await assert.rejects(loadPredictor([dir, seed1]), (e: Error) => e instanceof NotImplementedError && /one model directory/.test(e.message));
});

test('blendWithRidge moves every level by w · (ridge − median): the median to (1 − w) · heed + w · ridge, the band kept', () => {
  const q = Float32Array.from([1, 2, 4, 10, 11, 12]); // (B 1, H 2, Q 3)
  blendWithRidge(q, [[6, 14]], [0.1, 0.5, 0.9], 0.25);
  assert.deepEqual([...q], [2, 3, 5, 10.75, 11.75, 12.75]);
  assert.throws(() => blendWithRidge(new Float32Array(5), [[1, 2]], [0.1, 0.5, 0.9], 0.5), (e: Error) => e instanceof ShapeError);
  assert.throws(() => resolveForecastConfig({ ridgeBlend: 1 }), (e: Error) => e instanceof ConfigError && /ridgeBlend.*\[0, 1\)/.test(e.message));
  assert.throws(() => resolveForecastConfig({ ridgeBlend: -0.1 }), ConfigError);
});

test('a hybrid model (--ridge-blend) forecasts heed + w · (ridge − heed), with the ridge fitted on the training period', async () => {
  const flags = [...TINY.filter((_, i, a) => a[i] !== '--eval-every' && a[i - 1] !== '--eval-every'), '--eval-every', '0'];
  const plainDir = join(root, 'plain'), hybridDir = join(root, 'hybrid');
  assert.equal(await quietly(() => main(['train', 'forecast', ...flags, '--out', plainDir])), 0);
  assert.equal(await quietly(() => main(['train', 'forecast', ...flags, '--ridge-blend', '0.5', '--out', hybridDir])), 0);
  const plain = (await loadPredictor(plainDir)).predict([day(380)])[0].output as ForecastOutput;
  const hybrid = (await loadPredictor(hybridDir)).predict([day(380)])[0].output as ForecastOutput;
  const series = Float64Array.from({ length: T }, (_, t) => Number(valueA(t).toFixed(3)));
  const ridge = RidgeAutoregression.fit(series, T - 112, { lags: parseLags('1-14'), horizon: 14, lambda: 0.1 }).predict(series, 380);
  for (let h = 0; h < 14; h++) {
    assert.ok(Math.abs(hybrid.point[h] - (0.5 * plain.point[h] + 0.5 * ridge[h])) < 1e-2, `h ${h}: ${hybrid.point[h]} vs ${plain.point[h]}, ridge ${ridge[h]}`);
    assert.ok(Math.abs(hybrid.quantiles['0.9'][h] - hybrid.point[h] - (plain.quantiles['0.9'][h] - plain.point[h])) < 1e-2);
  }
  const r = await evaluate(hybridDir, { split: 'valid' });
  assert.match(r.report, /\| heed \+ ridge \(w 0\.5\) \|/);
  // An ensemble mixes only members of one hybrid weight.
  await assert.rejects(evaluate([plainDir, hybridDir], { split: 'valid' }), (e: Error) => e instanceof ConfigError && /differ in 'ridgeBlend'/.test(e.message));
});

test('the calendar inputs are a function of the forecast dates only: the values never reach them', () => {
  const frame = (f: (t: number) => number) => parseTimeSeriesCsv(['date,a', ...Array.from({ length: T }, (_, t) => `${day(t)},${f(t)}`)].join('\n'));
  const opts = { contextLength: 28, horizon: 14, validSteps: 56, testSteps: 56, season: 7 };
  const a = new ForecastDataset(frame(valueA), opts), b = new ForecastDataset(frame((t) => 1000 - t), opts);
  const windows = [{ series: 0, origin: 100 }, { series: 0, origin: T }];
  const ca = a.inputs(windows).calendar.data as Int32Array;
  assert.deepEqual([...ca], [...(b.inputs(windows).calendar.data as Int32Array)]);
  const expected = new Int32Array(NUM_CALENDAR_FIELDS);
  calendarIndices(Date.UTC(2020, 0, 1 + T + 13), expected); // the last forecast day, past the end of the data
  assert.deepEqual([...ca.slice(-NUM_CALENDAR_FIELDS)], [...expected]);
});
