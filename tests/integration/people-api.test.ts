/**
 * Users, sessions and tokens through the API: set-up, login, logout, /me,
 * session expiry with a controllable clock, password changes, lock-out, API
 * and display tokens (shown once, revocable), CSRF, and the audit entries each
 * of these leaves.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql, type Store } from '../../store/index.js';
import { bearer, buildTestApp, testConfig, TOKENS } from '../helpers/app.js';
import { browser, createUser, HOUR, login, loginCookie, MINUTE, PASSWORD, sessionCookie, testClock } from '../helpers/people.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const START = '2026-11-30T08:00:00Z';

interface AuditEntryJson {
  actor: string;
  action: string;
  target: string;
  ip: string;
  details: Record<string, unknown>;
}

describe.each(BACKENDS)('people API on %s', (backend) => {
  let store: Store;
  let app: FastifyInstance;
  let clock: ReturnType<typeof testClock>;

  beforeAll(async () => {
    store = await openTestStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });
  beforeEach(async () => {
    // Every test starts with no users, tokens, sessions or audit entries, and a fresh app.
    for (const table of ['users', 'sessions', 'api_tokens', 'audit_log'] as const) {
      await store.command(sql`TRUNCATE TABLE ${store.table(table)}`);
    }
    clock = testClock(START);
    app = await buildTestApp(store, { now: clock.now });
  });
  afterEach(async () => {
    await app?.close();
  });

  const audit = async (query = ''): Promise<AuditEntryJson[]> => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/audit${query}`, headers: bearer(TOKENS.admin) });
    expect(res.statusCode).toBe(200);
    return res.json().entries;
  };

  describe('set-up', () => {
    it('creates the first admin once, only with an admin token', async () => {
      expect((await app.inject({ method: 'GET', url: '/api/v1/setup' })).json()).toEqual({ needed: true });
      const payload = { username: 'root', password: PASSWORD };
      // No token: 401. A viewer token: 403.
      expect((await app.inject({ method: 'POST', url: '/api/v1/setup', payload })).statusCode).toBe(401);
      expect((await app.inject({ method: 'POST', url: '/api/v1/setup', headers: bearer(TOKENS.viewer), payload })).statusCode).toBe(403);
      const first = await app.inject({ method: 'POST', url: '/api/v1/setup', headers: bearer(TOKENS.admin), payload });
      expect(first.statusCode).toBe(201);
      expect(first.json()).toMatchObject({ username: 'root', role: 'admin', regions: null, createdBy: 'bootstrap-admin' });
      expect(first.body).not.toContain('scrypt');
      expect((await app.inject({ method: 'GET', url: '/api/v1/setup' })).json()).toEqual({ needed: false });
      const second = await app.inject({ method: 'POST', url: '/api/v1/setup', headers: bearer(TOKENS.admin), payload: { username: 'other', password: PASSWORD } });
      expect(second.statusCode).toBe(409);
      expect(second.json().error.code).toBe('SQM_CONFLICT');
      // The first admin logs in with the password chosen at set-up.
      expect((await login(app, 'root')).statusCode).toBe(200);
    });

    it('refuses a short password, naming the field', async () => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/setup', headers: bearer(TOKENS.admin), payload: { username: 'root', password: 'short' } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toContain('body/password');
    });
  });

  describe('login, me, logout', () => {
    beforeEach(async () => {
      await createUser(app, { username: 'li.wei', role: 'manager', regions: ['GD'] });
    });

    it('logs in with an HttpOnly, SameSite=Strict cookie and no password in the answer', async () => {
      const res = await login(app, 'li.wei');
      expect(res.statusCode).toBe(200);
      const cookie = res.cookies.find((c) => c.name === 'sqm_session')!;
      expect(cookie.httpOnly).toBe(true);
      expect(cookie.sameSite).toBe('Strict');
      expect(cookie.path).toBe('/');
      // Plain http (inject): not Secure under `cookieSecure: auto`; 12 h absolute lifetime.
      expect(cookie.secure).toBeUndefined();
      expect(cookie.maxAge).toBe(12 * 3600);
      expect(res.json()).toMatchObject({ user: { username: 'li.wei', role: 'manager', regions: ['GD'] }, expiresAt: '2026-11-30T20:00:00.000Z' });
      expect(res.body).not.toMatch(/scrypt|passwordHash/);
    });

    it('sets Secure when the request came over https (through a trusted proxy), or when told to', async () => {
      const base = testConfig();
      await app.close();
      app = await buildTestApp(store, { now: clock.now, config: testConfig({ security: { ...base.security, trustProxy: true } }) });
      const viaProxy = await app.inject({
        method: 'POST', url: '/api/v1/auth/login', payload: { username: 'li.wei', password: PASSWORD },
        headers: { 'x-sqm-request': '1', 'x-forwarded-proto': 'https', 'x-forwarded-for': '10.1.2.3' },
      });
      expect(viaProxy.cookies.find((c) => c.name === 'sqm_session')!.secure).toBe(true);
      // Behind the trusted proxy, the client's own address is the one audited.
      expect((await audit('?action=login.success'))[0]!.ip).toBe('10.1.2.3');
      await app.close();
      app = await buildTestApp(store, { now: clock.now, config: testConfig({ security: { ...base.security, cookieSecure: 'always' } }) });
      expect((await login(app, 'li.wei')).cookies.find((c) => c.name === 'sqm_session')!.secure).toBe(true);
    });

    it('ignores X-Forwarded-* from an untrusted client', async () => {
      const res = await app.inject({
        method: 'POST', url: '/api/v1/auth/login', payload: { username: 'li.wei', password: PASSWORD },
        headers: { 'x-sqm-request': '1', 'x-forwarded-proto': 'https', 'x-forwarded-for': '10.1.2.3' },
      });
      expect(res.cookies.find((c) => c.name === 'sqm_session')!.secure).toBeUndefined();
      expect((await audit('?action=login.success'))[0]!.ip).toBe('127.0.0.1');
    });

    it('answers /me from the cookie and stores only the hash of the session id', async () => {
      const cookie = await loginCookie(app, 'li.wei');
      const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toEqual({
        name: 'li.wei', role: 'manager', regions: ['GD'], via: 'session', display: false, displayName: 'li.wei',
        session: { expiresAt: '2026-11-30T20:00:00.000Z', idleExpiresAt: '2026-11-30T09:00:00.000Z' },
        csrfHeader: 'X-SQM-Request',
      });
      const id = cookie.split('=')[1]!;
      const rows = await store.query<{ idHash: string }>(sql`SELECT idHash FROM ${store.table('sessions')}`);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.idHash).toMatch(/^[0-9a-f]{64}$/);
        expect(row.idHash).not.toContain(id);
      }
    });

    it('refuses a wrong password and an unknown user with the same answer', async () => {
      const wrong = await login(app, 'li.wei', 'not the password at all');
      const unknown = await login(app, 'nobody', PASSWORD);
      expect(wrong.statusCode).toBe(401);
      expect(unknown.statusCode).toBe(401);
      expect(wrong.json()).toEqual(unknown.json());
      expect(wrong.json().error.code).toBe('SQM_LOGIN_FAILED');
      expect(sessionCookie(wrong)).toBeUndefined();
    });

    it('logs out: the cookie is cleared and the session no longer works', async () => {
      const cookie = await loginCookie(app, 'li.wei');
      const out = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: browser(cookie) });
      expect(out.statusCode).toBe(204);
      const cleared = out.cookies.find((c) => c.name === 'sqm_session')!;
      expect(cleared.value).toBe('');
      const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });
      expect(me.statusCode).toBe(401);
      expect(me.json().error.message).toMatch(/logged out/);
    });

    it('ends a session after 60 idle minutes, but not while it is used', async () => {
      const cookie = await loginCookie(app, 'li.wei');
      const me = () => app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });
      // Used every 59 minutes: still alive after 4 h.
      for (let i = 0; i < 4; i++) {
        clock.advance(59 * MINUTE);
        expect((await me()).statusCode).toBe(200);
      }
      // Then 60 minutes unused: gone.
      clock.advance(60 * MINUTE);
      const res = await me();
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toMatch(/unused/);
    });

    it('ends every session 12 hours after login, however busy', async () => {
      const cookie = await loginCookie(app, 'li.wei');
      const me = () => app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });
      for (let i = 0; i < 23; i++) {
        clock.advance(30 * MINUTE);
        expect((await me()).statusCode, `after ${(i + 1) * 30} min`).toBe(200);
      }
      clock.advance(30 * MINUTE); // 12 h exactly
      const res = await me();
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toMatch(/expired/);
    });

    it('sees an idle-expired session as expired in a fresh process too (the use was stored)', async () => {
      const cookie = await loginCookie(app, 'li.wei');
      clock.advance(50 * MINUTE);
      expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } })).statusCode).toBe(200);
      // Another process (a new app over the same store) 50 minutes later: alive, because the use at 50 min was stored.
      await app.close();
      clock.advance(50 * MINUTE);
      app = await buildTestApp(store, { now: clock.now });
      expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } })).statusCode).toBe(200);
    });

    it('changes a password: the old one stops working and other sessions end', async () => {
      const other = await loginCookie(app, 'li.wei');
      const mine = await loginCookie(app, 'li.wei');
      clock.advance(1000);
      const change = await app.inject({
        method: 'POST', url: '/api/v1/auth/password', headers: browser(mine),
        payload: { currentPassword: PASSWORD, newPassword: 'a much newer pass phrase' },
      });
      expect(change.statusCode).toBe(204);
      const fresh = sessionCookie(change)!;
      expect(fresh).toBeDefined();
      expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: fresh } })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: other } })).statusCode).toBe(401);
      expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: mine } })).statusCode).toBe(401);
      expect((await login(app, 'li.wei')).statusCode).toBe(401);
      expect((await login(app, 'li.wei', 'a much newer pass phrase')).statusCode).toBe(200);
    });

    it('refuses a password change with the wrong current password', async () => {
      const cookie = await loginCookie(app, 'li.wei');
      const res = await app.inject({
        method: 'POST', url: '/api/v1/auth/password', headers: browser(cookie),
        payload: { currentPassword: 'wrong wrong wrong', newPassword: 'a much newer pass phrase' },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toContain('currentPassword');
    });

    it('ends the sessions of a user an admin disables, and refuses their login', async () => {
      const cookie = await loginCookie(app, 'li.wei');
      clock.advance(1000);
      const patch = await app.inject({ method: 'PATCH', url: '/api/v1/users/li.wei', headers: bearer(TOKENS.admin), payload: { disabled: true } });
      expect(patch.statusCode).toBe(200);
      expect(patch.json().disabled).toBe(true);
      expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } })).statusCode).toBe(401);
      expect((await login(app, 'li.wei')).statusCode).toBe(401);
    });

    it('applies a role change to a live session', async () => {
      const cookie = await loginCookie(app, 'li.wei');
      await app.inject({ method: 'PATCH', url: '/api/v1/users/li.wei', headers: bearer(TOKENS.admin), payload: { role: 'viewer', regions: ['GD', 'BJ'] } });
      const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });
      expect(me.json()).toMatchObject({ role: 'viewer', regions: ['BJ', 'GD'] });
    });
  });

  describe('CSRF', () => {
    beforeEach(async () => {
      await createUser(app, { username: 'admin.user', role: 'admin' });
    });

    it('needs X-SQM-Request on cookie requests that change something, not on reads or bearer requests', async () => {
      const cookie = await loginCookie(app, 'admin.user');
      const payload = { name: 'csrf-test', role: 'viewer' };
      const without = await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: { cookie }, payload });
      expect(without.statusCode).toBe(403);
      expect(without.json().error.code).toBe('SQM_CSRF');
      expect((await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: browser(cookie), payload })).statusCode).toBe(201);
      expect((await app.inject({ method: 'GET', url: '/api/v1/tokens', headers: { cookie } })).statusCode).toBe(200);
      expect((await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: bearer(TOKENS.admin), payload })).statusCode).toBe(201);
    });

    it('needs it on the login form too', async () => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin.user', password: PASSWORD } });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('SQM_CSRF');
    });

    it('refuses a cookie-authenticated WebSocket upgrade from another origin', async () => {
      const cookie = await loginCookie(app, 'admin.user');
      const upgrade = { cookie, connection: 'Upgrade', upgrade: 'websocket', host: 'sqm.example:8080' };
      const foreign = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { ...upgrade, origin: 'https://evil.example' } });
      expect(foreign.statusCode).toBe(403);
      expect(foreign.json().error.code).toBe('SQM_CSRF');
      const missing = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: upgrade });
      expect(missing.statusCode).toBe(403);
      const own = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { ...upgrade, origin: 'http://sqm.example:8080' } });
      expect(own.statusCode).toBe(200);
    });
  });

  describe('lock-out', () => {
    beforeEach(async () => {
      await createUser(app, { username: 'target', role: 'viewer' });
    });

    it('locks a user name after 5 failures in 15 minutes, even against the right password, and says so in the audit log', async () => {
      for (let i = 0; i < 4; i++) {
        expect((await login(app, 'target', 'guess number ' + i)).statusCode).toBe(401);
        clock.advance(MINUTE);
      }
      // The fifth failure locks the name.
      expect((await login(app, 'target', 'guess number 4')).statusCode).toBe(401);
      const locked = await login(app, 'target');
      expect(locked.statusCode).toBe(429);
      expect(locked.json().error.code).toBe('SQM_LOCKED_OUT');
      expect(locked.json().error.details).toEqual({ scope: 'user', until: '2026-11-30T08:19:00.000Z' });
      expect(locked.headers['retry-after']).toBe(String(15 * 60));
      // Other names are not locked.
      await createUser(app, { username: 'bystander', role: 'viewer' });
      expect((await login(app, 'bystander')).statusCode).toBe(200);
      // The lock ends after 15 minutes.
      clock.advance(15 * MINUTE);
      expect((await login(app, 'target')).statusCode).toBe(200);

      const entries = await audit('?action=login.*');
      const actions = entries.map((e) => e.action).reverse();
      expect(actions).toEqual([
        'login.failure', 'login.failure', 'login.failure', 'login.failure', 'login.failure',
        'login.lockout', 'login.refused', 'login.success', 'login.success',
      ]);
      const lockout = entries.find((e) => e.action === 'login.lockout')!;
      expect(lockout).toMatchObject({ actor: 'anonymous', target: 'target', details: { scope: 'user', until: '2026-11-30T08:19:00.000Z' } });
      const failure = entries.find((e) => e.action === 'login.failure')!;
      expect(failure).toMatchObject({ actor: 'anonymous', target: 'target', ip: '127.0.0.1', details: { reason: 'wrong password' } });
    });

    it('forgets failures older than the window', async () => {
      for (let i = 0; i < 4; i++) expect((await login(app, 'target', 'wrong one')).statusCode).toBe(401);
      clock.advance(15 * MINUTE + 1000);
      expect((await login(app, 'target', 'wrong one')).statusCode).toBe(401);
      expect((await login(app, 'target')).statusCode).toBe(200);
    });

    it('locks an address that fails across many names', async () => {
      await app.close();
      const base = testConfig();
      app = await buildTestApp(store, {
        now: clock.now,
        config: testConfig({ security: { ...base.security, login: { ...base.security!.login, maxFailuresPerIp: 3 } } }),
      });
      for (const name of ['a1', 'a2', 'a3']) expect((await login(app, name, 'whatever it is')).statusCode).toBe(401);
      const res = await login(app, 'target');
      expect(res.statusCode).toBe(429);
      expect(res.json().error.details.scope).toBe('ip');
      const lockout = (await audit('?action=login.lockout'))[0]!;
      expect(lockout).toMatchObject({ target: '127.0.0.1', details: { scope: 'ip' } });
    });

    it('rate-limits login attempts per address', async () => {
      await app.close();
      const base = testConfig();
      app = await buildTestApp(store, {
        now: clock.now,
        config: testConfig({ security: { ...base.security, login: { ...base.security!.login, perIpPerMinute: 2 } } }),
      });
      expect((await login(app, 'target')).statusCode).toBe(200);
      expect((await login(app, 'target')).statusCode).toBe(200);
      const third = await login(app, 'target');
      expect(third.statusCode).toBe(429);
      expect(third.json().error.code).toBe('SQM_RATE_LIMITED');
      expect(third.headers['retry-after']).toBeDefined();
    });
  });

  describe('API tokens', () => {
    it('shows a new token once, lists it without the secret, and revokes it', async () => {
      const made = await app.inject({
        method: 'POST', url: '/api/v1/tokens', headers: bearer(TOKENS.admin),
        payload: { name: 'pbx collector', role: 'ingest', expiresInDays: 30 },
      });
      expect(made.statusCode).toBe(201);
      const body = made.json();
      expect(body.token).toMatch(/^sqm_[A-Za-z0-9_-]{43}$/);
      expect(body).toMatchObject({
        name: 'pbx collector', role: 'ingest', regions: null, display: false, createdBy: 'bootstrap-admin',
        createdAt: '2026-11-30T08:00:00.000Z', expiresAt: '2026-12-30T08:00:00.000Z', revoked: false, hint: body.token.slice(4, 8),
      });
      expect(body.digest).toBeUndefined();

      // It works as a bearer token, with its role.
      const ingest = await app.inject({ method: 'POST', url: '/api/v1/ingest/calls', headers: { ...bearer(body.token), 'content-type': 'application/json' }, payload: '[]' });
      expect(ingest.statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(body.token) })).json()).toMatchObject({ name: 'token:pbx collector', role: 'ingest', via: 'token' });

      const list = await app.inject({ method: 'GET', url: '/api/v1/tokens', headers: bearer(TOKENS.admin) });
      expect(list.statusCode).toBe(200);
      expect(list.body).not.toContain(body.token);
      expect(list.body).not.toContain(body.token.slice(4));
      expect(list.json().tokens).toHaveLength(1);
      expect(list.json().tokens[0]).toMatchObject({ id: body.id, name: 'pbx collector', revoked: false });
      expect(list.json().configured).toContainEqual({ name: 'gd-manager', role: 'manager', regions: ['GD'] });
      expect(list.json().configured).toContainEqual({ name: 'bootstrap-admin', role: 'admin', regions: null });
      // The stored digest is the SHA-256, never the token.
      const rows = await store.query<{ digest: string }>(sql`SELECT digest FROM ${store.table('api_tokens')}`);
      expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.digest) && !r.digest.includes(body.token))).toBe(true);

      const revoke = await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${body.id}`, headers: bearer(TOKENS.admin) });
      expect(revoke.statusCode).toBe(204);
      const after = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(body.token) });
      expect(after.statusCode).toBe(401);
      expect((await app.inject({ method: 'GET', url: '/api/v1/tokens', headers: bearer(TOKENS.admin) })).json().tokens[0])
        .toMatchObject({ revoked: true, revokedBy: 'bootstrap-admin', revokedAt: '2026-11-30T08:00:00.000Z' });
      // Revoked in another process too (a new app reads the store).
      await app.close();
      app = await buildTestApp(store, { now: clock.now });
      expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(body.token) })).statusCode).toBe(401);
      expect((await app.inject({ method: 'DELETE', url: '/api/v1/tokens/0123456789abcdef', headers: bearer(TOKENS.admin) })).statusCode).toBe(404);

      const actions = (await audit('?action=token.*')).map((e) => e.action);
      expect(actions).toEqual(['token.revoke', 'token.create']);
    });

    it('stops a token at its expiry', async () => {
      const made = (await app.inject({
        method: 'POST', url: '/api/v1/tokens', headers: bearer(TOKENS.admin), payload: { name: 'short lived', role: 'viewer', expiresInDays: 1 },
      })).json();
      expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(made.token) })).statusCode).toBe(200);
      clock.advance(24 * HOUR);
      expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(made.token) })).statusCode).toBe(401);
    });

    it('refuses bad token requests, naming the field', async () => {
      const cases: [object, RegExp][] = [
        [{ name: 'x', role: 'boss' }, /body\/role: must be one of/],
        [{ name: 'x', role: 'manager' }, /body\/regions: a manager needs/],
        [{ name: 'x', role: 'viewer', regions: ['XX'] }, /body\/regions: unknown region XX/],
        [{ name: 'x', role: 'admin', regions: ['GD'] }, /body\/regions: an admin sees every region/],
        [{ name: 'x', role: 'admin', display: true }, /body\/role: a display token is read-only/],
        [{ name: 'x', role: 'viewer', regoins: ['GD'] }, /body: unknown field "regoins"/],
      ];
      for (const [payload, message] of cases) {
        const res = await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: bearer(TOKENS.admin), payload });
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.json().error.code).toBe('SQM_BAD_REQUEST');
        expect(res.json().error.message).toMatch(message);
      }
    });
  });

  describe('display tokens', () => {
    it('signs a wallboard in once, read-only and within its regions, until the token is revoked', async () => {
      const made = (await app.inject({
        method: 'POST', url: '/api/v1/tokens', headers: bearer(TOKENS.admin),
        payload: { name: 'GD hall TV', role: 'supervisor', regions: ['GD'], display: true },
      })).json();
      const signIn = await app.inject({ method: 'POST', url: '/api/v1/auth/display', headers: { 'x-sqm-request': '1' }, payload: { token: made.token } });
      expect(signIn.statusCode).toBe(200);
      expect(signIn.json()).toEqual({ display: { name: 'GD hall TV', role: 'supervisor', regions: ['GD'] }, expiresAt: '2026-12-30T08:00:00.000Z' });
      const cookie = sessionCookie(signIn)!;
      expect(signIn.cookies.find((c) => c.name === 'sqm_session')!.maxAge).toBe(30 * 86400);

      // No idle expiry: a TV off for the weekend still shows the board on Monday.
      clock.advance(60 * HOUR);
      const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({ name: 'token:GD hall TV', role: 'supervisor', regions: ['GD'], display: true, via: 'session' });
      // Read-only, even though a supervisor may otherwise act.
      const write = await app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: browser(cookie), payload: { currentPassword: 'x', newPassword: 'y'.repeat(12) } });
      expect(write.statusCode).toBe(403);
      expect(write.json().error.message).toMatch(/read-only/);
      // Within its regions.
      const bj = await app.inject({ method: 'GET', url: '/api/v1/kpis?kpi=offered&from=2026-11-30T00:00:00Z&to=2026-11-30T01:00:00Z&region=BJ', headers: { cookie } });
      expect(bj.statusCode).toBe(403);

      await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${made.id}`, headers: bearer(TOKENS.admin) });
      expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } })).statusCode).toBe(401);
    });

    it('accepts only display tokens for a display sign-in', async () => {
      const made = (await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: bearer(TOKENS.admin), payload: { name: 'api', role: 'viewer' } })).json();
      const res = await app.inject({ method: 'POST', url: '/api/v1/auth/display', headers: { 'x-sqm-request': '1' }, payload: { token: made.token } });
      expect(res.statusCode).toBe(401);
      expect(sessionCookie(res)).toBeUndefined();
    });
  });

  describe('users', () => {
    it('creates, lists, changes and deletes users; each change is audited', async () => {
      const create = await app.inject({
        method: 'POST', url: '/api/v1/users', headers: bearer(TOKENS.admin),
        payload: { username: 'zhang.min', password: PASSWORD, role: 'manager', regions: ['GD', 'GX', 'GD'], displayName: '张敏' },
      });
      expect(create.statusCode).toBe(201);
      expect(create.json()).toEqual({
        username: 'zhang.min', displayName: '张敏', role: 'manager', regions: ['GD', 'GX'], disabled: false,
        createdAt: '2026-11-30T08:00:00.000Z', createdBy: 'bootstrap-admin', updatedAt: '2026-11-30T08:00:00.000Z', updatedBy: 'bootstrap-admin',
      });
      const dup = await app.inject({ method: 'POST', url: '/api/v1/users', headers: bearer(TOKENS.admin), payload: { username: 'zhang.min', password: PASSWORD, role: 'viewer' } });
      expect(dup.statusCode).toBe(409);

      clock.advance(HOUR);
      const patch = await app.inject({ method: 'PATCH', url: '/api/v1/users/zhang.min', headers: bearer(TOKENS.admin), payload: { role: 'admin' } });
      expect(patch.statusCode).toBe(200);
      expect(patch.json()).toMatchObject({ role: 'admin', regions: null, updatedAt: '2026-11-30T09:00:00.000Z' });

      const list = await app.inject({ method: 'GET', url: '/api/v1/users', headers: bearer(TOKENS.admin) });
      expect(list.json().users.map((u: { username: string }) => u.username)).toEqual(['zhang.min']);
      expect(list.body).not.toMatch(/scrypt|passwordHash/);

      const reset = await app.inject({ method: 'PATCH', url: '/api/v1/users/zhang.min', headers: bearer(TOKENS.admin), payload: { password: 'reset by the admin 1' } });
      expect(reset.statusCode).toBe(200);
      expect((await login(app, 'zhang.min', 'reset by the admin 1')).statusCode).toBe(200);

      expect((await app.inject({ method: 'DELETE', url: '/api/v1/users/zhang.min', headers: bearer(TOKENS.admin) })).statusCode).toBe(204);
      expect((await app.inject({ method: 'GET', url: '/api/v1/users/zhang.min', headers: bearer(TOKENS.admin) })).statusCode).toBe(404);
      expect((await login(app, 'zhang.min', 'reset by the admin 1')).statusCode).toBe(401);

      const entries = await audit('?action=user.*');
      expect(entries.map((e) => e.action).reverse()).toEqual(['user.create', 'user.update', 'user.password_reset', 'user.delete']);
      expect(entries.every((e) => e.actor === 'bootstrap-admin' && e.target === 'zhang.min')).toBe(true);
      // A password never reaches the audit log.
      expect(JSON.stringify(entries)).not.toContain('reset by the admin');
    });

    it('does not let an admin lock themselves out', async () => {
      await createUser(app, { username: 'solo', role: 'admin' });
      const cookie = await loginCookie(app, 'solo');
      const demote = await app.inject({ method: 'PATCH', url: '/api/v1/users/solo', headers: browser(cookie), payload: { role: 'viewer' } });
      expect(demote.statusCode).toBe(409);
      const del = await app.inject({ method: 'DELETE', url: '/api/v1/users/solo', headers: browser(cookie) });
      expect(del.statusCode).toBe(409);
    });

    it('stores users with a scrypt hash carrying its parameters, never the password', async () => {
      await createUser(app, { username: 'hash.check', role: 'viewer' });
      const rows = await store.query<{ passwordHash: string }>(sql`SELECT passwordHash FROM ${store.table('users')}`);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.passwordHash).toMatch(/^scrypt\$14\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      expect(rows[0]!.passwordHash).not.toContain(PASSWORD);
    });
  });

  describe('audit API', () => {
    it('filters by actor, action and time, and pages', async () => {
      await createUser(app, { username: 'u1', role: 'viewer' });
      clock.advance(HOUR);
      await createUser(app, { username: 'u2', role: 'viewer' });
      clock.advance(HOUR);
      expect((await login(app, 'u1')).statusCode).toBe(200);

      expect((await audit()).map((e) => `${e.action}:${e.target}`)).toEqual(['login.success:u1', 'user.create:u2', 'user.create:u1']);
      expect((await audit('?actor=u1')).map((e) => e.action)).toEqual(['login.success']);
      expect((await audit('?action=user.create')).map((e) => e.target)).toEqual(['u2', 'u1']);
      const window = `?from=${encodeURIComponent('2026-11-30T08:30:00Z')}&to=${encodeURIComponent('2026-11-30T10:30:00+01:00')}`;
      expect((await audit(window)).map((e) => e.target)).toEqual(['u2']);

      const page1 = await app.inject({ method: 'GET', url: '/api/v1/audit?limit=2', headers: bearer(TOKENS.admin) });
      expect(page1.json().entries).toHaveLength(2);
      const next = page1.json().next;
      expect(next).toMatch(/^\d+$/);
      const page2 = await app.inject({ method: 'GET', url: `/api/v1/audit?limit=2&before=${next}`, headers: bearer(TOKENS.admin) });
      expect(page2.json()).toMatchObject({ entries: [{ action: 'user.create', target: 'u1' }], next: null });
    });

    it('refuses bad filters with 400, and non-admins with 403', async () => {
      for (const query of ['?limit=0', '?limit=5000', '?from=yesterday', '?action=DROP%20TABLE', '?colour=red', '?before=abc']) {
        const res = await app.inject({ method: 'GET', url: `/api/v1/audit${query}`, headers: bearer(TOKENS.admin) });
        expect(res.statusCode, query).toBe(400);
        expect(res.json().error.code).toBe('SQM_BAD_REQUEST');
      }
      expect((await app.inject({ method: 'GET', url: '/api/v1/audit', headers: bearer(TOKENS.executive) })).statusCode).toBe(403);
    });

    it('takes entries from other modules through ctx.audit.record', async () => {
      // What the alert routes do on an acknowledgement.
      const ctxAudit = (await import('../../server/audit.js')).createStoreAuditLog({
        store, logger: (await import('../../server/logger.js')).createLogger('silent'), now: clock.now,
      });
      await ctxAudit.record({ actor: 'li.wei', action: 'alert.acknowledge', target: 'abc123', region: 'GD', details: { comment: '处理中' } });
      expect(await audit('?action=alert.*')).toEqual([
        expect.objectContaining({ actor: 'li.wei', action: 'alert.acknowledge', target: 'abc123', region: 'GD', details: { comment: '处理中' }, at: '2026-11-30T08:00:00.000Z' }),
      ]);
    });
  });
});
