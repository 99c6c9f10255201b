/**
 * Record times: ISO-8601 with an explicit offset (`Z` or `±hh:mm`) or epoch
 * seconds. A time without an offset is refused rather than guessed, because
 * the same wall-clock text means different instants in different regions.
 * Everything is normalised to epoch seconds (UTC), what DateTime columns store.
 */

/** DateTime('UTC') holds 0 … 2^32 − 1 seconds. */
export const MAX_EPOCH_SECONDS = 2 ** 32 - 1;

const ISO_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1] as number;
}

function validDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month);
}

/**
 * Epoch seconds for a record time, or undefined when it is not a date-time
 * SQM accepts. Fractions of a second are dropped (columns are whole seconds).
 */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || value > MAX_EPOCH_SECONDS) return undefined;
    return Math.floor(value);
  }
  if (typeof value !== 'string') return undefined;
  const m = ISO_WITH_OFFSET.exec(value);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetSeconds = 0;
  if (m[7] !== 'Z') {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) return undefined;
    offsetSeconds = (oh * 3600 + om * 60) * (m[8] === '-' ? -1 : 1);
  }
  const epoch = Date.UTC(year, month - 1, day, hour, minute, second) / 1000 - offsetSeconds;
  if (epoch < 0 || epoch > MAX_EPOCH_SECONDS) return undefined;
  return epoch;
}

/** A calendar date `YYYY-MM-DD` (returned unchanged), or undefined. */
export function parseDate(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = ISO_DATE.exec(value);
  if (!m) return undefined;
  const year = Number(m[1]);
  // Date columns hold 1970-01-01 … 2149-06-06; keep well inside that.
  if (year < 1970 || year > 2148) return undefined;
  return validDate(year, Number(m[2]), Number(m[3])) ? value : undefined;
}
