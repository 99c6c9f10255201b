/** Windows and buckets in JS: time-zone days and hours, grids, counts. */
import { describe, expect, it } from 'vitest';
import { bucketGrid, offsetSeconds, startOfLocalDay, startOfLocalHour } from '../../kpi/index.js';
import { estimateBuckets } from '../../kpi/buckets.js';

const iso = (text: string) => Date.parse(text) / 1000;
const text = (epoch: number) => new Date(epoch * 1000).toISOString();

describe('time-zone helpers', () => {
  it('finds local midnight in Asia/Shanghai (UTC+8, no DST)', () => {
    expect(offsetSeconds(iso('2026-11-30T12:00:00Z'), 'Asia/Shanghai')).toBe(8 * 3600);
    // 15:59:59Z is 23:59:59 local on 11-30; 16:00Z is already 12-01 local.
    expect(text(startOfLocalDay(iso('2026-11-30T15:59:59Z'), 'Asia/Shanghai'))).toBe('2026-11-29T16:00:00.000Z');
    expect(text(startOfLocalDay(iso('2026-11-30T16:00:00Z'), 'Asia/Shanghai'))).toBe('2026-11-30T16:00:00.000Z');
  });

  it('follows DST days of 23 and 25 hours (Europe/Berlin)', () => {
    // 2026-03-29 starts at 00:00 +01:00 and has 23 hours; 2026-10-25 has 25.
    const grid = bucketGrid(iso('2026-03-28T23:00:00Z'), iso('2026-03-30T22:00:00Z'), '1d', 'Europe/Berlin');
    expect(grid.starts.map(text)).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
    expect(grid.ends.map(text)).toEqual(['2026-03-29T22:00:00.000Z', '2026-03-30T22:00:00.000Z']);
    expect(text(startOfLocalDay(iso('2026-10-25T22:59:59Z'), 'Europe/Berlin'))).toBe('2026-10-24T22:00:00.000Z');
  });

  it('starts local hours on the half hour in a +05:30 zone', () => {
    expect(text(startOfLocalHour(iso('2026-11-30T10:10:00Z'), 'Asia/Kolkata'))).toBe('2026-11-30T09:30:00.000Z');
  });
});

describe('bucket grids', () => {
  it('is one bucket [from, to) without a step', () => {
    const grid = bucketGrid(100, 200, undefined, 'UTC');
    expect(grid.starts).toEqual([100]);
    expect(grid.ends).toEqual([200]);
  });

  it('aligns minute steps to the epoch and clips the last end to `to`', () => {
    // from 00:07 is inside the 00:05 bucket; to 00:21 closes the 00:20 bucket early.
    const grid = bucketGrid(iso('2026-11-30T00:07:00Z'), iso('2026-11-30T00:21:00Z'), '5m', 'Asia/Shanghai');
    expect(grid.starts.map(text)).toEqual(['2026-11-30T00:05:00.000Z', '2026-11-30T00:10:00.000Z', '2026-11-30T00:15:00.000Z', '2026-11-30T00:20:00.000Z']);
    expect(grid.ends.map(text)).toEqual(['2026-11-30T00:10:00.000Z', '2026-11-30T00:15:00.000Z', '2026-11-30T00:20:00.000Z', '2026-11-30T00:21:00.000Z']);
  });

  it('counts buckets exactly for minute steps', () => {
    const from = iso('2026-11-30T00:07:00Z');
    const to = iso('2026-11-30T00:21:00Z');
    expect(estimateBuckets(from, to, '5m')).toBe(bucketGrid(from, to, '5m', 'UTC').starts.length);
    // Exactly one hour on the minute grid: 60 buckets, not 61.
    expect(estimateBuckets(iso('2026-11-30T00:00:00Z'), iso('2026-11-30T01:00:00Z'), '1m')).toBe(60);
  });
});
