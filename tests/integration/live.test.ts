/**
 * The live stream over a real socket: a listening app and `ws` clients.
 * Ticks and heart-beats are driven by hand (`app.liveHub.tick()`), the clock
 * is fixed, and "nothing else arrived" is proved by a ping round trip, never
 * by waiting. Each test owns its regions, so the data of one never changes the
 * expected values of another.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../alerts/types.js';
import { observeStore, type Store } from '../../store/index.js';
import { TOKENS, bearer, buildTestApp, testConfig } from '../helpers/app.js';
import { LiveTestClient } from '../helpers/live-client.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const START = Date.parse('2026-11-30T10:30:00+08:00');
/** Local midnight of 2026-11-30 in Asia/Shanghai. */
const MIDNIGHT = '2026-11-29T16:00:00.000Z';
const BOUND = 64 * 1024;

function callRecord(id: string, region: string, entered: string, outcome: 'answered' | 'abandoned', wait = 10) {
  const enteredAt = Date.parse(entered) / 1000;
  return {
    id, region, queue: 'q1', channel: 'voice', enteredAt,
    ...(outcome === 'answered' ? { answeredAt: enteredAt + wait, talkSeconds: 60 } : {}),
    endedAt: enteredAt + wait + (outcome === 'answered' ? 60 : 0),
    outcome,
  };
}

function alertEvent(id: string, region: string | undefined, text = id): AlertEvent {
  return {
    type: 'firing',
    at: '2026-11-30T02:30:00.000Z',
    instance: {
      id, ruleId: 'answer-rate-low', ruleKind: 'kpi',
      labels: region === undefined ? { rule: 'answer-rate-low' } : { rule: 'answer-rate-low', region },
      state: 'firing', severity: 'critical', value: 0.5, threshold: 0.9, volume: 20,
      since: '2026-11-30T02:29:00.000Z', firingSince: '2026-11-30T02:30:00.000Z',
      acknowledged: null, silencedBy: [], route: 'regional-managers', summary: { zh: text, en: text },
    },
  };
}

