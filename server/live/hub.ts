/**
 * The live hub: every WebSocket client of /api/v1/live, the shared
 * subscriptions they hold, the tick that recomputes them, heart-beats, and
 * alert events from the bus. See README.md in this folder for the protocol.
 *
 * Memory is bounded per client: a client whose unsent bytes exceed
 * `maxBufferedBytes` when the next message is due has fallen behind; it is sent
 * nothing more and closed with 4008. A client that misses a pong is cut.
 */
import WebSocket from 'ws';
import type { SqmConfig } from '../../config/index.js';
import { KpiRequestError, validateKpiRequest, type KpiEngine } from '../../kpi/index.js';
import type { AlertEventBus } from '../../alerts/bus.js';
import type { AlertEvent } from '../../alerts/types.js';
import { scopeRegions, type Principal } from '../auth.js';
import { ApiError, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  CLOSE_CODES, PROTOCOL_VERSION, parseClientMessage, windowBounds,
  type ClientMessage, type ServerMessage, type SubscribeMessage,
} from './protocol.js';
import { liveSettings, type LiveSettings } from './settings.js';
import { SharedSubscription, canonicalSpec, subscriptionKey, type ComputeOutcome, type SubscriptionMember } from './subscription.js';

/** What the hub reports for /metrics (server/metrics.ts implements it). */
export interface LiveHubMetrics {
  liveClientDropped(reason: 'slow' | 'heartbeat' | 'capacity'): void;
  liveTick(report: { seconds: number; computed: number; failed: number; skipped: boolean }): void;
}

export interface LiveHubDeps {
  config: SqmConfig;
  kpis: KpiEngine;
  alertBus: AlertEventBus;
  logger: Logger;
  now: () => Date;
  metrics?: LiveHubMetrics | undefined;
}

export interface TickReport {
  /** The previous tick was still running, so this one did nothing. */
  skipped: boolean;
  subscriptions: number;
  computed: number;
  failed: number;
  seconds: number;
}

export interface LiveStats {
  clients: number;
  subscriptions: number;
  /** Computations since start, over every subscription. */
  computations: number;
  dropped: { slow: number; heartbeat: number; capacity: number };
}

interface Member extends SubscriptionMember {
  readonly conn: Connection;
  readonly sub: SharedSubscription;
}

class Connection {
  readonly members = new Map<string, Member>();
  /** Saw a pong (or any message) since the last ping. */
  alive = true;
  /** Closed or closing: nothing more is sent. */
  closed = false;
  /** New shared subscriptions this client created since the last tick (each costs a query). */
  created = 0;
  readonly gone: Promise<void>;
  private markGone!: () => void;

  constructor(readonly socket: WebSocket, readonly principal: Principal) {
    this.gone = new Promise((resolve) => { this.markGone = resolve; });
  }

