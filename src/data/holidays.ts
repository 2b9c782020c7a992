/**
 * US federal holidays, with the dates they actually fell on in a given year, for calendar
 * features of daily series (src/data/calendar.ts).
 *
 * Why a table and not only day-of-year features: births, sales and traffic move on holidays, and
 * half of the federal holidays move. Since the Uniform Monday Holiday Act (effective 1971),
 * Washington's Birthday, Memorial Day, Columbus Day and (1971–1977) Veterans Day fall on a
 * Monday; Thanksgiving is the fourth Thursday of November; a fixed-date holiday on a Saturday is
 * observed on the Friday before, on a Sunday on the Monday after (New Year's Day on a Saturday is
 * observed on Dec 31 of the year before). A model given "3 days before Thanksgiving" sees one
 * event every year; given day-of-year it sees a different index each year.
 *
 * The rules follow 5 U.S.C. 6103 and its history: MLK Day from 1986, Juneteenth from 2021,
 * the Monday holidays from 1971 (before: Feb 22, May 30, Oct 12, Nov 11).
 *
 *   usFederalHolidays(1985)  // [{ name: "New Year's Day", date: Date.UTC(1985, 0, 1), observed: ... }, ...]
 *   holidayFeatures(Date.UTC(1985, 10, 29))  // the day after Thanksgiving → { holiday: 1 + 8·7 + 4, dayOff: 0 }
 */
import { ValueError } from '../errors.js';

/** The holidays, in a fixed order: a holiday's index here is its id in the features. */
export const US_FEDERAL_HOLIDAYS = Object.freeze([
  "New Year's Day",
  'Birthday of Martin Luther King, Jr.',
  "Washington's Birthday",
  'Memorial Day',
  'Juneteenth',
  'Independence Day',
  'Labor Day',
  'Columbus Day',
  'Veterans Day',
  'Thanksgiving Day',
  'Christmas Day',
] as const);

export type UsFederalHoliday = (typeof US_FEDERAL_HOLIDAYS)[number];

/** One holiday in one year: its legal date and the weekday it was observed on (equal unless a weekend). UTC midnights, in ms. */
export interface HolidayDate {
  name: UsFederalHoliday;
  id: number;
  date: number;
  observed: number;
}

/** Days either side of a holiday that get their own feature value (Christmas Eve is −1, the Friday after Thanksgiving +1). */
export const HOLIDAY_WINDOW = 3;

/** Index range of the `holiday` feature: 0 = no holiday within ±HOLIDAY_WINDOW days, else 1 + id · (2W + 1) + (offset + W). */
export const NUM_HOLIDAY_VALUES = 1 + US_FEDERAL_HOLIDAYS.length * (2 * HOLIDAY_WINDOW + 1);

/** Index range of the `dayOff` feature: 0 = a working day, 1 + dayOfWeek (Monday = 0) on a federal day off. */
export const NUM_DAY_OFF_VALUES = 8;

const DAY_MS = 86_400_000;

/** UTC midnight of the nth (1-based) `weekday` (0 = Sunday, as Date.getUTCDay) of a month; n = −1 is the last. */
function nthWeekday(year: number, month: number, weekday: number, n: number): number {
  if (n > 0) {
    const first = new Date(Date.UTC(year, month, 1)).getUTCDay();
    return Date.UTC(year, month, 1 + ((weekday - first + 7) % 7) + (n - 1) * 7);
  }
  const lastDate = new Date(Date.UTC(year, month + 1, 0));
  return Date.UTC(year, month, lastDate.getUTCDate() - ((lastDate.getUTCDay() - weekday + 7) % 7));
}

/** A fixed-date holiday on a Saturday is observed the Friday before, on a Sunday the Monday after. */
function observedDay(date: number): number {
  const dow = new Date(date).getUTCDay();
  return dow === 6 ? date - DAY_MS : dow === 0 ? date + DAY_MS : date;
}

