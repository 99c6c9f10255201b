/**
 * SQM's Prometheus metrics, in a registry of its own (not prom-client's
 * global one), so two apps in one process (tests, the demo) never share or
 * double-register a metric.
 *
 * Parts of the system report through small methods with clear names:
 * - the collector: `batchStored` / `batchFailed` (collector/index.ts `CollectorMetrics`);
 * - the store: `storeOperation` (store/observed.ts `StoreObserver`);
 * - the ingest spool: its backlog, read at scrape time (`bindSpool`);
 * - the live hub: `liveClientDropped`, `liveTick`, and its counts read at scrape time (`bindLive`);
 * - the KPI gauges: `setKpiValues`, fed by `createKpiGaugeRefresher` on an interval;
 * - the alert engine: `alertEvaluated`, `setAlertInstances`;
 * - the notification pipeline: `notificationSent`, `notificationFailed`.
 * The alert and notification metrics are registered from the start (at 0), so
 * dashboards and alerting rules can be written before the first evaluation.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RECORD_KINDS, type SpoolStats } from '../collector/index.js';
import type { SqmConfig } from '../config/index.js';
import { KPI_IDS, startOfLocalDay, type KpiEngine, type KpiResponse } from '../kpi/index.js';
import type { StoreOperation } from '../store/index.js';
import type { Logger } from './logger.js';

/** The defaults of config `metrics:` (config/default.yaml lists them too). */
export const METRICS_DEFAULTS = {
  enabled: true,
  /** Loopback only: a Prometheus elsewhere needs the token or an explicit range. */
  allow: ['127.0.0.1/32', '::1/128'] as readonly string[],
  kpiRefreshSeconds: 15,
};

export interface MetricsSettings {
  enabled: boolean;
  allow: readonly string[];
  sha256: string | undefined;
  tokenEnv: string | undefined;
  kpiRefreshSeconds: number;
}

export function metricsSettings(config: SqmConfig): MetricsSettings {
  const m = config.metrics ?? {};
  return {
    enabled: m.enabled ?? METRICS_DEFAULTS.enabled,
    allow: m.allow ?? METRICS_DEFAULTS.allow,
    sha256: m.sha256,
    tokenEnv: m.tokenEnv,
    kpiRefreshSeconds: m.kpiRefreshSeconds ?? METRICS_DEFAULTS.kpiRefreshSeconds,
  };
}

/** Alert instance states, each reported (0 when there are none) so a dashboard never sees a gap. */
export const ALERT_INSTANCE_STATES = ['ok', 'pending', 'firing', 'resolved'] as const;
export type AlertInstanceStateName = (typeof ALERT_INSTANCE_STATES)[number];

export interface LiveCounts {
  clients: number;
  subscriptions: number;
}

export interface SqmMetrics {
  readonly registry: Registry;
  /** The Prometheus text format, for GET /metrics. */
  render(): Promise<string>;
  readonly contentType: string;

  // Collector (collector/index.ts CollectorMetrics).
  batchStored(kind: string, accepted: number, rejected: number, seconds: number): void;
  batchFailed(kind: string, seconds: number): void;

  // Store (store/observed.ts StoreObserver).
  storeOperation(operation: StoreOperation, seconds: number, ok: boolean): void;

  // Live hub.
  /** Read the hub's client and subscription counts at every scrape. */
  bindLive(counts: () => LiveCounts): void;
  /** The ingest spool's backlog, read at scrape time. */
  bindSpool(stats: () => SpoolStats): void;
  /** A live client was closed by the server: `slow` (fell behind), `heartbeat` (no pong), `capacity` (refused). */
  liveClientDropped(reason: 'slow' | 'heartbeat' | 'capacity'): void;
  /** One tick: how long its computations took, how many ran and failed; `skipped` when the previous tick was still running. */
  liveTick(report: { seconds: number; computed: number; failed: number; skipped: boolean }): void;

  // KPI gauges.
  /** Replace every sqm_kpi_value gauge with the values of a response cut by region (null values are left out). */
  setKpiValues(response: KpiResponse, at: Date): void;
  kpiRefreshFailed(): void;

