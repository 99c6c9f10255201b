import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { closingSnapshots } from '../../server/demo.js';
import type { Store } from '../../store/index.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';
import { bearer, buildTestApp, TOKENS } from '../helpers/app.js';

const NOW = new Date('2026-11-30T12:00:00Z');
const HANDOVER = new Date('2026-11-30T11:58:00Z');

describe.each(BACKENDS)('demo hand-over on %s', (backend) => {
  let store: Store;
  let app: FastifyInstance;
  beforeAll(async () => {
    store = await openTestStore(backend);
    app = await buildTestApp(store, { now: () => NOW });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const post = async (kind: string, records: object[]) => {
    const res = await app.inject({ method: 'POST', url: `/api/v1/ingest/${kind}`, headers: bearer(TOKENS.ingest), payload: records });
    expect(res.statusCode).toBe(200);
    expect(res.json().rejected).toEqual([]);
  };

  it('closes only the history items still open, and the closed snapshots are accepted', async () => {
    const base = { region: 'GD', channel: 'hotline', category: 'complaint', priority: 'high' };
    await post('tickets', [
      // open, responded: closed with its response kept
      { ...base, id: 'h-open', openedAt: '2026-11-30T08:00:00Z', firstResponseAt: '2026-11-30T09:00:00Z', status: 'in_progress', updatedAt: '2026-11-30T09:00:00Z' },
      // was open, a newer snapshot resolved it: not closed again
      { ...base, id: 'h-done', openedAt: '2026-11-30T08:00:00Z', status: 'open', updatedAt: '2026-11-30T08:00:00Z' },
      { ...base, id: 'h-done', openedAt: '2026-11-30T08:00:00Z', firstResponseAt: '2026-11-30T08:30:00Z', resolvedAt: '2026-11-30T10:00:00Z', status: 'resolved', updatedAt: '2026-11-30T10:00:00Z' },
      // opened by the live model (after the hand-over point): left alone
      { ...base, id: 'live-open', openedAt: '2026-11-30T11:59:00Z', status: 'open', updatedAt: '2026-11-30T11:59:00Z' },
    ]);
    await post('faults', [
      { id: 'f-open', region: 'BJ', domain: 'wireless', severity: 'major', detectedAt: '2026-11-30T10:00:00Z', updatedAt: '2026-11-30T10:00:00Z' },
      { id: 'f-done', region: 'BJ', domain: 'wireless', severity: 'minor', detectedAt: '2026-11-30T10:00:00Z', acknowledgedAt: '2026-11-30T10:05:00Z', restoredAt: '2026-11-30T11:00:00Z', updatedAt: '2026-11-30T11:00:00Z' },
    ]);
    const closing = await closingSnapshots(store, HANDOVER, NOW);
    expect(closing.tickets).toEqual([{
      ...base, id: 'h-open', openedAt: '2026-11-30T08:00:00.000Z', firstResponseAt: '2026-11-30T09:00:00.000Z',
      resolvedAt: NOW.toISOString(), status: 'resolved', reopenCount: 0, updatedAt: NOW.toISOString(),
    }]);
    expect(closing.faults).toEqual([{
      id: 'f-open', region: 'BJ', domain: 'wireless', severity: 'major', detectedAt: '2026-11-30T10:00:00.000Z',
      acknowledgedAt: NOW.toISOString(), restoredAt: NOW.toISOString(), updatedAt: NOW.toISOString(),
    }]);
    await post('tickets', closing.tickets);
    await post('faults', closing.faults);
    const after = await closingSnapshots(store, HANDOVER, NOW);
    expect(after).toEqual({ tickets: [], faults: [] });
  });
});
