/**
 * The alert engine end to end over the real store, on every backend: records
 * sent through the ingest API push GD below the threshold and fire exactly one
 * alert (for GD, none for the others); records that bring it back resolve it;
 * the notifier sees exactly those events; a silenced instance's events carry
 * silencedBy; edits keep instances and deletes resolve them; a failing rule
 * does not stop the others; a restarted engine goes on without re-sending.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertEngine, createRecordingNotifier, instanceId, type AlertEngine, type RecordingNotifier } from '../../alerts/index.js';
import type { SqmConfig } from '../../config/index.js';
import { createKpiEngine, type KpiEngine } from '../../kpi/index.js';
import { createLogger } from '../../server/logger.js';
import { sql, type Store } from '../../store/index.js';
import { TOKENS, bearer, buildTestApp, testConfig } from '../helpers/app.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

// 2026-11-30 10:15 in Beijing. Calls go in between 10:02 and 10:14, inside the 15-minute window.
const NOW_SEC = Date.parse('2026-11-30T02:15:00Z') / 1000;
const CALLS_FROM = NOW_SEC - 13 * 60;

const answerRate = {
  id: 'answer-rate', kpi: 'answer_rate', by: ['region'], window: '15m', every: '30s', when: 'below',
  thresholds: { warning: 0.95, critical: 0.90 }, clear: { warning: 0.96, critical: 0.92 },
  for: '0', minVolume: 10, noData: 'keep', route: 'regional-managers',
};

function config(rules: unknown[] = [answerRate]): SqmConfig {
  return testConfig({ alerts: { rules: rules as never } });
}

let seq = 0;
/** A call in `region` entering `offset` seconds after CALLS_FROM; abandoned calls waited 30 s (not a short abandon). */
function call(region: string, answered: boolean, offset = 0) {
  const enteredAt = CALLS_FROM + offset;
  const id = `c-${region}-${++seq}`;
  return answered
    ? { id, region, queue: 'q1', channel: 'voice', enteredAt, answeredAt: enteredAt + 10, endedAt: enteredAt + 100, outcome: 'answered', talkSeconds: 90 }
    : { id, region, queue: 'q1', channel: 'voice', enteredAt, endedAt: enteredAt + 30, outcome: 'abandoned' };
}
const calls = (region: string, answered: number, abandoned: number) => [
  ...Array.from({ length: answered }, (_, i) => call(region, true, i * 5)),
  ...Array.from({ length: abandoned }, (_, i) => call(region, false, 300 + i * 5)),
];

