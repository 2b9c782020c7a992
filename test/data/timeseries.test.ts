// Time-series CSV reading: the regular grid, the bad-input cases (gaps, duplicate timestamps,
// off-grid and malformed cells) with their explicit fill policies, the births preset, calendar
// indices, and the train-only scaling of ForecastDataset (no leakage from valid/test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAY_MS, formatTimestamp, loadBirths, parseTimeSeriesCsv, parseTimestamp, readTimeSeriesCsv } from '../../src/data/timeseries.js';
import { ForecastDataset } from '../../src/data/forecast-dataset.js';
import { StandardScaler } from '../../src/data/scaler.js';
import { CALENDAR_FIELDS, NUM_CALENDAR_FIELDS, calendarIndices } from '../../src/data/calendar.js';
import { ConfigError, ValueError } from '../../src/errors.js';

const csv = (rows: string[]) => ['date,a,b', ...rows].join('\n');

test('a clean CSV becomes one regular daily grid per series', () => {
  const f = parseTimeSeriesCsv(csv(['2020-01-02,2,20', '2020-01-01,1,10', '2020-01-03,3,30']));
  assert.equal(f.stepMs, DAY_MS);
  assert.deepEqual(f.names, ['a', 'b']);
  assert.deepEqual([...f.values[0]], [1, 2, 3]); // sorted by time
  assert.deepEqual([...f.values[1]], [10, 20, 30]);
  assert.equal(formatTimestamp(f.time[2]), '2020-01-03');
  assert.deepEqual(f.repairs, { filled: 0, duplicatesMerged: 0 });
  const only = parseTimeSeriesCsv('when,x,y\n2020-01-01,1,5\n2020-01-02,2,6\n', { timeColumn: 'when', valueColumns: ['y'] });
  assert.deepEqual([...only.values[0]], [5, 6]);
});

test('a gap is a clear error by default, naming the missing dates and the fill policies', () => {
  const rows = ['2020-01-01,1,10', '2020-01-02,2,20', '2020-01-05,5,50', '2020-01-04,4,40'];
  assert.throws(() => parseTimeSeriesCsv(csv(rows)), (e: Error) => e instanceof ValueError && /1 gap/.test(e.message) && /2020-01-03/.test(e.message) && /--gaps interpolate/.test(e.message));
  // An empty cell is a gap too, in that series only.
  assert.throws(() => parseTimeSeriesCsv(csv(['2020-01-01,1,10', '2020-01-02,,20', '2020-01-03,3,30'])), /series 'a' has 1 gap/);
});

test('gaps: interpolate fills linearly, ffill repeats the last value, and both are counted', () => {
  const rows = ['2020-01-01,1,10', '2020-01-02,2,', '2020-01-05,5,50'];
  const lin = parseTimeSeriesCsv(csv(rows), { gaps: 'interpolate' });
  assert.deepEqual([...lin.values[0]], [1, 2, 3, 4, 5]);
  assert.deepEqual([...lin.values[1]], [10, 20, 30, 40, 50]);
  assert.equal(lin.repairs.filled, 2 + 3);
  const ff = parseTimeSeriesCsv(csv(rows), { gaps: 'ffill' });
  assert.deepEqual([...ff.values[0]], [1, 2, 2, 2, 5]);
  assert.deepEqual([...ff.values[1]], [10, 10, 10, 10, 50]);
  // A gap at the very start cannot be filled from anything.
  assert.throws(() => parseTimeSeriesCsv(csv(['2020-01-01,,10', '2020-01-02,2,20']), { gaps: 'ffill' }), /empty at its first timestamp/);
});

test('duplicate timestamps are a clear error by default; mean and last merge them', () => {
  const rows = ['2020-01-01,1,10', '2020-01-02,2,20', '2020-01-02,4,40', '2020-01-03,3,30'];
  assert.throws(() => parseTimeSeriesCsv(csv(rows)), (e: Error) => e instanceof ValueError && /duplicate timestamp/.test(e.message) && /lines 3, 4/.test(e.message) && /--duplicates mean/.test(e.message));
  const mean = parseTimeSeriesCsv(csv(rows), { duplicates: 'mean' });
  assert.deepEqual([...mean.values[0]], [1, 3, 3]);
  assert.equal(mean.repairs.duplicatesMerged, 1);
  const last = parseTimeSeriesCsv(csv(rows), { duplicates: 'last' });
  assert.deepEqual([...last.values[1]], [10, 40, 30]);
});

