/**
 * A GD manager never receives BJ data through the KPI API, whether it calls
 * with a token, a session, or a GD wallboard's display session; an executive
 * sees both (so the fixture really holds BJ data to leak). The same helper
 * (tests/helpers/scope.ts) is meant for alert lists, scorecards and exports.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../store/index.js';
import { bearer, buildTestApp, TOKENS } from '../helpers/app.js';
import { call, insertFixture, iso } from '../helpers/kpi-fixtures.js';
import { createUser, loginCookie, sessionCookie } from '../helpers/people.js';
import { expectRegionScope, type ScopeProbe } from '../helpers/scope.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const F = iso('2026-11-30T02:00:00Z');
const WINDOW = `from=${encodeURIComponent('2026-11-30T02:00:00Z')}&to=${encodeURIComponent('2026-11-30T03:00:00Z')}`;

const kpiProbe: ScopeProbe = {
  name: 'GET /api/v1/kpis by region',
  request: (regions) => ({
    method: 'GET',
    url: `/api/v1/kpis?kpi=offered,answer_rate&${WINDOW}&by=region${regions ? `&region=${regions.join(',')}` : ''}`,
  }),
  regionsOf: (body) => (body as { series: { labels: { region: string } }[] }).series.map((s) => s.labels.region),
};

describe.each(BACKENDS)('region scope on %s', (backend) => {
  let store: Store;
  let app: FastifyInstance;
  let managerSession: string;
  let displaySession: string;

  beforeAll(async () => {
    store = await openTestStore(backend);
    await insertFixture(store, {
      calls: [
        call({ id: 'g1', enteredAt: F + 10, outcome: 'answered', wait: 5 }),
        call({ id: 'j1', region: 'BJ', enteredAt: F + 20, outcome: 'answered', wait: 5 }),
        call({ id: 'j2', region: 'BJ', enteredAt: F + 30, outcome: 'abandoned', wait: 50 }),
      ],
    });
    app = await buildTestApp(store);
    await createUser(app, { username: 'gd.manager', role: 'manager', regions: ['GD'] });
    managerSession = await loginCookie(app, 'gd.manager');
    const made = (await app.inject({
      method: 'POST', url: '/api/v1/tokens', headers: bearer(TOKENS.admin),
      payload: { name: 'GD wallboard', role: 'viewer', regions: ['GD'], display: true },
    })).json();
    displaySession = sessionCookie(await app.inject({
      method: 'POST', url: '/api/v1/auth/display', headers: { 'x-sqm-request': '1' }, payload: { token: made.token },
    }))!;
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('keeps a GD manager token inside GD', async () => {
    await expectRegionScope(app, kpiProbe, { unscoped: bearer(TOKENS.executive), scoped: bearer(TOKENS.managerGD), own: 'GD', other: 'BJ' });
  });

  it('keeps a GD manager session inside GD', async () => {
    await expectRegionScope(app, kpiProbe, { unscoped: bearer(TOKENS.admin), scoped: { cookie: managerSession }, own: 'GD', other: 'BJ' });
  });

  it('keeps a GD display inside GD', async () => {
    await expectRegionScope(app, kpiProbe, { unscoped: bearer(TOKENS.viewer), scoped: { cookie: displaySession }, own: 'GD', other: 'BJ' });
  });

  it('gives a scoped caller the totals of its own regions, not of all', async () => {
    // Without `by`, one total: GD's 1 offered call, not GD + BJ = 3.
    const res = await app.inject({ method: 'GET', url: `/api/v1/kpis?kpi=offered&${WINDOW}`, headers: { cookie: managerSession } });
    expect(res.statusCode).toBe(200);
    expect(res.json().series[0].points[0]).toMatchObject({ value: 1, numerator: 1 });
    const all = await app.inject({ method: 'GET', url: `/api/v1/kpis?kpi=offered&${WINDOW}`, headers: bearer(TOKENS.executive) });
    expect(all.json().series[0].points[0]).toMatchObject({ value: 3, numerator: 3 });
  });
});
