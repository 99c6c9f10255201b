import { describe, expect, it } from 'vitest';
import { loadConfig, validateConfigObject, type SqmConfig } from '../../config/index.js';
import type { NotificationsConfig } from '../../config/notifications.js';
import { AlertEventBus } from '../../alerts/bus.js';
import type { Channel } from '../../alerts/notifiers/types.js';
import { definitionsFromConfig, MemoryNotificationLog, MemoryStateStore, NotificationDispatcher } from '../../alerts/notify/index.js';
import type { AlertEvent } from '../../alerts/types.js';
import { createLogger } from '../../server/logger.js';
import { event, FakeInstanceView, instance, testClock, type TestClock } from '../helpers/alert-fixtures.js';
import { recordingChannel, type RecordingChannel } from '../helpers/recording-channel.js';

const hook = (id: string, regions?: string[]) => ({
  id, channel: 'webhook' as const, ...(regions ? { regions } : {}), webhook: { url: `http://127.0.0.1:9/${id}` },
});

const NOTIFICATIONS: NotificationsConfig = {
  retry: { attempts: 3, initialDelay: '10s', maxDelay: '1m', timeout: '1s' },
  receivers: [hook('ops'), hook('gd-manager', ['GD']), hook('bj-manager', ['BJ']), hook('director'), hook('exec'), hook('spare')],
  policies: [
    // Grouped by rule only, so alerts of several regions share a group.
    { id: 'by-rule', groupBy: ['rule'], steps: [{ receivers: ['ops'] }] },
    {
      id: 'regional-managers',
      steps: [
        { after: '0s', receivers: ['dashboard', 'gd-manager', 'bj-manager'] },
        { after: '15m', receivers: ['director'] },
        { after: '60m', receivers: ['exec'] },
      ],
    },
    { id: 'two-channels', steps: [{ receivers: ['ops', 'spare'] }] },
  ],
};

function makeConfig(notifications: NotificationsConfig = NOTIFICATIONS): SqmConfig {
  return validateConfigObject({ ...structuredClone(loadConfig()), notifications }, 'test');
}

interface Harness {
  clock: TestClock;
  dispatcher: NotificationDispatcher;
  log: MemoryNotificationLog;
  state: MemoryStateStore;
  live: AlertEvent[];
  channels: Map<string, RecordingChannel>;
  view: FakeInstanceView;
  /** Counters as /metrics would see them: `sent:<channel>` and `failed:<channel>`. */
  counts: Record<string, number>;
  channel(id: string): RecordingChannel;
  /** Tick at each of these offsets (seconds from the clock's start), in order. */
  ticks(...seconds: number[]): Promise<void>;
  fire(inst: ReturnType<typeof instance>, atSeconds: number, type?: AlertEvent['type']): void;
}

function harness(options: { state?: MemoryStateStore; clock?: TestClock; channels?: Map<string, RecordingChannel>; createChannel?: (id: string) => Channel | undefined } = {}): Harness {
  const config = makeConfig();
  const clock = options.clock ?? testClock();
  const bus = new AlertEventBus();
  const live: AlertEvent[] = [];
  bus.subscribe((e) => live.push(e));
  const log = new MemoryNotificationLog();
  const state = options.state ?? new MemoryStateStore();
  const channels = options.channels ?? new Map<string, RecordingChannel>();
  const channel = (id: string): RecordingChannel => {
    let c = channels.get(id);
    if (!c) {
      c = recordingChannel();
      channels.set(id, c);
    }
    return c;
  };
  const view = new FakeInstanceView();
  const counts: Record<string, number> = {};
  const count = (key: string) => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const dispatcher = new NotificationDispatcher({
    config,
    definitions: { fromConfig: () => definitionsFromConfig(config), load: async () => definitionsFromConfig(config) },
    alertBus: bus,
    log,
    state,
    logger: createLogger('silent'),
    now: clock.now,
    instances: view,
    createChannel: (r) => options.createChannel?.(r.id) ?? channel(r.id),
    metrics: { notificationSent: (c) => count(`sent:${c}`), notificationFailed: (c) => count(`failed:${c}`) },
  });
  return {
    clock, dispatcher, log, state, live, channels, view, counts, channel,
    async ticks(...seconds) {
      for (const s of seconds) await dispatcher.tick(clock.at(s));
    },
    fire(inst, atSeconds, type = 'firing') {
      const at = clock.at(atSeconds);
      if (type === 'resolved') view.put({ ...inst, state: 'resolved' });
      else view.put(inst);
      dispatcher.notify(event(type, inst, at));
    },
  };
}

