/**
 * The live hub's rules with a fake KPI engine and fake sockets, where the
 * engine's timing is in the test's hands: a tick while one runs is skipped,
 * one engine call per distinct subscription, a store failure is reported and
 * recovered from, and the bounds (values, subscriptions, clients, unsent bytes).
 */
import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import { beforeEach, describe, expect, it } from 'vitest';
import { AlertEventBus } from '../../alerts/bus.js';
import { loadConfig, validateConfigObject, type LiveConfig, type SqmConfig } from '../../config/index.js';
import type { KpiEngine, KpiRequest, KpiResponse } from '../../kpi/index.js';
import { LiveHub, type LiveHubMetrics } from '../../server/live/hub.js';
import { createLogger } from '../../server/logger.js';
import type { Principal } from '../../server/auth.js';
import { StoreError } from '../../store/index.js';

const NOW = new Date('2026-11-30T02:30:00Z');
const ADMIN: Principal = { name: 'admin', role: 'admin', regions: null };

class FakeSocket extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  received: Array<Record<string, unknown>> = [];
  closedWith: { code: number; reason: string } | undefined;
  terminated = false;
  pings = 0;
  send(data: Buffer | string): void {
    this.received.push(JSON.parse(data.toString()) as Record<string, unknown>);
  }
  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
    this.readyState = 2;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
    this.emit('close');
  }
  ping(): void {
    this.pings++;
  }
  message(body: unknown): void {
    this.emit('message', Buffer.from(JSON.stringify(body)), false);
  }
  take(): Array<Record<string, unknown>> {
    return this.received.splice(0);
  }
}

