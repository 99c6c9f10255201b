/**
 * The wallboard's live data, behind one small store interface
 * (`subscribe`, `start`, `stop`): the view never knows how data arrives.
 *
 * Two transports, one published state:
 * - **live** (server/live/README.md, protocol 1): a WebSocket to
 *   /api/v1/live with five subscriptions (the last 15 minutes by region,
 *   today by region, open faults by region and severity, and the day's
 *   sparklines in 15-minute steps); a snapshot each, then only changes.
 *   Browsers cannot put a bearer token on a WebSocket, so it needs a session
 *   cookie (a password login, or a display token exchanged at
 *   /api/v1/auth/display).
 * - **polling**: GET /api/v1/kpis once a second (the same three live
 *   requests on minute-aligned windows), sparklines once a minute. Used with
 *   a bearer token, and while the live stream is down (it is retried with
 *   back-off, and polling stops once it is back).
 * The alert ticker reads GET /api/v1/alerts every five seconds; live alert
 * events update it at once in between.
 *
 * When updates fail the last good data stays on screen and `staleSince` says
 * since when it is old; the next good update clears it (no reload).
 */
import { isNotAvailable, type ApiClient } from './api.js';
import { observable, type Readable } from './observable.js';
import { ceilMinute, startOfDay } from './time-zone.js';
import type { AlertInstance, KpiPoint, KpiResponse, KpiSeries } from './types.js';
import { ROLLING_MINUTES, sourceKpis, type WallboardData } from './wallboard.js';

export interface WallboardFeedState extends WallboardData {
  /** When the data was last known to be current (a good poll, or any message on the live stream). */
  updatedAt: Date | null;
  /** Set while updates fail: the time of the last good update (or of the first failure, if none ever succeeded). */
  staleSince: Date | null;
  /** Why the last update failed. */
  error: string | null;
  alerts: AlertInstance[];
  /** null: not asked yet; false: this server has no alerts API (404). */
  alertsAvailable: boolean | null;
  transport: 'live' | 'polling';
}

/** The part of a browser WebSocket the feed uses (tests pass a fake). */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface WallboardFeedOptions {
  api: Pick<ApiClient, 'kpis' | 'alerts'>;
  timeZone: string;
  /** Regions to show; null = every region in the caller's scope. */
  regions: readonly string[] | null;
  /** Opens the live stream; absent: poll only. */
  connect?: (() => SocketLike) | undefined;
  now?: () => Date;
  tickMs?: number;
  sparkEveryMs?: number;
  alertsEveryMs?: number;
  /** Delay before the n-th reconnection attempt (n from 1). */
  reconnectDelayMs?: (attempt: number) => number;
  /** Timers (tests pass their own). */
  timers?: {
    setTimeout(fn: () => void, ms: number): unknown;
    clearTimeout(handle: unknown): void;
    setInterval(fn: () => void, ms: number): unknown;
    clearInterval(handle: unknown): void;
  };
}

export interface WallboardFeed extends Readable<WallboardFeedState> {
  start(): void;
  stop(): void;
  /** One polling update now (the timer calls it; tests call it with a controlled clock). */
  tick(): Promise<void>;
}

export function emptyFeedState(): WallboardFeedState {
  return {
    rolling: null, today: null, faults: null, day: null, dayFaults: null,
    updatedAt: null, staleSince: null, error: null, alerts: [], alertsAvailable: null, transport: 'polling',
  };
}

const ACTIVE_ALERT_STATES = new Set(['firing', 'pending']);

/** Back-off after a lost or refused live stream: 1 s, 2 s, 4 s … up to 30 s (server/live/README.md). */
export function defaultReconnectDelay(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1));
}

// ---- the live stream's values, kept per subscription ----

/** A value on the live stream (server/live/protocol.ts `LiveValue`). */
export interface LiveValue {
  kpi: string;
  labels: Record<string, string>;
  t?: string;
  value: number | null;
  numerator: number;
  denominator: number;
}

