/**
 * The notification pipeline over the real store (chDB, and the ClickHouse
 * server when CI gives one): the attempt log, saved state surviving a
 * restart, API-made receivers and policies, and real HTTP receivers, one of
 * them down.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, validateConfigObject, type SqmConfig } from '../../config/index.js';
import { AlertEventBus } from '../../alerts/bus.js';
import {
  createNotificationDispatcher,
  DefinitionError,
  NotificationDefinitions,
  StoreNotificationLog,
  StoreStateStore,
  type NotificationDispatcher,
} from '../../alerts/notify/index.js';
import type { AlertInstance } from '../../alerts/types.js';
import { createLogger } from '../../server/logger.js';
import type { Store } from '../../store/index.js';
import { event, FakeInstanceView, instance, testClock, type TestClock } from '../helpers/alert-fixtures.js';
import { freePort } from '../helpers/free-port.js';
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const ENV = { SQM_TEST_WECOM_KEY: 'wecom-key-1' };

describe.each(BACKENDS)('notification pipeline over the store (%s)', (backend) => {
  let store: Store;
  let receiver: HttpReceiver;
  let downPort: number;
  let clock: TestClock;
  let config: SqmConfig;
  let view: FakeInstanceView;
  const dispatchers: NotificationDispatcher[] = [];

  beforeAll(async () => {
    receiver = await startHttpReceiver();
    downPort = await freePort();
  });
  afterAll(async () => {
    await receiver?.close();
  });
  beforeEach(async () => {
    store = await openTestStore(backend);
    clock = testClock();
    view = new FakeInstanceView();
    receiver.requests.length = 0;
    receiver.respond(() => ({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' }));
    config = validateConfigObject({
      ...structuredClone(loadConfig()),
      notifications: {
        dashboardUrl: 'https://sqm.example.cn',
        retry: { attempts: 3, initialDelay: '10s', maxDelay: '1m', timeout: '5s' },
        receivers: [
          { id: 'ops-hook', channel: 'webhook', webhook: { url: `${receiver.url}/ops` } },
          { id: 'down-hook', channel: 'webhook', webhook: { url: `http://127.0.0.1:${downPort}/never` } },
          { id: 'gd-wecom', channel: 'wecom', regions: ['GD'], language: 'zh', wecom: { url: `${receiver.url}/cgi-bin/webhook/send`, keyEnv: 'SQM_TEST_WECOM_KEY' } },
        ],
        policies: [{ id: 'ops', steps: [{ receivers: ['dashboard', 'ops-hook', 'down-hook', 'gd-wecom'] }] }],
      },
    }, 'test');
  });
  afterEach(async () => {
    for (const d of dispatchers.splice(0)) await d.stop();
    await store?.close();
  });

  async function dispatcher(): Promise<NotificationDispatcher> {
    const d = createNotificationDispatcher({ store, config, alertBus: new AlertEventBus(), logger: createLogger('silent'), now: clock.now, instances: view, env: ENV });
    dispatchers.push(d);
    await d.start({ intervalMs: 0 });
    return d;
  }

  function fire(d: NotificationDispatcher, inst: AlertInstance, atSeconds: number, type: 'firing' | 'update' | 'resolved' = 'firing'): void {
    view.put(type === 'resolved' ? { ...inst, state: 'resolved' } : inst);
    d.notify(event(type, inst, clock.at(atSeconds)));
  }

  const paths = () => receiver.requests.map((r) => r.path);
  const window = { from: new Date('2026-11-30T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z'), regions: null, limit: 100 };

  it('a channel that is down is retried and logged, while the others in the same policy deliver', async () => {
    const d = await dispatcher();
    fire(d, instance('GD', { route: 'ops' }), 0);
    await d.tick(clock.at(30));
    expect(paths().sort()).toEqual(['/cgi-bin/webhook/send', '/ops']);
    await d.tick(clock.at(40));
    await d.tick(clock.at(60));
    await d.tick(clock.at(120));

    const log = new StoreNotificationLog(store);
    const down = await log.query({ ...window, receivers: ['down-hook'] });
    expect(down.map((r) => [r.status, r.attempt, r.at, r.nextAttemptAt])).toEqual([
      ['failed', 3, '2026-11-30T01:01:00.000Z', null],
      ['retrying', 2, '2026-11-30T01:00:40.000Z', '2026-11-30T01:01:00.000Z'],
      ['retrying', 1, '2026-11-30T01:00:30.000Z', '2026-11-30T01:00:40.000Z'],
    ]);
    for (const row of down) {
      expect(row.error).toMatch(new RegExp(`^cannot reach http://127\\.0\\.0\\.1:${downPort}/never: ECONNREFUSED`));
      expect(row).toMatchObject({ channel: 'webhook', policy: 'ops', kind: 'firing', instanceIds: ['answer-rate:GD'], rules: ['answer-rate'], regions: ['GD'], maxAttempts: 3, groupKey: '{rule="answer-rate",region="GD"}' });
    }
    expect(new Set(down.map((r) => r.noticeId)).size).toBe(1);

    const sent = await log.query({ ...window, statuses: ['sent'] });
    expect(sent.map((r) => [r.receiver, r.channel, r.attempt]).sort()).toEqual([
      ['dashboard', 'dashboard', 1], ['gd-wecom', 'wecom', 1], ['ops-hook', 'webhook', 1],
    ]);
    expect(await log.query({ ...window, channels: ['wecom'] })).toHaveLength(1);
    expect(await log.query({ ...window, statuses: ['failed', 'retrying'] })).toHaveLength(3);
    // Region scope is part of the query.
    expect(await log.query({ ...window, regions: ['BJ'] })).toEqual([]);
    expect(await log.query({ ...window, regions: ['BJ', 'GD'] })).toHaveLength(6);
    expect(await log.query({ ...window, regions: [] })).toEqual([]);
    expect(await log.query({ ...window, instanceId: 'answer-rate:GD', limit: 2 })).toHaveLength(2);
    // After the first attempts: the down receiver's second and third.
    expect((await log.query({ ...window, from: new Date('2026-11-30T01:00:31Z') })).map((r) => r.attempt)).toEqual([3, 2]);
  });

  it('a restarted dispatcher carries on from the store: nothing is sent twice, the resolve notice still goes out', async () => {
    const first = await dispatcher();
    const gd = instance('GD', { route: 'ops' });
    fire(first, gd, 0);
    await first.tick(clock.at(30));
    expect(receiver.requests.filter((r) => r.path === '/ops')).toHaveLength(1);
    await first.stop();

    const second = await dispatcher();
    expect(second.snapshot().map((g) => g.receiver).sort()).toEqual(['down-hook', 'gd-wecom', 'ops-hook']);
    await second.tick(clock.at(330));
    await second.tick(clock.at(630));
    expect(receiver.requests.filter((r) => r.path === '/ops')).toHaveLength(1);
    fire(second, gd, 700, 'resolved');
    await second.tick(clock.at(930));
    const ops = receiver.requests.filter((r) => r.path === '/ops').map((r) => (r.body as { kind: string; alerts: { status: string; endsAt: string }[] }));
    expect(ops.map((b) => b.kind)).toEqual(['firing', 'resolved']);
    expect(ops[1]!.alerts[0]).toMatchObject({ status: 'resolved', endsAt: '2026-11-30T01:11:40.000Z' });
    const wecom = receiver.requests.filter((r) => r.path === '/cgi-bin/webhook/send');
    expect(wecom).toHaveLength(2);
    expect((wecom[1]!.body as { markdown: { content: string } }).markdown.content).toContain('【已恢复】人工接通率 — 广东 (GD)');
    // The receiver that is down never got the firing notice, so it gets no resolve notice either:
    // its retry, out of date once the alert resolved, is dropped and says so.
    const down = await new StoreNotificationLog(store).query({ ...window, receivers: ['down-hook'] });
    expect(down.map((r) => [r.status, r.at])).toEqual([
      ['superseded', '2026-11-30T01:15:30.000Z'],
      ['retrying', '2026-11-30T01:10:30.000Z'],
      ['superseded', '2026-11-30T01:10:30.000Z'],
      ['retrying', '2026-11-30T01:05:30.000Z'],
      ['superseded', '2026-11-30T01:05:30.000Z'],
      ['retrying', '2026-11-30T01:00:30.000Z'],
    ]);
    expect(down[0]!.reason).toBe('out of date: its alerts changed before it could be delivered');
    // Everything settled: nothing left in memory or in the store.
    expect(second.snapshot()).toEqual([]);
    expect((await new StoreStateStore(store).loadAll()).size).toBe(0);
  });

  it('receivers and policies made through the repository are used at the next tick and survive a restart', async () => {
    const d = await dispatcher();
    const defs = new NotificationDefinitions(store, config, clock.now);
    await defs.createReceiver({ id: 'api-hook', channel: 'webhook', regions: ['BJ'], webhook: { url: `${receiver.url}/api-hook` } }, 'admin');
    await defs.createPolicy({ id: 'api-policy', groupWait: '10s', steps: [{ receivers: ['api-hook'] }] }, 'admin');
    await d.tick(clock.at(1));
    fire(d, instance('BJ', { route: 'api-policy' }), 5);
    fire(d, instance('GD', { route: 'api-policy' }), 5);
    await d.tick(clock.at(15));
    expect(paths()).toEqual(['/api-hook']);
    expect((receiver.requests[0]!.body as { alerts: { region: { code: string } }[] }).alerts.map((a) => a.region.code)).toEqual(['BJ']);

    const reloaded = await new NotificationDefinitions(store, config).load();
    expect(reloaded.receivers.get('api-hook')).toMatchObject({ source: 'api', updatedBy: 'admin', definition: { id: 'api-hook', regions: ['BJ'] } });
    expect(reloaded.policies.get('api-policy')?.definition.groupWait).toBe('10s');
    expect(reloaded.receivers.get('ops-hook')?.source).toBe('config');
    expect(reloaded.receivers.get('dashboard')?.source).toBe('builtin');

    await defs.updateReceiver('api-hook', { id: 'api-hook', channel: 'webhook', webhook: { url: `${receiver.url}/api-hook-2` } }, 'admin');
    expect((await defs.load()).receivers.get('api-hook')?.definition.webhook?.url).toBe(`${receiver.url}/api-hook-2`);
    await expect(defs.deleteReceiver('api-hook', 'admin')).rejects.toMatchObject({ kind: 'in_use' });
    await defs.deletePolicy('api-policy', 'admin');
    await defs.deleteReceiver('api-hook', 'admin');
    const after = await defs.load();
    expect(after.receivers.has('api-hook')).toBe(false);
    expect(after.policies.has('api-policy')).toBe(false);
    // A deleted id can be made again, and the new one wins.
    await defs.createReceiver({ id: 'api-hook', channel: 'webhook', webhook: { url: `${receiver.url}/again` } }, 'admin');
    expect((await defs.load()).receivers.get('api-hook')?.definition.webhook?.url).toBe(`${receiver.url}/again`);
  });

  it('refuses what cannot be stored, naming the field', async () => {
    const defs = new NotificationDefinitions(store, config, clock.now);
    const refusal = async (work: Promise<unknown>) => work.then(() => undefined, (e: unknown) => e as DefinitionError);
    expect(await refusal(defs.createReceiver({ id: 'x', channel: 'email', email: { to: ['a@b.cn'], from: 'c@d.cn', smtp: { host: 'h', port: 25, user: 'u', password: 'hunter2' } } }, 'admin')))
      .toMatchObject({ kind: 'invalid', problems: ['email/smtp: must NOT have additional properties "password" (secrets are never stored: name an environment variable with passwordEnv)'] });
    expect(await refusal(defs.createReceiver({ id: 'x', channel: 'wecom' }, 'admin'))).toMatchObject({ kind: 'invalid', problems: ['wecom: required for channel "wecom"'] });
    expect(await refusal(defs.createReceiver({ id: 'x', channel: 'webhook', regions: ['QQ'], webhook: { url: 'http://a/b' } }, 'admin')))
      .toMatchObject({ problems: ['regions/0: unknown region "QQ"'] });
    expect(await refusal(defs.createReceiver({ id: 'ops-hook', channel: 'webhook', webhook: { url: 'http://a/b' } }, 'admin'))).toMatchObject({ kind: 'exists' });
    expect(await refusal(defs.updateReceiver('ops-hook', { id: 'ops-hook', channel: 'webhook', webhook: { url: 'http://a/b' } }, 'admin')))
      .toMatchObject({ kind: 'read_only', problems: ['receiver "ops-hook" is defined in the configuration file; change it there'] });
    expect(await refusal(defs.createPolicy({ id: 'p', steps: [{ after: '15m', receivers: ['nobody'] }, { after: '5m', receivers: ['ops-hook'] }] }, 'admin')))
      .toMatchObject({ kind: 'invalid', problems: ['steps/0/receivers/0: unknown receiver "nobody"', 'steps/1/after: steps must be in time order (5m comes before the previous step)'] });
    expect(await refusal(defs.deletePolicy('nothing-here', 'admin'))).toMatchObject({ kind: 'not_found' });
    expect((await defs.load()).receivers.size).toBe(4);
  });
});
