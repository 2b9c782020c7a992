/**
 * The US federal holiday calendar behind the forecaster's holiday features: the dates the
 * holidays fell on (moving ones, the 1971 Monday Act, weekend observance), the features of the
 * days around them, and bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOLIDAY_WINDOW, NUM_DAY_OFF_VALUES, NUM_HOLIDAY_VALUES, US_FEDERAL_HOLIDAYS, holidayFeatures, usFederalHolidays, type UsFederalHoliday } from '../../src/data/holidays.js';
import { CALENDAR_FIELDS, NUM_CALENDAR_FIELDS, calendarIndices } from '../../src/data/calendar.js';
import { ValueError } from '../../src/errors.js';

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
function dates(year: number): Record<string, string> {
  return Object.fromEntries(usFederalHolidays(year).map((h) => [h.name, iso(h.date)]));
}
function observed(year: number, name: UsFederalHoliday): string {
  return iso(usFederalHolidays(year).find((h) => h.name === name)!.observed);
}
const id = (name: UsFederalHoliday) => US_FEDERAL_HOLIDAYS.indexOf(name);
const W = HOLIDAY_WINDOW;

test('moving holidays fall on the right days (checked against printed calendars)', () => {
  const y1985 = dates(1985);
  assert.equal(y1985['Thanksgiving Day'], '1985-11-28');
  assert.equal(y1985['Memorial Day'], '1985-05-27');
  assert.equal(y1985['Labor Day'], '1985-09-02');
  assert.equal(y1985["Washington's Birthday"], '1985-02-18');
  assert.equal(y1985['Columbus Day'], '1985-10-14');
  const y1988 = dates(1988);
  assert.equal(y1988['Thanksgiving Day'], '1988-11-24');
  assert.equal(y1988['Memorial Day'], '1988-05-30');
  assert.equal(y1988['Labor Day'], '1988-09-05');
  assert.equal(y1988['Birthday of Martin Luther King, Jr.'], '1988-01-18');
  assert.equal(dates(2024)['Thanksgiving Day'], '2024-11-28');
  assert.equal(dates(2024)['Memorial Day'], '2024-05-27');
});

test('the history of the rules: the 1971 Monday Act, Veterans Day 1971–1977, MLK Day from 1986, Juneteenth from 2021', () => {
  assert.equal(dates(1970)['Memorial Day'], '1970-05-30');
  assert.equal(dates(1971)['Memorial Day'], '1971-05-31');
  assert.equal(dates(1970)["Washington's Birthday"], '1970-02-22');
  assert.equal(dates(1975)['Veterans Day'], '1975-10-27'); // 4th Monday of October
  assert.equal(dates(1978)['Veterans Day'], '1978-11-11');
  assert.ok(!('Birthday of Martin Luther King, Jr.' in dates(1985)));
  assert.ok(!('Juneteenth' in dates(2020)));
  assert.equal(dates(2021).Juneteenth, '2021-06-19');
  assert.equal(usFederalHolidays(1988).length, 10);
});

test('a fixed-date holiday on a weekend is observed on the nearest weekday', () => {
  assert.equal(observed(1987, 'Independence Day'), '1987-07-03'); // Saturday → Friday
  assert.equal(observed(1988, 'Christmas Day'), '1988-12-26'); // Sunday → Monday
  assert.equal(observed(1983, "New Year's Day"), '1982-12-31'); // Saturday → the Friday of the year before
  assert.equal(observed(1987, 'Christmas Day'), '1987-12-25'); // a Friday: itself
  assert.equal(observed(1988, 'Thanksgiving Day'), '1988-11-24'); // always a Thursday
});

test('features: the holiday and the offset from it, and the observed day off by weekday', () => {
  const at = (y: number, m: number, d: number) => holidayFeatures(Date.UTC(y, m - 1, d));
  const slot = (name: UsFederalHoliday, offset: number) => 1 + id(name) * (2 * W + 1) + offset + W;
  assert.deepEqual(at(1987, 12, 24), { holiday: slot('Christmas Day', -1), dayOff: 0 }); // Christmas Eve, a Thursday
  assert.deepEqual(at(1987, 12, 25), { holiday: slot('Christmas Day', 0), dayOff: 1 + 4 }); // Friday
  assert.deepEqual(at(1985, 11, 29), { holiday: slot('Thanksgiving Day', 1), dayOff: 0 }); // the Friday after
  assert.deepEqual(at(1987, 12, 31), { holiday: slot("New Year's Day", -1), dayOff: 0 }); // New Year's Eve reads the next year
  assert.deepEqual(at(1987, 7, 3), { holiday: slot('Independence Day', -1), dayOff: 1 + 4 }); // observed Friday
  assert.deepEqual(at(1987, 7, 4), { holiday: slot('Independence Day', 0), dayOff: 0 }); // a Saturday: not the day off
  assert.deepEqual(at(1987, 8, 12), { holiday: 0, dayOff: 0 });
  assert.equal(at(1987, 12, 28).holiday, slot('Christmas Day', 3));
  assert.equal(at(1987, 12, 29).holiday, slot("New Year's Day", -3));
  // The time of day does not matter: a feature of the date.
  assert.deepEqual(holidayFeatures(Date.UTC(1987, 11, 24, 18, 30)), at(1987, 12, 24));
});

test('the calendar carries the holiday fields, every index inside its table, for twenty years of days', () => {
  assert.equal(NUM_CALENDAR_FIELDS, 6);
  assert.equal(CALENDAR_FIELDS.holiday, NUM_HOLIDAY_VALUES);
  assert.equal(CALENDAR_FIELDS.dayOff, NUM_DAY_OFF_VALUES);
  const sizes = Object.values(CALENDAR_FIELDS);
  const out = new Int32Array(NUM_CALENDAR_FIELDS);
  const seen = new Set<number>();
  for (let t = Date.UTC(1969, 0, 1); t <= Date.UTC(1988, 11, 31); t += 86_400_000) {
    calendarIndices(t, out);
    sizes.forEach((n, k) => assert.ok(out[k] >= 0 && out[k] < n, `field ${k} = ${out[k]} on ${iso(t)}`));
    seen.add(out[4]);
  }
  // Every holiday that existed in 1969–1988 (all but Juneteenth) shows up at every offset.
  assert.equal(seen.size, 1 + (US_FEDERAL_HOLIDAYS.length - 1) * (2 * W + 1));
});

test('bad input is a ValueError', () => {
  assert.throws(() => usFederalHolidays(1987.5), (e: Error) => e instanceof ValueError && /expected an integer/.test(e.message));
  assert.throws(() => holidayFeatures(Number.NaN), (e: Error) => e instanceof ValueError && /finite/.test(e.message));
});
