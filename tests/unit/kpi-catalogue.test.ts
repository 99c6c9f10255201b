/** The catalogue, values from numerator/denominator, the quality index and request validation. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import {
  KPIS, KPI_IDS, KpiRequestError, kpiCatalogue, kpiScore, qualityIndex, validateKpiRequest, valueOf, type KpiRequest,
} from '../../kpi/index.js';

const config = loadConfig();

describe('catalogue', () => {
  it('holds every KPI of KPIS.md with its target from config', () => {
    expect(KPI_IDS).toHaveLength(25);
    const catalogue = kpiCatalogue(config);
    expect(catalogue.map((e) => e.id)).toEqual([...KPI_IDS]);
    const answerRate = catalogue.find((e) => e.id === 'answer_rate');
    expect(answerRate).toMatchObject({ zh: '人工接通率', unit: 'ratio', direction: 'higher', target: 0.95, floor: 0.8, weight: 3 });
    expect(catalogue.find((e) => e.id === 'offered')?.target).toBeNull();
    expect(KPIS.calls_waiting.dimensions).toEqual(['region', 'queue']);
    expect(KPIS.csat.dimensions).toEqual(['region', 'channel', 'touchpoint']);
  });
});

describe('valueOf', () => {
  it('is null on an empty denominator, never 0 or 100 %', () => {
    expect(valueOf('ratio', 0, 0)).toBeNull();
    expect(valueOf('mean', 5, 0)).toBeNull();
    expect(valueOf('gauge_sum', 0, 0)).toBeNull();
    expect(valueOf('per_million', 0, 0)).toBeNull();
  });
  it('scales per million and NPS points, and counts are their numerator', () => {
    expect(valueOf('per_million', 3, 1_500_000)).toBe(2);
    expect(valueOf('percent_points', -1, 4)).toBe(-25);
    expect(valueOf('count', 7, 1)).toBe(7);
    expect(valueOf('ratio', 3, 4)).toBe(0.75);
  });
});

describe('quality index', () => {
  it('scores 100 at the target, 0 at the floor, linearly between, for either direction', () => {
    expect(kpiScore(0.95, 0.95, 0.8)).toBe(100);
    expect(kpiScore(0.99, 0.95, 0.8)).toBe(100);
    expect(kpiScore(0.875, 0.95, 0.8)).toBeCloseTo(50, 10);
    expect(kpiScore(0.7, 0.95, 0.8)).toBe(0);
    // Lower is better: asa target 20 s, floor 120 s; 70 s is halfway.
    expect(kpiScore(70, 20, 120)).toBe(50);
    expect(kpiScore(10, 20, 120)).toBe(100);
  });
  it('is the weighted mean of the scored KPIs; KPIs without a value are left out', () => {
    const targets = {
      answer_rate: { value: 0.95, floor: 0.8, weight: 3 },
      asa: { value: 20, floor: 120, weight: 1 },
      csat: { value: 0.9, floor: 0.7, weight: 2 },
      offered_like: { value: 1 }, // no floor: never scored
    };
    // answer_rate 0.875 → 50 (w 3), asa 20 → 100 (w 1), csat null → out: (150 + 100) / 4 = 62.5.
    const result = qualityIndex({ answer_rate: 0.875, asa: 20, csat: null, offered_like: 5 }, targets);
    expect(result.index).toBe(62.5);
    expect(result.scores.map((s) => [s.kpi, s.score])).toEqual([['answer_rate', 50], ['asa', 100]]);
    expect(qualityIndex({}, targets).index).toBeNull();
  });
});

describe('validateKpiRequest', () => {
  const base: KpiRequest = { kpis: ['answer_rate'], from: new Date('2026-11-30T00:00:00Z'), to: new Date('2026-11-30T01:00:00Z'), regions: null, by: [] };
  const refusal = (request: KpiRequest) => {
    try {
      validateKpiRequest(request, config);
    } catch (error) {
      expect(error).toBeInstanceOf(KpiRequestError);
      return error as KpiRequestError;
    }
    throw new Error('expected a refusal');
  };

  it('resolves every configured region when none is asked for, and rounds times up to the second', () => {
    const v = validateKpiRequest({ ...base, from: new Date('2026-11-30T00:00:00.200Z') }, config);
    expect(v.regions).toHaveLength(31);
    expect(v.from).toBe(Date.parse('2026-11-30T00:00:01Z') / 1000);
  });

  it('refuses with the valid values', () => {
    expect(refusal({ ...base, kpis: ['nope'] }).details).toMatchObject({ unknown: ['nope'], valid: KPI_IDS });
    expect(refusal({ ...base, by: ['agent'], kpis: ['answer_rate', 'csat'] }).details).toMatchObject({ kpi: 'csat', unknown: ['agent'] });
    expect(refusal({ ...base, step: '2m' as never }).message).toContain('1m, 5m, 15m, 1h, 1d');
    expect(refusal({ ...base, regions: ['GD', 'ZZ'] }).details).toMatchObject({ unknown: ['ZZ'] });
    expect(refusal({ ...base, to: base.from }).message).toContain('later');
    expect(refusal({ ...base, from: new Date('nope') }).message).toContain('ISO');
  });
});
