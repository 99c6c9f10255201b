/**
 * Users and sessions for tests: create a user through the admin API, log in,
 * and send requests the way a browser would (session cookie + X-SQM-Request).
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Role } from '../../config/index.js';
import { bearer, TOKENS } from './app.js';

export const PASSWORD = 'correct horse battery staple';

export async function createUser(
  app: FastifyInstance,
  user: { username: string; role: Role; regions?: string[] | null; password?: string },
): Promise<void> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/users',
    headers: bearer(TOKENS.admin),
    payload: { username: user.username, role: user.role, password: user.password ?? PASSWORD, ...(user.regions !== undefined ? { regions: user.regions } : {}) },
  });
  if (res.statusCode !== 201) throw new Error(`creating ${user.username}: ${res.statusCode} ${res.body}`);
}

/** The `sqm_session=…` pair from a response's Set-Cookie, or undefined. */
export function sessionCookie(res: LightMyRequestResponse): string | undefined {
  const cookie = res.cookies.find((c) => c.name === 'sqm_session');
  return cookie && cookie.value ? `sqm_session=${cookie.value}` : undefined;
}

export async function login(app: FastifyInstance, username: string, password: string = PASSWORD): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    headers: { 'x-sqm-request': '1' },
    payload: { username, password },
  });
}

/** Log in and return the cookie; throws when the login fails. */
export async function loginCookie(app: FastifyInstance, username: string, password: string = PASSWORD): Promise<string> {
  const res = await login(app, username, password);
  const cookie = sessionCookie(res);
  if (res.statusCode !== 200 || !cookie) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`);
  return cookie;
}

/** Headers of a browser request with this session (the CSRF header included). */
export function browser(cookie: string): Record<string, string> {
  return { cookie, 'x-sqm-request': '1' };
}

/** A controllable clock for `buildTestApp({ now })`. */
export function testClock(start: string) {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
    set(iso: string) {
      t = Date.parse(iso);
    },
  };
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