/** Every flush time of a group created at 0 s: 30 s, then every 300 s. */
function flushTimes(untilSeconds: number): number[] {
  const out: number[] = [];
  for (let t = 30; t <= untilSeconds; t += 300) out.push(t);
  return out;
}

describe('grouping (Alertmanager defaults: wait 30 s, interval 5 min, repeat 4 h)', () => {
  it('waits 30 s before the first notice of a group', async () => {
    const h = harness();
    h.fire(instance('GD', { route: 'by-rule' }), 0);
    await h.ticks(0, 10, 29);
    expect(h.channel('ops').sent).toHaveLength(0);
    await h.ticks(30);
    expect(h.channel('ops').sent).toHaveLength(1);
    const notice = h.channel('ops').sent[0]!;
    expect(notice.kind).toBe('firing');
    expect(notice.status).toBe('firing');
    expect(notice.groupKey).toBe('{rule="answer-rate"}');
    expect(notice.alerts.map((a) => [a.instanceId, a.event, a.status])).toEqual([['answer-rate:GD', 'firing', 'firing']]);
    expect(notice.createdAt).toBe('2026-11-30T01:00:30.000Z');
  });

  it('sends at most one notice per 5 min while the group changes, and the new alert waits for the next interval', async () => {
    const h = harness();
    h.fire(instance('GD', { route: 'by-rule' }), 0);
    await h.ticks(30);
    h.fire(instance('BJ', { route: 'by-rule' }), 60);
    await h.ticks(61, 200, 329);
    expect(h.channel('ops').sent).toHaveLength(1);
    await h.ticks(330);
    expect(h.channel('ops').sent).toHaveLength(2);
    const second = h.channel('ops').sent[1]!;
    expect(second.kind).toBe('firing');
    // Both alerts of the group (the one told before as a reminder), ordered by severity, start, id.
    expect(second.alerts.map((a) => [a.instanceId, a.event])).toEqual([['answer-rate:BJ', 'firing'], ['answer-rate:GD', 'update']]);
  });

  it('repeats an unchanged firing group every 4 h, not sooner', async () => {
    const h = harness();
    h.fire(instance('GD', { route: 'by-rule' }), 0);
    // Flushes at 30, 330, …; the first notice at 30 s, so the repeat is due at 30 + 14400 = 14430 s.
    await h.ticks(...flushTimes(14_130));
    expect(h.channel('ops').sent).toHaveLength(1);
    await h.ticks(14_430);
    expect(h.channel('ops').sent).toHaveLength(2);
    expect(h.channel('ops').sent[1]!.kind).toBe('repeat');
    expect(h.channel('ops').sent[1]!.createdAt).toBe(new Date(Date.parse('2026-11-30T01:00:00Z') + 14_430_000).toISOString());
    await h.ticks(14_730);
    expect(h.channel('ops').sent).toHaveLength(2);
  });

  it('never sends an alert that resolved within the first wait (the dashboard still saw it live)', async () => {
    const h = harness();
    const gd = instance('GD', { route: 'by-rule' });
    h.fire(gd, 0);
    h.fire(gd, 10, 'resolved');
    await h.ticks(30, 330, 630);
    expect(h.channel('ops').sent).toHaveLength(0);
    expect(h.dispatcher.snapshot()).toEqual([]);
    expect(h.live.map((e) => e.type)).toEqual(['firing', 'resolved']);
    expect(h.log.entries.filter((e) => e.receiver === 'ops')).toEqual([]);
  });

  it('sends resolve notices: an update while others still fire, then a resolved notice', async () => {
    const h = harness();
    const gd = instance('GD', { route: 'by-rule' });
    const bj = instance('BJ', { route: 'by-rule' });
    h.fire(gd, 0);
    h.fire(bj, 0);
    await h.ticks(30);
    h.fire(gd, 400, 'resolved');
    await h.ticks(630);
    const update = h.channel('ops').sent[1]!;
    expect(update.kind).toBe('update');
    expect(update.status).toBe('firing');
    expect(update.alerts.map((a) => [a.instanceId, a.status, a.endsAt])).toEqual([
      ['answer-rate:BJ', 'firing', null],
      ['answer-rate:GD', 'resolved', '2026-11-30T01:06:40.000Z'],
    ]);
    h.fire(bj, 700, 'resolved');
    await h.ticks(930);
    const resolved = h.channel('ops').sent[2]!;
    expect(resolved.kind).toBe('resolved');
    expect(resolved.status).toBe('resolved');
    expect(resolved.alerts.map((a) => a.instanceId)).toEqual(['answer-rate:BJ']);
    // Everything told: the group is gone, and nothing more is sent.
    expect(h.dispatcher.snapshot()).toEqual([]);
    await h.ticks(1230, 20_000);
    expect(h.channel('ops').sent).toHaveLength(3);
  });

  it('a severity change is one update (with the previous severity), not a new alert', async () => {
    const h = harness();
    const warning = instance('GD', { route: 'by-rule', severity: 'warning', value: 0.93, threshold: 0.95 });
    h.fire(warning, 0);
    await h.ticks(30);
    h.fire({ ...warning, severity: 'critical', value: 0.88, threshold: 0.9 }, 100, 'update');
    await h.ticks(330);
    const update = h.channel('ops').sent[1]!;
    expect(update.kind).toBe('update');
    expect(update.alerts[0]).toMatchObject({ severity: 'critical', previousSeverity: 'warning', event: 'update', value: 0.88 });
    expect(h.live.map((e) => e.type)).toEqual(['firing', 'update']);
  });
});

