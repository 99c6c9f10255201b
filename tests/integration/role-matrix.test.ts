/**
 * The role × route matrix: every route in `app.sqmRoutes` (those added by
 * later work included, through the declared-access convention in
 * server/README.md), for every role, by bearer token and by session cookie,
 * plus a read-only display session and no credentials at all.
 *
 * Expected status, worked out from the route's declaration:
 * - no credentials: 401 (public routes: anything but 401);
 * - a role the route does not admit: 403 SQM_FORBIDDEN naming the allowed roles,
 *   before validation or any handler runs;
 * - a role it admits: past the access check (neither 401 nor that 403; the
 *   dummy request may still be a 400 or 404);
 * - a display session: as its role (viewer) for reads, 403 for anything else.
 */
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../config/index.js';
import type { RouteAccess } from '../../server/auth.js';
import type { Store } from '../../store/index.js';
import { bearer, buildTestApp, TOKENS } from '../helpers/app.js';
import { createUser, loginCookie, sessionCookie } from '../helpers/people.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const ROLE_TOKENS: Record<Role, string> = {
  admin: TOKENS.admin,
  executive: TOKENS.executive,
  manager: TOKENS.managerGD,
  supervisor: TOKENS.supervisor,
  viewer: TOKENS.viewer,
  ingest: TOKENS.ingest,
};

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A concrete URL for a route pattern: a record kind where one is expected, `x` for other parameters. */
function concrete(url: string): string {
  return url.replace(/:kind/g, 'calls').replace(/:[A-Za-z_]+/g, 'x').replace(/\*$/, 'x');
}

function request(method: string, url: string, headers: Record<string, string>): InjectOptions {
  const options: InjectOptions = { method: method as InjectOptions['method'], url, headers: { ...headers } };
  if (!SAFE.has(method) && method !== 'DELETE') {
    options.payload = '{}';
    options.headers = { ...options.headers, 'content-type': 'application/json' };
  }
  return options;
}

interface Outcome {
  status: number;
  code: string | undefined;
  allowed: unknown;
  /** The answer cleared the session cookie (logout): sign in again before the next request. */
  endedSession: boolean;
}

async function send(app: FastifyInstance, options: InjectOptions): Promise<Outcome> {
  const res = await app.inject(options);
  let body: { error?: { code?: string; details?: { allowed?: unknown } } } = {};
  try {
    body = res.json();
  } catch {
    // Not JSON (a WebSocket route answering plain HTTP, a file): only the status matters.
  }
  const ended = res.cookies.some((c) => c.name === 'sqm_session' && c.value === '');
  return { status: res.statusCode, code: body.error?.code, allowed: body.error?.details?.allowed, endedSession: ended };
}

const isRoleDenial = (o: Outcome) => o.status === 403 && o.code === 'SQM_FORBIDDEN' && Array.isArray(o.allowed);