  // Alert engine (to be called by alerts/).
  /** One rule evaluated: its kind (`kpi`, `sla`, `burn_rate`), how long it took, and whether it failed. */
  alertEvaluated(ruleKind: string, seconds: number, outcome: 'ok' | 'error'): void;
  /** How many alert instances are in each state now (states left out count 0). */
  setAlertInstances(counts: Partial<Record<AlertInstanceStateName, number>>): void;

  // Notification pipeline (to be called by alerts/notifiers).
  /** A notification was delivered on a channel (`email`, `webhook`, `wecom`, `dingtalk`, `alertmanager`, `dashboard`…). */
  notificationSent(channel: string): void;
  /** A notification failed on a channel (after its retries, or on each failed attempt: the caller says which in its docs). */
  notificationFailed(channel: string): void;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createSqmMetrics(): SqmMetrics {
  const registry = new Registry();
  const registers = [registry];
  // Process metrics (CPU, memory, event loop lag, GC, file descriptors) under their usual names.
  collectDefaultMetrics({ register: registry });

  const recordsIngested = new Counter({
    name: 'sqm_records_ingested_total', help: 'Records accepted (durable in the spool), by kind.', labelNames: ['kind'] as const, registers,
  });
  const recordsRejected = new Counter({
    name: 'sqm_records_rejected_total', help: 'Records rejected by validation (kept in dead_letters), by kind.', labelNames: ['kind'] as const, registers,
  });
  const batchesFailed = new Counter({
    name: 'sqm_ingest_batches_failed_total', help: 'Ingest calls that kept nothing (spool over its quota or unwritable), by kind.', labelNames: ['kind'] as const, registers,
  });
  const batchSeconds = new Histogram({
    name: 'sqm_ingest_batch_duration_seconds', help: 'Time from receiving an ingest batch to answering it (synced to the spool; stored too while the store is healthy), by kind.',
    labelNames: ['kind'] as const, buckets: LATENCY_BUCKETS, registers,
  });
  const storeSeconds = new Histogram({
    name: 'sqm_store_query_duration_seconds', help: 'Store statement latency, by operation (query, command, insert).',
    labelNames: ['operation'] as const, buckets: LATENCY_BUCKETS, registers,
  });
  const storeErrors = new Counter({
    name: 'sqm_store_errors_total', help: 'Store statements that failed, by operation.', labelNames: ['operation'] as const, registers,
  });

  // Every label value known in advance starts at 0, so rate() and absent() work from the first scrape.
  for (const kind of RECORD_KINDS) {
    recordsIngested.inc({ kind }, 0);
    recordsRejected.inc({ kind }, 0);
    batchesFailed.inc({ kind }, 0);
  }
  for (const operation of ['query', 'command', 'insert'] as const) storeErrors.inc({ operation }, 0);

  let liveCounts: () => LiveCounts = () => ({ clients: 0, subscriptions: 0 });

  // The ingest spool's backlog, read at scrape time (bindSpool).
  let spoolStats: (() => SpoolStats) | undefined;
  // Gauges and totals alike are read from the spool's own counters at scrape time.
  const spoolMetrics: [name: string, help: string, read: (stats: SpoolStats) => number, kind: typeof Gauge | typeof Counter][] = [
    ['sqm_ingest_spool_records', 'Records accepted (durable on disk) but not yet in the store.', (st) => st.records, Gauge],
    ['sqm_ingest_spool_bytes', 'Bytes of spool entries not yet in the store.', (st) => st.bytes, Gauge],
    ['sqm_ingest_spool_quota_bytes', 'The spool quota (ingest.spool.maxBytes); beyond it ingest answers 503.', (st) => st.maxBytes, Gauge],
    ['sqm_ingest_spool_oldest_seconds', 'Age of the oldest record not yet in the store.', (st) => st.oldestSeconds, Gauge],
    ['sqm_ingest_spool_store_failing', '1 while the last attempt to store spooled records failed (the drainer backs off and retries).', (st) => (st.storeFailing ? 1 : 0), Gauge],
    ['sqm_ingest_spool_drain_failures_total', 'Attempts to store spooled records that failed.', (st) => st.drainFailures, Counter],
    ['sqm_ingest_spool_refused_total', 'Ingest calls refused because the spool was over its quota.', (st) => st.refusedAppends, Counter],
  ];
  for (const [name, help, read, Kind] of spoolMetrics) {
    if (Kind === Gauge) {
      new Gauge({ name, help, registers, collect() { const st = spoolStats?.(); this.set(st ? read(st) : 0); } });
    } else {
      new Counter({ name, help, registers, collect() { const st = spoolStats?.(); this.reset(); this.inc(st ? read(st) : 0); } });
    }
  }
  new Gauge({
    name: 'sqm_live_clients', help: 'Live WebSocket clients connected now.', registers,
    collect() { this.set(liveCounts().clients); },
  });
  new Gauge({
    name: 'sqm_live_subscriptions', help: 'Distinct live subscriptions computed each tick (clients asking the same thing share one).', registers,
    collect() { this.set(liveCounts().subscriptions); },
  });
  const liveDropped = new Counter({
    name: 'sqm_live_dropped_clients_total', help: 'Live clients closed by the server, by reason (slow, heartbeat, capacity).',
    labelNames: ['reason'] as const, registers,
  });
  const liveTickSeconds = new Histogram({
    name: 'sqm_live_tick_duration_seconds', help: 'Time to compute every live subscription and send the changes, per tick.',
    buckets: LATENCY_BUCKETS, registers,
  });
  const liveComputations = new Counter({
    name: 'sqm_live_computations_total', help: 'Live subscription computations (one KPI query each), by outcome.',
    labelNames: ['outcome'] as const, registers,
  });
  const liveTicksSkipped = new Counter({
    name: 'sqm_live_ticks_skipped_total', help: 'Ticks not started because the previous one was still running.', registers,
  });
  for (const reason of ['slow', 'heartbeat', 'capacity'] as const) liveDropped.inc({ reason }, 0);
  for (const outcome of ['ok', 'error'] as const) liveComputations.inc({ outcome }, 0);

  const kpiValue = new Gauge({
    name: 'sqm_kpi_value', help: "Today's value of each KPI per region (local day in the configured time zone).",
    labelNames: ['kpi', 'region'] as const, registers,
  });
  const kpiRefreshed = new Gauge({
    name: 'sqm_kpi_refresh_timestamp_seconds', help: 'When the sqm_kpi_value gauges were last computed (Unix time).', registers,
  });
  const kpiRefreshErrors = new Counter({
    name: 'sqm_kpi_refresh_errors_total', help: 'Failed refreshes of the sqm_kpi_value gauges.', registers,
  });

  const alertEvaluations = new Counter({
    name: 'sqm_alert_evaluations_total', help: 'Alert rule evaluations, by rule kind.', labelNames: ['rule_kind'] as const, registers,
  });
  const alertEvaluationErrors = new Counter({
    name: 'sqm_alert_evaluation_errors_total', help: 'Alert rule evaluations that failed, by rule kind.', labelNames: ['rule_kind'] as const, registers,
  });
  const alertEvaluationSeconds = new Histogram({
    name: 'sqm_alert_evaluation_duration_seconds', help: 'Time to evaluate one alert rule, by rule kind.',
    labelNames: ['rule_kind'] as const, buckets: LATENCY_BUCKETS, registers,
  });
  const alertInstances = new Gauge({
    name: 'sqm_alert_instances', help: 'Alert instances by state.', labelNames: ['state'] as const, registers,
  });
  for (const state of ALERT_INSTANCE_STATES) alertInstances.set({ state }, 0);
  const notificationsSent = new Counter({
    name: 'sqm_notifications_sent_total', help: 'Notifications delivered, by channel.', labelNames: ['channel'] as const, registers,
  });
  const notificationsFailed = new Counter({
    name: 'sqm_notifications_failed_total', help: 'Notifications that failed, by channel.', labelNames: ['channel'] as const, registers,
  });

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),