/** An engine whose answers the test releases one by one; it counts calls and can fail on demand. */
class FakeEngine implements KpiEngine {
  calls: KpiRequest[] = [];
  offered = 1;
  failNext: Error | undefined;
  held: Array<() => void> | undefined;
  query(request: KpiRequest): Promise<KpiResponse> {
    this.calls.push(request);
    const answer = async (): Promise<KpiResponse> => {
      if (this.failNext) {
        const error = this.failNext;
        this.failNext = undefined;
        throw error;
      }
      return {
        from: request.from.toISOString(), to: request.to.toISOString(),
        series: request.kpis.flatMap((kpi) => request.regions!.map((region) => ({
          kpi, labels: { region }, points: [{ t: request.from.toISOString(), value: this.offered, numerator: this.offered, denominator: 1 }],
        }))),
      };
    };
    if (!this.held) return answer();
    const held = this.held;
    return new Promise<void>((resolve) => held.push(resolve)).then(answer);
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('the live hub', () => {
  let engine: FakeEngine;
  let hub: LiveHub;
  let dropped: string[];
  let config: SqmConfig;

  const build = (live: LiveConfig = {}) => {
    config = validateConfigObject({ ...structuredClone(loadConfig()), live: { tickMs: 3_600_000, heartbeatMs: 3_600_000, ...live } }, 'test');
    engine = new FakeEngine();
    dropped = [];
    const metrics: LiveHubMetrics = { liveClientDropped: (reason) => dropped.push(reason), liveTick: () => {} };
    hub = new LiveHub({ config, kpis: engine, alertBus: new AlertEventBus(), logger: createLogger('silent'), now: () => NOW, metrics });
  };
  const connect = (principal: Principal = ADMIN) => {
    const socket = new FakeSocket();
    hub.accept(socket as unknown as WebSocket, principal);
    expect(socket.take()[0]).toMatchObject({ type: 'hello', protocol: 1 });
    return socket;
  };
  const subscribe = { type: 'subscribe', kpis: ['offered'], regions: ['GD'], by: ['region'], window: 'today' };

  beforeEach(() => build());

  it('skips a tick while the previous one is still running', async () => {
    const socket = connect();
    socket.message(subscribe);
    await flush();
    expect(socket.take()).toMatchObject([{ type: 'snapshot', seq: 1 }]);
    engine.held = [];
    const first = hub.tick();
    await flush();
    expect(engine.calls).toHaveLength(2);
    expect(await hub.tick()).toMatchObject({ skipped: true, computed: 0 });
    expect(engine.calls).toHaveLength(2);
    engine.offered = 2;
    engine.held.splice(0).forEach((release) => release());
    expect(await first).toMatchObject({ skipped: false, computed: 1, failed: 0 });
    expect(socket.take()).toMatchObject([{ type: 'update', seq: 2 }]);
  });

  it('asks the engine once per distinct subscription, and once for a subscribe that joins a running computation', async () => {
    engine.held = [];
    const a = connect();
    const b = connect({ name: 'gd', role: 'manager', regions: ['GD'] });
    a.message(subscribe);
    // A GD manager without regions resolves to GD: the same subscription, joining the computation in flight.
    b.message({ ...subscribe, regions: undefined });
    await flush();
    expect(engine.calls).toHaveLength(1);
    engine.held.splice(0).forEach((release) => release());
    engine.held = undefined;
    await flush();
    expect(a.take()).toMatchObject([{ type: 'snapshot', seq: 1 }]);
    expect(b.take()).toMatchObject([{ type: 'snapshot', seq: 1, subscription: { regions: ['GD'] } }]);
    await hub.tick();
    expect(engine.calls).toHaveLength(2);
    expect(hub.stats()).toMatchObject({ clients: 2, subscriptions: 1, computations: 2 });
  });

  it('reports a store failure once to subscribed clients and at once to waiting ones, then recovers', async () => {
    const waiting = connect();
    engine.failNext = new StoreError('Code: 210. Connection refused', 210);
    waiting.message(subscribe);
    await flush();
    expect(waiting.take()).toEqual([{ type: 'error', id: 'default', code: 'SQM_STORE_ERROR', message: 'The store did not answer; the next tick retries' }]);
    await hub.tick();
    expect(waiting.take()).toMatchObject([{ type: 'snapshot', seq: 1 }]);

    engine.failNext = new StoreError('down', 210);
    await hub.tick();
    expect(waiting.take()).toMatchObject([{ type: 'error', code: 'SQM_STORE_ERROR' }]);
    engine.failNext = new StoreError('still down', 210);
    await hub.tick();
    expect(waiting.take()).toEqual([]);
    engine.offered = 5;
    await hub.tick();
    expect(waiting.take()).toMatchObject([{ type: 'update', seq: 2, changed: [{ value: 5 }] }]);
  });

  it('drops a subscription whose answer is larger than allowed, telling its clients why', async () => {
    build({ maxValuesPerSubscription: 2 });
    const socket = connect();
    socket.message({ ...subscribe, regions: ['GD', 'BJ', 'SH'] });
    await flush();
    expect(socket.take()).toEqual([{
      type: 'error', id: 'default', code: 'SQM_BAD_REQUEST',
      message: 'this subscription has 3 values, more than the 2 allowed: ask for fewer KPIs, regions or dimensions, or a larger step',
    }]);
    expect(hub.stats().subscriptions).toBe(0);
    await hub.tick();
    expect(engine.calls).toHaveLength(1);
  });

  it('bounds subscriptions per connection and connections per hub', async () => {
    build({ maxSubscriptionsPerClient: 2, maxClients: 2 });
    const socket = connect();
    for (const id of ['a', 'b', 'c']) socket.message({ ...subscribe, id, regions: [id === 'a' ? 'GD' : id === 'b' ? 'BJ' : 'SH'] });
    await flush();
    const replies = socket.take();
    expect(replies.filter((m) => m.type === 'snapshot').map((m) => m.id)).toEqual(['a', 'b']);
    expect(replies.find((m) => m.type === 'error')).toMatchObject({ id: 'c', message: 'at most 2 subscriptions per connection: unsubscribe one first' });
    // Each new subscription costs a query at once: no more new ones than the bound until the next tick,
    // and a refused replacement keeps the subscription it would have replaced.
    socket.message({ ...subscribe, id: 'b', regions: ['SH'] });
    await flush();
    expect(socket.take()).toMatchObject([{ type: 'error', id: 'b', code: 'SQM_UNAVAILABLE', message: expect.stringMatching(/within one tick/) }]);
    engine.offered = 2;
    await hub.tick();
    expect(socket.take()).toMatchObject([{ type: 'update', id: 'a' }, { type: 'update', id: 'b' }]);
    // After a tick, replacing one keeps within the bound.
    socket.message({ ...subscribe, id: 'b', regions: ['SH'] });
    await flush();
    expect(socket.take()).toMatchObject([{ type: 'snapshot', id: 'b', subscription: { regions: ['SH'] } }]);

    connect();
    const third = new FakeSocket();
    hub.accept(third as unknown as WebSocket, ADMIN);
    expect(third.closedWith).toEqual({ code: 1013, reason: 'too many live clients; retry later' });
    expect(dropped).toEqual(['capacity']);
  });

  it('closes a client with 4008 when its unsent bytes pass the bound, and sends it nothing more', async () => {
    build({ maxBufferedBytes: 1024 });
    const slow = connect();
    slow.message(subscribe);
    await flush();
    slow.take();
    slow.bufferedAmount = 1025;
    engine.offered = 2;
    await hub.tick();
    expect(slow.take()).toEqual([]);
    expect(slow.closedWith).toEqual({ code: 4008, reason: 'client fell behind: more than 1024 bytes unsent' });
    expect(dropped).toEqual(['slow']);
    expect(hub.stats()).toMatchObject({ clients: 0, dropped: { slow: 1 } });
  });

  it('pings and beats every client, and cuts one that did not answer the last ping', () => {
    const a = connect();
    const b = connect();
    hub.heartbeat();
    expect(a.pings).toBe(1);
    expect(a.take()).toEqual([{ type: 'heartbeat', at: NOW.toISOString() }]);
    b.take();
    a.emit('pong');
    hub.heartbeat();
    expect(a.terminated).toBe(false);
    expect(a.take()).toEqual([{ type: 'heartbeat', at: NOW.toISOString() }]);
    expect(b.terminated).toBe(true);
    expect(dropped).toEqual(['heartbeat']);
  });

  it('answers a binary frame with an error and stays open', () => {
    const socket = connect();
    socket.emit('message', Buffer.from([1, 2, 3]), true);
    expect(socket.take()).toEqual([{ type: 'error', code: 'SQM_BAD_REQUEST', message: 'send JSON in text frames, not binary' }]);
    expect(socket.closedWith).toBeUndefined();
  });

  it('closes every client with 1001 when it closes', async () => {
    build({ closeGraceMs: 0 });
    const socket = connect();
    await hub.close();
    expect(socket.closedWith).toEqual({ code: 1001, reason: 'server shutting down' });
    const late = new FakeSocket();
    hub.accept(late as unknown as WebSocket, ADMIN);
    expect(late.closedWith).toEqual({ code: 1001, reason: 'server shutting down' });
  });
});
