/**
 * Calendars (business hours per weekday, holidays, a time zone) for a rule's
 * `activeHours`, and weekly schedules for maintenance windows. Plain weekday
 * and wall-clock arithmetic in the calendar's zone: the question is only ever
 * "is this instant inside?", which needs no cron expression.
 */
import { offsetSeconds } from '../kpi/index.js';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface CalendarConfig {
  /** IANA zone; the configuration's `timezone` when absent. */
  timezone?: string;
  /** Business hours per weekday as `HH:MM-HH:MM` ranges (end exclusive, `24:00` allowed). A day not listed is closed. */
  hours: Partial<Record<Weekday, string[]>>;
  /** Local dates (`YYYY-MM-DD`) with no business hours at all. */
  holidays?: string[];
}

/** A weekly recurring slot: on these weekdays, from `start` to `end` local time (an end before the start runs past midnight). */
export interface WeeklySchedule {
  days: Weekday[];
  start: string;
  end: string;
  timezone?: string;
}

export const HHMM_PATTERN = '^([01]\\d|2[0-3]):[0-5]\\d$';
export const HHMM_END_PATTERN = '^(([01]\\d|2[0-3]):[0-5]\\d|24:00)$';
export const HOURS_RANGE_PATTERN = '^([01]\\d|2[0-3]):[0-5]\\d-(([01]\\d|2[0-3]):[0-5]\\d|24:00)$';
export const DATE_PATTERN = '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$';

/** Minutes since local midnight of `HH:MM`. */
export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

export interface LocalTime {
  weekday: Weekday;
  /** `YYYY-MM-DD` */
  date: string;
  /** Minutes since local midnight. */
  minutes: number;
}

export function localTime(at: Date, timezone: string): LocalTime {
  const epoch = Math.floor(at.getTime() / 1000);
  const wall = new Date((epoch + offsetSeconds(epoch, timezone)) * 1000);
  return {
    weekday: WEEKDAYS[wall.getUTCDay()] as Weekday,
    date: wall.toISOString().slice(0, 10),
    minutes: wall.getUTCHours() * 60 + wall.getUTCMinutes(),
  };
}

/** Is `at` inside the calendar's business hours? */
export function inCalendar(calendar: CalendarConfig, at: Date, defaultTimezone: string): boolean {
  const local = localTime(at, calendar.timezone ?? defaultTimezone);
  if (calendar.holidays?.includes(local.date)) return false;
  for (const range of calendar.hours[local.weekday] ?? []) {
    const [start, end] = range.split('-') as [string, string];
    if (local.minutes >= minutesOf(start) && local.minutes < minutesOf(end)) return true;
  }
  return false;
}

/** Is `at` inside one of the schedule's weekly slots? */
export function inWeeklySchedule(schedule: WeeklySchedule, at: Date, defaultTimezone: string): boolean {
  const local = localTime(at, schedule.timezone ?? defaultTimezone);
  const start = minutesOf(schedule.start);
  const end = minutesOf(schedule.end);
  if (start < end) return schedule.days.includes(local.weekday) && local.minutes >= start && local.minutes < end;
  // Past midnight: the evening part on a listed day, the morning part on the day after one.
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(local.weekday) + 6) % 7] as Weekday;
  return (schedule.days.includes(local.weekday) && local.minutes >= start) || (schedule.days.includes(yesterday) && local.minutes < end);
}
