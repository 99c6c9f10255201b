/**
 * Security headers, API rate limits, bounded bodies, and error answers that
 * never carry a stack trace. Nothing here depends on the backend (the store is
 * only where users live), so this suite runs on chDB only.
 */
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../store/index.js';
import { bearer, buildTestApp, testConfig, TOKENS } from '../helpers/app.js';
import { openTestStore } from '../helpers/store.js';

let store: Store;
beforeAll(async () => {
  store = await openTestStore('embedded');
});
afterAll(async () => {
  await store?.close();
});

const STACK = /\bat .*\.(ts|js):\d+|node_modules|Error: /;

describe('security headers', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(store);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('sends helmet\'s headers and a CSP the same-origin dashboard can live with', async () => {
    for (const url of ['/api/v1/auth/me', '/healthz']) {
      const res = await app.inject({ method: 'GET', url, headers: bearer(TOKENS.viewer) });
      const csp = String(res.headers['content-security-policy']);
      expect(csp, url).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe/);
      expect(csp).toContain("style-src 'self' 'unsafe-inline'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['strict-transport-security']).toBe('max-age=15552000');
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('marks API answers no-store, and leaves probes alone', async () => {
    const api = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(TOKENS.viewer) });
    expect(api.headers['cache-control']).toBe('no-store');
    const denied = await app.inject({ method: 'GET', url: '/api/v1/users', headers: bearer(TOKENS.viewer) });
    expect(denied.headers['cache-control']).toBe('no-store');
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.headers['cache-control']).toBeUndefined();
  });
});

describe('error answers', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp(store);
  });
  afterAll(async () => {
    await app?.close();
  });

  it.each([
    ['unparseable JSON', { method: 'POST', url: '/api/v1/users', headers: { ...bearer(TOKENS.admin), 'content-type': 'application/json' }, payload: '{"username": ' }, 400, 'SQM_UNPARSEABLE_BODY'],
    ['a body over the route\'s 16 KiB', { method: 'POST', url: '/api/v1/users', headers: { ...bearer(TOKENS.admin), 'content-type': 'application/json' }, payload: JSON.stringify({ username: 'x', password: 'p'.repeat(20_000), role: 'viewer' }) }, 413, 'SQM_BODY_TOO_LARGE'],
    ['a login body over 16 KiB', { method: 'POST', url: '/api/v1/auth/login', headers: { 'x-sqm-request': '1', 'content-type': 'application/json' }, payload: JSON.stringify({ username: 'x', password: 'p'.repeat(20_000) }) }, 413, 'SQM_BODY_TOO_LARGE'],
    ['a wrong type', { method: 'POST', url: '/api/v1/users', headers: bearer(TOKENS.admin), payload: { username: 'x', password: 12, role: 'viewer' } }, 400, 'SQM_BAD_REQUEST'],
    ['an unsupported media type', { method: 'POST', url: '/api/v1/users', headers: { ...bearer(TOKENS.admin), 'content-type': 'text/xml' }, payload: '<user/>' }, 415, 'SQM_UNSUPPORTED_MEDIA_TYPE'],
    ['a wrong token', { method: 'GET', url: '/api/v1/users', headers: bearer('sqm_not-a-real-token-at-all-0000000000000000') }, 401, 'SQM_UNAUTHORIZED'],
    ['a forged session cookie', { method: 'GET', url: '/api/v1/users', headers: { cookie: 'sqm_session=' + 'A'.repeat(43) } }, 401, 'SQM_UNAUTHORIZED'],
    ['a role refusal', { method: 'GET', url: '/api/v1/audit', headers: bearer(TOKENS.managerGD) }, 403, 'SQM_FORBIDDEN'],
    ['an unknown user', { method: 'GET', url: '/api/v1/users/nobody', headers: bearer(TOKENS.admin) }, 404, 'SQM_NOT_FOUND'],
  ] as const)('answers %s from the catalogue, without a stack', async (_name, options, status, code) => {
    const res = await app.inject(options as InjectOptions);
    expect(res.statusCode).toBe(status);
    expect(Object.keys(res.json())).toEqual(['error']);
    expect(res.json().error.code).toBe(code);
    expect(res.body).not.toMatch(STACK);
  });

  it('answers a failure inside a handler with SQM_INTERNAL and nothing else', async () => {
    // A store that fails the way a bug would: a plain Error with a file path in its message and stack.
    const broken: Store = Object.create(store, {
      query: { value: async () => { throw new Error('boom at /work/main/server/people/users.ts:99'); } },
    });
    const brokenApp = await buildTestApp(broken);
    try {
      const res = await brokenApp.inject({ method: 'GET', url: '/api/v1/users', headers: bearer(TOKENS.admin) });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: { code: 'SQM_INTERNAL', message: 'Internal error' } });
    } finally {
      await brokenApp.close();
    }
  });
});

