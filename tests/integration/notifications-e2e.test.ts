/**
 * End to end over the real store: calls that push GD below its answer-rate
 * threshold make the engine fire exactly one alert, for GD; the dispatcher
 * reaches the GD receiver only, after the group wait; an acknowledgement
 * stops the escalation to the director; calls that bring GD back send the
 * resolve notice; and a silenced GD notifies nobody. One clock drives both.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlertEventBus } from '../../alerts/bus.js';
import { instanceId } from '../../alerts/index.js';
import { createNotificationDispatcher, StoreNotificationLog, type NotificationDispatcher } from '../../alerts/notify/index.js';
import type { AlertEvent } from '../../alerts/types.js';
import { createLogger } from '../../server/logger.js';
import type { Store } from '../../store/index.js';
import { bearer, buildTestApp, testConfig, TOKENS } from '../helpers/app.js';
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.js';
import { call, insertFixture, iso, MIN } from '../helpers/kpi-fixtures.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const T0 = iso('2026-11-30T02:15:00Z');
const GD = instanceId('answer-rate', { rule: 'answer-rate', region: 'GD' });

describe.each(BACKENDS)('alerts to notifications, end to end (%s)', (backend) => {
  let receiver: HttpReceiver;
  let store: Store;
  let app: FastifyInstance;
  let dispatcher: NotificationDispatcher;
  let live: AlertEvent[];
  let current = T0;
  const now = () => new Date(current * 1000);
  const at = (seconds: number) => {
    current = T0 + seconds;
    return now();
  };

  beforeAll(async () => {
    receiver = await startHttpReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  beforeEach(async () => {
    current = T0;
    receiver.requests.length = 0;
    receiver.respond(() => ({ status: 200, body: '{}' }));
    store = await openTestStore(backend);
    // GD answers 5 of 20 (0.25, critical); BJ and SH answer all 20.
    const rows = [];
    for (const region of ['GD', 'BJ', 'SH']) {
      for (let k = 0; k < 20; k++) {
        const answered = region !== 'GD' || k < 5;
        rows.push(call({ id: `${region}-${k}`, region, enteredAt: T0 - 10 * MIN + k, outcome: answered ? 'answered' : 'abandoned', wait: answered ? 10 : 30 }));
      }
    }
    await insertFixture(store, { calls: rows });
    const config = testConfig({
      alerts: {
        rules: [{
          id: 'answer-rate', kpi: 'answer_rate', window: '15m', when: 'below',
          thresholds: { warning: 0.95, critical: 0.90 }, clear: { warning: 0.96, critical: 0.92 }, minVolume: 10, route: 'regional-managers',
        } as never],
      },
      notifications: {
        receivers: [
          { id: 'gd-manager', channel: 'webhook', regions: ['GD'], webhook: { url: `${receiver.url}/gd` } },
          { id: 'bj-manager', channel: 'webhook', regions: ['BJ'], webhook: { url: `${receiver.url}/bj` } },
          { id: 'director', channel: 'webhook', webhook: { url: `${receiver.url}/director` } },
        ],
        policies: [{
          id: 'regional-managers',
          steps: [{ receivers: ['dashboard', 'gd-manager', 'bj-manager'] }, { after: '15m', receivers: ['director'] }],
        }],
      },
    });
    const bus = new AlertEventBus();
    live = [];
    bus.subscribe((e) => live.push(e));
    app = await buildTestApp(store, {
      config,
      now,
      alertNotifier: (view) => {
        dispatcher = createNotificationDispatcher({ store, config, alertBus: bus, logger: createLogger('silent'), now, instances: view });
        return dispatcher;
      },
    });
    await app.ready();
    await dispatcher.start({ intervalMs: 0 });
  });
  afterEach(async () => {
    await dispatcher?.stop();
    await app?.close();
    await store?.close();
  });

  const requests = (path: string) => receiver.requests.filter((r) => r.path === path).map((r) => r.body as { kind: string; alerts: { instanceId: string; region: { code: string }; status: string; endsAt: string | null }[] });

  it('fires once for GD, reaches only the GD manager, stops escalating when acknowledged, and sends the resolve notice', async () => {
    await app.alertEngine.evaluate(at(0));
    expect(live.map((e) => [e.type, e.instance.labels.region])).toEqual([['firing', 'GD']]);
    await dispatcher.tick(at(29));
    expect(receiver.requests).toHaveLength(0);
    await dispatcher.tick(at(30));
    expect(requests('/gd').map((b) => [b.kind, b.alerts.map((a) => a.instanceId)])).toEqual([['firing', [GD]]]);
    expect(requests('/bj')).toEqual([]);

    at(300);
    const ack = await app.inject({ method: 'POST', url: `/api/v1/alerts/${encodeURIComponent(GD)}/ack`, headers: bearer(TOKENS.managerGD), payload: { comment: '已处理' } });
    expect(ack.statusCode, ack.body).toBe(200);
    for (const t of [330, 630, 900, 930]) await dispatcher.tick(at(t));
    expect(requests('/director')).toEqual([]);
    expect(requests('/gd')).toHaveLength(1);
    const log = new StoreNotificationLog(store);
    const window = { from: new Date((T0 - 3600) * 1000), to: new Date((T0 + 7200) * 1000), regions: null, limit: 100 };
    const stopped = (await log.query(window)).filter((r) => r.kind === 'escalation');
    expect(stopped.map((r) => [r.status, r.receiver, r.reason])).toEqual([['suppressed', 'director', 'escalation step 2 not taken: acknowledged by gd-manager']]);

    // GD answers 40 of 40 in the next window: recovered past the clear threshold.
    const recovery = Array.from({ length: 40 }, (_, k) => call({ id: `GD-r${k}`, region: 'GD', enteredAt: T0 + 19 * MIN + k, outcome: 'answered', wait: 5 }));
    await insertFixture(store, { calls: recovery });
    await app.alertEngine.evaluate(at(1200));
    expect(live.map((e) => e.type)).toEqual(['firing', 'update', 'resolved']);
    await dispatcher.tick(at(1230));
    const gd = requests('/gd');
    expect(gd.map((b) => b.kind)).toEqual(['firing', 'resolved']);
    expect(gd[1]!.alerts[0]).toMatchObject({ instanceId: GD, status: 'resolved', endsAt: new Date((T0 + 1200) * 1000).toISOString() });
    expect(requests('/bj')).toEqual([]);
    expect(requests('/director')).toEqual([]);
  });

  it('a silenced GD notifies nobody, and the log says so', async () => {
    const silence = await app.inject({ method: 'POST', url: '/api/v1/silences', headers: bearer(TOKENS.admin), payload: { matchers: ['region=GD'], duration: '2h', reason: 'PBX work' } });
    expect(silence.statusCode, silence.body).toBe(201);
    const silenceId = silence.json().silence.id as string;
    await app.alertEngine.evaluate(at(0));
    expect(app.alertEngine.get(GD)).toMatchObject({ state: 'firing', silencedBy: [silenceId] });
    for (let t = 30; t <= 3600; t += 300) await dispatcher.tick(at(t));
    expect(receiver.requests).toEqual([]);
    // The wallboard still shows it, marked silenced; no person is told.
    expect(live.map((e) => [e.type, e.instance.id, e.instance.silencedBy])).toEqual([['firing', GD, [silenceId]]]);
    const rows = await new StoreNotificationLog(store).query({ from: new Date((T0 - 60) * 1000), to: new Date((T0 + 7200) * 1000), regions: null, limit: 100 });
    expect(rows.filter((r) => r.receiver !== 'dashboard').map((r) => [r.status, r.instanceIds, r.reason])).toEqual([['suppressed', [GD], `silenced by ${silenceId}`]]);
  });
});
