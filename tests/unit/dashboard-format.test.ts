/**
 * Dashboard formatting: KPI values by unit and language, changes in
 * percentage points, times in the configured zone, durations.
 */
import { describe, expect, it } from 'vitest';
import { formatChange, formatDate, formatDuration, formatIndex, formatKpiValue, formatNumber, NO_VALUE } from '../../dashboard/src/lib/format.js';

describe('formatKpiValue', () => {
  it('shows ratios as percentages with one decimal', () => {
    expect(formatKpiValue(0.9523, 'ratio', 'zh')).toBe('95.2%');
    expect(formatKpiValue(0.9523, 'ratio', 'en')).toBe('95.2%');
    expect(formatKpiValue(1, 'ratio', 'en')).toBe('100.0%');
  });

  it('writes durations with the unit word of the language', () => {
    expect(formatKpiValue(18, 'seconds', 'zh')).toBe('18秒');
    expect(formatKpiValue(18, 'seconds', 'en')).toBe('18 sec');
    expect(formatKpiValue(2.5, 'hours', 'zh')).toBe('2.5小时');
    expect(formatKpiValue(2.5, 'hours', 'en')).toBe('2.5 hr');
    expect(formatKpiValue(12.5, 'minutes', 'zh')).toBe('12.5分钟');
    expect(formatKpiValue(12.5, 'minutes', 'en')).toBe('12.5 min');
  });

  it('groups counts, signs NPS, and gives CES two decimals', () => {
    expect(formatKpiValue(12345, 'count', 'zh')).toBe('12,345');
    expect(formatKpiValue(12.34, 'nps', 'en')).toBe('+12.3');
    expect(formatKpiValue(-5, 'nps', 'en')).toBe('-5.0');
    expect(formatKpiValue(0, 'nps', 'en')).toBe('0.0');
    expect(formatKpiValue(5.5, 'ces', 'zh')).toBe('5.50');
    expect(formatKpiValue(12.04, 'per_million', 'en')).toBe('12.0');
  });

  it('never shows an empty denominator as 0 or 100 %', () => {
    expect(formatKpiValue(null, 'ratio', 'zh')).toBe(NO_VALUE);
    expect(formatKpiValue(undefined, 'count', 'en')).toBe(NO_VALUE);
    expect(formatKpiValue(Number.NaN, 'seconds', 'en')).toBe(NO_VALUE);
    expect(formatNumber(null, 'zh')).toBe(NO_VALUE);
    expect(formatIndex(56.25, 'en')).toBe('56.3');
  });
});

describe('formatChange', () => {
  it('gives rate changes in percentage points, signed', () => {
    expect(formatChange(0.92, 0.9, 'ratio', 'zh')).toBe('+2.0个百分点');
    expect(formatChange(0.9, 0.92, 'ratio', 'en')).toBe('-2.0 pp');
    expect(formatChange(0.9, 0.9, 'ratio', 'en')).toBe('0.0 pp');
  });

  it('gives other changes in their unit', () => {
    expect(formatChange(15, 20, 'seconds', 'zh')).toBe('-5秒');
    expect(formatChange(25, 20, 'seconds', 'en')).toBe('+5 sec');
    expect(formatChange(130, 100, 'count', 'en')).toBe('+30');
    expect(formatChange(null, 0.9, 'ratio', 'en')).toBe(NO_VALUE);
  });
});

describe('formatDate', () => {
  const instant = '2026-03-01T01:02:03Z';

  it('shows times in the configured zone, not the machine’s', () => {
    expect(formatDate(instant, 'zh', 'Asia/Shanghai', 'date-time')).toBe('2026/03/01 09:02');
    expect(formatDate(instant, 'en', 'Asia/Shanghai', 'date-time')).toBe('03/01/2026, 09:02');
    expect(formatDate(instant, 'zh', 'Asia/Shanghai', 'time-seconds')).toBe('09:02:03');
    expect(formatDate(instant, 'en', 'Europe/London', 'time')).toBe('01:02');
  });

  it('shows nothing for a missing or invalid time', () => {
    expect(formatDate(null, 'zh', 'Asia/Shanghai')).toBe(NO_VALUE);
    expect(formatDate('not a date', 'zh', 'Asia/Shanghai')).toBe(NO_VALUE);
  });
});

describe('formatDuration', () => {
  it('rounds to minutes and names hours and minutes in the language', () => {
    expect(formatDuration(125 * 60_000, 'zh')).toBe('2小时 5分钟');
    expect(formatDuration(125 * 60_000, 'en')).toBe('2 hr 5 min');
    expect(formatDuration(120 * 60_000, 'en')).toBe('2 hr');
    expect(formatDuration(29_000, 'en')).toBe('0 min');
    expect(formatDuration(-10 * 60_000, 'zh')).toBe('-10分钟');
  });
});
