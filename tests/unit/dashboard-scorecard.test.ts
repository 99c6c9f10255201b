/**
 * Scorecard maths: the quality index (the same formula as the server's
 * kpi/quality-index.ts), ranking, KPI cells with change and status, the CSV.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { qualityIndex as serverQualityIndex } from '../../kpi/quality-index.js';
import {
  buildScorecard, contribution, csvField, kpiScore, qualityIndex, rankRows, scorecardCsv, trend, type ScorecardRow,
} from '../../dashboard/src/lib/scorecard.js';
import type { KpiMeta, KpiResponse } from '../../dashboard/src/lib/types.js';

function kpi(id: string, direction: 'higher' | 'lower', target: number | null, floor: number | null, weight: number | null, unit: KpiMeta['unit'] = 'ratio'): KpiMeta {
  return { id, zh: `${id}-zh`, en: `${id}-en`, unit, direction, family: 'x', kind: unit === 'ratio' ? 'ratio' : 'mean', dimensions: ['region'], target, floor, weight };
}

const KPIS = [
  kpi('answer_rate', 'higher', 0.95, 0.8, 3),
  kpi('asa', 'lower', 20, 120, 1, 'seconds'),
  kpi('csat', 'higher', 0.9, 0.7, 3),
  kpi('offered', 'higher', null, null, null, 'count'),
];

describe('kpiScore and qualityIndex', () => {
  it('scores 100 at the target, 0 at the floor, linearly between, in either direction', () => {
    expect(kpiScore(0.95, 0.95, 0.8)).toBe(100);
    expect(kpiScore(0.99, 0.95, 0.8)).toBe(100);
    expect(kpiScore(0.8, 0.95, 0.8)).toBe(0);
    expect(kpiScore(0.5, 0.95, 0.8)).toBe(0);
    expect(kpiScore(45, 20, 120)).toBeCloseTo(75, 10);
  });

  it('is the weighted mean of the scored KPIs; a KPI without a value is left out and the weights renormalised', () => {
    // answer_rate 0.875 → 50 (weight 3); asa 45 s → 75 (weight 1); csat has no value. (150 + 75) / 4 = 56.25.
    const result = qualityIndex({ answer_rate: 0.875, asa: 45, csat: null, offered: 1000 }, KPIS);
    expect(result.index).toBeCloseTo(56.25, 10);
    expect(result.scores.map((s) => [s.kpi, Math.round(s.score * 1000) / 1000, s.weight])).toEqual([['answer_rate', 50, 3], ['asa', 75, 1]]);
    // Contributions add up to the index.
    expect(result.scores.reduce((sum, s) => sum + contribution(s, result.scores), 0)).toBeCloseTo(56.25, 10);
    expect(contribution(result.scores[0]!, result.scores)).toBeCloseTo(37.5, 10);
  });

  it('is null when nothing can be scored', () => {
    expect(qualityIndex({ offered: 5 }, KPIS).index).toBeNull();
  });

  it('agrees with the server’s qualityIndex for any values, targets, floors and weights', () => {
    const target = fc.record({
      value: fc.double({ min: -1000, max: 1000, noNaN: true }),
      floor: fc.option(fc.double({ min: -1000, max: 1000, noNaN: true }), { nil: undefined }),
      weight: fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: undefined }),
    });
    fc.assert(fc.property(
      fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e'), target),
      fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), fc.option(fc.double({ min: -2000, max: 2000, noNaN: true }), { nil: null })),
      (targets, values) => {
        const catalogue = Object.entries(targets).map(([id, t]) => kpi(id, 'higher', t.value, t.floor ?? null, t.weight ?? null));
        const ours = qualityIndex(values, catalogue);
        const theirs = serverQualityIndex(values, targets);
        if (theirs.index === null) expect(ours.index).toBeNull();
        else expect(ours.index).toBeCloseTo(theirs.index, 9);
        expect(ours.scores.map((s) => s.kpi).sort()).toEqual(theirs.scores.map((s) => s.kpi).sort());
      },
    ), { numRuns: 300 });
  });
});

describe('trend', () => {
  it('says whether a change is an improvement for the KPI’s direction', () => {
    expect(trend(0.96, 0.94, 'higher')).toBe('better');
    expect(trend(25, 20, 'lower')).toBe('worse');
    expect(trend(20, 20, 'lower')).toBe('same');
    expect(trend(null, 20, 'lower')).toBe('unknown');
  });
});

describe('rankRows', () => {
  const row = (region: string, index: number | null): ScorecardRow => ({ region, rank: null, index, previousIndex: null, cells: [], scores: [] });

  it('ranks by index, best first; ties share a rank; regions without an index come last', () => {
    const ranked = rankRows([row('AH', 80), row('BJ', 90), row('CQ', 80), row('FJ', null), row('GD', 70)]);
    expect(ranked.map((r) => [r.region, r.rank])).toEqual([['BJ', 1], ['AH', 2], ['CQ', 2], ['GD', 4], ['FJ', null]]);
  });
});

function response(points: { kpi: string; region?: string; numerator: number; denominator: number; value: number | null }[]): KpiResponse {
  return {
    from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z',
    series: points.map((p) => ({ kpi: p.kpi, labels: (p.region ? { region: p.region } : {}) as Record<string, string>, points: [{ t: '2026-11-01T00:00:00.000Z', value: p.value, numerator: p.numerator, denominator: p.denominator }] })),
  };
}

describe('buildScorecard and scorecardCsv', () => {
  const current = response([
    { kpi: 'answer_rate', region: 'GD', numerator: 875, denominator: 1000, value: 0.875 },
    { kpi: 'answer_rate', region: 'BJ', numerator: 96, denominator: 100, value: 0.96 },
    { kpi: 'asa', region: 'GD', numerator: 45_000, denominator: 1000, value: 45 },
    { kpi: 'asa', region: 'BJ', numerator: 1500, denominator: 100, value: 15 },
    { kpi: 'csat', region: 'GD', numerator: 0, denominator: 0, value: null },
    { kpi: 'csat', region: 'BJ', numerator: 0, denominator: 0, value: null },
  ]);
  const previous = response([
    { kpi: 'answer_rate', region: 'GD', numerator: 90, denominator: 100, value: 0.9 },
    { kpi: 'asa', region: 'GD', numerator: 3000, denominator: 100, value: 30 },
  ]);
  const currentTotal = response([
    { kpi: 'answer_rate', numerator: 971, denominator: 1100, value: 971 / 1100 },
    { kpi: 'asa', numerator: 46_500, denominator: 1100, value: 46_500 / 1100 },
    { kpi: 'csat', numerator: 0, denominator: 0, value: null },
  ]);
  const scorecard = buildScorecard({
    kpis: KPIS, regions: ['GD', 'BJ', 'SH'], current, previous, currentTotal, previousTotal: response([]), amberBand: 0.05,
  });

  it('shows only KPIs with a target, ranks the regions, and judges every cell', () => {
    expect(scorecard.kpis.map((k) => k.id)).toEqual(['answer_rate', 'asa', 'csat']);
    // BJ: 0.96 → 100, 15 s → 100: index 100. GD: 56.25 (see above). SH: no data.
    expect(scorecard.rows.map((r) => [r.region, r.rank, r.index === null ? null : Math.round(r.index * 100) / 100])).toEqual([
      ['BJ', 1, 100], ['GD', 2, 56.25], ['SH', null, null],
    ]);
    const gd = scorecard.rows[1]!;
    expect(gd.cells.map((c) => [c.kpi, c.value, c.previous, c.status, c.trend])).toEqual([
      ['answer_rate', 0.875, 0.9, 'bad', 'worse'],
      ['asa', 45, 30, 'bad', 'worse'],
      ['csat', null, null, 'none', 'unknown'],
    ]);
    // GD's previous index: 0.9 → 66.67 (w 3), 30 s → 90 (w 1): (200 + 90) / 4 = 72.5.
    expect(gd.previousIndex).toBeCloseTo(72.5, 10);
    expect(scorecard.total.cells[0]!.numerator).toBe(971);
  });

  it('exports the API’s own values, unrounded, one line per region and KPI, then the total', () => {
    const csv = scorecardCsv(scorecard, [{ code: 'GD', zh: '广东', en: 'Guangdong' }, { code: 'BJ', zh: '北京', en: 'Beijing' }, { code: 'SH', zh: '上海', en: 'Shanghai' }], 'zh', {
      from: new Date('2026-10-31T16:00:00Z'), to: new Date('2026-11-30T16:00:00Z'),
    });
    expect(csv.startsWith('\ufeff')).toBe(true);
    const lines = csv.slice(1).split('\r\n');
    expect(lines[0]).toBe('period_from,period_to,region,region_name,rank,quality_index,kpi,kpi_name,value,numerator,denominator,target,status,previous_value,change,score');
    expect(lines).toHaveLength(1 + 4 * 3 + 1); // header, 3 regions + total × 3 KPIs, final line break
    expect(lines[1]).toBe('2026-10-31T16:00:00.000Z,2026-11-30T16:00:00.000Z,BJ,北京,1,100,answer_rate,answer_rate-zh,0.96,96,100,0.95,ok,,,100');
    const gd = scorecard.rows[1]!;
    // The change and score are written as JavaScript computes them (0.875 − 0.9), not rounded.
    expect(lines[4]).toBe(`2026-10-31T16:00:00.000Z,2026-11-30T16:00:00.000Z,GD,广东,2,${gd.index},answer_rate,answer_rate-zh,0.875,875,1000,0.95,bad,0.9,${0.875 - 0.9},${gd.cells[0]!.score}`);
    expect(lines[12]).toBe(`2026-10-31T16:00:00.000Z,2026-11-30T16:00:00.000Z,ALL,全部,,${scorecard.total.index},csat,csat-zh,,0,0,0.9,none,,,`);
  });

  it('quotes CSV fields that need it', () => {
    expect(csvField('Xizang, Tibet')).toBe('"Xizang, Tibet"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField(null)).toBe('');
    expect(csvField(Number.NaN)).toBe('');
    expect(csvField(0.1)).toBe('0.1');
  });
});