describe.each(BACKENDS)('role × route matrix on %s', (backend) => {
  let store: Store;
  let app: FastifyInstance;
  const sessions = {} as Record<Role, string>;
  let display: string;
  let displayToken: string;
  const signInDisplay = async () => {
    const signIn = await app.inject({ method: 'POST', url: '/api/v1/auth/display', headers: { 'x-sqm-request': '1' }, payload: { token: displayToken } });
    display = sessionCookie(signIn)!;
  };

  beforeAll(async () => {
    store = await openTestStore(backend);
    app = await buildTestApp(store);
    await app.ready();
    for (const role of ROLES) {
      await createUser(app, { username: `matrix.${role}`, role, regions: role === 'manager' ? ['GD'] : null });
      sessions[role] = await loginCookie(app, `matrix.${role}`);
    }
    const made = (await app.inject({
      method: 'POST', url: '/api/v1/tokens', headers: bearer(TOKENS.admin),
      payload: { name: 'matrix display', role: 'viewer', display: true, regions: ['GD'] },
    })).json();
    displayToken = made.token;
    await signInDisplay();
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  /** Every route that is the API, or that declares access; HEAD mirrors GET. */
  const routes = () => app.sqmRoutes.filter((r) => r.method !== 'HEAD' && (r.url.startsWith('/api') || r.access !== undefined));

  it('finds the routes of this issue and the earlier ones', () => {
    const names = routes().map((r) => `${r.method} ${r.url}`);
    for (const expected of [
      'POST /api/v1/ingest/:kind', 'GET /api/v1/kpis', 'POST /api/v1/auth/login', 'GET /api/v1/auth/me',
      'GET /api/v1/users', 'POST /api/v1/tokens', 'DELETE /api/v1/tokens/:id', 'GET /api/v1/audit', 'POST /api/v1/setup',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it('declares the access this issue decided for people, tokens, audit, ingest and KPIs', () => {
    const READ: Role[] = ['admin', 'executive', 'manager', 'supervisor', 'viewer'];
    const expected: Record<string, RouteAccess> = {
      'POST /api/v1/auth/login': { public: true },
      'POST /api/v1/auth/display': { public: true },
      'POST /api/v1/auth/logout': { public: true },
      'GET /api/v1/setup': { public: true },
      'GET /api/v1/auth/me': { roles: [...ROLES] },
      'POST /api/v1/auth/password': { roles: [...ROLES] },
      'POST /api/v1/setup': { roles: ['admin'] },
      'GET /api/v1/users': { roles: ['admin'] },
      'GET /api/v1/users/:username': { roles: ['admin'] },
      'POST /api/v1/users': { roles: ['admin'] },
      'PATCH /api/v1/users/:username': { roles: ['admin'] },
      'DELETE /api/v1/users/:username': { roles: ['admin'] },
      'GET /api/v1/tokens': { roles: ['admin'] },
      'POST /api/v1/tokens': { roles: ['admin'] },
      'DELETE /api/v1/tokens/:id': { roles: ['admin'] },
      'GET /api/v1/audit': { roles: ['admin'] },
      'POST /api/v1/ingest/:kind': { roles: ['admin', 'ingest'] },
      'POST /api/v1/import/:kind': { roles: ['admin', 'ingest'] },
      'GET /api/v1/kpis': { roles: READ },
    };
    const declared = Object.fromEntries(routes().map((r) => [`${r.method} ${r.url}`, r.access]));
    for (const [route, access] of Object.entries(expected)) expect(declared[route], route).toEqual(access);
  });

  it('has every /api route declare its access', () => {
    const undeclared = routes().filter((r) => r.access === undefined).map((r) => `${r.method} ${r.url}`);
    expect(undeclared, 'declare access with requireRole(...) or config.access (server/README.md)').toEqual([]);
  });

  it('answers every route for every role as declared, by token and by session', async () => {
    const failures: string[] = [];
    for (const route of routes()) {
      const access = route.access as RouteAccess;
      const url = concrete(route.url);
      const label = `${route.method} ${route.url}`;
      const isPublic = 'public' in access;

      const anonymous = await send(app, request(route.method, url, { 'x-sqm-request': '1' }));
      if (isPublic ? anonymous.status === 401 : anonymous.status !== 401) failures.push(`${label} without credentials: ${anonymous.status}`);

      for (const role of ROLES) {
        const admitted = isPublic || access.roles.includes(role);
        for (const [via, headers] of [
          ['token', bearer(ROLE_TOKENS[role])],
          ['session', { cookie: sessions[role], 'x-sqm-request': '1' }],
        ] as const) {
          const outcome = await send(app, request(route.method, url, headers));
          if (via === 'session' && outcome.endedSession) sessions[role] = await loginCookie(app, `matrix.${role}`);
          if (admitted) {
            if (outcome.status === 401 || isRoleDenial(outcome)) failures.push(`${label} as ${role} by ${via}: ${outcome.status} ${outcome.code}, expected past the access check`);
          } else if (!isRoleDenial(outcome) || JSON.stringify(outcome.allowed) !== JSON.stringify(access.roles)) {
            failures.push(`${label} as ${role} by ${via}: ${outcome.status} ${outcome.code}, expected 403 naming ${access.roles.join(',')}`);
          }
        }
      }

      const shown = await send(app, request(route.method, url, { cookie: display, 'x-sqm-request': '1' }));
      if (shown.endedSession) await signInDisplay();
      const viewerAdmitted = isPublic || access.roles.includes('viewer');
      if (isPublic) {
        if (shown.status === 401) failures.push(`${label} as display: 401`);
      } else if (!viewerAdmitted || !SAFE.has(route.method)) {
        if (shown.status !== 403) failures.push(`${label} as display: ${shown.status}, expected 403`);
      } else if (shown.status === 401 || shown.status === 403 && shown.code !== 'SQM_FORBIDDEN') {
        failures.push(`${label} as display: ${shown.status} ${shown.code}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('keeps role answers free of stack traces', async () => {
    for (const route of routes()) {
      const res = await app.inject(request(route.method, concrete(route.url), bearer(TOKENS.ingest)));
      expect(res.body, `${route.method} ${route.url}`).not.toMatch(/\bat .*\.(ts|js):\d+/);
    }
  });
});
