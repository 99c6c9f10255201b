/**
 * The colour rules: a value against its target, the amber band, thin samples
 * left grey, a region's worst status.
 */
import { describe, expect, it } from 'vitest';
import { judgedStatus, kpiStatus, STATUS_ICON, STATUS_WORD, worstStatus } from '../../dashboard/src/lib/status.js';

describe('kpiStatus', () => {
  it('higher is better: green at or above the target, amber within the band below, red further', () => {
    // Target 95 %, band 5 % of it: amber down to 90.25 %.
    expect(kpiStatus(0.95, 0.95, 'higher', 0.05)).toBe('ok');
    expect(kpiStatus(0.99, 0.95, 'higher', 0.05)).toBe('ok');
    expect(kpiStatus(0.903, 0.95, 'higher', 0.05)).toBe('warn');
    expect(kpiStatus(0.94, 0.95, 'higher', 0.05)).toBe('warn');
    expect(kpiStatus(0.902, 0.95, 'higher', 0.05)).toBe('bad');
  });

  it('lower is better: green at or below the target, amber within the band above, red further', () => {
    // ASA target 20 s, band 10 %: amber up to 22 s.
    expect(kpiStatus(20, 20, 'lower', 0.1)).toBe('ok');
    expect(kpiStatus(22, 20, 'lower', 0.1)).toBe('warn');
    expect(kpiStatus(22.5, 20, 'lower', 0.1)).toBe('bad');
    // A zero target (open critical faults): anything above it is red.
    expect(kpiStatus(0, 0, 'lower', 0.05)).toBe('ok');
    expect(kpiStatus(1, 0, 'lower', 0.05)).toBe('bad');
  });

  it('a band of 0 has no amber', () => {
    expect(kpiStatus(0.949, 0.95, 'higher', 0)).toBe('bad');
  });

  it('judges nothing without a value or a target', () => {
    expect(kpiStatus(null, 0.95, 'higher', 0.05)).toBe('none');
    expect(kpiStatus(0.5, null, 'higher', 0.05)).toBe('none');
  });
});

describe('judgedStatus', () => {
  it('leaves a rate over a thin sample grey, but judges counts whatever the volume', () => {
    expect(judgedStatus(0.5, 19, 'ratio', 0.95, 'higher', 0.05, 20)).toBe('none');
    expect(judgedStatus(0.5, 20, 'ratio', 0.95, 'higher', 0.05, 20)).toBe('bad');
    expect(judgedStatus(30, 3, 'mean', 20, 'lower', 0.05, 20)).toBe('none');
    expect(judgedStatus(2, 1, 'count', 0, 'lower', 0.05, 20)).toBe('bad');
  });
});

describe('worstStatus', () => {
  it('red over amber over green over grey', () => {
    expect(worstStatus(['ok', 'warn', 'none'])).toBe('warn');
    expect(worstStatus(['ok', 'bad', 'warn'])).toBe('bad');
    expect(worstStatus(['none', 'ok'])).toBe('ok');
    expect(worstStatus([])).toBe('none');
  });

  it('every status has its own icon and a word in both languages', () => {
    expect(new Set(Object.values(STATUS_ICON)).size).toBe(4);
    expect(STATUS_WORD.zh.bad).toBe('未达标');
    expect(STATUS_WORD.en.bad).toBe('Off target');
  });
});
