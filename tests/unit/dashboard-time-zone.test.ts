/**
 * Calendar arithmetic in the configured zone: day, week (Monday), month and
 * quarter boundaries, the previous period, and a daylight-saving change.
 */
import { describe, expect, it } from 'vitest';
import { ceilMinute, periodContaining, previousPeriod, startOfDay, zonedParts, zonedTime } from '../../dashboard/src/lib/time-zone.js';

const SH = 'Asia/Shanghai';
const iso = (d: Date) => d.toISOString();

describe('zoned time', () => {
  it('reads the wall clock in the zone', () => {
    // 16:30 UTC on 30 Nov is 00:30 on Tuesday 1 Dec in Beijing.
    expect(zonedParts(new Date('2026-11-30T16:30:00Z'), SH)).toEqual({ year: 2026, month: 12, day: 1, hour: 0, minute: 30, second: 0, weekday: 2 });
  });

  it('finds the instant of a wall-clock time, with overflowing months and days', () => {
    expect(iso(zonedTime(SH, 2026, 12, 1))).toBe('2026-11-30T16:00:00.000Z');
    expect(iso(zonedTime(SH, 2026, 13, 1))).toBe('2026-12-31T16:00:00.000Z');
    expect(iso(zonedTime(SH, 2026, 12, 32, 9, 30))).toBe('2027-01-01T01:30:00.000Z');
  });

  it('starts the day at local midnight', () => {
    expect(iso(startOfDay(new Date('2026-11-30T16:30:00Z'), SH))).toBe('2026-11-30T16:00:00.000Z');
    expect(iso(startOfDay(new Date('2026-11-30T15:59:59Z'), SH))).toBe('2026-11-29T16:00:00.000Z');
  });

  it('survives a daylight-saving change (New York, 8 March 2026: the day has 23 hours)', () => {
    const day = periodContaining('day', new Date('2026-03-08T12:00:00Z'), 'America/New_York');
    expect(iso(day.from)).toBe('2026-03-08T05:00:00.000Z');
    expect(iso(day.to)).toBe('2026-03-09T04:00:00.000Z');
  });
});

describe('periods', () => {
  const thursday = new Date('2026-12-03T02:00:00Z'); // Thursday 3 Dec, 10:00 in Beijing

  it('weeks start on Monday, months on the 1st, quarters in Jan/Apr/Jul/Oct — all at local midnight', () => {
    const week = periodContaining('week', thursday, SH);
    expect([iso(week.from), iso(week.to)]).toEqual(['2026-11-29T16:00:00.000Z', '2026-12-06T16:00:00.000Z']);
    const month = periodContaining('month', thursday, SH);
    expect([iso(month.from), iso(month.to)]).toEqual(['2026-11-30T16:00:00.000Z', '2026-12-31T16:00:00.000Z']);
    const quarter = periodContaining('quarter', thursday, SH);
    expect([iso(quarter.from), iso(quarter.to)]).toEqual(['2026-09-30T16:00:00.000Z', '2026-12-31T16:00:00.000Z']);
  });

  it('a week can span the new year; a Sunday belongs to the week before', () => {
    const week = periodContaining('week', new Date('2027-01-01T04:00:00Z'), SH); // Friday
    expect(iso(week.from)).toBe('2026-12-27T16:00:00.000Z'); // Monday 28 Dec
    const sunday = periodContaining('week', new Date('2026-12-06T04:00:00Z'), SH);
    expect(iso(sunday.from)).toBe('2026-11-29T16:00:00.000Z');
  });

  it('the previous period is the whole period before, whatever its length', () => {
    const march = periodContaining('month', new Date('2026-03-15T00:00:00Z'), SH);
    const february = previousPeriod(march, SH);
    expect([iso(february.from), iso(february.to)]).toEqual(['2026-01-31T16:00:00.000Z', '2026-02-28T16:00:00.000Z']);
    const q1 = previousPeriod(periodContaining('quarter', new Date('2026-04-02T00:00:00Z'), SH), SH);
    expect([iso(q1.from), iso(q1.to)]).toEqual(['2025-12-31T16:00:00.000Z', '2026-03-31T16:00:00.000Z']);
  });

  it('rounds up to the next whole minute (the KPI engine reads rollups for whole minutes)', () => {
    expect(iso(ceilMinute(new Date('2026-12-01T01:02:03.400Z')))).toBe('2026-12-01T01:03:00.000Z');
    expect(iso(ceilMinute(new Date('2026-12-01T01:02:00.000Z')))).toBe('2026-12-01T01:02:00.000Z');
  });
});
