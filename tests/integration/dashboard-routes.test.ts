/**
 * GET /api/v1/meta (what the dashboard labels and judges numbers with) and the
 * static dashboard with its single-page fallback, over a real app.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../store/index.js';
import { TOKENS, bearer, buildTestApp } from '../helpers/app.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

describe.each(BACKENDS)('dashboard routes on %s', (backend) => {
  let store: Store;
  let app: FastifyInstance;
  let bare: FastifyInstance;
  let dist: string;

  beforeAll(async () => {
    store = await openTestStore(backend);
    // A stand-in build: the routes serve whatever dist/ holds.
    dist = mkdtempSync(join(tmpdir(), 'sqm-dist-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>SQM</title><div id="app"></div>');
    writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
    app = await buildTestApp(store, { dashboardDir: dist });
    bare = await buildTestApp(store, { dashboardDir: join(dist, 'missing') });
  });
  afterAll(async () => {
    await app?.close();
    await bare?.close();
    await store?.close();
    rmSync(dist, { recursive: true, force: true });
  });

  describe('GET /api/v1/meta', () => {
    it('gives the zone, the regions, the KPI catalogue with targets and the caller', async () => {
      const res = await app.inject({ url: '/api/v1/meta', headers: bearer(TOKENS.executive) });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.timezone).toBe('Asia/Shanghai');
      expect(body.regions).toHaveLength(31);
      expect(body.regions.find((r: { code: string }) => r.code === 'GD')).toEqual({ code: 'GD', zh: '广东', en: 'Guangdong' });
      expect(body.kpis.find((k: { id: string }) => k.id === 'answer_rate')).toMatchObject({
        zh: '人工接通率', en: 'Answer rate', unit: 'ratio', direction: 'higher', kind: 'ratio', target: 0.95, floor: 0.8, weight: 3,
      });
      expect(body.kpis.find((k: { id: string }) => k.id === 'calls_waiting')).toMatchObject({ target: null, floor: null, weight: null });
      expect(body.dashboard).toEqual({ amberBand: 0.05, rotateSeconds: 20 });
      expect(body.me).toEqual({ name: 'exec', role: 'executive', regions: null });
    });

    it('lists only the regions a scoped caller may see', async () => {
      const body = (await app.inject({ url: '/api/v1/meta', headers: bearer(TOKENS.managerGD) })).json();
      expect(body.regions.map((r: { code: string }) => r.code)).toEqual(['GD']);
      expect(body.me).toEqual({ name: 'gd-manager', role: 'manager', regions: ['GD'] });
    });

    it('needs a token with a reading role', async () => {
      expect((await app.inject({ url: '/api/v1/meta' })).statusCode).toBe(401);
      const ingest = await app.inject({ url: '/api/v1/meta', headers: bearer(TOKENS.ingest) });
      expect(ingest.statusCode).toBe(403);
      expect(ingest.json().error.code).toBe('SQM_FORBIDDEN');
    });
  });

  describe('the built dashboard', () => {
    it('serves index.html at / without a token, never cached', async () => {
      const res = await app.inject({ url: '/' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('<div id="app">');
    });

    it('serves hashed assets as immutable', async () => {
      const res = await app.inject({ url: '/assets/index-abc123.js' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    });

    it('answers a deep link outside /api with the app, a missing asset with 404', async () => {
      const deep = await app.inject({ url: '/wallboard/kiosk?regions=GD' });
      expect(deep.statusCode).toBe(200);
      expect(deep.body).toContain('<div id="app">');
      const missing = await app.inject({ url: '/assets/gone-123.js' });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error.code).toBe('SQM_NOT_FOUND');
    });

    it('never answers an unknown /api path with the app', async () => {
      expect((await app.inject({ url: '/api/v1/nothing-here' })).statusCode).toBe(401);
      const known = await app.inject({ url: '/api/v1/nothing-here', headers: bearer(TOKENS.viewer) });
      expect(known.statusCode).toBe(404);
      expect(known.json().error.code).toBe('SQM_NOT_FOUND');
    });

    it('says how to build it when dist/ is missing', async () => {
      const res = await bare.inject({ url: '/' });
      expect(res.statusCode).toBe(503);
      expect(res.body).toContain('npm run build:dashboard');
    });
  });
});