  onGone(): void {
    this.markGone();
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export class LiveHub {
  readonly settings: LiveSettings;
  private readonly connections = new Set<Connection>();
  private readonly subscriptions = new Map<string, SharedSubscription>();
  private readonly log: Logger;
  private readonly unsubscribeAlerts: () => void;
  private tickTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<TickReport> | undefined;
  private closing = false;
  private retiredComputations = 0;
  private readonly dropped = { slow: 0, heartbeat: 0, capacity: 0 };

  constructor(private readonly deps: LiveHubDeps) {
    this.settings = liveSettings(deps.config);
    this.log = deps.logger.child({ module: 'live' });
    this.unsubscribeAlerts = deps.alertBus.subscribe((event) => this.onAlert(event));
  }

  /** Start the tick and heartbeat timers (the app does this when it is ready). */
  start(): void {
    if (this.closing || this.tickTimer) return;
    this.tickTimer = setInterval(() => {
      this.tick().catch((error: unknown) => this.log.error({ err: error }, 'live tick failed'));
    }, this.settings.tickMs);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.settings.heartbeatMs);
    this.tickTimer.unref();
    this.heartbeatTimer.unref();
  }

  /** The bus the hub forwards alert events from (tests and the bench publish on it). */
  get alertBus(): AlertEventBus {
    return this.deps.alertBus;
  }

  stats(): LiveStats {
    let computations = this.retiredComputations;
    for (const sub of this.subscriptions.values()) computations += sub.computations;
    return { clients: this.connections.size, subscriptions: this.subscriptions.size, computations, dropped: { ...this.dropped } };
  }

  /** Take a new WebSocket client (already authenticated by the route). */
  accept(socket: WebSocket, principal: Principal): void {
    if (this.closing) {
      socket.close(CLOSE_CODES.goingAway, 'server shutting down');
      return;
    }
    if (this.connections.size >= this.settings.maxClients) {
      this.dropped.capacity++;
      this.deps.metrics?.liveClientDropped('capacity');
      socket.close(CLOSE_CODES.tryAgainLater, 'too many live clients; retry later');
      return;
    }
    const conn = new Connection(socket, principal);
    this.connections.add(conn);
    socket.on('message', (data, isBinary) => {
      conn.alive = true;
      try {
        this.onMessage(conn, data, isBinary);
      } catch (error) {
        this.log.error({ err: error }, 'live message handling failed');
        this.sendMessage(conn, { type: 'error', code: 'SQM_INTERNAL', message: 'Internal error' });
      }
    });
    socket.on('pong', () => { conn.alive = true; });
    socket.on('close', () => {
      this.detach(conn);
      conn.onGone();
    });
    this.sendMessage(conn, {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      tickMs: this.settings.tickMs,
      heartbeatMs: this.settings.heartbeatMs,
      principal: { name: principal.name, role: principal.role, regions: principal.regions },
    });
  }

  /**
   * Recompute every subscription that has members, at most `maxConcurrentQueries`
   * at once, and send what changed. A tick while the last is still running is
   * skipped, not queued: a slow store must not pile up queries.
   */
  tick(): Promise<TickReport> {
    if (this.ticking) {
      this.deps.metrics?.liveTick({ seconds: 0, computed: 0, failed: 0, skipped: true });
      return Promise.resolve({ skipped: true, subscriptions: this.subscriptions.size, computed: 0, failed: 0, seconds: 0 });
    }
    this.ticking = this.runTick().finally(() => { this.ticking = undefined; });
    return this.ticking;
  }

  private async runTick(): Promise<TickReport> {
    const start = process.hrtime.bigint();
    // Subscriptions nobody held through a whole tick go now; kept until here so a
    // client that resubscribes at once (a reconnect) finds its answer ready.
    for (const [key, sub] of this.subscriptions) {
      if (sub.members.size === 0 && !sub.computing) this.retire(key, sub);
    }
    for (const conn of this.connections) conn.created = 0;
    const active = [...this.subscriptions.values()].filter((s) => s.members.size > 0);
    const outcomes = await mapLimit(active, this.settings.maxConcurrentQueries, (sub) => this.computeOne(sub));
    const failed = outcomes.filter((o) => o !== 'ok').length;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    this.deps.metrics?.liveTick({ seconds, computed: outcomes.length, failed, skipped: false });
    return { skipped: false, subscriptions: this.subscriptions.size, computed: outcomes.length, failed, seconds };
  }

  /** Ping every client and send the app-level heartbeat; cut those that did not answer the last ping. */
  heartbeat(): void {
    const data = Buffer.from(JSON.stringify({ type: 'heartbeat', at: this.deps.now().toISOString() }));
    for (const conn of [...this.connections]) {
      // A socket already closing is on its way out; its close event cleans up.
      if (conn.closed || conn.socket.readyState !== WebSocket.OPEN) continue;
      if (!conn.alive) {
        this.drop(conn, 'heartbeat');
        continue;
      }
      conn.alive = false;
      try {
        conn.socket.ping();
      } catch {
        // A socket between states; its close event cleans up.
      }
      this.send(conn, data);
    }
  }

  /** Close every client (1001), wait for running computations, destroy sockets that do not close in time. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.unsubscribeAlerts();
    const conns = [...this.connections];
    for (const conn of conns) {
      conn.closed = true;
      conn.socket.close(CLOSE_CODES.goingAway, 'server shutting down');
    }
    await this.ticking;
    await Promise.all([...this.subscriptions.values()].map((s) => (s.computing ? s.compute() : undefined)));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.settings.closeGraceMs); });
    await Promise.race([Promise.all(conns.map((c) => c.gone)), grace]);
    clearTimeout(timer);
    for (const conn of conns) if (conn.socket.readyState !== WebSocket.CLOSED) conn.socket.terminate();
  }

  private computeOne(sub: SharedSubscription): Promise<ComputeOutcome> {
    return sub.compute().then((outcome) => {
      if (outcome === 'oversized') {
        // Every member was told why; none of them keeps it.
        for (const member of [...sub.members]) this.removeMember(member as Member);
        this.retire(sub.key, sub);
      }
      return outcome;
    });
  }

  private retire(key: string, sub: SharedSubscription): void {
    if (this.subscriptions.get(key) !== sub) return;
    this.subscriptions.delete(key);
    this.retiredComputations += sub.computations;
  }

  private onMessage(conn: Connection, data: WebSocket.RawData, isBinary: boolean): void {
    if (conn.closed) return;
    if (isBinary) {
      this.sendMessage(conn, { type: 'error', code: 'SQM_BAD_REQUEST', message: 'send JSON in text frames, not binary' });
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as Buffer).toString('utf8');
    const parsed = parseClientMessage(text);
    if (!parsed.ok) {
      this.sendMessage(conn, { type: 'error', ...parsed.error });
      return;
    }
    this.handle(conn, parsed.message);
  }

  private handle(conn: Connection, message: ClientMessage): void {
    switch (message.type) {
      case 'subscribe':
        this.subscribe(conn, message);
        return;
      case 'unsubscribe': {
        const member = conn.members.get(message.id);
        if (member) this.removeMember(member);
        // Acknowledged even when unknown: unsubscribe is idempotent, like subscribe.
        this.sendMessage(conn, { type: 'unsubscribed', id: message.id });
        return;
      }
      case 'ping':
        this.sendMessage(conn, { type: 'pong', ...(message.nonce === undefined ? {} : { nonce: message.nonce }), at: this.deps.now().toISOString() });
        return;
    }
  }

  private refuse(conn: Connection, id: string, code: ErrorCode, message: string, details?: unknown): void {
    this.sendMessage(conn, { type: 'error', id, code, message, ...(details === undefined ? {} : { details }) });
  }

  private subscribe(conn: Connection, message: SubscribeMessage): void {
    const { id } = message;
    const existing = conn.members.get(id);
    if (!existing && conn.members.size >= this.settings.maxSubscriptionsPerClient) {
      this.refuse(conn, id, 'SQM_BAD_REQUEST', `at most ${this.settings.maxSubscriptionsPerClient} subscriptions per connection: unsubscribe one first`);
      return;
    }
    // Outside the principal's scope is an error, never a silent filter (auth.ts scopeRegions).
    let scoped: readonly string[] | null;
    try {
      scoped = scopeRegions(conn.principal, message.regions);
    } catch (error) {
      if (error instanceof ApiError) {
        this.refuse(conn, id, error.code, error.message, error.details);
        return;
      }
      throw error;
    }
    const config = this.deps.config;
    const regions = scoped ?? config.regions.map((r) => r.code);
    const { from, to } = windowBounds(message.window, this.deps.now(), config.timezone);
    let valid;
    try {
      valid = validateKpiRequest({ kpis: message.kpis, from, to, regions, by: message.by, step: message.step }, config);
    } catch (error) {
      if (error instanceof KpiRequestError) {
        this.refuse(conn, id, 'SQM_BAD_REQUEST', error.message, error.details);
        return;
      }
      throw error;
    }
    const spec = canonicalSpec(valid.kpis, valid.regions, valid.by, message.window, message.step);
    const key = subscriptionKey(spec);
    if (existing?.sub.key === key) {
      // The same subscription again: a fresh snapshot, nothing else changes.
      existing.sub.join(existing);
      return;
    }
    let sub = this.subscriptions.get(key);
    // Refusals come before the old subscription of this id is let go, so a refused replacement keeps it.
    if (!sub && this.subscriptions.size >= this.settings.maxSubscriptions) {
      this.refuse(conn, id, 'SQM_UNAVAILABLE', 'the server computes as many distinct subscriptions as it may; retry later or subscribe to one that exists');
      return;
    }
    // Each new subscription costs a query at once: a connection may start only so many between two ticks.
    if (!sub && conn.created >= this.settings.maxSubscriptionsPerClient) {
      this.refuse(conn, id, 'SQM_UNAVAILABLE', 'too many new subscriptions from this connection within one tick; retry after the next tick');
      return;
    }
    if (existing) this.removeMember(existing);
    if (!sub) {
      conn.created++;
      sub = new SharedSubscription(key, spec, {
        kpis: this.deps.kpis,
        now: this.deps.now,
        timezone: config.timezone,
        maxValues: this.settings.maxValuesPerSubscription,
        logger: this.log,
      });
      this.subscriptions.set(key, sub);
    }
    const member: Member = { id, conn, sub, ready: false, send: (data) => this.send(conn, data) };
    conn.members.set(id, member);
    sub.join(member);
    // A new subscription answers at once rather than at the next tick.
    if (!sub.hasValues && !sub.computing) {
      this.computeOne(sub).catch((error: unknown) => this.log.error({ err: error }, 'live subscription failed'));
    }
  }

  private removeMember(member: Member): void {
    member.sub.leave(member);
    if (member.conn.members.get(member.id) === member) member.conn.members.delete(member.id);
  }

  /** Forget a client: it holds no subscription and gets no alert. Idempotent. */
  private detach(conn: Connection): void {
    conn.closed = true;
    for (const member of [...conn.members.values()]) this.removeMember(member);
    this.connections.delete(conn);
  }

  private drop(conn: Connection, reason: 'slow' | 'heartbeat'): void {
    if (conn.closed) return;
    this.detach(conn);
    this.dropped[reason]++;
    this.deps.metrics?.liveClientDropped(reason);
    const socket = conn.socket;
    if (reason === 'heartbeat') {
      // No pong: the peer is gone or stuck, so a close handshake would not complete.
      this.log.info({ client: conn.principal.name }, 'live client missed a heartbeat: cut');
      socket.terminate();
      return;
    }
    this.log.warn({ client: conn.principal.name, bufferedBytes: socket.bufferedAmount }, 'live client fell behind: closed');
    // The close frame queues behind what is already buffered (bounded), so a
    // client that resumes reading learns why; one that never does is destroyed.
    socket.close(CLOSE_CODES.fellBehind, `client fell behind: more than ${this.settings.maxBufferedBytes} bytes unsent`);
    setTimeout(() => {
      if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
    }, this.settings.closeGraceMs).unref();
  }

  /** Every send goes through here: a client already too far behind gets nothing more and is closed. */
  private send(conn: Connection, data: Buffer): void {
    if (conn.closed) return;
    const socket = conn.socket;
    if (socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount > this.settings.maxBufferedBytes) {
      this.drop(conn, 'slow');
      return;
    }
    socket.send(data, { binary: false });
  }

  private sendMessage(conn: Connection, message: ServerMessage): void {
    this.send(conn, Buffer.from(JSON.stringify(message)));
  }

  /** An alert event goes, serialised once, to every client holding a subscription for its region. */
  private onAlert(event: AlertEvent): void {
    const region = event.instance.labels.region;
    let data: Buffer | undefined;
    for (const conn of this.connections) {
      if (conn.closed || !this.wantsAlert(conn, region)) continue;
      data ??= Buffer.from(JSON.stringify({ type: 'alert', event }));
      this.send(conn, data);
    }
  }

  private wantsAlert(conn: Connection, region: string | undefined): boolean {
    if (conn.members.size === 0) return false;
    const scope = conn.principal.regions;
    // An alert without a region (a rule over all regions) is for those who may see all regions.
    if (region === undefined) return scope === null;
    if (scope !== null && !scope.includes(region)) return false;
    for (const member of conn.members.values()) if (member.sub.regionSet.has(region)) return true;
    return false;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The live hub, for tests and the bench to tick and heartbeat by hand. */
    liveHub: LiveHub;
  }
}