    batchStored(kind, accepted, rejected, seconds) {
      recordsIngested.inc({ kind }, accepted);
      recordsRejected.inc({ kind }, rejected);
      batchSeconds.observe({ kind }, seconds);
    },
    batchFailed(kind, seconds) {
      batchesFailed.inc({ kind });
      batchSeconds.observe({ kind }, seconds);
    },

    storeOperation(operation, seconds, ok) {
      storeSeconds.observe({ operation }, seconds);
      if (!ok) storeErrors.inc({ operation });
    },

    bindSpool(stats) {
      spoolStats = stats;
    },
    bindLive(counts) {
      liveCounts = counts;
    },
    liveClientDropped(reason) {
      liveDropped.inc({ reason });
    },
    liveTick({ seconds, computed, failed, skipped }) {
      if (skipped) {
        liveTicksSkipped.inc();
        return;
      }
      liveTickSeconds.observe(seconds);
      liveComputations.inc({ outcome: 'ok' }, computed - failed);
      liveComputations.inc({ outcome: 'error' }, failed);
    },

    setKpiValues(response, at) {
      // Reset and refill in one synchronous step, so a scrape never sees half a refresh
      // and a region whose value became null drops out instead of keeping a stale number.
      kpiValue.reset();
      for (const series of response.series) {
        const region = series.labels.region;
        const value = series.points[0]?.value;
        if (region === undefined || value === null || value === undefined) continue;
        kpiValue.set({ kpi: series.kpi, region }, value);
      }
      kpiRefreshed.set(at.getTime() / 1000);
    },
    kpiRefreshFailed() {
      kpiRefreshErrors.inc();
    },