test('off-grid timestamps, bad dates, non-numeric cells and missing columns are clear errors', () => {
  assert.throws(() => parseTimeSeriesCsv(csv(['2020-01-01,1,1', '2020-01-02,1,1', '2020-01-03,1,1', '2020-01-03T12:00,1,1'])), /off the grid/);
  assert.throws(() => parseTimeSeriesCsv(csv(['2020-01-01,1,1', '2020-02-30,1,1'])), /line 3.*not a date/);
  assert.throws(() => parseTimeSeriesCsv(csv(['2020-01-01,1,1', '2020-01-02,x,1'])), /'x' is not a number/);
  assert.throws(() => parseTimeSeriesCsv(csv(['2020-01-01,1,1', '2020-01-02,1,1']), { valueColumns: ['c'] }), /value column 'c'/);
  assert.throws(() => parseTimeSeriesCsv('date,a\n2020-01-01,1\n'), /expected a header and at least 2/);
  assert.throws(() => readTimeSeriesCsv('/nonexistent/file.csv'), /cannot read/);
  assert.equal(parseTimestamp('1988-12-31T06:00:00Z'), Date.UTC(1988, 11, 31, 6));
});

test('a CSV file on disk reads the same as its text', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'heed-ts-')), 's.csv');
  writeFileSync(path, csv(['2020-01-01,1,10', '2020-01-02,2,20']));
  assert.deepEqual([...readTimeSeriesCsv(path).values[1]], [10, 20]);
});

test('the births preset is 7,305 regular days from 1969-01-01 to 1988-12-31', () => {
  const f = loadBirths();
  assert.equal(f.time.length, 7305);
  assert.equal(formatTimestamp(f.time[0]), '1969-01-01');
  assert.equal(formatTimestamp(f.time[7304]), '1988-12-31');
  assert.equal(f.values[0][0], 8486);
});

test('calendar indices: weekday, leap-year day of year, nth and last weekday of the month', () => {
  const out = new Int32Array(NUM_CALENDAR_FIELDS);
  calendarIndices(Date.UTC(1987, 11, 25), out); // Friday, Dec 25, 1987 (not a leap year)
  assert.deepEqual([...out.slice(0, 2)], [4, 359]); // Monday = 0; Dec 25 is index 359 in every year
  calendarIndices(Date.UTC(1988, 11, 25), out);
  assert.equal(out[1], 359);
  calendarIndices(Date.UTC(1988, 10, 24), out); // Thanksgiving 1988: the 4th Thursday of November
  assert.equal(out[2], 10 * 35 + 3 * 7 + 3);
  calendarIndices(Date.UTC(1988, 4, 30), out); // Memorial Day 1988: the last Monday of May
  assert.equal(out[3], 4 * 7 + 0 + 1);
  calendarIndices(Date.UTC(1988, 4, 23), out);
  assert.equal(out[3], 0);
  for (const [k, n] of Object.values(CALENDAR_FIELDS).entries()) assert.ok(out[k] < n);
});

test('scaling is fitted on the training period only: changing valid and test values changes nothing the model trains on', () => {
  const T = 400;
  const rows = Array.from({ length: T }, (_, t) => `${formatTimestamp(Date.UTC(2020, 0, 1 + t))},${100 + (t % 7) + t / 50},${t}`);
  const frame = parseTimeSeriesCsv(csv(rows));
  const opts = { contextLength: 28, horizon: 7, validSteps: 50, testSteps: 50, season: 7 };
  const ds = new ForecastDataset(frame, opts);
  assert.equal(ds.validStart, 300);
  const shifted = { ...frame, values: frame.values.map((v) => Float64Array.from(v, (x, t) => (t >= ds.validStart ? x * 1000 + 5 : x))) };
  const ds2 = new ForecastDataset(shifted, opts);
  assert.deepEqual(ds2.scalers, ds.scalers);
  const exact = StandardScaler.fit(frame.values[1].subarray(0, 300));
  assert.equal(ds.scalers[1].mean, exact.mean); // the mean of 0..299, not of 0..399
  assert.equal(ds.scalers[1].mean, 149.5);
  const windows = ds.trainingWindows();
  assert.ok(windows.every((w) => w.origin + opts.horizon <= ds.validStart));
  assert.equal(windows.length, 2 * (300 - 7 - 28 + 1));
  const refit = ds.trainingWindows(ds.testStart); // train + valid, for the refit after model selection
  assert.equal(refit.length, 2 * (350 - 7 - 28 + 1));
  assert.ok(refit.every((w) => w.origin + opts.horizon <= ds.testStart));
  assert.throws(() => ds.trainingWindows(ds.T), /end at validStart \(300\) or testStart \(350\)/);
  const a = ds.inputs(windows), b = ds2.inputs(windows);
  assert.deepEqual(a.context.data, b.context.data);
  assert.deepEqual(a.target!.data, b.target!.data);
  assert.throws(() => new ForecastDataset(frame, { ...opts, validSteps: 200, testSteps: 200 }), ConfigError);
});
