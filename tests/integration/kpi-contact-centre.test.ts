/**
 * Contact-centre KPIs against values worked out by hand, on every backend, on
 * the raw table and on the calls_1m rollup.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKpiEngine, type KpiEngine, type KpiResponse, type KpiSeries } from '../../kpi/index.js';
import { sql, type Store } from '../../store/index.js';
import { testConfig } from '../helpers/app.js';
import { call, insertFixture, iso, queueState } from '../helpers/kpi-fixtures.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const F = iso('2026-11-30T02:00:00Z');
const TO = F + 3600;
const window = { from: new Date(F * 1000), to: new Date(TO * 1000) };

// GD, queue q1, voice unless said otherwise.
const CALLS = [
  call({ id: 'c1', enteredAt: F, outcome: 'answered', wait: 20, talk: 100, hold: 10, wrap: 20, resolved: true }), // at `from`: in; wait = SL bound: in SL
  call({ id: 'c2', enteredAt: F + 60, outcome: 'answered', wait: 21, talk: 200, resolved: false }), // one second over the SL bound
  call({ id: 'c3', enteredAt: F + 120, outcome: 'abandoned', wait: 4 }), // short abandon (< 5 s): out of offered and abandoned
  call({ id: 'c4', enteredAt: F + 180, outcome: 'abandoned', wait: 5 }), // 5 s is not short: a counted abandon
  call({ id: 'c5', enteredAt: F + 240, outcome: 'callback', wait: 30 }), // offered only
  call({ id: 'c6', enteredAt: F + 300, outcome: 'overflow', wait: 10 }), // offered only
  call({ id: 'c7', enteredAt: TO, outcome: 'answered', wait: 1, talk: 50, resolved: true }), // at `to`: out
  call({ id: 'c8', enteredAt: F - 1, outcome: 'answered', wait: 1, talk: 50, resolved: true }), // before `from`: out
  call({ id: 'c9', enteredAt: F + 600, outcome: 'answered', wait: 3, queue: 'q2', channel: 'chat', agent: 'a2' }), // no talk time, resolved unknown
  call({ id: 'b1', enteredAt: F + 60, outcome: 'abandoned', wait: 30, region: 'BJ' }),
];

function only(response: KpiResponse, kpi: string, labels: Record<string, string> = {}): KpiSeries {
  const found = response.series.filter((s) => s.kpi === kpi && JSON.stringify(s.labels) === JSON.stringify(labels));
  expect(found, `${kpi} ${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0] as KpiSeries;
}

const CALL_KPIS = ['offered', 'answer_rate', 'service_level', 'abandon_rate', 'asa', 'aht', 'fcr'];

describe.each(BACKENDS)('contact-centre KPIs on %s', (backend) => {
  let store: Store;
  let raw: KpiEngine;
  let rolled: KpiEngine;
  const config = testConfig();

  beforeAll(async () => {
    store = await openTestStore(backend);
    await insertFixture(store, {
      calls: CALLS,
      queues: [
        queueState({ queue: 'q1', at: TO - 190, waiting: 9, longestWaitSeconds: 70 }),
        queueState({ queue: 'q1', at: TO - 130, waiting: 8, longestWaitSeconds: 60 }),
        queueState({ queue: 'q1', at: TO - 100, waiting: 4, longestWaitSeconds: 50 }),
        queueState({ queue: 'q1', at: TO - 10, waiting: 2, longestWaitSeconds: 30 }),
        queueState({ queue: 'q2', at: TO - 60, waiting: 5, longestWaitSeconds: 90 }),
        queueState({ queue: 'q3', at: TO, waiting: 50, longestWaitSeconds: 900 }), // at the window end: out
        queueState({ region: 'BJ', queue: 'q1', at: TO - 200, waiting: 7, longestWaitSeconds: 20 }), // too old for `to`
      ],
    });
    raw = createKpiEngine({ store, config, rollups: false });
    rolled = createKpiEngine({ store, config });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('computes every call KPI for GD by hand, on raw rows and on the rollup alike', async () => {
    for (const engine of [raw, rolled]) {
      const r = await engine.query({ kpis: CALL_KPIS, ...window, regions: ['GD'], by: [] });
      const point = (kpi: string) => only(r, kpi).points[0];
      // In window: c1 c2 c3 c4 c5 c6 c9 = 7 entered; c3 is a short abandon → offered 6.
      expect(point('offered')).toEqual({ t: '2026-11-30T02:00:00.000Z', value: 6, numerator: 6, denominator: 1 });
      // Answered c1 c2 c9 = 3 of 6.
      expect(point('answer_rate')).toMatchObject({ value: 0.5, numerator: 3, denominator: 6 });
      // Wait ≤ 20 s: c1 (exactly 20) and c9 (3); c2 (21) is not.
      expect(point('service_level')).toMatchObject({ numerator: 2, denominator: 6 });
      expect(point('service_level')?.value).toBeCloseTo(2 / 6, 12);
      // Only c4 (5 s) counts as abandoned.
      expect(point('abandon_rate')).toMatchObject({ numerator: 1, denominator: 6 });
      // ASA (20 + 21 + 3) / 3.
      expect(point('asa')).toMatchObject({ numerator: 44, denominator: 3 });
      // AHT over answered calls with a talk time: c1 100+10+20 = 130, c2 200 → 330 / 2.
      expect(point('aht')).toMatchObject({ value: 165, numerator: 330, denominator: 2 });
      // FCR: c1 resolved, c2 not, c9 unknown (left out) → 1 / 2.
      expect(point('fcr')).toMatchObject({ value: 0.5, numerator: 1, denominator: 2 });
    }
  });

  it('cuts by queue and channel; an empty denominator has a null value', async () => {
    const r = await rolled.query({ kpis: ['answer_rate', 'fcr', 'aht'], ...window, regions: ['GD'], by: ['queue', 'channel'] });
    // q1/voice: offered c1 c2 c4 c5 c6 = 5, answered 2; q2/chat: c9 alone.
    expect(only(r, 'answer_rate', { queue: 'q1', channel: 'voice' }).points[0]).toMatchObject({ value: 0.4, numerator: 2, denominator: 5 });
    expect(only(r, 'answer_rate', { queue: 'q2', channel: 'chat' }).points[0]).toMatchObject({ value: 1, numerator: 1, denominator: 1 });
    // c9 has neither a talk time nor a resolved flag.
    expect(only(r, 'fcr', { queue: 'q2', channel: 'chat' }).points[0]).toMatchObject({ value: null, numerator: 0, denominator: 0 });
    expect(only(r, 'aht', { queue: 'q2', channel: 'chat' }).points[0]).toMatchObject({ value: null, numerator: 0, denominator: 0 });
  });

  it('cuts by agent (raw path) and by region with a series for every region in scope', async () => {
    const byAgent = await rolled.query({ kpis: ['offered'], ...window, regions: ['GD'], by: ['agent'] });
    expect(only(byAgent, 'offered', { agent: 'a2' }).points[0]?.value).toBe(1);
    expect(only(byAgent, 'offered', { agent: '' }).points[0]?.value).toBe(5);
    const byRegion = await rolled.query({ kpis: ['abandon_rate'], ...window, regions: ['GD', 'BJ', 'SH'], by: ['region'] });
    expect(byRegion.series.map((s) => s.labels.region)).toEqual(['GD', 'BJ', 'SH']);
    expect(only(byRegion, 'abandon_rate', { region: 'BJ' }).points[0]).toMatchObject({ value: 1, numerator: 1, denominator: 1 });
    // SH has no calls at all: still a series, value null.
    expect(only(byRegion, 'abandon_rate', { region: 'SH' }).points[0]).toMatchObject({ value: null, numerator: 0, denominator: 0 });
  });

  it('gives a point at every 1m bucket start, empty buckets included', async () => {
    const r = await rolled.query({ kpis: ['offered', 'answer_rate'], ...window, regions: ['GD'], by: [], step: '1m' });
    const offered = only(r, 'offered').points;
    const rate = only(r, 'answer_rate').points;
    expect(offered).toHaveLength(60);
    expect(offered[0]).toEqual({ t: '2026-11-30T02:00:00.000Z', value: 1, numerator: 1, denominator: 1 }); // c1
    // Minute 2 holds only c3, a short abandon: offered 0, answer rate undefined.
    expect(offered[2]).toEqual({ t: '2026-11-30T02:02:00.000Z', value: 0, numerator: 0, denominator: 1 });
    expect(rate[2]).toEqual({ t: '2026-11-30T02:02:00.000Z', value: null, numerator: 0, denominator: 0 });
    // Minute 59 has no calls (c7 at `to` is out): a count is 0, a ratio null.
    expect(offered[59]).toEqual({ t: '2026-11-30T02:59:00.000Z', value: 0, numerator: 0, denominator: 1 });
    expect(offered.reduce((s, p) => s + p.numerator, 0)).toBe(6);
  });

  it('returns identical results from the rollup and from raw rows, and really reads the rollup', async () => {
    const request = { kpis: CALL_KPIS, ...window, regions: ['GD', 'BJ'], by: ['region', 'queue', 'channel'], step: '5m' as const };
    const fromRaw = await raw.query(request);
    const fromRollup = await rolled.query(request);
    expect(fromRollup).toEqual(fromRaw);
    expect(fromRaw.series.length).toBeGreaterThan(0);
    const total = await rolled.query({ ...request, by: [], step: '1h' });

    // With the raw table emptied, the rollup still answers; an unaligned window (raw path) sees nothing.
    await store.command(sql`TRUNCATE TABLE ${store.table('calls')}`);
    try {
      expect(await rolled.query({ ...request, by: [], step: '1h' })).toEqual(total);
      const unaligned = await rolled.query({ ...request, from: new Date((F + 30) * 1000), by: [], step: undefined });
      expect(only(unaligned, 'offered').points[0]?.numerator).toBe(0);
    } finally {
      await store.insert('calls', CALLS);
    }
  });

  it('reads queue gauges: latest sample per queue within 120 s before each end', async () => {
    const r = await rolled.query({ kpis: ['calls_waiting', 'longest_wait'], ...window, regions: ['GD', 'BJ'], by: ['region'] });
    // GD at `to`: q1's latest in [to−120, to) is at to−10 (2 waiting, 30 s); q2 at to−60 (5, 90 s); q3 at `to` is out.
    expect(only(r, 'calls_waiting', { region: 'GD' }).points[0]).toMatchObject({ value: 7, numerator: 7, denominator: 2 });
    expect(only(r, 'longest_wait', { region: 'GD' }).points[0]).toMatchObject({ value: 90, numerator: 90, denominator: 2 });
    // BJ's only sample is 200 s old: no queue reporting, so no value.
    expect(only(r, 'calls_waiting', { region: 'BJ' }).points[0]).toMatchObject({ value: null, numerator: 0, denominator: 0 });

    const series = await rolled.query({ kpis: ['calls_waiting', 'longest_wait'], ...window, regions: ['GD'], by: ['queue'], step: '1m' });
    const q1 = only(series, 'calls_waiting', { queue: 'q1' }).points;
    // Bucket 02:59 ends at `to`: sample at to−10 → 2.
    expect(q1[59]).toMatchObject({ value: 2, denominator: 1 });
    // Bucket 02:58 ends at to−60: samples in [to−180, to−60) are to−130 (8) and to−100 (4); the latest wins → 4.
    expect(q1[58]).toMatchObject({ value: 4, denominator: 1 });
    // Bucket 02:57 ends at to−120: samples in [to−240, to−120) are to−190 (9) and to−130 (8) → 8.
    expect(q1[57]).toMatchObject({ value: 8, denominator: 1 });
    // q2's sample at to−60 serves the bucket ending at `to` only (for to−60 it is at the end, so out).
    const q2 = only(series, 'longest_wait', { queue: 'q2' }).points;
    expect(q2[59]).toMatchObject({ value: 90 });
    expect(q2[58]).toMatchObject({ value: null, denominator: 0 });
  });
});
