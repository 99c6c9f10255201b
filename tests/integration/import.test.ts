/**
 * CSV upload (`POST /api/v1/import/:kind`) and queue_log import into the real
 * collector and store, on every backend: what is stored, what is refused with
 * which line, and the KPIs the imported calls give.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollector, type Collector } from '../../collector/index.js';
import { importQueueLog } from '../../collector/sources/queue-log.js';
import { createCollectorSink } from '../../collector/sources/sink.js';
import { createLogger } from '../../server/logger.js';
import { sql, type Store } from '../../store/index.js';
import { bearer, buildTestApp, testConfig, TEST_SECRET, TOKENS } from '../helpers/app.js';
import { BASIC_CALLS, QUEUES } from '../helpers/queue-log-fixtures.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

// 2026-11-30T09:20:02 in Beijing.
const NOW = new Date('2026-11-30T01:20:02Z');

const EXPORT = [
  'Call Id,Province,Skill,Entered,Answered,Ended,Answered (Y/N),Talk (s),Notes', //     1
  'C-1,GD,hotline,2026-11-30 09:00:00,2026-11-30 09:00:10,2026-11-30 09:03:00,Y,170,', // 2 wait 10
  'C-2,GD,hotline,2026-11-30 09:01:00,2026-11-30 09:01:30,2026-11-30 09:04:00,Y,150,', // 3 wait 30
  'C-3,GD,hotline,2026-11-30 09:02:00,,2026-11-30 09:02:40,N,,', //                       4 abandoned after 40 s
  'C-4,GD,hotline,2026-11-30 09:05:00,,2026-11-30 09:05:03,N,,', //                       5 short abandon (3 s)
  'C-5,XX,hotline,2026-11-30 09:06:00,,2026-11-30 09:06:30,N,,', //                       6 unknown region
  'C-6,GD,hotline,"2026-11-30"x,,2026-11-30 09:07:00,N,,', //                             7 unreadable
].join('\n');

const MAPPING = new URLSearchParams([
  ['map', 'Call Id=id,Province=region,Skill=queue,Entered=enteredAt,Answered=answeredAt,Ended=endedAt'],
  ['map', 'Answered (Y/N)=outcome,Talk (s)=talkSeconds'],
  ['values', 'Answered (Y/N):Y=answered,N=abandoned'],
  ['fixed', 'channel=voice'],
]).toString();

describe.each(BACKENDS)('import on %s', (backend) => {
  let store: Store;
  let app: FastifyInstance;
  let collector: Collector;

  beforeAll(async () => {
    store = await openTestStore(backend);
    app = await buildTestApp(store, { now: () => NOW });
    const config = testConfig();
    collector = await createCollector({ store, config, spoolDir: await mkdtemp(join(tmpdir(), 'sqm-import-spool-')), secret: TEST_SECRET, logger: createLogger('silent'), now: () => NOW });
    expect(app.hasRoute({ method: 'POST', url: '/api/v1/import/:kind' })).toBe(true);
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await collector?.close();
    await store?.close();
  });

  const upload = (kind: string, body: string, query = MAPPING, token: string = TOKENS.ingest, type = 'text/csv') =>
    app.inject({ method: 'POST', url: `/api/v1/import/${kind}?${query}`, headers: { ...bearer(token), 'content-type': type }, payload: body });

  it('imports a CSV export with foreign headers through a mapping, with the summary and per-line errors', async () => {
    const res = await upload('calls', EXPORT);
    expect(res.statusCode).toBe(200);
    const summary = res.json();
    expect(summary).toMatchObject({ kind: 'calls', rowsRead: 6, accepted: 4, rejected: 2, ignoredColumns: ['Notes'] });
    expect(summary.rejectedRows).toHaveLength(2);
    expect(summary.rejectedRows[0].line).toBe(6);
    expect(summary.rejectedRows[0].errors.join(' ')).toMatch(/region/);
    expect(summary.rejectedRows[1]).toEqual({ line: 7, errors: [expect.stringMatching(/^\(record\): Invalid Closing Quote/)] });

    const rows = await store.query<{ id: string; enteredAt: number; answeredAt: number | null; outcome: string; talkSeconds: number | null; queue: string }>(sql`
      SELECT id, toUInt32(enteredAt) AS enteredAt, if(isNull(answeredAt), NULL, toUInt32(assumeNotNull(answeredAt))) AS answeredAt,
             outcome, talkSeconds, queue
      FROM ${store.table('calls')} ORDER BY id`);
    expect(rows).toEqual([
      { id: 'C-1', enteredAt: 1796000400, answeredAt: 1796000410, outcome: 'answered', talkSeconds: 170, queue: 'hotline' },
      { id: 'C-2', enteredAt: 1796000460, answeredAt: 1796000490, outcome: 'answered', talkSeconds: 150, queue: 'hotline' },
      { id: 'C-3', enteredAt: 1796000520, answeredAt: null, outcome: 'abandoned', talkSeconds: null, queue: 'hotline' },
      { id: 'C-4', enteredAt: 1796000700, answeredAt: null, outcome: 'abandoned', talkSeconds: null, queue: 'hotline' },
    ]);
    const dead = await store.query<{ recordIndex: number; source: string }>(sql`
      SELECT recordIndex, source FROM ${store.table('dead_letters')} WHERE kind = 'calls' ORDER BY recordIndex`);
    expect(dead).toEqual([{ recordIndex: 6, source: 'csv-upload:ingest' }, { recordIndex: 7, source: 'csv-upload:ingest' }]);
  });

  it('gives the KPIs worked out by hand for the imported calls', async () => {
    const res = await app.inject({
      method: 'GET',
      url: `/api/v1/kpis?kpi=answer_rate,asa&region=GD&from=${encodeURIComponent('2026-11-30T09:00:00+08:00')}&to=${encodeURIComponent('2026-11-30T09:10:00+08:00')}`,
      headers: bearer(TOKENS.viewer),
    });
    expect(res.statusCode).toBe(200);
    const points = Object.fromEntries((res.json().series as { kpi: string; points: { value: number; numerator: number; denominator: number }[] }[])
      .map((s) => [s.kpi, s.points[0]]));
    // offered = 4 calls − 1 short abandon = 3; answered 2; waits 10 s and 30 s
    expect(points.answer_rate).toMatchObject({ numerator: 2, denominator: 3 });
    expect(points.answer_rate!.value).toBeCloseTo(2 / 3, 10);
    expect(points.asa).toMatchObject({ value: 20 });
  });

  it('refuses what it cannot import, before reading the body', async () => {
    expect((await upload('calls', EXPORT, MAPPING, TOKENS.viewer)).statusCode).toBe(403);
    const none = await app.inject({ method: 'POST', url: '/api/v1/import/calls', headers: { 'content-type': 'text/csv' }, payload: EXPORT });
    expect(none.statusCode).toBe(401);
    const kind = await upload('call', EXPORT);
    expect(kind.statusCode).toBe(404);
    expect(kind.json().error.message).toBe('Unknown record kind "call"; valid kinds: calls, tickets, faults, surveys, queues, subscribers');
    const column = await upload('calls', EXPORT, 'map=Call%20ID%3Did');
    expect(column.statusCode).toBe(400);
    expect(column.json().error.message).toBe('map: the file has no column "Call ID" (its columns: Call Id, Province, Skill, Entered, Answered, Ended, Answered (Y/N), Talk (s), Notes)');
    const spec = await upload('calls', EXPORT, 'values=nonsense');
    expect(spec.json().error).toMatchObject({ code: 'SQM_BAD_REQUEST', message: 'values: "nonsense" is not "Header:from=to,from=to"' });
    const param = await upload('calls', EXPORT, 'mapping=x');
    expect(param.json().error.message).toBe('unknown query parameter "mapping" (allowed: map, fixed, values, timezone, delimiter)');
    expect((await upload('calls', '', '')).statusCode).toBe(400);
    expect((await upload('calls', EXPORT, MAPPING, TOKENS.ingest, 'application/pdf')).statusCode).toBe(415);
  });

  it('stores each queue_log call once however often the file is imported', async () => {
    const sink = createCollectorSink(collector);
    const url = new URL('../fixtures/queue_log/basic.queue_log', import.meta.url);
    for (let i = 0; i < 2; i++) {
      const summary = await importQueueLog({ input: createReadStream(url), queues: QUEUES, sink, source: 'queue_log:basic.queue_log' });
      expect(summary).toMatchObject({ calls: 9, accepted: 9, rejected: 0 });
    }
    const rows = await store.query<{ id: string; waitSeconds: number; outcome: string; region: string }>(sql`
      SELECT id, waitSeconds, outcome, region FROM ${store.table('calls')}
      WHERE id IN ${sql.list(BASIC_CALLS.map((c) => c.value.id))} ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual(BASIC_CALLS.map((c) => c.value.id).sort());
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId['support:1764466001.1']).toEqual({ id: 'support:1764466001.1', waitSeconds: 11, outcome: 'answered', region: 'GD' });
    expect(byId['sales:1764466030.4']).toEqual({ id: 'sales:1764466030.4', waitSeconds: 60, outcome: 'overflow', region: 'BJ' });
  });
});