describe.each(BACKENDS)('the live stream on %s', (backend) => {
  let store: Store;
  let app: FastifyInstance;
  let url: string;
  let nowMs = START;
  /** Store queries made through the app: the KPI engine's one per family per computation. */
  let queries = 0;
  const clients: LiveTestClient[] = [];

  beforeAll(async () => {
    store = await openTestStore(backend);
    const config = testConfig({
      // Timers that never fire during the run: the tests tick and beat by hand.
      live: { tickMs: 3_600_000, heartbeatMs: 3_600_000, maxBufferedBytes: BOUND, closeGraceMs: 600_000 },
      metrics: { kpiRefreshSeconds: 86_400 },
    });
    const counted = observeStore(store, (operation) => { if (operation === 'query') queries++; });
    app = await buildTestApp(counted, { config, now: () => new Date(nowMs) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    url = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/v1/live`;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const connect = async (token: string, options = {}) => {
    const client = await LiveTestClient.connect(url, token, options);
    clients.push(client);
    return client;
  };
  const ingestCalls = async (records: unknown[]) => {
    const res = await app.inject({
      method: 'POST', url: '/api/v1/ingest/calls', headers: { ...bearer(TOKENS.ingest), 'content-type': 'application/json' },
      payload: JSON.stringify(records),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: records.length, rejected: [], stored: true });
  };
  const value = (kpi: string, region: string, numerator: number, denominator: number, v: number | null = numerator / denominator) =>
    ({ kpi, labels: { region }, value: v, numerator, denominator });

  it('refuses the upgrade without a token (401) or with an ingest token (403), and explains a plain GET', async () => {
    expect(await LiveTestClient.refusal(url, undefined)).toBe(401);
    expect(await LiveTestClient.refusal(url, 'not-a-real-token-000000')).toBe(401);
    expect(await LiveTestClient.refusal(url, TOKENS.ingest)).toBe(403);
    const plain = await app.inject({ method: 'GET', url: '/api/v1/live', headers: bearer(TOKENS.viewer) });
    expect(plain.statusCode).toBe(400);
    expect(plain.json().error.message).toMatch(/WebSocket/);
  });

  it('says hello with the protocol version and the principal', async () => {
    const client = await connect(TOKENS.managerGD);
    expect(client.hello).toEqual({
      type: 'hello', protocol: 1, tickMs: 3_600_000, heartbeatMs: 3_600_000,
      principal: { name: 'gd-manager', role: 'manager', regions: ['GD'] },
    });
  });

  it('sends a snapshot at once, then only what changed after new records, and nothing when nothing changed', async () => {
    nowMs = START;
    await ingestCalls([
      callRecord('snap-g1', 'GD', '2026-11-30T09:00:00+08:00', 'answered'),
      callRecord('snap-g2', 'GD', '2026-11-30T09:10:00+08:00', 'abandoned', 30),
      callRecord('snap-b1', 'BJ', '2026-11-30T09:20:00+08:00', 'answered'),
      // Yesterday (local): outside "today".
      callRecord('snap-g0', 'GD', '2026-11-29T23:59:00+08:00', 'answered'),
    ]);
    const client = await connect(TOKENS.admin);
    client.send({ type: 'subscribe', id: 'wall', kpis: ['answer_rate', 'offered'], regions: ['GD', 'BJ'], by: ['region'], window: 'today' });
    const snapshot = await client.next();
    // GD: g1 answered, g2 abandoned after 30 s → 1/2; BJ 1/1. Offered 2 and 1. KPIs in catalogue order, regions sorted.
    expect(snapshot).toEqual({
      type: 'snapshot', id: 'wall', seq: 1, at: '2026-11-30T02:30:00.000Z',
      window: { name: 'today', from: MIDNIGHT, to: '2026-11-30T02:30:01.000Z' },
      subscription: { kpis: ['offered', 'answer_rate'], regions: ['BJ', 'GD'], by: ['region'], window: 'today', step: null },
      values: [value('offered', 'BJ', 1, 1), value('offered', 'GD', 2, 1), value('answer_rate', 'BJ', 1, 1), value('answer_rate', 'GD', 1, 2)],
    });

    await ingestCalls([callRecord('snap-g3', 'GD', '2026-11-30T10:00:00+08:00', 'answered')]);
    nowMs = START + 5000;
    await app.liveHub.tick();
    // Only GD changed: offered 3, answer rate 2/3. BJ is not repeated.
    expect(await client.next()).toEqual({
      type: 'update', id: 'wall', seq: 2, at: '2026-11-30T02:30:05.000Z',
      window: { name: 'today', from: MIDNIGHT, to: '2026-11-30T02:30:06.000Z' },
      changed: [value('offered', 'GD', 3, 1), value('answer_rate', 'GD', 2, 3)],
      removed: [],
    });

    nowMs = START + 6000;
    await app.liveHub.tick();
    expect(await client.roundTrip()).toEqual([]);
  });

  it('slides a stepped window: the bucket that left is removed, the new one added', async () => {
    nowMs = START;
    await ingestCalls([
      callRecord('step-1', 'SH', '2026-11-30T10:16:00+08:00', 'answered'),
      callRecord('step-2', 'SH', '2026-11-30T10:26:00+08:00', 'answered'),
    ]);
    const client = await connect(TOKENS.viewer);
    client.send({ type: 'subscribe', id: 'spark', kpis: ['offered'], regions: ['SH'], window: 'last 15 min', step: '5m' });
    const snapshot = await client.next();
    // [10:15:01, 10:30:01) in 5-minute buckets starting 10:15, 10:20, 10:25, 10:30 (local).
    const point = (t: string, n: number) => ({ kpi: 'offered', labels: {}, t, value: n, numerator: n, denominator: 1 });
    expect(snapshot.window).toEqual({ name: 'last 15m', from: '2026-11-30T02:15:01.000Z', to: '2026-11-30T02:30:01.000Z' });
    expect(snapshot.values).toEqual([
      point('2026-11-30T02:15:00.000Z', 1), point('2026-11-30T02:20:00.000Z', 0),
      point('2026-11-30T02:25:00.000Z', 1), point('2026-11-30T02:30:00.000Z', 0),
    ]);

    nowMs = START + 5 * 60_000;
    await app.liveHub.tick();
    expect(await client.next()).toMatchObject({
      type: 'update', id: 'spark', seq: 2,
      changed: [point('2026-11-30T02:35:00.000Z', 0)],
      removed: [{ kpi: 'offered', labels: {}, t: '2026-11-30T02:15:00.000Z' }],
    });
  });

  it('forwards alert events at once, only for the subscribed regions', async () => {
    nowMs = START;
    const client = await connect(TOKENS.admin);
    client.send({ type: 'subscribe', kpis: ['offered'], regions: ['HN'], window: 'last 1h' });
    expect((await client.next()).type).toBe('snapshot');
    const bus = app.liveHub.alertBus;
    bus.publish(alertEvent('a-hb', 'HB'));
    bus.publish(alertEvent('a-hn', 'HN'));
    bus.publish(alertEvent('a-all', undefined));
    // HB is not subscribed; HN is; a rule over all regions goes to a principal who may see all.
    expect(await client.roundTrip()).toEqual([
      { type: 'alert', event: alertEvent('a-hn', 'HN') },
      { type: 'alert', event: alertEvent('a-all', undefined) },
    ]);
  });

  it('keeps a GD manager to GD: other regions are an error, and BJ data and alerts never arrive', async () => {
    nowMs = START;
    const manager = await connect(TOKENS.managerGD);
    manager.send({ type: 'subscribe', id: 'bj', kpis: ['offered'], regions: ['BJ'], window: 'today' });
    expect(await manager.next()).toEqual({
      type: 'error', id: 'bj', code: 'SQM_FORBIDDEN', message: 'Outside your regions (GD): BJ', details: { outside: ['BJ'] },
    });
    manager.send({ type: 'subscribe', id: 'both', kpis: ['offered'], regions: ['GD', 'BJ'], window: 'today' });
    expect(await manager.next()).toMatchObject({ type: 'error', id: 'both', code: 'SQM_FORBIDDEN' });

    // No regions: the manager's own (GD), never all.
    manager.send({ type: 'subscribe', id: 'mine', kpis: ['offered'], by: ['region'], window: 'today' });
    const snapshot = await manager.next();
    expect(snapshot.subscription.regions).toEqual(['GD']);
    expect(snapshot.values.map((v: { labels: { region: string } }) => v.labels.region)).toEqual(['GD']);

    const admin = await connect(TOKENS.admin);
    admin.send({ type: 'subscribe', id: 'all', kpis: ['offered'], by: ['region'], window: 'today' });
    const adminSnapshot = await admin.next();
    expect(adminSnapshot.subscription.regions).toHaveLength(31);

    await ingestCalls([callRecord('scope-b1', 'BJ', '2026-11-30T10:20:00+08:00', 'answered')]);
    app.liveHub.alertBus.publish(alertEvent('scope-bj', 'BJ'));
    app.liveHub.alertBus.publish(alertEvent('scope-all', undefined));
    app.liveHub.alertBus.publish(alertEvent('scope-gd', 'GD'));
    nowMs = START + 1000;
    await app.liveHub.tick();

    // The admin sees the BJ change and every alert; the manager only the GD alert.
    const adminGot = await admin.roundTrip();
    expect(adminGot.map((m) => (m.type === 'alert' ? m.event.instance.id : m.type))).toEqual(['scope-bj', 'scope-all', 'scope-gd', 'update']);
    // Only BJ changed, by the one call.
    const bjBefore = adminSnapshot.values.find((v: { labels: { region: string } }) => v.labels.region === 'BJ');
    const bjAfter = bjBefore.numerator + 1;
    expect(adminGot[3]!.changed).toEqual([{ kpi: 'offered', labels: { region: 'BJ' }, value: bjAfter, numerator: bjAfter, denominator: 1 }]);
    const managerGot = await manager.roundTrip();
    expect(managerGot).toEqual([{ type: 'alert', event: alertEvent('scope-gd', 'GD') }]);
    expect(JSON.stringify(managerGot)).not.toContain('BJ');
  });

  it('computes a subscription once per tick however many clients share it', async () => {
    nowMs = START;
    await ingestCalls([callRecord('share-z1', 'ZJ', '2026-11-30T09:00:00+08:00', 'answered')]);
    const a = await connect(TOKENS.viewer);
    const b = await connect(TOKENS.executive);
    const before = queries;
    a.send({ type: 'subscribe', id: 'a', kpis: ['answer_rate', 'offered'], regions: ['ZJ', 'JS'], window: 'today' });
    const snapA = await a.next();
    // The same subscription spelled differently: same canonical key.
    b.send({ type: 'subscribe', id: 'b', kpis: ['offered', 'answer_rate', 'offered'], regions: ['JS', 'ZJ'], window: 'TODAY' });
    const snapB = await b.next();
    expect(snapB.values).toEqual(snapA.values);
    // One computation for both snapshots: one contact-centre query.
    expect(queries - before).toBe(1);

    await ingestCalls([callRecord('share-z2', 'ZJ', '2026-11-30T10:10:00+08:00', 'abandoned', 40)]);
    const tickStart = queries;
    nowMs = START + 1000;
    const report = await app.liveHub.tick();
    // One subscription with members (other tests' clients are closed): one computation, one query.
    expect(report.computed).toBe(1);
    expect(queries - tickStart).toBe(1);
    const updateA = await a.next();
    const updateB = await b.next();
    expect(updateA).toMatchObject({ type: 'update', id: 'a', seq: 2 });
    expect({ ...updateB, id: 'a' }).toEqual(updateA);
    // Total offered in ZJ + JS: 2, answer rate 1/2.
    expect(updateA.changed).toEqual([
      { kpi: 'offered', labels: {}, value: 2, numerator: 2, denominator: 1 },
      { kpi: 'answer_rate', labels: {}, value: 0.5, numerator: 1, denominator: 2 },
    ]);
  });

  it('answers a repeated subscribe with a fresh snapshot, and stops after unsubscribe', async () => {
    nowMs = START;
    const client = await connect(TOKENS.viewer);
    client.send({ type: 'subscribe', id: 'x', kpis: ['offered'], regions: ['YN'], window: 'today' });
    const first = await client.next();
    const before = queries;
    client.send({ type: 'subscribe', id: 'x', kpis: ['offered'], regions: ['YN'], window: 'today' });
    expect(await client.next()).toEqual(first);
    expect(queries).toBe(before);

    client.send({ type: 'unsubscribe', id: 'x' });
    expect(await client.next()).toEqual({ type: 'unsubscribed', id: 'x' });
    await ingestCalls([callRecord('unsub-y1', 'YN', '2026-11-30T10:00:00+08:00', 'answered')]);
    app.liveHub.alertBus.publish(alertEvent('unsub-yn', 'YN'));
    nowMs = START + 1000;
    await app.liveHub.tick();
    expect(await client.roundTrip()).toEqual([]);
  });

  it('lets a client reconnect and resubscribe: a snapshot again, then updates as before', async () => {
    nowMs = START;
    await ingestCalls([callRecord('re-1', 'SC', '2026-11-30T09:00:00+08:00', 'answered')]);
    const spec = { type: 'subscribe', id: 'wall', kpis: ['offered'], regions: ['SC'], window: 'today' };
    const first = await connect(TOKENS.viewer);
    first.send(spec);
    const snap1 = await first.next();
    expect(snap1.values).toEqual([{ kpi: 'offered', labels: {}, value: 1, numerator: 1, denominator: 1 }]);
    // The connection drops (client side); a record arrives meanwhile.
    await first.close();
    await ingestCalls([callRecord('re-2', 'SC', '2026-11-30T10:00:00+08:00', 'answered')]);

    const second = await connect(TOKENS.viewer);
    second.send(spec);
    // The subscription outlives its last member until the next tick, so the snapshot comes at once from the last answer…
    expect(await second.next()).toEqual(snap1);
    nowMs = START + 1000;
    await app.liveHub.tick();
    // … and the tick brings the client up to date.
    expect(await second.roundTrip()).toEqual([{
      type: 'update', id: 'wall', seq: 2, at: '2026-11-30T02:30:01.000Z',
      window: { name: 'today', from: MIDNIGHT, to: '2026-11-30T02:30:02.000Z' },
      changed: [{ kpi: 'offered', labels: {}, value: 2, numerator: 2, denominator: 1 }],
      removed: [],
    }]);
  });

  it('names the field at fault in every refused message', async () => {
    const client = await connect(TOKENS.viewer);
    const refusal = async (message: unknown) => {
      client.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
      const reply = await client.next();
      expect(reply.type).toBe('error');
      return reply;
    };
    expect((await refusal('{not json')).message).toMatch(/not valid JSON/);
    expect((await refusal({ type: 'watch' })).message).toMatch(/^type:/);
    expect((await refusal({ type: 'subscribe', kpis: ['offered'], region: ['GD'], window: 'today' })).message).toMatch(/^region: unknown field/);
    expect((await refusal({ type: 'subscribe', kpis: ['offered'], window: 'yesterday' })).message).toMatch(/^window:/);
    expect((await refusal({ type: 'subscribe', kpis: ['offered'], window: 'last 3d' })).message).toMatch(/^window:/);
    expect((await refusal({ type: 'subscribe', window: 'today' })).message).toMatch(/^kpis:/);
    expect((await refusal({ type: 'subscribe', kpis: ['offered'], window: 'today', step: '2m' })).message).toMatch(/^step:/);
    expect((await refusal({ type: 'subscribe', id: 'bad id!', kpis: ['offered'], window: 'today' })).message).toMatch(/^id:/);
    const unknownKpi = await refusal({ type: 'subscribe', id: 'k', kpis: ['offered', 'bogus'], window: 'today' });
    expect(unknownKpi).toMatchObject({ id: 'k', code: 'SQM_BAD_REQUEST', details: { unknown: ['bogus'] } });
    const badBy = await refusal({ type: 'subscribe', id: 'c', kpis: ['csat'], by: ['queue'], window: 'today' });
    expect(badBy).toMatchObject({ id: 'c', code: 'SQM_BAD_REQUEST', details: { kpi: 'csat', unknown: ['queue'] } });
    // Still connected and serving.
    expect(await client.roundTrip()).toEqual([]);
  });

  it('sends heart-beats with a ping, and cuts a client that does not answer pings', async () => {
    nowMs = START;
    const healthy = await connect(TOKENS.viewer);
    const mute = await connect(TOKENS.viewer, { autoPong: false });
    app.liveHub.heartbeat();
    expect(await healthy.next()).toEqual({ type: 'heartbeat', at: '2026-11-30T02:30:00.000Z' });
    expect(healthy.pings).toBe(1);
    expect(await mute.next()).toEqual({ type: 'heartbeat', at: '2026-11-30T02:30:00.000Z' });
    expect(mute.pings).toBe(1);
    // The healthy client's pong travels before this ping, so the server has seen it when the pong comes back.
    await healthy.roundTrip();

    const droppedBefore = app.liveHub.stats().dropped.heartbeat;
    app.liveHub.heartbeat();
    expect((await mute.closed).code).toBe(1006);
    expect(app.liveHub.stats().dropped.heartbeat).toBe(droppedBefore + 1);
    expect(await healthy.next()).toEqual({ type: 'heartbeat', at: '2026-11-30T02:30:00.000Z' });
  });

  it('closes a client that stops reading with 4008 once it falls behind, and keeps serving the others', async () => {
    nowMs = START;
    const slow = await connect(TOKENS.viewer);
    const other = await connect(TOKENS.viewer);
    slow.send({ type: 'subscribe', kpis: ['offered'], regions: ['GX'], window: 'today' });
    expect((await slow.next()).type).toBe('snapshot');
    other.send({ type: 'subscribe', kpis: ['offered'], regions: ['GZ'], window: 'today' });
    expect((await other.next()).type).toBe('snapshot');

    // The slow client stops reading from its socket; the kernel buffers fill, then the server's.
    const tcp = (slow.socket as unknown as { _socket: Socket })._socket;
    tcp.pause();
    const big = 'x'.repeat(8 * 1024);
    let published = 0;
    while (app.liveHub.stats().dropped.slow === 0 && published < 20_000) {
      for (let i = 0; i < 16; i++) app.liveHub.alertBus.publish(alertEvent(`flood-${published++}`, 'GX', big));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(app.liveHub.stats().dropped.slow).toBe(1);
    const clientsNow = app.liveHub.stats().clients;

    // Reading again, the client gets what was queued (bounded), then the close frame with the reason.
    tcp.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(4008);
    expect(closed.reason).toBe(`client fell behind: more than ${BOUND} bytes unsent`);
    expect(clientsNow).toBe(app.liveHub.stats().clients);

    app.liveHub.alertBus.publish(alertEvent('after-flood', 'GZ'));
    expect(await other.roundTrip()).toEqual([{ type: 'alert', event: alertEvent('after-flood', 'GZ') }]);
  });
});
