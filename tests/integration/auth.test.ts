import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';
import { openTestStore } from '../helpers/store.js';
import { bearer, buildTestApp, TOKENS } from '../helpers/app.js';

// Authentication does not depend on the backend, so this suite runs on chDB only.
describe('authentication on every /api route', () => {
  let store: Store;
  let app: FastifyInstance;
  beforeAll(async () => {
    store = await openTestStore('embedded');
    app = await buildTestApp(store);
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const concrete = (url: string) => url.replace(/:kind/g, 'calls').replace(/:[A-Za-z]+/g, 'x');

  it('registers /api routes', () => {
    expect(app.sqmRoutes.filter((r) => r.url.startsWith('/api')).length).toBeGreaterThan(0);
  });

  it('answers 401 without a token on every /api route, and with a wrong one', async () => {
    // Public routes (log in, set-up status) are the exception, by declaration (auth.ts).
    const apiRoutes = app.sqmRoutes.filter((r) => r.url.startsWith('/api') && r.method !== 'HEAD' && !(r.access && 'public' in r.access));
    for (const route of apiRoutes) {
      const url = concrete(route.url);
      const none = await app.inject({ method: route.method as 'GET', url });
      expect(none.statusCode, `${route.method} ${url} without a token`).toBe(401);
      expect(none.json().error.code).toBe('SQM_UNAUTHORIZED');
      const wrong = await app.inject({ method: route.method as 'GET', url, headers: bearer('not-a-real-token-000000') });
      expect(wrong.statusCode, `${route.method} ${url} with a wrong token`).toBe(401);
    }
  });

  it('answers 401 on unknown /api paths too, so probing reveals nothing', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/secret-things' });
    expect(res.statusCode).toBe(401);
  });

  it('rejects a malformed Authorization header', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/kpis', headers: { authorization: 'Basic abc' } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.message).toMatch(/Bearer/);
  });

  it('forbids an ingest token from reading KPIs (403)', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/kpis?kpi=answer_rate&from=2026-11-30T00:00:00Z&to=2026-11-30T01:00:00Z',
      headers: bearer(TOKENS.ingest),
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('SQM_FORBIDDEN');
  });

  it('serves /healthz and /readyz without a token and without data', async () => {
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', spool: { records: 0, bytes: 0, maxBytes: 2 * 1024 ** 3, oldestSeconds: 0, storeFailing: false } });
  });

  it('never leaks a stack trace', async () => {
    // Under /api, where the dashboard's catch-all does not answer.
    const res = await app.inject({ method: 'GET', url: '/api/v1/nowhere', headers: bearer(TOKENS.admin) });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('SQM_NOT_FOUND');
    expect(res.body).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe('readiness', () => {
  it('is not ready while migrations are pending', async () => {
    const store = await openTestStore('embedded', { migrate: false });
    const { migrate } = await import('../../store/index.js');
    const { sql } = await import('../../store/index.js');
    await migrate(store, []); // only the bookkeeping table
    const app = await buildTestApp(store);
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 'not ready', reason: 'migrations pending', spool: { records: 0 } });
      await store.command(sql`SELECT 1`);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('is not ready without its store, unless it only collects: then its spool keeps records until the store is back', async () => {
    const store = await openTestStore('embedded');
    const { StoreError } = await import('../../store/index.js');
    const down = {
      ...store, table: store.table, command: store.command, insert: store.insert,
      async query(): Promise<never> { throw new StoreError('Connection refused', undefined); },
    };
    const api = await buildTestApp(down);
    const collector = await buildTestApp(down, { roles: ['collector'] });
    try {
      const all = await api.inject({ method: 'GET', url: '/readyz' });
      expect(all.statusCode).toBe(503);
      expect(all.json()).toMatchObject({ status: 'not ready', reason: 'store unreachable' });
      const collecting = await collector.inject({ method: 'GET', url: '/readyz' });
      expect(collecting.statusCode).toBe(200);
      expect(collecting.json()).toMatchObject({ status: 'ready', store: 'unreachable', spool: { records: 0 } });
    } finally {
      await api.close();
      await collector.close();
      await store.close();
    }
  });
});
