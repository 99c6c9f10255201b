/**
 * Windows and buckets. Times are epoch seconds (UTC). A window is half-open
 * `[from, to)`. With a step, buckets start on a grid: minute steps on multiples
 * of the step since the epoch, `1h` at the start of the local hour and `1d` at
 * local midnight in the configured time zone; the first bucket is the one
 * holding `from` and the last the one holding `to - 1`, and each bucket's
 * effective window is its grid interval clipped to `[from, to)`.
 *
 * The same grid is computed twice: here in JS (to list every bucket, even
 * empty ones) and in SQL (`bucketOf`, to group rows), and the two must agree.
 */
import { sql, type Sql } from '../store/index.js';
import type { Step } from './types.js';

export const MINUTE_STEP_SECONDS: Partial<Record<Step, number>> = { '1m': 60, '5m': 300, '15m': 900 };

export interface BucketGrid {
  from: number;
  to: number;
  step: Step | undefined;
  tz: string;
  /** Grid start of every bucket, ascending. */
  starts: number[];
  /** Effective end of every bucket: the next start, or `to` for the last. */
  ends: number[];
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Seconds to add to a UTC instant to get the wall-clock time in `tz`. */
export function offsetSeconds(epoch: number, tz: string): number {
  const parts = formatter(tz).formatToParts(new Date(epoch * 1000));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) / 1000;
  return wall - epoch;
}

const mod = (a: number, b: number) => ((a % b) + b) % b;

/** The instant of local midnight in `tz` of the day holding `epoch` (as ClickHouse's toStartOfDay(t, tz)). */
export function startOfLocalDay(epoch: number, tz: string): number {
  const wall = epoch + offsetSeconds(epoch, tz);
  const midnightWall = wall - mod(wall, 86400);
  // The offset at midnight may differ from the offset now (DST); one correction settles it.
  const guess = midnightWall - offsetSeconds(epoch, tz);
  return midnightWall - offsetSeconds(guess, tz);
}

/** The start of the local hour holding `epoch` (as toStartOfHour(t, tz)). */
export function startOfLocalHour(epoch: number, tz: string): number {
  return epoch - mod(epoch + offsetSeconds(epoch, tz), 3600);
}

/** The grid start after `start` (a grid start). For 1d, 26 h later is always inside the next local day. */
export function nextStart(start: number, step: Step, tz: string): number {
  const minute = MINUTE_STEP_SECONDS[step];
  if (minute !== undefined) return start + minute;
  if (step === '1h') return startOfLocalHour(start + 3600, tz);
  return startOfLocalDay(start + 26 * 3600, tz);
}

export function bucketStartOf(epoch: number, step: Step, tz: string): number {
  const minute = MINUTE_STEP_SECONDS[step];
  if (minute !== undefined) return Math.floor(epoch / minute) * minute;
  return step === '1h' ? startOfLocalHour(epoch, tz) : startOfLocalDay(epoch, tz);
}

/** The bucket count (exact for minute steps, an upper bound for 1h/1d), cheap to compute before generating anything. */
export function estimateBuckets(from: number, to: number, step: Step | undefined): number {
  if (step === undefined) return 1;
  const minute = MINUTE_STEP_SECONDS[step];
  if (minute !== undefined) return Math.floor((to - 1) / minute) - Math.floor(from / minute) + 1;
  // Local hours and days are at least 1 h and 23 h long (DST).
  return Math.ceil((to - from) / (step === '1h' ? 3600 : 82800)) + 1;
}

export function bucketGrid(from: number, to: number, step: Step | undefined, tz: string): BucketGrid {
  if (step === undefined) return { from, to, step, tz, starts: [from], ends: [to] };
  const starts: number[] = [];
  for (let b = bucketStartOf(from, step, tz); b < to; b = nextStart(b, step, tz)) starts.push(b);
  const ends = starts.map((b, i) => Math.min(starts[i + 1] ?? nextStart(b, step, tz), to));
  return { from, to, step, tz, starts, ends };
}

/** SQL: the bucket start (UInt32 epoch) of an epoch-seconds expression, matching `bucketStartOf`. */
export function bucketOf(epoch: Sql, grid: BucketGrid): Sql {
  const step = grid.step;
  if (step === undefined) return sql`toUInt32(${grid.from})`;
  const minute = MINUTE_STEP_SECONDS[step];
  if (minute !== undefined) return sql`toUInt32(intDiv(${epoch}, ${minute}) * ${minute})`;
  if (step === '1h') return sql`toUInt32(toStartOfHour(toDateTime(${epoch}), ${grid.tz}))`;
  return sql`toUInt32(toStartOfDay(toDateTime(${epoch}), ${grid.tz}))`;
}

/** SQL: the grid start after a grid start, matching `nextStart`. */
export function nextStartOf(start: Sql, grid: BucketGrid): Sql {
  const step = grid.step;
  if (step === undefined) return sql`toUInt32(${grid.to})`;
  const minute = MINUTE_STEP_SECONDS[step];
  if (minute !== undefined) return sql`toUInt32(${start} + ${minute})`;
  if (step === '1h') return bucketOf(sql`(${start} + 3600)`, grid);
  return bucketOf(sql`(${start} + ${26 * 3600})`, grid);
}
