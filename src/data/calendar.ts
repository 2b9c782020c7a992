/**
 * Calendar features of a timestamp, as small integer indices for embedding tables.
 *
 * Daily series (births, sales, traffic) move with the week, the year, and holidays. Holidays
 * come in two kinds, and each field catches one:
 *   - fixed dates (Jan 1, Jul 4, Dec 25): `dayOfYear`, counted on a leap-year calendar so that
 *     Dec 25 has the same index every year;
 *   - "nth weekday of the month" (US Labor Day = 1st Monday of September, Thanksgiving = 4th
 *     Thursday of November): `monthWeekday`, and "last weekday of the month" (Memorial Day =
 *     last Monday of May): `lastWeekday`.
 * Those indices see a moving holiday only through its weekday pattern (the 4th Thursday of
 * November is every November's 4th Thursday) and miss weekend holidays observed on a Friday or
 * Monday; two more fields name the holidays themselves (src/data/holidays.ts, US federal):
 *   - `holiday`: which holiday is within ±3 days and how far (Christmas Eve, the Friday after
 *     Thanksgiving);
 *   - `dayOff`: whether the day is a federal day off (observed), by weekday.
 * Fields are read in UTC. For sub-daily series they describe the day the step falls in. Every
 * field is a function of the date alone, so the forecast days' fields never read the series.
 */
import { NUM_DAY_OFF_VALUES, NUM_HOLIDAY_VALUES, holidayFeatures } from './holidays.js';

/** Size of each field's index range, in the order calendarIndices returns them. */
export const CALENDAR_FIELDS = Object.freeze({
  dayOfWeek: 7,
  dayOfYear: 366,
  /** month · 35 + (nth occurrence − 1) · 7 + dayOfWeek. */
  monthWeekday: 12 * 5 * 7,
  /** month · 7 + dayOfWeek + 1 on the last such weekday of the month, else 0. */
  lastWeekday: 12 * 7 + 1,
  /** 0, or the nearest US federal holiday within ±3 days and the offset from it (src/data/holidays.ts). */
  holiday: NUM_HOLIDAY_VALUES,
  /** 0, or 1 + dayOfWeek on an observed federal day off. */
  dayOff: NUM_DAY_OFF_VALUES,
});

export const NUM_CALENDAR_FIELDS = Object.keys(CALENDAR_FIELDS).length;

/** Days before each month on a leap-year calendar. */
const LEAP_DAYS_BEFORE = [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335];

/** Writes the NUM_CALENDAR_FIELDS indices of timestamp `ms` into out[offset...]. */
export function calendarIndices(ms: number, out: Int32Array, offset = 0): void {
  const d = new Date(ms);
  const month = d.getUTCMonth();
  const date = d.getUTCDate();
  const dow = (d.getUTCDay() + 6) % 7; // Monday = 0
  const daysInMonth = new Date(Date.UTC(d.getUTCFullYear(), month + 1, 0)).getUTCDate();
  out[offset] = dow;
  out[offset + 1] = LEAP_DAYS_BEFORE[month] + date - 1;
  out[offset + 2] = month * 35 + Math.floor((date - 1) / 7) * 7 + dow;
  out[offset + 3] = date + 7 > daysInMonth ? month * 7 + dow + 1 : 0;
  const { holiday, dayOff } = holidayFeatures(ms);
  out[offset + 4] = holiday;
  out[offset + 5] = dayOff;
}
