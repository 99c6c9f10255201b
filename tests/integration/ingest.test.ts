/**
 * POST /api/v1/ingest/{kind} over the real app (app.inject) and a real engine,
 * on every backend. Each test uses its own ids (and a marker in them) so it
 * reads back only its own rows and dead letters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { sql, StoreError, type Store } from '../../store/index.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';
import { bearer, buildTestApp, testConfig, TOKENS, TEST_SECRET } from '../helpers/app.js';
import { createCustomerHasher } from '../../collector/customer.js';

// The fixed clock: 2026-11-30T01:20:02Z. T is five minutes earlier (09:15:02 in Beijing).
const NOW_SEC = 1796001602;
const NOW = new Date(NOW_SEC * 1000);
const T = NOW_SEC - 300;

function call(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id, region: 'GD', queue: 'q1', channel: 'voice', enteredAt: '2026-11-30T09:15:02+08:00',
    answeredAt: T + 12, endedAt: T + 100, outcome: 'answered', talkSeconds: 80, ...over,
  };
}

const ndjson = (records: unknown[]): string => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe.each(BACKENDS)('ingest on %s', (backend) => {
  let store: Store;
  let app: FastifyInstance;

  beforeAll(async () => {
    store = await openTestStore(backend);
    app = await buildTestApp(store, { now: () => NOW });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const post = (kind: string, body: string, type = 'application/json', token: string = TOKENS.ingest, target = app) =>
    target.inject({ method: 'POST', url: `/api/v1/ingest/${kind}`, headers: { ...bearer(token), 'content-type': type }, payload: body });

  /** ids of calls stored whose id contains the marker */
  const storedCallIds = async (marker: string): Promise<string[]> => {
    const rows = await store.query<{ id: string }>(sql`
      SELECT id FROM ${store.table('calls')} WHERE position(id, ${marker}) > 0 ORDER BY id`);
    return rows.map((r) => r.id);
  };

  const deadLetters = async (marker: string) =>
    store.query<{ recordIndex: number; raw: string; errors: string[]; kind: string; source: string }>(sql`
      SELECT recordIndex, raw, errors, kind, source FROM ${store.table('dead_letters')}
      WHERE position(raw, ${marker}) > 0 ORDER BY recordIndex`);

  describe('access', () => {
    it('is 401 without a token and 403 for a viewer, storing nothing', async () => {
      const body = JSON.stringify([call('acc-1')]);
      const none = await app.inject({ method: 'POST', url: '/api/v1/ingest/calls', headers: { 'content-type': 'application/json' }, payload: body });
      expect(none.statusCode).toBe(401);
      expect(none.json().error.code).toBe('SQM_UNAUTHORIZED');
      const viewer = await post('calls', body, 'application/json', TOKENS.viewer);
      expect(viewer.statusCode).toBe(403);
      expect(viewer.json().error.code).toBe('SQM_FORBIDDEN');
      expect(await storedCallIds('acc-')).toEqual([]);
    });

    it('lets admin tokens ingest too', async () => {
      const res = await post('calls', JSON.stringify([call('acc-admin')]), 'application/json', TOKENS.admin);
      expect(res.statusCode).toBe(200);
      expect(await storedCallIds('acc-admin')).toEqual(['acc-admin']);
    });

    it('is 404 naming the valid kinds for an unknown kind, and 415 for other content types', async () => {
      const unknown = await post('contacts', '[]');
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().error.code).toBe('SQM_NOT_FOUND');
      expect(unknown.json().error.message).toContain('calls, tickets, faults, surveys, queues, subscribers');
      const csv = await post('calls', 'id,region\nx,GD\n', 'text/csv');
      expect(csv.statusCode).toBe(415);
      expect(csv.json().error.code).toBe('SQM_UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('bodies', () => {
    it('stores a JSON array, normalised (UTC epoch seconds, wait from answer)', async () => {
      const res = await post('calls', JSON.stringify([call('arr-1'), call('arr-2', { outcome: 'abandoned', answeredAt: null, endedAt: T + 7 })]));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ accepted: 2, rejected: [], stored: true });
      const rows = await store.query(sql`
        SELECT id, region, toUInt32(enteredAt) AS entered, ifNull(toUInt32(answeredAt), 0) AS answered, isNull(answeredAt) AS noAnswer,
               toUInt32(endedAt) AS ended, outcome, waitSeconds, talkSeconds, customer, toUInt32(ingestedAt) AS ingested
        FROM ${store.table('calls')} WHERE position(id, 'arr-') > 0 ORDER BY id`);
      expect(rows).toEqual([
        { id: 'arr-1', region: 'GD', entered: T, answered: T + 12, noAnswer: 0, ended: T + 100, outcome: 'answered', waitSeconds: 12, talkSeconds: 80, customer: '', ingested: NOW_SEC },
        { id: 'arr-2', region: 'GD', entered: T, answered: 0, noAnswer: 1, ended: T + 7, outcome: 'abandoned', waitSeconds: 7, talkSeconds: 80, customer: '', ingested: NOW_SEC },
      ]);
    });

    it('stores NDJSON: index is the line number, blank lines skipped, CRLF accepted', async () => {
      const body = `${JSON.stringify(call('nd-1'))}\r\n\n   \n${JSON.stringify(call('nd-2', { region: 'ZZ' }))}\n${JSON.stringify(call('nd-3'))}`;
      const res = await post('calls', body, 'application/x-ndjson');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ accepted: 2, rejected: [{ index: 3, errors: ['region: unknown region "ZZ"'] }], stored: true });
      expect(await storedCallIds('nd-')).toEqual(['nd-1', 'nd-3']);
      expect(await deadLetters('nd-')).toEqual([
        { recordIndex: 3, raw: JSON.stringify(call('nd-2', { region: 'ZZ' })), errors: ['region: unknown region "ZZ"'], kind: 'calls', source: 'http:ingest' },
      ]);
    });

    it('stores every kind', async () => {
      const cases: [string, unknown, string][] = [
        ['tickets', { id: 'kind-t', region: 'BJ', channel: 'app', category: 'inquiry', priority: 'low', openedAt: T, status: 'open', updatedAt: T }, 'tickets'],
        ['faults', { id: 'kind-f', region: 'BJ', domain: 'power', severity: 'minor', detectedAt: T, updatedAt: T, customersAffected: 30 }, 'faults'],
        ['surveys', { id: 'kind-s', region: 'BJ', channel: 'web', touchpoint: 'store', answeredAt: T, nps: 9 }, 'surveys'],
        ['queues', { region: 'BJ', queue: 'kind-q', at: T, waiting: 4, longestWaitSeconds: 33, agentsBusy: 7 }, 'queue_states'],
        ['subscribers', { region: 'XZ', asOf: '2026-11-29', subscribers: 3100000 }, 'subscribers'],
      ];
      for (const [kind, record] of cases) {
        const res = await post(kind, JSON.stringify([record]));
        expect(res.json(), kind).toEqual({ accepted: 1, rejected: [], stored: true });
      }
      const counts = await store.query<{ t: number; f: number; s: number; q: number; sub: number; asOf: string }>(sql`
        SELECT
          (SELECT count() FROM ${store.table('tickets')} WHERE id = 'kind-t') AS t,
          (SELECT count() FROM ${store.table('faults')} WHERE id = 'kind-f' AND customersAffected = 30) AS f,
          (SELECT count() FROM ${store.table('surveys')} WHERE id = 'kind-s' AND nps = 9 AND isNull(csat)) AS s,
          (SELECT count() FROM ${store.table('queue_states')} WHERE queue = 'kind-q' AND agentsBusy = 7 AND toUInt32(at) = ${T}) AS q,
          (SELECT count() FROM ${store.table('subscribers')} WHERE region = 'XZ' AND subscribers = 3100000) AS sub,
          (SELECT toString(any(asOf)) FROM ${store.table('subscribers')} WHERE region = 'XZ') AS asOf`);
      expect(counts).toEqual([{ t: 1, f: 1, s: 1, q: 1, sub: 1, asOf: '2026-11-29' }]);
    });
  });

  describe('one test per bad-input class', () => {
    it('unparseable body: 400, nothing stored; an unparseable NDJSON line is one rejected record', async () => {
      for (const body of ['[{"id": "unp-1", ', '{"id": "unp-2"}', '']) {
        const res = await post('calls', body);
        expect(res.statusCode, body).toBe(400);
        expect(res.json().error.code).toBe('SQM_UNPARSEABLE_BODY');
      }
      expect(await deadLetters('unp-')).toEqual([]);
      const res = await post('calls', `${JSON.stringify(call('unp-3'))}\n{"id": "unp-4", oops\n`, 'application/x-ndjson');
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.accepted).toBe(1);
      expect(body.rejected).toHaveLength(1);
      expect(body.rejected[0].index).toBe(1);
      expect(body.rejected[0].errors[0]).toMatch(/^\(record\): not valid JSON/);
      expect(await storedCallIds('unp-')).toEqual(['unp-3']);
      const dead = await deadLetters('unp-');
      expect(dead.map((d) => [d.recordIndex, d.raw])).toEqual([[1, '{"id": "unp-4", oops']]);
    });

    it('wrong type', async () => {
      const bad = call('wt-2', { talkSeconds: '80' });
      const res = await post('calls', JSON.stringify([call('wt-1'), bad, 'not a record']));
      expect(res.json()).toEqual({
        accepted: 1,
        rejected: [{ index: 1, errors: ['talkSeconds: must be an integer'] }, { index: 2, errors: ['(record): must be an object'] }],
        stored: true,
      });
      expect(await storedCallIds('wt-')).toEqual(['wt-1']);
      expect(await deadLetters('wt-')).toMatchObject([{ recordIndex: 1, raw: JSON.stringify(bad), errors: ['talkSeconds: must be an integer'] }]);
    });

    it('missing field', async () => {
      const { queue: _q, ...bad } = call('mf-2');
      const res = await post('calls', JSON.stringify([bad, call('mf-1')]));
      expect(res.json()).toEqual({ accepted: 1, rejected: [{ index: 0, errors: ['queue: is required'] }], stored: true });
      expect(await storedCallIds('mf-')).toEqual(['mf-1']);
      expect(await deadLetters('mf-')).toMatchObject([{ recordIndex: 0, raw: JSON.stringify(bad), errors: ['queue: is required'] }]);
    });

    it('unknown region', async () => {
      const bad = call('ur-2', { region: 'XX' });
      const res = await post('calls', JSON.stringify([call('ur-1'), bad]));
      expect(res.json()).toEqual({ accepted: 1, rejected: [{ index: 1, errors: ['region: unknown region "XX"'] }], stored: true });
      expect(await storedCallIds('ur-')).toEqual(['ur-1']);
      expect(await deadLetters('ur-')).toMatchObject([{ recordIndex: 1, raw: JSON.stringify(bad) }]);
    });

    it('enum out of range', async () => {
      const bad = call('en-2', { outcome: 'dropped' });
      const res = await post('calls', JSON.stringify([call('en-1'), bad]));
      expect(res.json()).toEqual({ accepted: 1, rejected: [{ index: 1, errors: ['outcome: must be one of answered, abandoned, callback, overflow'] }], stored: true });
      expect(await storedCallIds('en-')).toEqual(['en-1']);
      expect(await deadLetters('en-')).toMatchObject([{ recordIndex: 1, raw: JSON.stringify(bad) }]);
    });

    it('far-future time (fixed clock): 600 s ahead is accepted, 601 s is not', async () => {
      const atLimit = call('ff-1', { enteredAt: NOW_SEC + 500, answeredAt: NOW_SEC + 550, endedAt: NOW_SEC + 600 });
      const beyond = call('ff-2', { enteredAt: NOW_SEC + 500, answeredAt: NOW_SEC + 550, endedAt: '2026-11-30T09:30:03+08:00' });
      const res = await post('calls', JSON.stringify([atLimit, beyond]));
      expect(res.json()).toEqual({ accepted: 1, rejected: [{ index: 1, errors: ['endedAt: more than 600 s in the future'] }], stored: true });
      expect(await storedCallIds('ff-')).toEqual(['ff-1']);
      expect(await deadLetters('ff-')).toMatchObject([{ recordIndex: 1, raw: JSON.stringify(beyond) }]);
    });

    it('oversized string', async () => {
      const bad = call('os-2', { agent: 'a'.repeat(257) });
      const res = await post('calls', JSON.stringify([call('os-1', { agent: 'a'.repeat(256) }), bad]));
      expect(res.json()).toEqual({ accepted: 1, rejected: [{ index: 1, errors: ['agent: longer than 256 characters'] }], stored: true });
      expect(await storedCallIds('os-')).toEqual(['os-1']);
      expect(await deadLetters('os-')).toMatchObject([{ recordIndex: 1, raw: JSON.stringify(bad) }]);
    });

    it('too many records: 413 and nothing stored, for JSON and NDJSON', async () => {
      const config = testConfig();
      const small = await buildTestApp(store, { now: () => NOW, config: { ...config, ingest: { ...config.ingest, maxRecordsPerRequest: 3 } } });
      try {
        const records = [call('tm-1'), call('tm-2'), call('tm-3'), call('tm-4', { region: 'XX' })];
        for (const [body, type] of [[JSON.stringify(records), 'application/json'], [ndjson(records), 'application/x-ndjson']] as const) {
          const res = await post('calls', body, type, TOKENS.ingest, small);
          expect(res.statusCode, type).toBe(413);
          expect(res.json().error.code).toBe('SQM_TOO_MANY_RECORDS');
        }
        expect((await post('calls', ndjson(records.slice(0, 3)) + '\n\n', 'application/x-ndjson', TOKENS.ingest, small)).json().accepted).toBe(3);
        expect(await storedCallIds('tm-')).toEqual(['tm-1', 'tm-2', 'tm-3']);
        expect(await deadLetters('tm-')).toEqual([]);
      } finally {
        await small.close();
      }
    });

    it('oversized body: 413 and nothing stored', async () => {
      const config = testConfig();
      const small = await buildTestApp(store, { now: () => NOW, config: { ...config, ingest: { ...config.ingest, maxBodyBytes: 2048 } } });
      try {
        const records = Array.from({ length: 12 }, (_, i) => call(`ob-${i}`));
        const body = JSON.stringify(records);
        expect(body.length).toBeGreaterThan(2048);
        for (const type of ['application/json', 'application/x-ndjson']) {
          const res = await post('calls', type === 'application/json' ? body : ndjson(records), type, TOKENS.ingest, small);
          expect(res.statusCode, type).toBe(413);
          expect(res.json().error.code).toBe('SQM_BODY_TOO_LARGE');
        }
        expect(await storedCallIds('ob-')).toEqual([]);
        // Under the limit the same app takes it.
        expect((await post('calls', JSON.stringify(records.slice(0, 3)), 'application/json', TOKENS.ingest, small)).json().accepted).toBe(3);
      } finally {
        await small.close();
      }
    });
  });

  describe('duplicates and snapshots', () => {
    it('stores a call sent twice (two requests, and twice in one) once, and counts it once in calls_1m', async () => {
      const once = call('dup-1', { region: 'NX' });
      expect((await post('calls', JSON.stringify([once]))).json()).toEqual({ accepted: 1, rejected: [], stored: true });
      expect((await post('calls', ndjson([once, once]), 'application/x-ndjson')).json()).toEqual({ accepted: 2, rejected: [], stored: true });
      const both = await Promise.all([post('calls', JSON.stringify([once])), post('calls', JSON.stringify([once]))]);
      expect(both.map((r) => r.statusCode)).toEqual([200, 200]);
      expect(await storedCallIds('dup-')).toEqual(['dup-1']);
      const rollup = await store.query<{ entered: number; answered: number }>(sql`
        SELECT countMerge(entered) AS entered, countIfMerge(answered) AS answered FROM ${store.table('calls_1m')} WHERE region = 'NX'`);
      expect(rollup).toEqual([{ entered: 1, answered: 1 }]);
    });

    it('stores a survey sent twice once, and counts it once in surveys_1m', async () => {
      const survey = { id: 'dup-s', region: 'NX', channel: 'voice', touchpoint: 'call', answeredAt: T, csat: 5 };
      await post('surveys', JSON.stringify([survey]));
      await post('surveys', JSON.stringify([survey]));
      const rollup = await store.query<{ n: number; good: number }>(sql`
        SELECT countIfMerge(csatCount) AS n, countIfMerge(csatGood) AS good FROM ${store.table('surveys_1m')} WHERE region = 'NX'`);
      expect(rollup).toEqual([{ n: 1, good: 1 }]);
    });

    it('keeps the newest ticket snapshot when an older one arrives later, and an exact repeat once', async () => {
      const base = { id: 'snap-1', region: 'QH', channel: 'hotline', category: 'complaint', priority: 'high', openedAt: T - 7200 };
      const newer = { ...base, status: 'resolved', firstResponseAt: T - 7000, resolvedAt: T - 60, updatedAt: T - 60 };
      const older = { ...base, status: 'open', updatedAt: T - 7200 };
      expect((await post('tickets', JSON.stringify([newer]))).json().accepted).toBe(1);
      expect((await post('tickets', JSON.stringify([older, newer]))).json().accepted).toBe(2);
      const rows = await store.query<{ status: string; resolved: number; snapshots: number }>(sql`
        SELECT argMax(status, updatedAt) AS status, toUInt32(argMax(resolvedAt, updatedAt)) AS resolved, count() AS snapshots
        FROM ${store.table('tickets')} WHERE id = 'snap-1' GROUP BY id`);
      expect(rows).toEqual([{ status: 'resolved', resolved: T - 60, snapshots: 2 }]);
    });
  });

  it('stores a keyed hash of the customer, never the clear number, equal for both spellings', async () => {
    await post('calls', JSON.stringify([call('cust-1', { customer: '+86 138-0013-8000' }), call('cust-2', { customer: '13800138000' }), call('cust-3', { customer: '13900139000' })]));
    const rows = await store.query<{ id: string; customer: string }>(sql`
      SELECT id, customer FROM ${store.table('calls')} WHERE position(id, 'cust-') > 0 ORDER BY id`);
    const [a, b, c] = rows.map((r) => r.customer);
    expect(a).toBe(b);
    expect(a).toBe(createCustomerHasher(TEST_SECRET)('13800138000'));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(c).not.toBe(a);
    const clear = await store.query(sql`SELECT id FROM ${store.table('calls')} WHERE position(customer, '13800138000') > 0 OR position(customer, '8000') = 1`);
    expect(clear).toEqual([]);
  });

  /** The test store, with inserts failing while `down.value` is true (ClickHouse unreachable). */
  const flakyStore = (down: { value: boolean }): Store => ({
    ...store,
    table: store.table,
    query: store.query,
    command: store.command,
    async insert(table, rows) {
      if (down.value) throw new StoreError('Code: 210. DB::NetException: Connection refused', 210);
      return store.insert(table, rows);
    },
  });

  it('keeps what it accepted while the store is down: 200 with stored: false, backlog in /readyz and /metrics, stored once when it is back', async () => {
    const down = { value: true };
    const flaky = await buildTestApp(flakyStore(down), { now: () => NOW });
    try {
      const res = await post('calls', JSON.stringify([call('sd-1'), call('sd-2', { region: 'XX' }), call('sd-3')]), 'application/json', TOKENS.ingest, flaky);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ accepted: 2, rejected: [{ index: 1, errors: ['region: unknown region "XX"'] }], stored: false });
      expect(JSON.stringify(res.json())).not.toContain('Connection refused');
      expect(await storedCallIds('sd-')).toEqual([]);

      const ready = await flaky.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200); // the store answers queries; only inserts fail here
      expect(ready.json().spool).toMatchObject({ records: 2, storeFailing: true });
      expect(ready.json().spool.bytes).toBeGreaterThan(0);
      const metrics = (await flaky.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/^sqm_ingest_spool_records 2$/m);
      expect(metrics).toMatch(/^sqm_ingest_spool_store_failing 1$/m);
      expect(metrics).toMatch(/^sqm_ingest_spool_drain_failures_total [1-9]\d*$/m);

      // While it is down, a second request is durable too, and a repeat of the first adds nothing.
      expect((await post('calls', JSON.stringify([call('sd-1'), call('sd-4')]), 'application/json', TOKENS.ingest, flaky)).json())
        .toEqual({ accepted: 2, rejected: [], stored: false });

      down.value = false;
      await flaky.collector.flush(20_000);
      expect(await storedCallIds('sd-')).toEqual(['sd-1', 'sd-3', 'sd-4']);
      expect(await deadLetters('sd-')).toHaveLength(1);
      const after = (await flaky.inject({ method: 'GET', url: '/metrics' })).body;
      expect(after).toMatch(/^sqm_ingest_spool_records 0$/m);
      expect(after).toMatch(/^sqm_ingest_spool_store_failing 0$/m);
      expect((await post('calls', JSON.stringify([call('sd-5')]), 'application/json', TOKENS.ingest, flaky)).json())
        .toEqual({ accepted: 1, rejected: [], stored: true });
    } finally {
      down.value = false;
      await flaky.close();
    }
  });

  it('answers 503 with Retry-After over the spool quota, keeps nothing of that request, and is not ready until it drains', async () => {
    const down = { value: true };
    const base = testConfig();
    const config = testConfig({ ingest: { ...base.ingest, spool: { maxBytes: 4096 } } });
    const flaky = await buildTestApp(flakyStore(down), { now: () => NOW, config });
    try {
      // An empty spool takes any one request; the next one would pass the quota.
      const many = Array.from({ length: 20 }, (_, i) => call(`sq-a${i}`));
      expect((await post('calls', JSON.stringify(many), 'application/json', TOKENS.ingest, flaky)).json()).toMatchObject({ accepted: 20, stored: false });
      const refused = await post('calls', JSON.stringify([call('sq-b1'), call('sq-b2', { region: 'XX' })]), 'application/json', TOKENS.ingest, flaky);
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.json().error.code).toBe('SQM_UNAVAILABLE');
      const ready = await flaky.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 'not ready', reason: 'ingest spool over its quota', spool: { records: 20, maxBytes: 4096 } });
      expect((await flaky.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^sqm_ingest_spool_refused_total 1$/m);

      down.value = false;
      await flaky.collector.flush(20_000);
      expect(await storedCallIds('sq-')).toEqual(many.map((c) => c.id).sort());
      expect(await deadLetters('sq-')).toEqual([]); // the refused request's bad record was not kept either
      expect((await flaky.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    } finally {
      down.value = false;
      await flaky.close();
    }
  });
});
