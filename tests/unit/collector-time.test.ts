import { describe, expect, it } from 'vitest';
import { parseDate, parseTime } from '../../collector/time.js';

// 2026-11-30T01:15:02Z, worked out once: Date.UTC(2026, 10, 30, 1, 15, 2) / 1000.
const T = 1796001302;

describe('parseTime', () => {
  it('reads ISO-8601 with Z or an offset as the same instant', () => {
    expect(parseTime('2026-11-30T01:15:02Z')).toBe(T);
    expect(parseTime('2026-11-30T09:15:02+08:00')).toBe(T);
    expect(parseTime('2026-11-29T20:15:02-05:00')).toBe(T);
    expect(parseTime('2026-11-30T06:45:02+05:30')).toBe(T);
  });

  it('drops fractions of a second', () => {
    expect(parseTime('2026-11-30T09:15:02.999+08:00')).toBe(T);
    expect(parseTime(T + 0.75)).toBe(T);
  });

  it('takes epoch seconds as they are', () => {
    expect(parseTime(T)).toBe(T);
    expect(parseTime(0)).toBe(0);
  });

  it('refuses times without an offset, impossible dates and other shapes', () => {
    for (const bad of [
      '2026-11-30T09:15:02', // no offset: which region's clock?
      '2026-11-30 09:15:02+08:00',
      '2026-02-29T00:00:00Z', // 2026 is not a leap year
      '2026-13-01T00:00:00Z',
      '2026-11-30T24:00:00Z',
      '2026-11-30T09:60:00Z',
      '2026-11-30T09:15:02+0800',
      '2026-11-30',
      'yesterday',
      '',
    ]) expect(parseTime(bad), bad).toBeUndefined();
    expect(parseTime('2028-02-29T00:00:00Z')).toBe(Date.UTC(2028, 1, 29) / 1000);
  });

  it('refuses epoch values DateTime cannot hold (negative, milliseconds by mistake, not finite)', () => {
    expect(parseTime(-1)).toBeUndefined();
    expect(parseTime(T * 1000)).toBeUndefined();
    expect(parseTime(Number.NaN)).toBeUndefined();
    expect(parseTime(Infinity)).toBeUndefined();
    expect(parseTime('1796001302')).toBeUndefined();
    expect(parseTime(true)).toBeUndefined();
    expect(parseTime(null)).toBeUndefined();
  });
});

describe('parseDate', () => {
  it('accepts calendar dates only', () => {
    expect(parseDate('2026-11-30')).toBe('2026-11-30');
    expect(parseDate('2024-02-29')).toBe('2024-02-29');
    expect(parseDate('2026-02-29')).toBeUndefined();
    expect(parseDate('2026-11-30T00:00:00Z')).toBeUndefined();
    expect(parseDate('30/11/2026')).toBeUndefined();
    expect(parseDate(20261130)).toBeUndefined();
  });
});