    alertEvaluated(ruleKind, seconds, outcome) {
      alertEvaluations.inc({ rule_kind: ruleKind });
      alertEvaluationSeconds.observe({ rule_kind: ruleKind }, seconds);
      if (outcome === 'error') alertEvaluationErrors.inc({ rule_kind: ruleKind });
    },
    setAlertInstances(counts) {
      for (const state of ALERT_INSTANCE_STATES) alertInstances.set({ state }, counts[state] ?? 0);
    },

    notificationSent(channel) {
      notificationsSent.inc({ channel });
    },
    notificationFailed(channel) {
      notificationsFailed.inc({ channel });
    },
  };
}

export interface KpiGaugeRefresherDeps {
  kpis: KpiEngine;
  config: SqmConfig;
  metrics: SqmMetrics;
  logger: Logger;
  now: () => Date;
  intervalSeconds: number;
}

export interface KpiGaugeRefresher {
  /** Compute today's value of every KPI per region (one query per KPI family) and set the gauges. */
  refresh(): Promise<void>;
  start(): void;
  /** Stop the interval and wait for a refresh in flight, so nothing queries a closing store. */
  stop(): Promise<void>;
}

/**
 * Keeps sqm_kpi_value current on an interval rather than per scrape: however
 * many Prometheus servers scrape however often, the store sees one KPI query
 * per family per interval.
 */
export function createKpiGaugeRefresher(deps: KpiGaugeRefresherDeps): KpiGaugeRefresher {
  const log = deps.logger.child({ module: 'metrics' });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function run(): Promise<void> {
    const now = deps.now();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    try {
      const response = await deps.kpis.query({
        kpis: [...KPI_IDS],
        // Today: from local midnight up to and including the current second.
        from: new Date(startOfLocalDay(nowSeconds, deps.config.timezone) * 1000),
        to: new Date((nowSeconds + 1) * 1000),
        regions: null,
        by: ['region'],
      });
      deps.metrics.setKpiValues(response, now);
    } catch (error) {
      deps.metrics.kpiRefreshFailed();
      log.warn({ err: error }, 'KPI gauge refresh failed');
    }
  }

  const refresher: KpiGaugeRefresher = {
    refresh() {
      // A refresh still running is joined, not doubled.
      running ??= run().finally(() => { running = undefined; });
      return running;
    },
    start() {
      if (timer) return;
      timer = setInterval(() => void refresher.refresh(), deps.intervalSeconds * 1000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
  return refresher;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's metrics (its own registry). */
    sqmMetrics: SqmMetrics;
    /** The sqm_kpi_value refresher, for tests to refresh by hand. */
    kpiGauges: KpiGaugeRefresher;
  }
}