describe('escalation', () => {
  it('notifies the region\'s manager at once, the director after 15 min and the executive after 60 min while unacknowledged', async () => {
    const h = harness();
    h.fire(instance('GD'), 0);
    await h.ticks(30);
    expect(h.channel('gd-manager').sent).toHaveLength(1);
    expect(h.channel('bj-manager').sent).toHaveLength(0);
    expect(h.channel('director').sent).toHaveLength(0);
    await h.ticks(330, 630, 899);
    expect(h.channel('director').sent).toHaveLength(0);
    await h.ticks(900, 929);
    expect(h.channel('director').sent).toHaveLength(0);
    await h.ticks(930);
    expect(h.channel('director').sent).toHaveLength(1);
    await h.ticks(3599);
    expect(h.channel('exec').sent).toHaveLength(0);
    await h.ticks(3600, 3630);
    expect(h.channel('exec').sent).toHaveLength(1);
    expect(h.channel('gd-manager').sent).toHaveLength(1);
    expect(h.dispatcher.escalationSnapshot()).toEqual([]);
  });

  it('stops when the instance is acknowledged; the resolve notice still reaches those already told', async () => {
    const h = harness();
    const gd = instance('GD');
    h.fire(gd, 0);
    await h.ticks(30, 900, 930);
    expect(h.channel('director').sent).toHaveLength(1);
    const acked = { ...gd, acknowledged: { by: 'gd-manager', at: '2026-11-30T01:20:00.000Z', comment: '正在处理' } };
    h.fire(acked, 1200, 'update');
    await h.ticks(1230, 3600, 3630, 3930);
    expect(h.channel('exec').sent).toHaveLength(0);
    const stopped = h.log.entries.find((e) => e.kind === 'escalation');
    expect(stopped).toMatchObject({ status: 'suppressed', receiver: 'exec', reason: 'escalation step 3 not taken: acknowledged by gd-manager' });
    // The acknowledgement alone is not news for those already told.
    expect(h.channel('gd-manager').sent).toHaveLength(1);
    h.fire(acked, 4000, 'resolved');
    await h.ticks(4230);
    expect(h.channel('gd-manager').sent.map((n) => n.kind)).toEqual(['firing', 'resolved']);
    expect(h.channel('director').sent.map((n) => n.kind)).toEqual(['firing', 'resolved']);
    expect(h.channel('exec').sent).toHaveLength(0);
  });

  it('an acknowledgement seen only through the engine\'s view stops escalation too', async () => {
    const h = harness();
    const gd = instance('GD');
    h.fire(gd, 0);
    await h.ticks(30);
    h.view.put({ ...gd, acknowledged: { by: 'duty', at: '2026-11-30T01:05:00.000Z' } });
    await h.ticks(900, 930, 3600, 3630);
    expect(h.channel('director').sent).toHaveLength(0);
    expect(h.channel('exec').sent).toHaveLength(0);
  });

  it('scopes receivers to regions: a GD receiver never gets a BJ alert', async () => {
    const h = harness();
    h.fire(instance('BJ'), 0);
    h.fire(instance('GD'), 0);
    await h.ticks(30);
    expect(h.channel('gd-manager').sent.flatMap((n) => n.alerts.map((a) => a.labels.region))).toEqual(['GD']);
    expect(h.channel('bj-manager').sent.flatMap((n) => n.alerts.map((a) => a.labels.region))).toEqual(['BJ']);
  });

  it('stops when the instance resolves before the next step', async () => {
    const h = harness();
    const gd = instance('GD');
    h.fire(gd, 0);
    await h.ticks(30);
    h.fire(gd, 600, 'resolved');
    await h.ticks(630, 900, 930, 3600, 3630);
    expect(h.channel('director').sent).toHaveLength(0);
    expect(h.channel('gd-manager').sent.map((n) => n.kind)).toEqual(['firing', 'resolved']);
  });
});

