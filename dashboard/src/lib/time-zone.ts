/**
 * Calendar arithmetic in the configured time zone (config `timezone`, from
 * /api/v1/meta), with Intl only — the browser's own zone never decides where
 * a day, week, month or quarter starts (KPIS.md: boundaries are taken in the
 * operator's zone).
 */

export interface ZonedParts {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 1 = Monday … 7 = Sunday (ISO). */
  weekday: number;
}

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = partsFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short',
    });
    partsFormatters.set(timeZone, formatter);
  }
  return formatter;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The wall-clock reading of `date` in `timeZone`. */
export function zonedParts(date: Date, timeZone: string): ZonedParts {
  const out: Record<string, string> = {};
  for (const part of partsFormatter(timeZone).formatToParts(date)) out[part.type] = part.value;
  return {
    year: Number(out.year),
    month: Number(out.month),
    day: Number(out.day),
    hour: Number(out.hour) % 24,
    minute: Number(out.minute),
    second: Number(out.second),
    weekday: WEEKDAYS[out.weekday ?? ''] ?? 0,
  };
}

/** Offset of `timeZone` from UTC at `date`, in milliseconds (Asia/Shanghai: +8 h). */
export function zoneOffsetMs(date: Date, timeZone: string): number {
  const p = zonedParts(date, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(date.getTime() / 1000) * 1000;
}

/**
 * The instant at which the wall clock in `timeZone` reads the given time.
 * Month and day may overflow (month 13 = January next year), as with Date.UTC.
 * Two passes settle a daylight-saving change between guess and answer.
 */
export function zonedTime(timeZone: string, year: number, month: number, day = 1, hour = 0, minute = 0, second = 0): Date {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  let instant = wall - zoneOffsetMs(new Date(wall), timeZone);
  instant = wall - zoneOffsetMs(new Date(instant), timeZone);
  return new Date(instant);
}

export function startOfDay(date: Date, timeZone: string): Date {
  const p = zonedParts(date, timeZone);
  return zonedTime(timeZone, p.year, p.month, p.day);
}

export type PeriodKind = 'day' | 'week' | 'month' | 'quarter';
export const PERIOD_KINDS: readonly PeriodKind[] = ['week', 'month', 'quarter'];

export interface Period {
  kind: PeriodKind;
  from: Date;
  /** Exclusive end of the whole period (may be in the future for the current one). */
  to: Date;
}

/** The period of `kind` that contains `date` (weeks start on Monday, ISO). */
export function periodContaining(kind: PeriodKind, date: Date, timeZone: string): Period {
  const p = zonedParts(date, timeZone);
  switch (kind) {
    case 'day':
      return { kind, from: zonedTime(timeZone, p.year, p.month, p.day), to: zonedTime(timeZone, p.year, p.month, p.day + 1) };
    case 'week': {
      const monday = p.day - (p.weekday - 1);
      return { kind, from: zonedTime(timeZone, p.year, p.month, monday), to: zonedTime(timeZone, p.year, p.month, monday + 7) };
    }
    case 'month':
      return { kind, from: zonedTime(timeZone, p.year, p.month, 1), to: zonedTime(timeZone, p.year, p.month + 1, 1) };
    case 'quarter': {
      const first = p.month - ((p.month - 1) % 3);
      return { kind, from: zonedTime(timeZone, p.year, first, 1), to: zonedTime(timeZone, p.year, first + 3, 1) };
    }
  }
}

/** The period just before `period` (same kind). */
export function previousPeriod(period: Period, timeZone: string): Period {
  // One second before the start lies inside the previous period, whatever its length.
  return periodContaining(period.kind, new Date(period.from.getTime() - 1000), timeZone);
}

/** The next whole minute after `date` (or `date` itself when already whole): the KPI engine reads its per-minute rollups for whole-minute windows. */
export function ceilMinute(date: Date): Date {
  return new Date(Math.ceil(date.getTime() / 60_000) * 60_000);
}

export function floorMinute(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 60_000) * 60_000);
}
