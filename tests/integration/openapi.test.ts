/**
 * The OpenAPI document and /docs: served without a token, generated from the
 * routes (every /api route is in it), with bearer auth as the security scheme
 * and the schemas added to the KPI, ingest and import routes. The document does
 * not depend on the backend, so this suite runs on chDB only.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORD_KINDS } from '../../collector/index.js';
import type { Store } from '../../store/index.js';
import { TOKENS, bearer, buildTestApp } from '../helpers/app.js';
import { openTestStore } from '../helpers/store.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

describe('OpenAPI and /docs', () => {
  let store: Store;
  let app: FastifyInstance;
  let doc: Doc;

  beforeAll(async () => {
    store = await openTestStore('embedded');
    app = await buildTestApp(store);
    const res = await app.inject({ method: 'GET', url: '/documentation/json' });
    expect(res.statusCode).toBe(200);
    doc = res.json();
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('serves Swagger UI at /docs and the same document at /docs/json, without a token', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toMatch(/swagger-ui/i);
    const json = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.statusCode).toBe(200);
    expect(json.json()).toEqual(doc);
  });

  it('is OpenAPI 3 with bearer auth required by default and waived for health and metrics scrapes by address', () => {
    expect(doc.openapi).toBe('3.0.3');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(doc.paths['/metrics'].get.security).toEqual([{ bearerAuth: [] }, {}]);
  });

  it('lists every /api route the app has', () => {
    const documented = new Set<string>();
    for (const [path, methods] of Object.entries(doc.paths as Doc)) {
      for (const method of Object.keys(methods as Doc)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    const routes = app.sqmRoutes
      .filter((r) => r.url.startsWith('/api') && r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.url.replace(/:([A-Za-z]+)/g, '{$1}')}`);
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.filter((r) => !documented.has(r))).toEqual([]);
    expect(documented).toContain('GET /api/v1/live');
    expect(documented).toContain('GET /metrics');
  });

  it('describes the KPI query: its parameters, its answer and its errors', () => {
    const op = doc.paths['/api/v1/kpis'].get;
    const params = Object.fromEntries((op.parameters as Doc[]).map((p) => [p.name, p]));
    expect(Object.keys(params).sort()).toEqual(['by', 'from', 'kpi', 'region', 'step', 'to']);
    expect(params.kpi).toMatchObject({ in: 'query', required: true });
    expect(params.step.schema.enum).toEqual(['1m', '5m', '15m', '1h', '1d']);
    expect(Object.keys(op.responses).sort()).toEqual(['200', '400', '401', '403', '503']);
    const series = op.responses['200'].content['application/json'].schema.properties.series;
    expect(series.items.properties.points.items.properties.value).toMatchObject({ type: 'number', nullable: true });
    expect(op.responses['400'].content['application/json'].schema.properties.error.properties.code.enum).toContain('SQM_BAD_REQUEST');
  });

  it('describes ingest and import bodies by content type and the record kinds', () => {
    const ingest = doc.paths['/api/v1/ingest/{kind}'].post;
    expect(ingest.parameters).toEqual([expect.objectContaining({ in: 'path', name: 'kind', required: true, schema: expect.objectContaining({ enum: [...RECORD_KINDS] }) })]);
    expect(Object.keys(ingest.requestBody.content).sort()).toEqual(['application/json', 'application/x-ndjson']);
    expect(Object.keys(ingest.responses).sort()).toEqual(['200', '400', '401', '403', '404', '413', '415', '503']);
    const importOp = doc.paths['/api/v1/import/{kind}'].post;
    expect(Object.keys(importOp.requestBody.content).sort()).toEqual(['application/csv', 'text/csv']);
    expect((importOp.parameters as Doc[]).filter((p) => p.in === 'query').map((p) => p.name).sort())
      .toEqual(['delimiter', 'fixed', 'map', 'timezone', 'values']);
  });

  it('documents the live protocol on the WebSocket route', () => {
    const op = doc.paths['/api/v1/live'].get;
    expect(op.tags).toEqual(['live']);
    expect(op.description).toMatch(/"type":"subscribe"/);
    expect(op.description).toMatch(/4008/);
  });

  it('changes nothing in how the described routes answer: their own checks and messages still apply', async () => {
    // The schema says step is an enum, but the route's own 400 (which lists the valid values) answers, not Ajv's.
    const badStep = await app.inject({
      method: 'GET', url: '/api/v1/kpis?kpi=offered&from=2026-11-30T00:00:00Z&to=2026-11-30T01:00:00Z&step=2m', headers: bearer(TOKENS.viewer),
    });
    expect(badStep.statusCode).toBe(400);
    expect(badStep.json().error).toEqual({
      code: 'SQM_BAD_REQUEST', message: 'unknown step: 2m; valid: 1m, 5m, 15m, 1h, 1d', details: { unknown: ['2m'], valid: ['1m', '5m', '15m', '1h', '1d'] },
    });
    // NDJSON with one bad line: one rejected record, not a failed request (the body is never validated as JSON by Fastify).
    const ndjson = await app.inject({
      method: 'POST', url: '/api/v1/ingest/calls', headers: { ...bearer(TOKENS.ingest), 'content-type': 'application/x-ndjson' },
      payload: '{not json}\n',
    });
    expect(ndjson.statusCode).toBe(200);
    expect(ndjson.json()).toMatchObject({ accepted: 0, rejected: [{ index: 0 }] });
  });
});