describe('silenced instances notify nobody', () => {
  it('sends nothing to any person, logs that it did not, and still shows it on the dashboard marked silenced', async () => {
    const h = harness();
    const silenced = instance('GD', { silencedBy: ['maint-gd'] });
    h.fire(silenced, 0);
    await h.ticks(...flushTimes(4 * 3600));
    for (const c of h.channels.values()) expect(c.sent).toEqual([]);
    expect(h.live).toHaveLength(1);
    expect(h.live[0]?.instance.silencedBy).toEqual(['maint-gd']);
    const suppressed = h.log.entries.filter((e) => e.status === 'suppressed');
    expect(suppressed).toHaveLength(1);
    expect(suppressed[0]).toMatchObject({ status: 'suppressed', reason: 'silenced by maint-gd', instanceIds: ['answer-rate:GD'], regions: ['GD'], kind: 'firing' });
    expect(h.log.entries.filter((e) => e.status === 'sent').map((e) => e.receiver)).toEqual(['dashboard']);
    h.fire(silenced, 15_000, 'resolved');
    await h.ticks(15_030);
    for (const c of h.channels.values()) expect(c.sent).toEqual([]);
    expect(h.log.entries.filter((e) => e.receiver !== 'dashboard').map((e) => e.status)).toEqual(['suppressed', 'suppressed']);
  });

  it('a silence made after the alert fired stops the pending notice', async () => {
    const h = harness();
    const gd = instance('GD');
    h.fire(gd, 0);
    h.view.put({ ...gd, silencedBy: ['late-silence'] });
    await h.ticks(30, 330);
    expect(h.channel('gd-manager').sent).toEqual([]);
    const suppressed = h.log.entries.filter((e) => e.status === 'suppressed');
    expect(suppressed).toHaveLength(1);
    expect(suppressed[0]).toMatchObject({ receiver: 'gd-manager', reason: 'silenced by late-silence' });
  });

  it('when the silence ends while the alert still fires, the held steps are taken', async () => {
    const h = harness();
    const gd = instance('GD', { silencedBy: ['short'] });
    h.fire(gd, 0);
    await h.ticks(30, 300);
    expect(h.channel('gd-manager').sent).toEqual([]);
    h.view.put({ ...gd, silencedBy: [] });
    await h.ticks(600, 629);
    expect(h.channel('gd-manager').sent).toEqual([]);
    await h.ticks(630);
    expect(h.channel('gd-manager').sent).toHaveLength(1);
  });
});

