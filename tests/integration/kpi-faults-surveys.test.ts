/**
 * Fault and survey KPIs against values worked out by hand, the survey rollup
 * against raw rows, and a day boundary in Asia/Shanghai.
 * Restore deadlines (default config): critical 4 h, major 8 h, minor 24 h.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKpiEngine, type KpiEngine, type KpiResponse, type KpiSeries } from '../../kpi/index.js';
import { sql, type Store } from '../../store/index.js';
import { testConfig } from '../helpers/app.js';
import { DAY, HOUR, MIN, fault, insertFixture, iso, survey } from '../helpers/kpi-fixtures.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const F = iso('2026-11-30T00:00:00Z');
const W = { from: new Date(F * 1000), to: new Date((F + DAY) * 1000) };

function only(response: KpiResponse, kpi: string, labels: Record<string, string> = {}): KpiSeries {
  const found = response.series.filter((s) => s.kpi === kpi && JSON.stringify(s.labels) === JSON.stringify(labels));
  expect(found, `${kpi} ${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0] as KpiSeries;
}

describe.each(BACKENDS)('fault and survey KPIs on %s', (backend) => {
  let store: Store;
  let engine: KpiEngine;
  let raw: KpiEngine;
  const config = testConfig();

  beforeAll(async () => {
    store = await openTestStore(backend);
    await insertFixture(store, {
      faults: [
        // f1 critical: acknowledged after 60 min, restored after 3 h (≤ 4 h: met at F+2h).
        fault({ id: 'f1', detectedAt: F - HOUR, acknowledgedAt: F, restoredAt: F + 2 * HOUR, customersAffected: 100 }),
        // f2 major: acknowledged after 10 min, restored after 9 h (> 8 h: breached at its deadline F+9h).
        fault({ id: 'f2', severity: 'major', domain: 'core', detectedAt: F + HOUR, acknowledgedAt: F + HOUR + 10 * MIN, restoredAt: F + 10 * HOUR }),
        // f3 minor: open at the window end, deadline F+44h not reached.
        fault({ id: 'f3', severity: 'minor', domain: 'power', detectedAt: F + 20 * HOUR, customersAffected: 500 }),
        // f4: restored before the window ...
        fault({ id: 'f4', detectedAt: F - 10 * HOUR, restoredAt: F - 5 * HOUR, customersAffected: 40 }),
        // f5: first snapshot open ...
        fault({ id: 'f5', detectedAt: F + 22 * HOUR, updatedAt: F + 22 * HOUR + 5 * MIN, customersAffected: 1000 }),
      ],
      surveys: [
        survey({ id: 's1', answeredAt: F, csat: 5, nps: 10, ces: 7 }), // at `from`: in
        survey({ id: 's2', answeredAt: F + HOUR, csat: 4, nps: 9, ces: 5, channel: 'app', touchpoint: 'ticket' }),
        survey({ id: 's3', answeredAt: F + 2 * HOUR, csat: 3, nps: 6 }),
        survey({ id: 's4', answeredAt: F + 3 * HOUR, nps: 7, ces: 1, touchpoint: 'store' }),
        survey({ id: 's5', answeredAt: F + DAY, csat: 1, nps: 0, ces: 1 }), // at `to`: out
        // Day boundary in Asia/Shanghai (HI only): 23:59:59 local on 11-30 and 00:00:00 local on 12-01,
        // both on 2026-11-30 in UTC.
        survey({ id: 'h1', region: 'HI', answeredAt: iso('2026-11-30T15:59:59Z'), csat: 5 }),
        survey({ id: 'h2', region: 'HI', answeredAt: iso('2026-11-30T16:00:00Z'), csat: 1 }),
        survey({ id: 'h3', region: 'HI', answeredAt: iso('2026-11-30T17:00:00Z'), csat: 4 }),
      ],
    });
    // ... f4's older snapshot (unrestored) arrives late and must not reopen it; f5's newer one restores it at F+22h30.
    await store.insert('faults', [
      fault({ id: 'f4', detectedAt: F - 10 * HOUR, updatedAt: F - 9 * HOUR, customersAffected: 40 }),
      fault({ id: 'f5', detectedAt: F + 22 * HOUR, restoredAt: F + 22.5 * HOUR, customersAffected: 1000 }),
    ]);
    engine = createKpiEngine({ store, config, now: () => new Date((F + 30 * DAY) * 1000) });
    raw = createKpiEngine({ store, config, rollups: false, now: () => new Date((F + 30 * DAY) * 1000) });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('computes every fault KPI by hand', async () => {
    const r = await engine.query({
      kpis: ['mttr_hours', 'mtta_minutes', 'restore_sla', 'open_faults', 'customers_affected'], ...W, regions: ['GD'], by: [],
    });
    // Restored in the window: f1 3 h, f2 9 h, f5 0.5 h → 12.5 / 3.
    expect(only(r, 'mttr_hours').points[0]).toMatchObject({ numerator: 12.5, denominator: 3 });
    // Acknowledged in the window: f1 60 min, f2 10 min → 35.
    expect(only(r, 'mtta_minutes').points[0]).toMatchObject({ value: 35, numerator: 70, denominator: 2 });
    // Ended in the window: f1 met (F+2h), f2 breached (F+9h), f5 met (F+22h30) → 2 / 3.
    expect(only(r, 'restore_sla').points[0]).toMatchObject({ numerator: 2, denominator: 3 });
    // Open at F+24h: f3 only (f4's stale snapshot lost, f5 restored).
    expect(only(r, 'open_faults').points[0]).toMatchObject({ value: 1, numerator: 1, denominator: 1 });
    expect(only(r, 'customers_affected').points[0]).toMatchObject({ value: 500 });
  });

  it('cuts faults by severity and counts open faults per bucket end', async () => {
    const bySeverity = await engine.query({ kpis: ['restore_sla'], ...W, regions: ['GD'], by: ['severity'] });
    expect(only(bySeverity, 'restore_sla', { severity: 'critical' }).points[0]).toMatchObject({ value: 1, numerator: 2, denominator: 2 });
    expect(only(bySeverity, 'restore_sla', { severity: 'major' }).points[0]).toMatchObject({ value: 0, numerator: 0, denominator: 1 });
    const hourly = await engine.query({ kpis: ['open_faults', 'customers_affected'], ...W, regions: ['GD'], by: [], step: '1h' });
    const open = only(hourly, 'open_faults').points.map((p) => p.value);
    const affected = only(hourly, 'customers_affected').points.map((p) => p.value);
    // A restore exactly at a bucket end still counts as open at that end ([from, to) is half-open).
    // End F+1h: f1. F+2h: f1 (restored at F+2h exactly) and f2. F+3h … F+10h: f2 (restored at F+10h exactly).
    // F+11h … F+20h: none (f3 detected at F+20h exactly is not yet open at that end). F+21h, F+22h: f3
    // (f5 detected at F+22h exactly is not yet open). F+23h: f3 (f5 restored at F+22h30). F+24h: f3.
    expect(open).toEqual([1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(affected[0]).toBe(100);
    expect(affected[22]).toBe(500);
  });

  it('computes every survey KPI by hand', async () => {
    const r = await engine.query({ kpis: ['csat', 'nps', 'ces'], ...W, regions: ['GD'], by: [] });
    // csat answered by s1 s2 s3: 5 and 4 are satisfied → 2 / 3.
    expect(only(r, 'csat').points[0]).toMatchObject({ numerator: 2, denominator: 3 });
    // nps from s1..s4: promoters 10, 9; detractor 6; passive 7 → (2 − 1) / 4 × 100 = 25.
    expect(only(r, 'nps').points[0]).toMatchObject({ value: 25, numerator: 1, denominator: 4 });
    // ces: (7 + 5 + 1) / 3.
    expect(only(r, 'ces').points[0]).toMatchObject({ numerator: 13, denominator: 3 });
    const byTouchpoint = await engine.query({ kpis: ['csat'], ...W, regions: ['GD'], by: ['touchpoint'] });
    // s4 (store) has no csat: an empty denominator.
    expect(only(byTouchpoint, 'csat', { touchpoint: 'store' }).points[0]).toMatchObject({ value: null, numerator: 0, denominator: 0 });
    expect(only(byTouchpoint, 'csat', { touchpoint: 'ticket' }).points[0]).toMatchObject({ value: 1, numerator: 1, denominator: 1 });
  });

  it('returns identical survey results from the rollup and from raw rows, and really reads the rollup', async () => {
    const request = { kpis: ['csat', 'nps', 'ces'], ...W, regions: ['GD', 'HI'], by: ['region', 'channel', 'touchpoint'], step: '1h' as const };
    const fromRollup = await engine.query(request);
    expect(fromRollup).toEqual(await raw.query(request));
    await store.command(sql`TRUNCATE TABLE ${store.table('surveys')}`);
    try {
      expect(await engine.query(request)).toEqual(fromRollup);
      // `touchpoint` + an unaligned `from` cannot use the rollup: with raw rows gone, nothing is left.
      const unaligned = await engine.query({ ...request, from: new Date((F + 1) * 1000), by: [], step: undefined });
      expect(only(unaligned, 'csat').points[0]).toMatchObject({ value: null, denominator: 0 });
    } finally {
      await store.insert('surveys', [survey({ id: 's1', answeredAt: F, csat: 5, nps: 10, ces: 7 })]);
    }
  });

  it('starts 1d buckets at local midnight in Asia/Shanghai', async () => {
    // Local 2026-11-30 00:00 to 2026-12-02 00:00 (+08:00).
    const r = await engine.query({
      kpis: ['csat'], from: new Date('2026-11-30T00:00:00+08:00'), to: new Date('2026-12-02T00:00:00+08:00'),
      regions: ['HI'], by: [], step: '1d',
    });
    const points = only(r, 'csat').points;
    // h1 (23:59:59 local) closes the first day; h2 (00:00 local) and h3 open the second.
    expect(points).toEqual([
      { t: '2026-11-29T16:00:00.000Z', value: 1, numerator: 1, denominator: 1 },
      { t: '2026-11-30T16:00:00.000Z', value: 0.5, numerator: 1, denominator: 2 },
    ]);
  });
});