type LiveKey = Pick<LiveValue, 'kpi' | 'labels' | 't'>;

const valueKey = (v: LiveKey) => JSON.stringify([v.kpi, Object.entries(v.labels).sort(), v.t ?? null]);

/** The subscriptions the wallboard holds on the live stream, named after the parts of WallboardData they fill. */
export const LIVE_SUBSCRIPTIONS = ['rolling', 'today', 'faults', 'day', 'dayFaults'] as const;
type LiveId = (typeof LIVE_SUBSCRIPTIONS)[number];

export function liveSubscribeMessages(regions: readonly string[] | null): object[] {
  const scope = regions && regions.length > 0 ? { regions: [...regions] } : {};
  const dayKpis = [...sourceKpis('rolling'), ...sourceKpis('today')];
  return [
    { type: 'subscribe', id: 'rolling', kpis: sourceKpis('rolling'), by: ['region'], window: `last ${ROLLING_MINUTES}m`, ...scope },
    { type: 'subscribe', id: 'today', kpis: sourceKpis('today'), by: ['region'], window: 'today', ...scope },
    { type: 'subscribe', id: 'faults', kpis: sourceKpis('faults'), by: ['region', 'severity'], window: 'last 1m', ...scope },
    { type: 'subscribe', id: 'day', kpis: dayKpis, window: 'today', step: '15m', ...scope },
    { type: 'subscribe', id: 'dayFaults', kpis: sourceKpis('faults'), by: ['severity'], window: 'today', step: '15m', ...scope },
  ];
}

/** A subscription's values in the KPI API's response shape: one series per KPI and label set, points in time order. */
export function liveResponse(values: Iterable<LiveValue>, window: { from: string; to: string }): KpiResponse {
  const series = new Map<string, KpiSeries>();
  for (const v of values) {
    const key = JSON.stringify([v.kpi, Object.entries(v.labels).sort()]);
    let s = series.get(key);
    if (!s) series.set(key, (s = { kpi: v.kpi, labels: v.labels, points: [] }));
    const point: KpiPoint = { t: v.t ?? window.from, value: v.value, numerator: v.numerator, denominator: v.denominator };
    s.points.push(point);
  }
  for (const s of series.values()) s.points.sort((a, b) => a.t.localeCompare(b.t));
  return { from: window.from, to: window.to, series: [...series.values()] };
}