describe('delivery: retries, back-off, isolation', () => {
  it('retries a failed send with exponential back-off and logs every attempt', async () => {
    const h = harness();
    h.channel('ops').failNext(2);
    h.fire(instance('GD', { route: 'by-rule' }), 0);
    await h.ticks(30);
    await h.ticks(39);
    await h.ticks(40); // attempt 2: 10 s after attempt 1
    await h.ticks(59);
    await h.ticks(60); // attempt 3: 20 s after attempt 2
    const rows = h.log.entries.filter((e) => e.receiver === 'ops');
    expect(rows.map((r) => [r.status, r.attempt, new Date(r.atMs).toISOString(), r.nextAttemptAtMs ? new Date(r.nextAttemptAtMs).toISOString() : null])).toEqual([
      ['retrying', 1, '2026-11-30T01:00:30.000Z', '2026-11-30T01:00:40.000Z'],
      ['retrying', 2, '2026-11-30T01:00:40.000Z', '2026-11-30T01:01:00.000Z'],
      ['sent', 3, '2026-11-30T01:01:00.000Z', null],
    ]);
    expect(rows[0]!.error).toBe('receiver down (test)');
    // One notice, retried: the same id every time.
    expect(new Set(rows.map((r) => r.noticeId)).size).toBe(1);
    expect(h.channel('ops').sent).toHaveLength(1);
    expect(h.channel('ops').sent[0]!.id).toBe(rows[0]!.noticeId);
    // /metrics counts every failed attempt and every delivery (the dashboard's live one included).
    expect(h.counts).toEqual({ 'sent:dashboard': 1, 'failed:webhook': 2, 'sent:webhook': 1 });
  });

  it('gives up after the bounded number of attempts, and a permanent refusal is not retried', async () => {
    const h = harness();
    h.channel('ops').failNext(100);
    h.channel('spare').failNext(1, true);
    h.fire(instance('GD', { route: 'two-channels' }), 0);
    await h.ticks(30, 40, 60, 100, 200);
    const ops = h.log.entries.filter((e) => e.receiver === 'ops').map((r) => [r.status, r.attempt]);
    expect(ops).toEqual([['retrying', 1], ['retrying', 2], ['failed', 3]]);
    const spare = h.log.entries.filter((e) => e.receiver === 'spare').map((r) => [r.status, r.attempt, r.reason]);
    expect(spare).toEqual([['failed', 1, 'permanent failure: not retried']]);
    // Given up: nothing more until the group changes.
    await h.ticks(330, 630);
    expect(h.log.entries.filter((e) => e.receiver === 'ops')).toHaveLength(3);
  });

  it('a failing channel never blocks another in the same policy', async () => {
    const h = harness();
    h.channel('ops').failNext(100);
    h.fire(instance('GD', { route: 'two-channels' }), 0);
    await h.ticks(30);
    expect(h.channel('spare').sent).toHaveLength(1);
    expect(h.log.entries.filter((e) => e.channel === 'webhook').map((e) => [e.receiver, e.status])).toEqual(
      expect.arrayContaining([['ops', 'retrying'], ['spare', 'sent']]),
    );
  });

  it('a channel that never answers is cut off by the timeout while the other delivers', async () => {
    const hanging: Channel = { name: 'webhook', send: () => new Promise<void>(() => undefined) };
    const h = harness({ createChannel: (id) => (id === 'ops' ? hanging : undefined) });
    h.fire(instance('GD', { route: 'two-channels' }), 0);
    await h.ticks(30);
    expect(h.channel('spare').sent).toHaveLength(1);
    const ops = h.log.entries.find((e) => e.receiver === 'ops');
    expect(ops).toMatchObject({ status: 'retrying', attempt: 1, error: 'timed out after 1000 ms' });
  });

  it('a newer notice replaces a retry still due', async () => {
    const h = harness();
    h.channel('ops').failNext(1);
    h.fire(instance('GD', { route: 'by-rule' }), 0);
    await h.ticks(30); // attempt 1 fails; a retry is due at 40 s
    h.fire(instance('BJ', { route: 'by-rule' }), 35);
    await h.ticks(330); // the next flush has news (BJ) and says everything the retry would have
    const rows = h.log.entries.filter((e) => e.receiver === 'ops');
    expect(rows.map((r) => [r.status, r.attempt])).toEqual([['retrying', 1], ['superseded', 1], ['sent', 1]]);
    expect(rows[1]!.noticeId).toBe(rows[0]!.noticeId);
    expect(rows[1]!.reason).toBe(`replaced by notice ${rows[2]!.noticeId}`);
    expect(h.channel('ops').sent).toHaveLength(1);
    expect(h.channel('ops').sent[0]!.alerts.map((a) => a.instanceId)).toEqual(['answer-rate:BJ', 'answer-rate:GD']);
  });
});

describe('restart', () => {
  it('carries on from the saved state: nothing already sent is sent again, resolve notices still go out', async () => {
    const state = new MemoryStateStore();
    const clock = testClock();
    const first = harness({ state, clock });
    const gd = instance('GD', { route: 'by-rule' });
    first.fire(gd, 0);
    await first.ticks(30);
    expect(first.channel('ops').sent).toHaveLength(1);
    await first.dispatcher.stop();

    const second = harness({ state, clock });
    await second.dispatcher.restore();
    await second.ticks(330, 630);
    expect(second.channel('ops').sent).toHaveLength(0);
    second.fire(gd, 700, 'resolved');
    await second.ticks(930);
    expect(second.channel('ops').sent.map((n) => n.kind)).toEqual(['resolved']);
  });

  it('a group still waiting when the process stopped is sent once by the next one', async () => {
    const state = new MemoryStateStore();
    const clock = testClock();
    const first = harness({ state, clock });
    first.fire(instance('GD', { route: 'by-rule' }), 0);
    await first.ticks(10);
    await first.dispatcher.stop();
    const second = harness({ state, clock });
    await second.dispatcher.restore();
    await second.ticks(30, 330);
    expect(second.channel('ops').sent).toHaveLength(1);
    expect(first.channel('ops').sent).toHaveLength(0);
  });
});
