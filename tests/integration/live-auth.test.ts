/**
 * The WebSocket upgrade of /api/v1/live goes through the same authentication
 * hook as every other /api route: a bearer token or the session cookie, and
 * for the cookie, our own Origin. A real `ws` client over a real socket.
 * Authentication does not depend on the backend: chDB only.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Store } from '../../store/index.js';
import { bearer, buildTestApp, TOKENS } from '../helpers/app.js';
import { createUser, loginCookie } from '../helpers/people.js';
import { openTestStore } from '../helpers/store.js';

/** 'open', or the HTTP status the upgrade was refused with. */
function connect(url: string, headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => {
      socket.terminate();
      resolve('open');
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      socket.terminate();
    });
    socket.once('error', (error) => reject(error));
  });
}

describe('authentication of the live WebSocket', () => {
  let store: Store;
  let app: FastifyInstance;
  let base: string;
  let cookie: string;

  beforeAll(async () => {
    store = await openTestStore('embedded');
    app = await buildTestApp(store);
    await createUser(app, { username: 'wall.viewer', role: 'viewer' });
    cookie = await loginCookie(app, 'wall.viewer');
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    base = `127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('refuses an upgrade without credentials (401) or with a wrong token (401)', async () => {
    expect(await connect(`ws://${base}/api/v1/live`, {})).toBe(401);
    expect(await connect(`ws://${base}/api/v1/live`, bearer('wrong-token-00000000000'))).toBe(401);
  });

  it('refuses a role that may not read (403)', async () => {
    expect(await connect(`ws://${base}/api/v1/live`, bearer(TOKENS.ingest))).toBe(403);
  });

  it('accepts a bearer token', async () => {
    expect(await connect(`ws://${base}/api/v1/live`, bearer(TOKENS.viewer))).toBe('open');
  });

  it('accepts the session cookie from our own pages, and refuses it from another origin', async () => {
    expect(await connect(`ws://${base}/api/v1/live`, { cookie, origin: `http://${base}` })).toBe('open');
    expect(await connect(`ws://${base}/api/v1/live`, { cookie, origin: 'https://evil.example' })).toBe(403);
    expect(await connect(`ws://${base}/api/v1/live`, { cookie })).toBe(403);
  });
});
