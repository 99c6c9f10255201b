/**
 * GET /metrics: who may scrape, what the counters and gauges say after real
 * ingest and KPI work (values worked out by hand), that the KPI gauges cost one
 * query per family per refresh and none per scrape, and a real Prometheus
 * scraping the app with the bearer token and answering a query for an SQM gauge.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observeStore, type Store } from '../../store/index.js';
import { TOKENS, bearer, buildTestApp, testConfig } from '../helpers/app.js';
import { LiveTestClient } from '../helpers/live-client.js';
import { PROMETHEUS_AVAILABLE, PROMETHEUS_MISSING, startPrometheus } from '../helpers/prometheus.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const NOW = new Date('2026-11-30T10:30:00+08:00');
const METRICS_TOKEN = 'test-metrics-token-0123456789';

if (!PROMETHEUS_AVAILABLE) process.stdout.write(`[sqm tests] ${PROMETHEUS_MISSING}\n`);

function callRecord(id: string, region: string, entered: string, outcome: 'answered' | 'abandoned') {
  const enteredAt = Date.parse(entered) / 1000;
  return {
    id, region, queue: 'q1', channel: 'voice', enteredAt,
    ...(outcome === 'answered' ? { answeredAt: enteredAt + 10, talkSeconds: 60 } : {}),
    endedAt: enteredAt + (outcome === 'answered' ? 70 : 30),
    outcome,
  };
}

/** The value of one sample line (`name{labels} value`), or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

describe.each(BACKENDS)('/metrics on %s', (backend) => {
  let store: Store;
  let app: FastifyInstance;
  let target: string;
  let queries = 0;

  beforeAll(async () => {
    store = await openTestStore(backend);
    const config = testConfig({
      metrics: {
        sha256: createHash('sha256').update(METRICS_TOKEN).digest('hex'),
        // Not loopback: these tests prove the token works, and the range, separately.
        allow: ['10.9.0.0/16'],
        kpiRefreshSeconds: 86_400,
      },
      live: { tickMs: 3_600_000, heartbeatMs: 3_600_000 },
    });
    const counted = observeStore(store, (operation) => { if (operation === 'query') queries++; });
    app = await buildTestApp(counted, { config, now: () => NOW });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    target = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const scrape = async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: bearer(METRICS_TOKEN) });
    expect(res.statusCode).toBe(200);
    return res.body;
  };
  const ingestCalls = async (records: unknown[]) => {
    const res = await app.inject({
      method: 'POST', url: '/api/v1/ingest/calls', headers: { ...bearer(TOKENS.ingest), 'content-type': 'application/json' },
      payload: JSON.stringify(records),
    });
    expect(res.statusCode).toBe(200);
    return res.json() as { accepted: number; rejected: unknown[] };
  };

  it('lets in the metrics token from anywhere and an allowed range without one; refuses the rest', async () => {
    const get = (remoteAddress: string, headers: Record<string, string> = {}) =>
      app.inject({ method: 'GET', url: '/metrics', remoteAddress, headers });
    const withToken = await get('192.0.2.7', bearer(METRICS_TOKEN));
    expect(withToken.statusCode).toBe(200);
    expect(withToken.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect((await get('10.9.3.4')).statusCode).toBe(200);
    expect((await get('::ffff:10.9.3.4')).statusCode).toBe(200);
    // Loopback is not in this config's list; a token is configured, so the answer asks for it.
    const loopback = await get('127.0.0.1');
    expect(loopback.statusCode).toBe(401);
    expect(loopback.json().error.code).toBe('SQM_UNAUTHORIZED');
    // A wrong token is refused even from an allowed address, and an API token is not the metrics token.
    expect((await get('10.9.3.4', bearer('not-the-metrics-token-000'))).statusCode).toBe(401);
    expect((await get('192.0.2.7', bearer(TOKENS.admin))).statusCode).toBe(401);
    expect((await get('192.0.2.7', { authorization: 'Basic abc' })).statusCode).toBe(401);
  });

  it('counts records ingested and rejected by kind, the batch latency and the store statements', async () => {
    const before = await scrape();
    const outcome = await ingestCalls([
      callRecord('m-hi-1', 'HI', '2026-11-30T09:00:00+08:00', 'answered'),
      callRecord('m-hi-2', 'HI', '2026-11-30T09:01:00+08:00', 'answered'),
      callRecord('m-hi-3', 'HI', '2026-11-30T09:02:00+08:00', 'abandoned'),
      { ...callRecord('m-hi-4', 'HI', '2026-11-30T09:03:00+08:00', 'answered'), region: 'XX' },
    ]);
    expect(outcome.accepted).toBe(3);
    const after = await scrape();
    const delta = (series: string) => (sample(after, series) ?? 0) - (sample(before, series) ?? 0);
    expect(delta('sqm_records_ingested_total{kind="calls"}')).toBe(3);
    expect(delta('sqm_records_rejected_total{kind="calls"}')).toBe(1);
    expect(delta('sqm_records_ingested_total{kind="tickets"}')).toBe(0);
    expect(delta('sqm_ingest_batch_duration_seconds_count{kind="calls"}')).toBe(1);
    expect(delta('sqm_ingest_batches_failed_total{kind="calls"}')).toBe(0);
    // Two inserts: the accepted calls, and the rejected one into dead_letters.
    expect(delta('sqm_store_query_duration_seconds_count{operation="insert"}')).toBe(2);
    expect(sample(after, 'sqm_store_errors_total{operation="insert"}')).toBe(0);
  });

  it("sets today's KPI values per region with one query per family per refresh, none per scrape", async () => {
    await ingestCalls([
      callRecord('m-gd-1', 'GD', '2026-11-30T08:00:00+08:00', 'answered'),
      callRecord('m-gd-2', 'GD', '2026-11-30T08:10:00+08:00', 'answered'),
      callRecord('m-gd-3', 'GD', '2026-11-30T08:20:00+08:00', 'answered'),
      callRecord('m-gd-4', 'GD', '2026-11-30T08:30:00+08:00', 'abandoned'),
      callRecord('m-bj-1', 'BJ', '2026-11-30T08:40:00+08:00', 'answered'),
      // Yesterday, local time: not today.
      callRecord('m-gd-0', 'GD', '2026-11-29T23:50:00+08:00', 'abandoned'),
    ]);
    const start = queries;
    await app.kpiGauges.refresh();
    // Four KPI families (contact centre, tickets, faults, surveys): four queries for every KPI of every region.
    expect(queries - start).toBe(4);
    const text = await scrape();
    await scrape();
    await scrape();
    expect(queries - start).toBe(4);
    // GD: 3 of 4 answered today; BJ 1 of 1.
    expect(sample(text, 'sqm_kpi_value{kpi="answer_rate",region="GD"}')).toBe(0.75);
    expect(sample(text, 'sqm_kpi_value{kpi="offered",region="GD"}')).toBe(4);
    expect(sample(text, 'sqm_kpi_value{kpi="answer_rate",region="BJ"}')).toBe(1);
    // Counts are 0 where nothing happened; a ratio without a denominator is absent, not 0.
    expect(sample(text, 'sqm_kpi_value{kpi="offered",region="XZ"}')).toBe(0);
    expect(sample(text, 'sqm_kpi_value{kpi="answer_rate",region="XZ"}')).toBeUndefined();
    expect(sample(text, 'sqm_kpi_value{kpi="csat",region="GD"}')).toBeUndefined();
    expect(sample(text, 'sqm_kpi_refresh_timestamp_seconds')).toBe(NOW.getTime() / 1000);
  });

  it('reports live clients, alert evaluations, instances by state and notifications by channel', async () => {
    const client = await LiveTestClient.connect(`ws://${target}/api/v1/live`, TOKENS.viewer);
    try {
      expect(sample(await scrape(), 'sqm_live_clients')).toBe(1);
    } finally {
      await client.close();
    }
    const before = await scrape();
    expect(sample(before, 'sqm_live_dropped_clients_total{reason="slow"}')).toBe(0);
    expect(sample(before, 'sqm_alert_instances{state="firing"}')).toBe(0);

    app.sqmMetrics.alertEvaluated('kpi', 0.02, 'ok');
    app.sqmMetrics.alertEvaluated('kpi', 0.5, 'error');
    app.sqmMetrics.alertEvaluated('sla', 0.01, 'ok');
    app.sqmMetrics.setAlertInstances({ firing: 2, pending: 1 });
    app.sqmMetrics.notificationSent('email');
    app.sqmMetrics.notificationSent('email');
    app.sqmMetrics.notificationFailed('webhook');
    const after = await scrape();
    const delta = (series: string) => (sample(after, series) ?? 0) - (sample(before, series) ?? 0);
    expect(delta('sqm_alert_evaluations_total{rule_kind="kpi"}')).toBe(2);
    expect(delta('sqm_alert_evaluations_total{rule_kind="sla"}')).toBe(1);
    expect(delta('sqm_alert_evaluation_errors_total{rule_kind="kpi"}')).toBe(1);
    expect(delta('sqm_alert_evaluation_duration_seconds_count{rule_kind="kpi"}')).toBe(2);
    expect(sample(after, 'sqm_alert_instances{state="firing"}')).toBe(2);
    expect(sample(after, 'sqm_alert_instances{state="pending"}')).toBe(1);
    expect(sample(after, 'sqm_alert_instances{state="ok"}')).toBe(0);
    expect(delta('sqm_notifications_sent_total{channel="email"}')).toBe(2);
    expect(delta('sqm_notifications_failed_total{channel="webhook"}')).toBe(1);
    // Process metrics under their usual names.
    expect(sample(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(after).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it.skipIf(!PROMETHEUS_AVAILABLE)('is scraped by a real Prometheus with the bearer token, which answers for an SQM gauge', async () => {
    await ingestCalls([
      callRecord('m-fj-1', 'FJ', '2026-11-30T07:00:00+08:00', 'answered'),
      callRecord('m-fj-2', 'FJ', '2026-11-30T07:10:00+08:00', 'abandoned'),
    ]);
    await app.kpiGauges.refresh();
    const prometheus = await startPrometheus({ target, bearerToken: METRICS_TOKEN });
    try {
      const [gauge] = await prometheus.waitFor('sqm_kpi_value{kpi="answer_rate",region="FJ"}');
      expect(gauge!.metric).toMatchObject({ __name__: 'sqm_kpi_value', kpi: 'answer_rate', region: 'FJ', job: 'sqm', instance: target });
      expect(gauge!.value[1]).toBe('0.5');
      const [up] = await prometheus.query('up{job="sqm"}');
      expect(up!.value[1]).toBe('1');
    } finally {
      await prometheus.stop();
    }
  });

  it('is not served when metrics are disabled', async () => {
    const off = await buildTestApp(store, { config: testConfig({ metrics: { enabled: false } }), now: () => NOW });
    try {
      const res = await off.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.message).toMatch(/disabled/);
    } finally {
      await off.close();
    }
  });
});
