/**
 * GET /api/v1/kpis: the response shape of RECORDS.md, the 400s that list the
 * valid values, roles, and a region-scoped manager's view.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KPI_IDS, STEPS } from '../../kpi/index.js';
import type { Store } from '../../store/index.js';
import { TOKENS, bearer, buildTestApp } from '../helpers/app.js';
import { call, insertFixture, iso } from '../helpers/kpi-fixtures.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const FROM = '2026-11-30T10:00:00+08:00';
const TO = '2026-11-30T11:00:00+08:00';
const F = iso('2026-11-30T02:00:00Z');

describe.each(BACKENDS)('GET /api/v1/kpis on %s', (backend) => {
  let store: Store;
  let app: FastifyInstance;

  beforeAll(async () => {
    store = await openTestStore(backend);
    await insertFixture(store, {
      calls: [
        call({ id: 'g1', enteredAt: F + 10, outcome: 'answered', wait: 10 }),
        call({ id: 'g2', enteredAt: F + 20, outcome: 'abandoned', wait: 30 }),
        call({ id: 'j1', region: 'BJ', enteredAt: F + 30, outcome: 'answered', wait: 10 }),
      ],
    });
    app = await buildTestApp(store);
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const get = (query: string, token: string = TOKENS.viewer) =>
    app.inject({ method: 'GET', url: `/api/v1/kpis?${query}`, headers: bearer(token) });
  const window = `from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}`;

  it('answers in the shape of RECORDS.md', async () => {
    const res = await get(`kpi=answer_rate,offered&${window}&region=GD,BJ&by=region`);
    expect(res.statusCode).toBe(200);
    // GD: g1 answered, g2 abandoned after 30 s → 1 / 2; BJ: 1 / 1. Offered 2 and 1.
    expect(res.json()).toEqual({
      from: '2026-11-30T02:00:00.000Z',
      to: '2026-11-30T03:00:00.000Z',
      series: [
        { kpi: 'answer_rate', labels: { region: 'GD' }, points: [{ t: '2026-11-30T02:00:00.000Z', value: 0.5, numerator: 1, denominator: 2 }] },
        { kpi: 'answer_rate', labels: { region: 'BJ' }, points: [{ t: '2026-11-30T02:00:00.000Z', value: 1, numerator: 1, denominator: 1 }] },
        { kpi: 'offered', labels: { region: 'GD' }, points: [{ t: '2026-11-30T02:00:00.000Z', value: 2, numerator: 2, denominator: 1 }] },
        { kpi: 'offered', labels: { region: 'BJ' }, points: [{ t: '2026-11-30T02:00:00.000Z', value: 1, numerator: 1, denominator: 1 }] },
      ],
    });
  });

  it('returns a series with a point per step, and the step', async () => {
    const res = await get(`kpi=offered&${window}&region=GD&step=15m`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.step).toBe('15m');
    expect(body.series).toHaveLength(1);
    expect(body.series[0].points.map((p: { numerator: number }) => p.numerator)).toEqual([2, 0, 0, 0]);
  });

  it.each([
    ['unknown kpi', `kpi=answer_rate,bogus&${window}`, { unknown: ['bogus'], valid: [...KPI_IDS] }],
    ['missing kpi', `${window}`, { valid: [...KPI_IDS] }],
    ['unknown by', `kpi=offered&${window}&by=planet`, { unknown: ['planet'] }],
    ['a by the KPI cannot take', `kpi=csat&${window}&by=queue`, { kpi: 'csat', unknown: ['queue'], valid: ['region', 'channel', 'touchpoint'] }],
    ['unknown step', `kpi=offered&${window}&step=2m`, { unknown: ['2m'], valid: [...STEPS] }],
    ['unknown region', `kpi=offered&${window}&region=GD,XX`, { unknown: ['XX'] }],
  ])('refuses %s with 400 and the valid values', async (_name, query, details) => {
    const res = await get(query);
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('SQM_BAD_REQUEST');
    expect(body.error.details).toMatchObject(details);
    if (Array.isArray((details as { valid?: string[] }).valid)) {
      for (const v of (details as { valid: string[] }).valid) expect(body.error.message).toContain(v);
    }
  });

  it.each([
    ['a missing from', `kpi=offered&to=${encodeURIComponent(TO)}`],
    ['an invalid from', `kpi=offered&from=yesterday&to=${encodeURIComponent(TO)}`],
    ['a from without offset', `kpi=offered&from=2026-11-30T10:00:00&to=${encodeURIComponent(TO)}`],
    ['to equal to from', `kpi=offered&from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(FROM)}`],
    ['a range over 400 days', `kpi=offered&from=2025-01-01T00:00:00Z&to=2026-02-06T00:00:00Z`],
    ['more than 10,000 buckets', `kpi=offered&from=2026-11-01T00:00:00Z&to=2026-11-08T00:00:00Z&step=1m`],
  ])('refuses %s with 400', async (_name, query) => {
    const res = await get(query);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('SQM_BAD_REQUEST');
  });

  it('accepts exactly 400 days and 10,000 buckets', async () => {
    // 2025-10-26 → 2026-11-30 is 400 days; 10,000 minutes from 2026-11-01 end at 2026-11-07T22:40Z.
    expect((await get('kpi=offered&from=2025-10-26T00:00:00Z&to=2026-11-30T00:00:00Z&region=GD')).statusCode).toBe(200);
    const res = await get('kpi=offered&from=2026-11-01T00:00:00Z&to=2026-11-07T22:40:00Z&step=1m&region=GD');
    expect(res.statusCode).toBe(200);
    expect(res.json().series[0].points).toHaveLength(10_000);
  });

  it('needs a token with a read role', async () => {
    expect((await app.inject({ method: 'GET', url: `/api/v1/kpis?kpi=offered&${window}` })).statusCode).toBe(401);
    expect((await get(`kpi=offered&${window}`, TOKENS.ingest)).statusCode).toBe(403);
    expect((await get(`kpi=offered&${window}`, TOKENS.executive)).statusCode).toBe(200);
  });

  it("keeps the GD manager inside GD", async () => {
    const bj = await get(`kpi=offered&${window}&region=BJ`, TOKENS.managerGD);
    expect(bj.statusCode).toBe(403);
    expect(bj.json().error.code).toBe('SQM_FORBIDDEN');
    const byRegion = await get(`kpi=offered&${window}&by=region`, TOKENS.managerGD);
    expect(byRegion.statusCode).toBe(200);
    expect(byRegion.json().series.map((s: { labels: Record<string, string> }) => s.labels)).toEqual([{ region: 'GD' }]);
    // Without `by`, the one total is GD's alone: 2 offered, not GD + BJ = 3.
    const total = await get(`kpi=offered&${window}`, TOKENS.managerGD);
    expect(total.json().series).toEqual([{ kpi: 'offered', labels: {}, points: [{ t: '2026-11-30T02:00:00.000Z', value: 2, numerator: 2, denominator: 1 }] }]);
  });
});