describe('API rate limits', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
  });

  const limited = (rateLimit: Record<string, number | boolean>) => {
    const base = testConfig();
    return testConfig({ security: { ...base.security, rateLimit: { ...base.security!.rateLimit, ...rateLimit } } });
  };

  it('limits a caller per window, more generously for ingest tokens, with a catalogue 429', async () => {
    app = await buildTestApp(store, { config: limited({ perPrincipal: 3, ingestPerPrincipal: 6 }) });
    const me = (token: string) => app!.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });
    for (let i = 0; i < 3; i++) expect((await me(TOKENS.viewer)).statusCode).toBe(200);
    const over = await me(TOKENS.viewer);
    expect(over.statusCode).toBe(429);
    expect(over.json().error).toMatchObject({ code: 'SQM_RATE_LIMITED', details: { limit: 3 } });
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    // Another caller has its own budget; ingest tokens a larger one.
    expect((await me(TOKENS.executive)).statusCode).toBe(200);
    for (let i = 0; i < 6; i++) expect((await me(TOKENS.ingest)).statusCode, `ingest request ${i + 1}`).toBe(200);
    expect((await me(TOKENS.ingest)).statusCode).toBe(429);
    // Health probes are not the API.
    for (let i = 0; i < 5; i++) expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('limits requests without credentials per address', async () => {
    app = await buildTestApp(store, { config: limited({ anonymousPerIp: 2 }) });
    const setup = () => app!.inject({ method: 'GET', url: '/api/v1/setup' });
    expect((await setup()).statusCode).toBe(200);
    expect((await setup()).statusCode).toBe(200);
    expect((await setup()).statusCode).toBe(429);
  });

  it('refuses an address that keeps sending wrong credentials, good ones included, until the window ends', async () => {
    let t = Date.parse('2026-11-30T08:00:00Z');
    app = await buildTestApp(store, { config: limited({ badCredentialsPerIp: 3, windowSeconds: 60 }), now: () => new Date(t) });
    const me = (token: string) => app!.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });
    for (let i = 0; i < 3; i++) expect((await me(`wrong-token-${i}-0000000000`)).statusCode).toBe(401);
    const blocked = await me(TOKENS.viewer);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.headers['retry-after']).toBe('60');
    t += 60_000;
    expect((await me(TOKENS.viewer)).statusCode).toBe(200);
  });

  it('can be switched off, keeping the login limit', async () => {
    const base = testConfig();
    app = await buildTestApp(store, {
      config: testConfig({ security: { ...base.security, rateLimit: { ...base.security!.rateLimit, enabled: false, perPrincipal: 1 }, login: { ...base.security!.login, perIpPerMinute: 1 } } }),
    });
    for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(TOKENS.viewer) })).statusCode).toBe(200);
    const login = () => app!.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'x-sqm-request': '1' }, payload: { username: 'nobody', password: 'whatever it is' } });
    expect((await login()).statusCode).toBe(401);
    expect((await login()).statusCode).toBe(429);
  });
});