export function createWallboardFeed(options: WallboardFeedOptions): WallboardFeed {
  const now = options.now ?? (() => new Date());
  const tickMs = options.tickMs ?? 1000;
  const sparkEveryMs = options.sparkEveryMs ?? 60_000;
  const alertsEveryMs = options.alertsEveryMs ?? 5_000;
  const reconnectDelay = options.reconnectDelayMs ?? defaultReconnectDelay;
  const timers = options.timers ?? {
    setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
    clearTimeout: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
    setInterval: (fn: () => void, ms: number) => setInterval(fn, ms),
    clearInterval: (h: unknown) => clearInterval(h as ReturnType<typeof setInterval>),
  };
  const state = observable<WallboardFeedState>(emptyFeedState());
  const regions = options.regions && options.regions.length > 0 ? options.regions : undefined;
  let started = false;
  let timer: unknown;
  // Poll from the start: the first screen fills at once, and the live stream's first snapshot takes over.
  let polling = true;
  let running = false;
  let lastSpark = -Infinity;
  let sparkDay = '';
  let lastAlerts = -Infinity;

  // Live stream state.
  let socket: SocketLike | null = null;
  let live = false;
  let attempts = 0;
  let reconnectTimer: unknown;
  let lastMessageAt = 0;
  let heartbeatMs = 15_000;
  const liveValues = new Map<LiveId, { window: { from: string; to: string }; values: Map<string, LiveValue> }>();

  async function updateSparklines(at: Date, to: Date): Promise<void> {
    const from = startOfDay(at, options.timeZone);
    const [day, dayFaults] = await Promise.all([
      options.api.kpis({ kpis: [...sourceKpis('rolling'), ...sourceKpis('today')], from, to, step: '15m', ...(regions ? { regions } : {}) }),
      options.api.kpis({ kpis: sourceKpis('faults'), from, to, by: ['severity'], step: '15m', ...(regions ? { regions } : {}) }),
    ]);
    state.update((s) => ({ ...s, day, dayFaults }));
  }

  async function updateAlerts(): Promise<void> {
    try {
      const alerts = (await options.api.alerts({ state: 'firing' })).filter((a) => ACTIVE_ALERT_STATES.has(a.state));
      alerts.sort((a, b) => (b.firingSince ?? b.since).localeCompare(a.firingSince ?? a.since));
      state.update((s) => ({ ...s, alerts, alertsAvailable: true }));
    } catch (error) {
      // No alerts API on this server: an empty ticker, not an error on the wall.
      if (isNotAvailable(error)) state.update((s) => ({ ...s, alerts: [], alertsAvailable: false }));
    }
  }

  async function poll(at: Date): Promise<void> {
    const to = ceilMinute(at);
    try {
      const scope = regions ? { regions } : {};
      const [rolling, today, faults] = await Promise.all([
        options.api.kpis({ kpis: sourceKpis('rolling'), from: new Date(to.getTime() - ROLLING_MINUTES * 60_000), to, by: ['region'], ...scope }),
        options.api.kpis({ kpis: sourceKpis('today'), from: startOfDay(at, options.timeZone), to, by: ['region'], ...scope }),
        options.api.kpis({ kpis: sourceKpis('faults'), from: new Date(to.getTime() - 60_000), to, by: ['region', 'severity'], ...scope }),
      ]);
      if (live) return; // the live stream came back meanwhile: its data is newer
      const dayKey = startOfDay(at, options.timeZone).toISOString();
      const sparkDue = at.getTime() - lastSpark >= sparkEveryMs || dayKey !== sparkDay;
      state.update((s) => ({ ...s, rolling, today, faults, updatedAt: at, staleSince: null, error: null }));
      if (sparkDue) {
        await updateSparklines(at, to);
        lastSpark = at.getTime();
        sparkDay = dayKey;
      }
    } catch (error) {
      markStale(at, error);
    }
  }

  function markStale(at: Date, error: unknown): void {
    state.update((s) => ({ ...s, staleSince: s.staleSince ?? s.updatedAt ?? at, error: error instanceof Error ? error.message : String(error) }));
  }

  async function tick(): Promise<void> {
    // One update at a time: a slow server skips ticks rather than piling requests up.
    if (running) return;
    running = true;
    const at = now();
    try {
      if (live) {
        // A live stream that has gone quiet past its heart-beat is dead, whatever TCP says.
        if (at.getTime() - lastMessageAt > 2 * heartbeatMs + tickMs) dropSocket('no heart-beat from the live stream');
      } else if (polling) {
        await poll(at);
      }
    } finally {
      running = false;
    }
    const alertsEvery = state.get().alertsAvailable === false ? alertsEveryMs * 12 : alertsEveryMs;
    if (at.getTime() - lastAlerts >= alertsEvery) {
      lastAlerts = at.getTime();
      await updateAlerts();
    }
  }

  // ---- live stream ----

  function publishLive(): void {
    const response = (id: LiveId) => {
      const sub = liveValues.get(id);
      return sub ? liveResponse(sub.values.values(), sub.window) : null;
    };
    const at = now();
    state.update((s) => ({
      ...s,
      rolling: response('rolling') ?? s.rolling,
      today: response('today') ?? s.today,
      faults: response('faults') ?? s.faults,
      day: response('day') ?? s.day,
      dayFaults: response('dayFaults') ?? s.dayFaults,
      updatedAt: at, staleSince: null, error: null, transport: 'live',
    }));
  }

  function onMessage(text: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    lastMessageAt = now().getTime();
    const id = message.id as LiveId | undefined;
    switch (message.type) {
      case 'hello':
        if (typeof message.heartbeatMs === 'number' && message.heartbeatMs > 0) heartbeatMs = message.heartbeatMs;
        return;
      case 'snapshot': {
        if (!id || !LIVE_SUBSCRIPTIONS.includes(id)) return;
        const values = new Map((message.values as LiveValue[]).map((v) => [valueKey(v), v]));
        liveValues.set(id, { window: message.window as { from: string; to: string }, values });
        if (!live) {
          // Back on the live stream: polling stops.
          live = true;
          polling = false;
          attempts = 0;
        }
        publishLive();
        return;
      }
      case 'update': {
        const sub = id ? liveValues.get(id) : undefined;
        if (!sub) return;
        sub.window = message.window as { from: string; to: string };
        for (const key of (message.removed as LiveKey[]) ?? []) sub.values.delete(valueKey(key));
        for (const value of (message.changed as LiveValue[]) ?? []) sub.values.set(valueKey(value), value);
        publishLive();
        return;
      }
      case 'heartbeat':
        if (live) state.update((s) => ({ ...s, updatedAt: now(), staleSince: null }));
        return;
      case 'alert': {
        const event = message.event as { type: string; instance: AlertInstance } | undefined;
        if (!event?.instance) return;
        state.update((s) => {
          const others = s.alerts.filter((a) => a.id !== event.instance.id);
          const alerts = event.type === 'resolved' || !ACTIVE_ALERT_STATES.has(event.instance.state) ? others : [event.instance, ...others];
          return { ...s, alerts, alertsAvailable: true };
        });
        return;
      }
      case 'error':
        state.update((s) => ({ ...s, error: String(message.message ?? message.code ?? 'live stream error') }));
        return;
      default:
        return;
    }
  }

  function dropSocket(reason: string): void {
    const old = socket;
    socket = null;
    if (old) {
      old.onopen = old.onmessage = old.onclose = old.onerror = null;
      try {
        old.close();
      } catch {
        // Already closed.
      }
    }
    const wasLive = live;
    live = false;
    liveValues.clear();
    if (!started) return;
    if (wasLive) markStale(now(), new Error(reason));
    // Keep the wall fed over HTTP while the stream is down, and try the stream again later.
    polling = true;
    state.update((s) => ({ ...s, transport: 'polling' }));
    attempts++;
    reconnectTimer = timers.setTimeout(openSocket, reconnectDelay(attempts));
  }

  function openSocket(): void {
    reconnectTimer = undefined;
    if (!started || !options.connect) return;
    let ws: SocketLike;
    try {
      ws = options.connect();
    } catch (error) {
      dropSocket(error instanceof Error ? error.message : String(error));
      return;
    }
    socket = ws;
    ws.onopen = () => {
      lastMessageAt = now().getTime();
      for (const message of liveSubscribeMessages(options.regions)) ws.send(JSON.stringify(message));
    };
    ws.onmessage = (event) => onMessage(typeof event.data === 'string' ? event.data : String(event.data));
    ws.onclose = () => dropSocket('the live stream closed');
    ws.onerror = () => dropSocket('the live stream failed');
  }

  return {
    subscribe: state.subscribe,
    tick,
    start() {
      if (started) return;
      started = true;
      if (options.connect) openSocket();
      void tick();
      timer = timers.setInterval(() => void tick(), tickMs);
    },
    stop() {
      started = false;
      if (timer !== undefined) timers.clearInterval(timer);
      if (reconnectTimer !== undefined) timers.clearTimeout(reconnectTimer);
      timer = reconnectTimer = undefined;
      dropSocket('stopped');
    },
  };
}