const MONDAY = 1, THURSDAY = 4;

/** The federal holidays of `year` that existed that year, in US_FEDERAL_HOLIDAYS order. Years before 1971 use the pre-Monday-Act dates. */
export function usFederalHolidays(year: number): HolidayDate[] {
  if (!Number.isInteger(year)) throw new ValueError(`usFederalHolidays: year ${year}, expected an integer.`);
  const monday = year >= 1971; // Uniform Monday Holiday Act
  const fixed = (month: number, day: number) => Date.UTC(year, month, day);
  const rules: [UsFederalHoliday, number | null, boolean][] = [
    // name, date (null: not a holiday that year), fixed date (so observed on a weekday)
    ["New Year's Day", fixed(0, 1), true],
    ['Birthday of Martin Luther King, Jr.', year >= 1986 ? nthWeekday(year, 0, MONDAY, 3) : null, false],
    ["Washington's Birthday", monday ? nthWeekday(year, 1, MONDAY, 3) : fixed(1, 22), !monday],
    ['Memorial Day', monday ? nthWeekday(year, 4, MONDAY, -1) : fixed(4, 30), !monday],
    ['Juneteenth', year >= 2021 ? fixed(5, 19) : null, true],
    ['Independence Day', fixed(6, 4), true],
    ['Labor Day', nthWeekday(year, 8, MONDAY, 1), false],
    ['Columbus Day', monday ? nthWeekday(year, 9, MONDAY, 2) : fixed(9, 12), !monday],
    ['Veterans Day', monday && year <= 1977 ? nthWeekday(year, 9, MONDAY, 4) : fixed(10, 11), !(monday && year <= 1977)],
    ['Thanksgiving Day', nthWeekday(year, 10, THURSDAY, 4), false],
    ['Christmas Day', fixed(11, 25), true],
  ];
  const out: HolidayDate[] = [];
  for (const [name, date, isFixed] of rules) {
    if (date === null) continue;
    out.push({ name, id: US_FEDERAL_HOLIDAYS.indexOf(name), date, observed: isFixed ? observedDay(date) : date });
  }
  return out;
}

/** Holidays of the years around a year, cached: features of a day look one year either side (Dec 31 is New Year's Eve). */
const cache = new Map<number, HolidayDate[]>();
function holidaysAround(year: number): HolidayDate[] {
  let h = cache.get(year);
  if (h === undefined) {
    h = [...usFederalHolidays(year - 1), ...usFederalHolidays(year), ...usFederalHolidays(year + 1)];
    if (cache.size > 512) cache.clear();
    cache.set(year, h);
  }
  return h;
}

/**
 * The two holiday features of the day holding timestamp `ms` (UTC):
 *   - holiday: 0, or 1 + id · (2W + 1) + (offset + W) for the nearest holiday whose legal date is
 *     within W = HOLIDAY_WINDOW days (offset = this day − that date; on a tie the later holiday);
 *   - dayOff: 0, or 1 + dayOfWeek (Monday = 0) when the day is a holiday's observed day off.
 * Both depend on the date only, so they are known for any future day.
 */
export function holidayFeatures(ms: number): { holiday: number; dayOff: number } {
  if (!Number.isFinite(ms)) throw new ValueError(`holidayFeatures: timestamp ${ms}, expected a finite number of ms.`);
  const d = new Date(ms);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  let holiday = 0, best = Infinity, dayOff = 0;
  for (const h of holidaysAround(d.getUTCFullYear())) {
    const offset = Math.round((day - h.date) / DAY_MS);
    if (Math.abs(offset) <= HOLIDAY_WINDOW && Math.abs(offset) <= best) {
      best = Math.abs(offset);
      holiday = 1 + h.id * (2 * HOLIDAY_WINDOW + 1) + offset + HOLIDAY_WINDOW;
    }
    if (h.observed === day) dayOff = 1 + ((d.getUTCDay() + 6) % 7);
  }
  return { holiday, dayOff };
}
