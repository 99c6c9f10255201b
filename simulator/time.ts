/**
 * Beijing time for the model. China has used UTC+8 without daylight saving
 * since 1991, so a fixed offset is exact and keeps the model free of Intl calls
 * in its inner loop. The model counts time in epoch seconds (fractional).
 */

export const BEIJING_OFFSET_SECONDS = 8 * 3600;
export const DAY = 86400;
export const HOUR = 3600;

const dayPrefixes = new Map<number, string>();
const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** ISO-8601 with the +08:00 offset, whole seconds (floored, so never later than `epochSeconds`). */
export function isoBeijing(epochSeconds: number): string {
  // Formatting is the model's hottest path, so the date part is cached per day.
  const local = Math.floor(epochSeconds) + BEIJING_OFFSET_SECONDS;
  const day = Math.floor(local / DAY);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    if (dayPrefixes.size > 4096) dayPrefixes.clear();
    prefix = new Date(day * DAY * 1000).toISOString().slice(0, 11);
    dayPrefixes.set(day, prefix);
  }
  const s = local - day * DAY;
  return `${prefix}${pad2(Math.floor(s / HOUR))}:${pad2(Math.floor((s % HOUR) / 60))}:${pad2(s % 60)}+08:00`;
}

/** The Beijing calendar date (YYYY-MM-DD) of a moment. */
export function beijingDate(epochSeconds: number): string {
  return new Date((Math.floor(epochSeconds) + BEIJING_OFFSET_SECONDS) * 1000).toISOString().slice(0, 10);
}

/** Fractional hour of the Beijing day, in [0, 24). */
export function beijingHourOfDay(epochSeconds: number): number {
  const local = epochSeconds + BEIJING_OFFSET_SECONDS;
  return ((local % DAY) + DAY) % DAY / HOUR;
}

/** Day of the week in Beijing: 0 = Sunday … 6 = Saturday. */
export function beijingWeekday(epochSeconds: number): number {
  const day = Math.floor((epochSeconds + BEIJING_OFFSET_SECONDS) / DAY);
  return (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

/** The first Beijing hour boundary strictly after `epochSeconds`. */
export function nextBeijingHour(epochSeconds: number): number {
  return (Math.floor(epochSeconds / HOUR) + 1) * HOUR; // +8 h is a whole number of hours
}

/** The first Beijing midnight strictly after `epochSeconds`. */
export function nextBeijingMidnight(epochSeconds: number): number {
  const local = epochSeconds + BEIJING_OFFSET_SECONDS;
  return (Math.floor(local / DAY) + 1) * DAY - BEIJING_OFFSET_SECONDS;
}

/** Parse a duration such as `90s`, `3m`, `1.5h`, `30d` or a number of seconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`not a duration: ${value}`);
    return value;
  }
  const match = /^([0-9]+(?:\.[0-9]+)?)(s|m|h|d)$/.exec(value.trim());
  if (!match) throw new Error(`not a duration: "${value}" (use e.g. 90s, 3m, 1.5h, 30d)`);
  const unit = { s: 1, m: 60, h: HOUR, d: DAY }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
