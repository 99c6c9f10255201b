/**
 * A real SQM server for browser tests: the dashboard built fresh from source
 * into a temporary folder (so the test sees the code as it is, not a stale
 * dist/), served by buildServer over a test store on a free loopback port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildDashboard } from '../../../server/routes/dashboard.js';
import type { Store } from '../../../store/index.js';
import { TOKENS, buildTestApp } from '../../helpers/app.js';

export async function buildDashboardForTests(): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'sqm-e2e-dashboard-'));
  await buildDashboard({ outDir: dir });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunningServer {
  app: FastifyInstance;
  baseUrl: string;
  close(): Promise<void>;
}

export async function startServer(store: Store, dashboardDir: string): Promise<RunningServer> {
  const app = await buildTestApp(store, { dashboardDir });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('server did not bind a TCP port');
  return { app, baseUrl: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

/** POST records through the real ingest API; fails the test on any rejected record. */
export async function ingest(baseUrl: string, kind: string, records: object[]): Promise<void> {
  const response = await fetch(`${baseUrl}/api/v1/ingest/${kind}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKENS.ingest}`, 'content-type': 'application/json' },
    body: JSON.stringify(records),
  });
  const body = (await response.json()) as { accepted?: number; rejected?: unknown[] };
  if (response.status !== 200 || (body.rejected?.length ?? 0) > 0) {
    throw new Error(`ingest ${kind}: HTTP ${response.status} ${JSON.stringify(body).slice(0, 500)}`);
  }
}

export async function getJson<T>(baseUrl: string, path: string, token: string): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

/** A call that entered at `at` (epoch s), answered after `wait` seconds, or abandoned after it. */
export function callRecord(id: string, region: string, at: number, outcome: 'answered' | 'abandoned', wait: number, queue = 'hotline') {
  return outcome === 'answered'
    ? { id, region, queue, channel: 'voice', enteredAt: iso(at), answeredAt: iso(at + wait), endedAt: iso(at + wait + 120), outcome, talkSeconds: 100, wrapSeconds: 20 }
    : { id, region, queue, channel: 'voice', enteredAt: iso(at), endedAt: iso(at + wait), outcome };
}

export function queueRecord(region: string, at: number, waiting: number, longestWaitSeconds: number, queue = 'hotline') {
  return { region, queue, at: iso(at), waiting, longestWaitSeconds };
}
