/**
 * Ticket KPIs against values worked out by hand. Each test uses its own
 * regions so the fixtures do not interfere. Deadlines (default config):
 * urgent 2 h / 24 h, high 4 h / 24 h, normal 24 h / 48 h (response / resolution).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKpiEngine, type KpiEngine, type KpiResponse, type KpiSeries } from '../../kpi/index.js';
import type { Store } from '../../store/index.js';
import { testConfig } from '../helpers/app.js';
import { DAY, HOUR, MIN, insertFixture, iso, subscriberCount, ticket } from '../helpers/kpi-fixtures.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const F = iso('2026-11-30T00:00:00Z');
const W = { from: new Date(F * 1000), to: new Date((F + DAY) * 1000) };

function only(response: KpiResponse, kpi: string, labels: Record<string, string> = {}): KpiSeries {
  const found = response.series.filter((s) => s.kpi === kpi && JSON.stringify(s.labels) === JSON.stringify(labels));
  expect(found, `${kpi} ${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0] as KpiSeries;
}

describe.each(BACKENDS)('ticket KPIs on %s', (backend) => {
  let store: Store;
  let engine: KpiEngine;
  const config = testConfig();

  beforeAll(async () => {
    store = await openTestStore(backend);
    // --- GD: SLA, snapshots, backlog, at risk.
    await insertFixture(store, {
      tickets: [
        // t1 high: response deadline F−4h+4h = F; answered exactly at F → met, ends at F (= from: in).
        // Resolved F+2h ≤ deadline F+20h → met.
        ticket({ id: 't1', priority: 'high', openedAt: F - 4 * HOUR, firstResponseAt: F, resolvedAt: F + 2 * HOUR }),
        // t2 urgent, still open with no response: breached at its response deadline F+3h.
        // Resolution deadline F+25h is after the window.
        ticket({ id: 't2', priority: 'urgent', openedAt: F + HOUR, updatedAt: F + HOUR }),
        // t3 normal: first snapshot (responded at F+2h30).
        ticket({ id: 't3', openedAt: F + 2 * HOUR, firstResponseAt: F + 2.5 * HOUR, updatedAt: F + 3 * HOUR }),
        // t4 normal: answered late (F−23h > deadline F−24h: ended before the window). Closed (no resolvedAt)
        // at F+1h after its resolution deadline F → breached at the deadline F.
        ticket({ id: 't4', openedAt: F - 2 * DAY, firstResponseAt: F - 23 * HOUR, closedAt: F + HOUR, status: 'closed' }),
        // BJ: outside the GD queries.
        ticket({ id: 'b1', region: 'BJ', priority: 'high', openedAt: F, firstResponseAt: F + 5 * HOUR }),
      ],
    });
    // t3's newer snapshot replaces the first (resolved at F+5h) ...
    await store.insert('tickets', [ticket({ id: 't3', openedAt: F + 2 * HOUR, firstResponseAt: F + 2.5 * HOUR, resolvedAt: F + 5 * HOUR, updatedAt: F + 5 * HOUR })]);
    // ... and an older snapshot arriving after it does not (it would make t3 an open complaint).
    await store.insert('tickets', [ticket({ id: 't3', category: 'complaint', openedAt: F + 2 * HOUR, updatedAt: F + 2 * HOUR + 10 * MIN })]);

    // --- SH: complaints and repeats. ZJ holds history outside the query's scope.
    await insertFixture(store, {
      tickets: [
        ticket({ id: 'k1', region: 'SH', category: 'complaint', customer: 'cA', openedAt: F + HOUR }),
        ticket({ id: 'k0', region: 'SH', category: 'complaint', customer: 'cA', openedAt: F + HOUR - 29 * DAY }), // 29 days before k1: k1 is a repeat
        ticket({ id: 'k2', region: 'SH', category: 'complaint', customer: 'cB', openedAt: F + 2 * HOUR }),
        ticket({ id: 'kb', region: 'SH', category: 'complaint', customer: 'cB', openedAt: F + 2 * HOUR - 31 * DAY }), // 31 days before: not a repeat
        ticket({ id: 'k3', region: 'SH', category: 'complaint', customer: '', openedAt: F + 3 * HOUR }), // no customer: never a repeat
        ticket({ id: 'k3b', region: 'SH', category: 'complaint', customer: '', openedAt: F + 2 * HOUR }),
        ticket({ id: 'k4', region: 'SH', category: 'complaint', customer: 'cC', openedAt: F + 4 * HOUR, channel: 'app' }),
        ticket({ id: 'kc', region: 'ZJ', category: 'complaint', customer: 'cC', openedAt: F + HOUR }), // another region still makes k4 a repeat
        ticket({ id: 'ki', region: 'SH', category: 'inquiry', customer: 'cB', openedAt: F + HOUR }), // not a complaint
        ticket({ id: 'k5', region: 'SH', category: 'complaint', customer: 'cD', openedAt: F + DAY }), // at `to`: out
      ],
      subscribers: [
        subscriberCount({ region: 'SH', asOf: '2026-11-01', subscribers: 10_000_000, ingestedAt: F - 10 * DAY }),
        subscriberCount({ region: 'SH', asOf: '2026-11-01', subscribers: 12_500_000, ingestedAt: F - DAY }), // newer record for the same day wins
        subscriberCount({ region: 'SH', asOf: '2026-12-05', subscribers: 20_000_000 }), // after the window end: ignored
      ],
    });
    engine = createKpiEngine({ store, config, now: () => new Date((F + 30 * DAY) * 1000) });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('counts SLA targets when they end, a response at its deadline as met', async () => {
    const r = await engine.query({ kpis: ['response_sla', 'resolution_sla'], ...W, regions: ['GD'], by: [] });
    // Response targets ending in the window: t1 met at F, t2 breached at F+3h, t3 met at F+2h30 (t4 ended at F−24h).
    expect(only(r, 'response_sla').points[0]).toMatchObject({ numerator: 2, denominator: 3 });
    // Resolution: t1 met at F+2h, t3 met at F+5h (newest snapshot), t4 breached at F (closedAt late); t2's ends at F+25h.
    expect(only(r, 'resolution_sla').points[0]).toMatchObject({ numerator: 2, denominator: 3 });
  });

  it('counts a breach only once its deadline has passed (now)', async () => {
    const early = createKpiEngine({ store, config, now: () => new Date((F + 2 * HOUR) * 1000) });
    const r = await early.query({ kpis: ['response_sla'], ...W, regions: ['GD'], by: [] });
    // t2's deadline F+3h is still ahead at F+2h: only the met targets t1 and t3 have ended.
    expect(only(r, 'response_sla').points[0]).toMatchObject({ value: 1, numerator: 2, denominator: 2 });
  });

  it('places the open ticket breach at its deadline in an hourly series', async () => {
    const r = await engine.query({ kpis: ['response_sla'], ...W, regions: ['GD'], by: [], step: '1h' });
    const points = only(r, 'response_sla').points;
    expect(points).toHaveLength(24);
    expect(points[0]).toMatchObject({ t: '2026-11-30T00:00:00.000Z', value: 1, numerator: 1, denominator: 1 }); // t1 at F
    expect(points[2]).toMatchObject({ t: '2026-11-30T02:00:00.000Z', value: 1, numerator: 1, denominator: 1 }); // t3 at F+2h30
    expect(points[3]).toMatchObject({ t: '2026-11-30T03:00:00.000Z', value: 0, numerator: 0, denominator: 1 }); // t2 breached at F+3h
    expect(points[4]).toMatchObject({ value: null, numerator: 0, denominator: 0 });
  });

  it('averages first-response time over tickets responded in the window', async () => {
    const r = await engine.query({ kpis: ['mean_response_hours'], ...W, regions: ['GD'], by: [] });
    // t1: F − (F−4h) = 4 h; t3: 0.5 h → 4.5 / 2.
    expect(only(r, 'mean_response_hours').points[0]).toMatchObject({ value: 2.25, numerator: 4.5, denominator: 2 });
  });

  it('counts backlog and at-risk tickets at the window end, and per bucket end', async () => {
    const r = await engine.query({ kpis: ['backlog', 'at_risk', 'complaints'], ...W, regions: ['GD'], by: [] });
    // At F+24h only t2 is open (t3's older "open complaint" snapshot must not win).
    expect(only(r, 'backlog').points[0]).toMatchObject({ value: 1, numerator: 1, denominator: 1 });
    // t2 (urgent, opened F+1h): resolution at risk from F+19h (75 % of 24 h) until F+25h → at risk at F+24h.
    expect(only(r, 'at_risk').points[0]).toMatchObject({ value: 1 });
    expect(only(r, 'complaints').points[0]).toMatchObject({ value: 0, numerator: 0, denominator: 1 });

    const series = await engine.query({ kpis: ['backlog', 'at_risk'], ...W, regions: ['GD'], by: [], step: '1h' });
    const backlog = only(series, 'backlog').points.map((p) => p.value);
    const atRisk = only(series, 'at_risk').points.map((p) => p.value);
    // A resolution exactly at a bucket end belongs to the next bucket ([from, to) is half-open),
    // so the ticket still counts as open at that end.
    // End F+1h: t1, t4 (closed at F+1h exactly). F+2h: t1 (resolved at F+2h exactly), t2.
    // F+3h, F+4h: t2, t3. F+5h: t2, t3 (resolved at F+5h exactly). F+6h: t2.
    expect(backlog.slice(0, 6)).toEqual([2, 2, 2, 2, 2, 1]);
    // t1 (high, opened F−4h): resolution risk from F+14h; it is resolved at F+2h, so never at risk.
    // t2's response risk window is [F+2h30, F+3h): no bucket ends inside it; its resolution risk starts at F+19h.
    // t3's response came at F+2h30 before its risk point; its resolution risk starts at F+38h.
    // Bucket 00:00 ends at F+1h: t1's response (deadline F, met) is no longer pending.
    expect(atRisk.slice(0, 18).every((v) => v === 0)).toBe(true);
    expect(atRisk.slice(18)).toEqual([1, 1, 1, 1, 1, 1]); // ends F+19h … F+24h
  });

  it('flags repeat complaints inside 30 days and not outside', async () => {
    const r = await engine.query({ kpis: ['complaints', 'repeat_complaint_rate'], ...W, regions: ['SH'], by: [] });
    // SH complaints opened in the window: k1 k2 k3 k3b k4 = 5 (k5 at `to` is out, ki is an inquiry).
    expect(only(r, 'complaints').points[0]).toMatchObject({ value: 5 });
    // Repeats: k1 (k0 29 days before) and k4 (kc in ZJ) → 2 / 5. Not k2 (31 days), k3/k3b (no customer).
    expect(only(r, 'repeat_complaint_rate').points[0]).toMatchObject({ value: 0.4, numerator: 2, denominator: 5 });

    const byChannel = await engine.query({ kpis: ['repeat_complaint_rate'], ...W, regions: ['SH'], by: ['channel'] });
    expect(only(byChannel, 'repeat_complaint_rate', { channel: 'app' }).points[0]).toMatchObject({ value: 1, numerator: 1, denominator: 1 });
    expect(only(byChannel, 'repeat_complaint_rate', { channel: 'hotline' }).points[0]).toMatchObject({ value: 0.25, numerator: 1, denominator: 4 });
  });

  it('rates complaints per million subscribers, falling back to the configured count', async () => {
    const r = await engine.query({ kpis: ['complaint_rate'], ...W, regions: ['SH', 'XZ'], by: ['region'] });
    // SH: 5 complaints / 12,500,000 (newest record for asOf 2026-11-01; the 2026-12-05 one is after the end) × 1e6 = 0.4.
    const sh = only(r, 'complaint_rate', { region: 'SH' }).points[0];
    expect(sh).toMatchObject({ numerator: 5, denominator: 12_500_000 });
    expect(sh?.value).toBeCloseTo(0.4, 12);
    // XZ has no record: config's 1,600,000; no complaints → 0, not null.
    expect(only(r, 'complaint_rate', { region: 'XZ' }).points[0]).toMatchObject({ value: 0, numerator: 0, denominator: 1_600_000 });
    const total = await engine.query({ kpis: ['complaint_rate'], ...W, regions: ['SH', 'XZ'], by: [] });
    expect(only(total, 'complaint_rate').points[0]).toMatchObject({ numerator: 5, denominator: 14_100_000 });
  });

  it('cuts tickets by priority and keeps regions apart', async () => {
    const r = await engine.query({ kpis: ['response_sla'], ...W, regions: ['GD', 'BJ'], by: ['region', 'priority'] });
    expect(only(r, 'response_sla', { region: 'GD', priority: 'urgent' }).points[0]).toMatchObject({ value: 0, numerator: 0, denominator: 1 });
    expect(only(r, 'response_sla', { region: 'GD', priority: 'high' }).points[0]).toMatchObject({ value: 1, numerator: 1, denominator: 1 });
    // b1 (BJ, high, deadline F+4h) answered at F+5h: breached at F+4h.
    expect(only(r, 'response_sla', { region: 'BJ', priority: 'high' }).points[0]).toMatchObject({ value: 0, numerator: 0, denominator: 1 });
  });
});