describe.each(BACKENDS)('alert engine end to end on %s', (backend) => {
  let store: Store;
  let app: FastifyInstance;
  let engine: AlertEngine;
  let notifier: RecordingNotifier;
  let clock = NOW_SEC;
  const now = () => new Date(clock * 1000);

  async function ingest(records: unknown[]): Promise<void> {
    const res = await app.inject({
      method: 'POST', url: '/api/v1/ingest/calls', headers: { ...bearer(TOKENS.ingest), 'content-type': 'application/json' },
      payload: JSON.stringify(records),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().rejected).toEqual([]);
  }

  beforeAll(async () => {
    store = await openTestStore(backend);
    notifier = createRecordingNotifier();
    app = await buildTestApp(store, { config: config(), now, alertNotifier: notifier });
    await app.ready();
    engine = app.alertEngine;
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const gdId = instanceId('answer-rate', { rule: 'answer-rate', region: 'GD' });

  it('fires exactly one alert, for GD, when its records push it below the threshold', async () => {
    // GD: 16 of 20 answered = 0.80 (critical); BJ: 20 of 20; SH: 3 of 5, a thin sample (minVolume 10).
    await ingest([...calls('GD', 16, 4), ...calls('BJ', 20, 0), ...calls('SH', 3, 2)]);
    const report = await engine.evaluate(now());
    expect(report).toMatchObject({ rules: 1, errors: 0, events: 1 });
    expect(notifier.events.map((e) => [e.type, e.instance.labels.region, e.instance.severity])).toEqual([['firing', 'GD', 'critical']]);
    const event = notifier.events[0]!;
    expect(event.at).toBe(now().toISOString());
    expect(event.instance).toMatchObject({
      id: gdId, ruleId: 'answer-rate', ruleKind: 'kpi', labels: { rule: 'answer-rate', region: 'GD' },
      state: 'firing', value: 0.8, threshold: 0.9, volume: 20, route: 'regional-managers', silencedBy: [], acknowledged: null,
      since: now().toISOString(), firingSince: now().toISOString(),
      url: `http://localhost:8080/#/manager?region=GD&alert=${gdId}`,
    });
    expect(event.instance.summary.en).toBe('Answer rate in Guangdong (GD) is 80.0%, below the critical threshold 90.0% (volume 20, since 2026-11-30 10:15 Asia/Shanghai)');
    expect(event.instance.summary.zh).toBe('广东（GD）人工接通率 80.0%，低于严重阈值 90.0%（样本量 20，自 2026-11-30 10:15 起）');

    const res = await app.inject({ method: 'GET', url: '/api/v1/alerts', headers: bearer(TOKENS.viewer) });
    expect(res.statusCode).toBe(200);
    expect(res.json().alerts.map((a: { id: string; state: string }) => [a.id, a.state])).toEqual([[gdId, 'firing']]);
  });

  it('sends nothing more while nothing changes', async () => {
    clock += 30;
    notifier.clear();
    await engine.evaluate(now());
    expect(notifier.events).toEqual([]);
  });

  it('writes the transition to history with the value and the volume', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/alerts/${gdId}/history`, headers: bearer(TOKENS.viewer) });
    expect(res.statusCode).toBe(200);
    expect(res.json().history).toEqual([{
      at: new Date(NOW_SEC * 1000).toISOString(), from: 'ok', to: 'firing', severity: 'critical', reason: 'threshold',
      value: 0.8, volume: 20, threshold: 0.9, message: '', actor: 'engine',
    }]);
  });

  it('resolves GD when records bring it back past the clear threshold', async () => {
    // 80 more answered: 96 / 100 = 0.96, at the warning clear threshold.
    await ingest(calls('GD', 80, 0));
    clock += 30;
    notifier.clear();
    await engine.evaluate(now());
    expect(notifier.events.map((e) => [e.type, e.instance.labels.region, e.instance.value, e.instance.volume])).toEqual([['resolved', 'GD', 0.96, 100]]);
    const active = await app.inject({ method: 'GET', url: '/api/v1/alerts', headers: bearer(TOKENS.viewer) });
    expect(active.json().alerts).toEqual([]);
    const resolved = await app.inject({ method: 'GET', url: '/api/v1/alerts?state=resolved', headers: bearer(TOKENS.viewer) });
    expect(resolved.json().alerts.map((a: { id: string }) => a.id)).toEqual([gdId]);
  });

  it('marks a silenced instance\'s events with silencedBy (the pipeline stays quiet for them)', async () => {
    const created = await app.inject({
      method: 'POST', url: '/api/v1/silences', headers: bearer(TOKENS.admin),
      payload: { matchers: ['region=BJ', 'rule=answer-rate'], duration: '2h', reason: 'planned PBX work' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const silenceId = created.json().silence.id as string;
    // BJ: 20 answered so far, 10 abandoned now: 20 / 30 = 0.667.
    await ingest(calls('BJ', 0, 10));
    clock += 30;
    notifier.clear();
    await engine.evaluate(now());
    expect(notifier.events.map((e) => [e.type, e.instance.labels.region, e.instance.silencedBy])).toEqual([['firing', 'BJ', [silenceId]]]);
    // Still shown, marked silenced.
    const res = await app.inject({ method: 'GET', url: '/api/v1/alerts?region=BJ', headers: bearer(TOKENS.admin) });
    expect(res.json().alerts.map((a: { silencedBy: string[] }) => a.silencedBy)).toEqual([[silenceId]]);
    // Ending the silence tells the pipeline with one update.
    notifier.clear();
    const expired = await app.inject({ method: 'DELETE', url: `/api/v1/silences/${silenceId}`, headers: bearer(TOKENS.admin) });
    expect(expired.statusCode).toBe(200);
    expect(expired.json().silence.state).toBe('expired');
    expect(notifier.events.map((e) => [e.type, e.instance.labels.region, e.instance.silencedBy])).toEqual([['update', 'BJ', []]]);
  });

  it('keeps an instance when its rule\'s thresholds are edited, and applies the new ones', async () => {
    const bjId = instanceId('answer-rate', { rule: 'answer-rate', region: 'BJ' });
    notifier.clear();
    // BJ is at 0.667: critical under 0.90; with the critical threshold at 0.60 it is a warning.
    const res = await app.inject({
      method: 'PUT', url: '/api/v1/rules/answer-rate', headers: bearer(TOKENS.admin),
      payload: { ...answerRate, thresholds: { warning: 0.95, critical: 0.60 }, clear: { warning: 0.96, critical: 0.62 } },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().rule.source).toBe('api');
    expect(engine.get(bjId)?.state).toBe('firing');
    clock += 30;
    await engine.evaluate(now());
    expect(notifier.events.map((e) => [e.type, e.instance.id, e.instance.severity, e.instance.threshold])).toEqual([['update', bjId, 'warning', 0.95]]);
  });

  it('resolves a deleted rule\'s instances with rule_changed', async () => {
    const bjId = instanceId('answer-rate', { rule: 'answer-rate', region: 'BJ' });
    notifier.clear();
    const res = await app.inject({ method: 'DELETE', url: '/api/v1/rules/answer-rate', headers: bearer(TOKENS.admin) });
    expect(res.statusCode).toBe(200);
    expect(notifier.events.map((e) => [e.type, e.instance.id])).toEqual([['resolved', bjId]]);
    const history = await store.query<{ reason: string; toState: string }>(sql`
      SELECT reason, toState FROM ${store.table('alert_history')} WHERE instanceId = ${bjId} ORDER BY at DESC, seq DESC LIMIT 1`);
    expect(history).toEqual([{ reason: 'rule_changed', toState: 'resolved' }]);
    expect((await app.inject({ method: 'GET', url: '/api/v1/alerts', headers: bearer(TOKENS.admin) })).json().alerts).toEqual([]);
    // Nothing left to evaluate.
    expect((await engine.evaluate(now())).rules).toBe(0);
  });
});

describe.each(BACKENDS)('alert engine state across restarts on %s', (backend) => {
  let store: Store;
  let kpis: KpiEngine;
  let clock = NOW_SEC;
  const now = () => new Date(clock * 1000);
  const cfg = config([{ ...answerRate, for: '2m' }]);
  const logger = createLogger('silent');
  const engines: AlertEngine[] = [];
  const fresh = (notifier: RecordingNotifier) => {
    const engine = createAlertEngine({ store, config: cfg, kpis, notifier, logger, now });
    engines.push(engine);
    return engine;
  };

  beforeAll(async () => {
    store = await openTestStore(backend);
    kpis = createKpiEngine({ store, config: cfg, now });
    // GD: 8 of 20 answered in the window: 0.40, critical.
    const rows = calls('GD', 8, 12).map((c) => ({
      ...c, answeredAt: c.answeredAt ?? null, waitSeconds: c.outcome === 'answered' ? 10 : 30, talkSeconds: c.talkSeconds ?? null,
      holdSeconds: null, wrapSeconds: null, agent: '', customer: '', resolved: null, ingestedAt: NOW_SEC,
    }));
    await store.insert('calls', rows);
  });
  afterAll(async () => {
    for (const e of engines) await e.stop();
    await store?.close();
  });

  it('goes on with a pending timer after a restart, and never re-sends what was sent', async () => {
    const first = createRecordingNotifier();
    await fresh(first).evaluate(now());
    expect(first.events).toEqual([]);
    const gdId = instanceId('answer-rate', { rule: 'answer-rate', region: 'GD' });

    // Restart mid-pending, 90 s later: still pending (the timer started at NOW), nothing sent.
    clock = NOW_SEC + 90;
    const second = createRecordingNotifier();
    const b = fresh(second);
    await b.evaluate(now());
    expect(b.get(gdId)?.state).toBe('pending');
    expect(b.get(gdId)?.since).toBe(new Date(NOW_SEC * 1000).toISOString());
    expect(second.events).toEqual([]);

    // Restart again at 120 s: `for` has held since NOW, so it fires, once.
    clock = NOW_SEC + 120;
    const third = createRecordingNotifier();
    await fresh(third).evaluate(now());
    expect(third.events.map((e) => [e.type, e.instance.id])).toEqual([['firing', gdId]]);

    // Restart mid-firing: the new engine knows it fired and sends nothing.
    clock = NOW_SEC + 150;
    const fourth = createRecordingNotifier();
    const d = fresh(fourth);
    await d.evaluate(now());
    expect(fourth.events).toEqual([]);
    expect(d.get(gdId)).toMatchObject({ state: 'firing', firingSince: new Date((NOW_SEC + 120) * 1000).toISOString() });

    // Acknowledged before a restart: still acknowledged after it.
    await d.acknowledge(gdId, 'gd-manager', 'checking the trunk');
    const fifth = createRecordingNotifier();
    const e = fresh(fifth);
    await e.evaluate(now());
    expect(e.get(gdId)?.acknowledged).toMatchObject({ by: 'gd-manager', comment: 'checking the trunk' });
    expect(fifth.events).toEqual([]);
  });
});

describe.each(BACKENDS)('a failing rule on %s', (backend) => {
  let store: Store;
  const now = () => new Date(NOW_SEC * 1000);
  const cfg = config([
    answerRate,
    { id: 'csat', kpi: 'csat', window: '1h', when: 'below', thresholds: { warning: 0.9 } },
  ]);

  beforeAll(async () => {
    store = await openTestStore(backend);
    await store.insert('calls', calls('GD', 1, 19).map((c) => ({
      ...c, answeredAt: c.answeredAt ?? null, waitSeconds: c.outcome === 'answered' ? 10 : 30, talkSeconds: c.talkSeconds ?? null,
      holdSeconds: null, wrapSeconds: null, agent: '', customer: '', resolved: null, ingestedAt: NOW_SEC,
    })));
  });
  afterAll(async () => {
    await store?.close();
  });

  it('marks its own health, keeps its instances, and never stops the others', async () => {
    const real = createKpiEngine({ store, config: cfg, now });
    let failCsat = true;
    const kpis: KpiEngine = {
      query: (request) => (failCsat && request.kpis.includes('csat') ? Promise.reject(new Error('Code: 60. Table surveys_1m does not exist')) : real.query(request)),
    };
    const notifier = createRecordingNotifier();
    const engine = createAlertEngine({ store, config: cfg, kpis, notifier, logger: createLogger('silent'), now });
    const report = await engine.evaluate(now());
    expect(report).toMatchObject({ rules: 2, errors: 1 });
    expect(notifier.events.map((e) => [e.type, e.instance.ruleId, e.instance.labels.region])).toEqual([['firing', 'answer-rate', 'GD']]);
    const csat = await engine.getRule('csat');
    expect(csat?.health).toMatchObject({ state: 'error', errors: 1, message: 'Code: 60. Table surveys_1m does not exist' });
    expect((await engine.getRule('answer-rate'))?.health).toMatchObject({ state: 'ok', errors: 0 });
    failCsat = false;
    await engine.evaluate(now());
    expect((await engine.getRule('csat'))?.health).toMatchObject({ state: 'ok', errors: 1, message: null });
  });
});

describe('instance ids', () => {
  it('depend on the rule and the labels, not their order', () => {
    expect(instanceId('r', { rule: 'r', region: 'GD' })).toBe(instanceId('r', { region: 'GD', rule: 'r' }));
    expect(instanceId('r', { rule: 'r', region: 'GD' })).not.toBe(instanceId('r', { rule: 'r', region: 'BJ' }));
    expect(instanceId('r', { rule: 'r', region: 'GD' })).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe.each(BACKENDS)('engine timers and active hours on %s', (backend) => {
  let store: Store;
  const now = () => new Date(NOW_SEC * 1000);
  // 10:15 on a Monday in Beijing: outside a calendar open 08:00-09:00 on Mondays.
  const cfg = testConfig({
    alerts: {
      calendars: { 'early-mondays': { hours: { mon: ['08:00-09:00'] } } },
      rules: [answerRate as never, { ...answerRate, id: 'answer-rate-early', activeHours: 'early-mondays' } as never],
    },
  });

  beforeAll(async () => {
    store = await openTestStore(backend);
    await store.insert('calls', calls('GD', 1, 19).map((c) => ({
      ...c, answeredAt: c.answeredAt ?? null, waitSeconds: c.outcome === 'answered' ? 10 : 30, talkSeconds: c.talkSeconds ?? null,
      holdSeconds: null, wrapSeconds: null, agent: '', customer: '', resolved: null, ingestedAt: NOW_SEC,
    })));
  });
  afterAll(async () => {
    await store?.close();
  });

  it('start() evaluates every rule at once, skips one outside its active hours, and stop() waits for them', async () => {
    const notifier = createRecordingNotifier();
    const engine = createAlertEngine({ store, config: cfg, kpis: createKpiEngine({ store, config: cfg, now }), notifier, logger: createLogger('silent'), now });
    await engine.start();
    await engine.stop();
    expect(notifier.events.map((e) => [e.type, e.instance.ruleId, e.instance.labels.region])).toEqual([['firing', 'answer-rate', 'GD']]);
    expect((await engine.getRule('answer-rate-early'))?.health).toMatchObject({
      state: 'inactive', message: 'outside the active hours of calendar "early-mondays"', lastEvaluatedAt: now().toISOString(),
    });
  });
});

describe.each(BACKENDS)('no data for a finer label set on %s', (backend) => {
  let store: Store;
  let clock = NOW_SEC;
  const now = () => new Date(clock * 1000);
  const cfg = testConfig({ alerts: { rules: [{ ...answerRate, id: 'answer-rate-queue', by: ['region', 'queue'], noData: 'ok' } as never] } });

  beforeAll(async () => {
    store = await openTestStore(backend);
    await store.insert('calls', calls('GD', 2, 18).map((c) => ({
      ...c, answeredAt: c.answeredAt ?? null, waitSeconds: c.outcome === 'answered' ? 10 : 30, talkSeconds: c.talkSeconds ?? null,
      holdSeconds: null, wrapSeconds: null, agent: '', customer: '', resolved: null, ingestedAt: NOW_SEC,
    })));
  });
  afterAll(async () => {
    await store?.close();
  });

  it('follows noData for the instance whose labels vanished, keeping its own labels', async () => {
    const notifier = createRecordingNotifier();
    const engine = createAlertEngine({ store, config: cfg, kpis: createKpiEngine({ store, config: cfg, now }), notifier, logger: createLogger('silent'), now });
    await engine.evaluate(now());
    const labels = { rule: 'answer-rate-queue', region: 'GD', queue: 'q1' };
    expect(notifier.events.map((e) => [e.type, e.instance.labels])).toEqual([['firing', labels]]);
    // 20 minutes later the 15-minute window holds no call at all: GD/q1 has no series.
    clock = NOW_SEC + 20 * 60;
    notifier.clear();
    await engine.evaluate(now());
    expect(notifier.events.map((e) => [e.type, e.instance.id, e.instance.labels, e.instance.value])).toEqual([
      ['resolved', instanceId('answer-rate-queue', labels), labels, null],
    ]);
    const history = await store.query<{ reason: string; toState: string }>(sql`
      SELECT reason, toState FROM ${store.table('alert_history')} ORDER BY at, seq`);
    expect(history).toEqual([{ reason: 'threshold', toState: 'firing' }, { reason: 'no_data', toState: 'resolved' }]);
    await engine.stop();
  });
});
