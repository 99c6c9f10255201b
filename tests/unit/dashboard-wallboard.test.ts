/**
 * The wallboard: tiles and region statuses computed from KPI responses
 * (values merged over regions as the engine would), and the polling feed's
 * stale mark and recovery, driven with a controlled clock and a fake API.
 */
import { describe, expect, it } from 'vitest';
import { ApiFailure } from '../../dashboard/src/lib/api.js';
import { mergePoints } from '../../dashboard/src/lib/series.js';
import type { AlertInstance, KpiMeta, KpiQuery, KpiResponse } from '../../dashboard/src/lib/types.js';
import { createWallboardFeed, type WallboardFeedState } from '../../dashboard/src/lib/wallboard-feed.js';
import { wallboardModel, type WallboardData } from '../../dashboard/src/lib/wallboard.js';

function kpi(id: string, kind: KpiMeta['kind'], direction: 'higher' | 'lower', target: number | null, unit: KpiMeta['unit'] = 'ratio'): KpiMeta {
  return { id, zh: id, en: id, unit, direction, family: 'x', kind, dimensions: ['region'], target, floor: null, weight: null };
}

const META = {
  kpis: [
    kpi('answer_rate', 'ratio', 'higher', 0.95), kpi('service_level', 'ratio', 'higher', 0.8), kpi('asa', 'mean', 'lower', 20, 'seconds'),
    kpi('abandon_rate', 'ratio', 'lower', 0.05), kpi('calls_waiting', 'gauge_sum', 'lower', null, 'count'), kpi('longest_wait', 'gauge_sum', 'lower', null, 'seconds'),
    kpi('response_sla', 'ratio', 'higher', 0.95), kpi('at_risk', 'count', 'lower', null, 'count'), kpi('open_faults', 'count', 'lower', null, 'count'),
    kpi('csat', 'ratio', 'higher', 0.9),
  ],
  dashboard: { amberBand: 0.05, rotateSeconds: 20 },
};

type P = [kpi: string, labels: Record<string, string>, numerator: number, denominator: number, value: number | null];
const res = (points: P[]): KpiResponse => ({
  from: '2026-12-01T01:45:00.000Z', to: '2026-12-01T02:00:00.000Z',
  series: points.map(([k, labels, numerator, denominator, value]) => ({ kpi: k, labels, points: [{ t: '2026-12-01T01:45:00.000Z', value, numerator, denominator }] })),
});
const GD = { region: 'GD' };
const BJ = { region: 'BJ' };

const DATA: WallboardData = {
  rolling: res([
    ['answer_rate', GD, 40, 100, 0.4], ['answer_rate', BJ, 30, 30, 1],
    ['service_level', GD, 40, 100, 0.4], ['service_level', BJ, 30, 30, 1],
    ['asa', GD, 200, 40, 5], ['asa', BJ, 150, 30, 5],
    ['abandon_rate', GD, 60, 100, 0.6], ['abandon_rate', BJ, 0, 30, 0],
    ['calls_waiting', GD, 3, 1, 3], ['calls_waiting', BJ, 1, 1, 1],
    ['longest_wait', GD, 12, 1, 12], ['longest_wait', BJ, 4, 1, 4],
    ['at_risk', GD, 1, 1, 1], ['at_risk', BJ, 0, 1, 0],
  ]),
  today: res([['response_sla', GD, 0, 0, null], ['response_sla', BJ, 0, 0, null], ['csat', GD, 9, 10, 0.9], ['csat', BJ, 0, 0, null]]),
  faults: res([['open_faults', { region: 'GD', severity: 'critical' }, 1, 1, 1], ['open_faults', { region: 'GD', severity: 'minor' }, 2, 1, 2], ['open_faults', BJ, 0, 1, 0]]),
  day: {
    from: '2026-11-30T16:00:00.000Z', to: '2026-12-01T02:00:00.000Z', step: '15m',
    series: [{ kpi: 'answer_rate', labels: {}, points: [
      { t: '2026-12-01T01:30:00.000Z', value: 1, numerator: 10, denominator: 10 },
      { t: '2026-12-01T01:45:00.000Z', value: 0.5, numerator: 60, denominator: 120 },
    ] }],
  },
  dayFaults: null,
};

describe('mergePoints', () => {
  it('adds numerators and denominators, except max-gauges, which take the largest', () => {
    const points = [{ t: 't', value: 0.4, numerator: 40, denominator: 100 }, { t: 't', value: 1, numerator: 30, denominator: 30 }];
    expect(mergePoints('answer_rate', 'ratio', points)).toEqual({ t: 't', value: 70 / 130, numerator: 70, denominator: 130 });
    expect(mergePoints('longest_wait', 'gauge_sum', [{ t: 't', value: 12, numerator: 12, denominator: 1 }, { t: 't', value: 4, numerator: 4, denominator: 1 }]).value).toBe(12);
    expect(mergePoints('calls_waiting', 'gauge_sum', [{ t: 't', value: 3, numerator: 3, denominator: 1 }, { t: 't', value: 1, numerator: 1, denominator: 1 }]).value).toBe(4);
    expect(mergePoints('at_risk', 'count', [{ t: 't', value: 1, numerator: 1, denominator: 1 }, { t: 't', value: 2, numerator: 2, denominator: 1 }])).toEqual({ t: 't', value: 3, numerator: 3, denominator: 1 });
    expect(mergePoints('calls_waiting', 'gauge_sum', []).value).toBeNull();
  });
});

describe('wallboardModel', () => {
  const model = wallboardModel(DATA, META, ['GD', 'BJ', 'SH']);
  const tile = (id: string) => model.tiles.find((t) => t.id === id)!;

  it('computes every tile over all regions shown and judges it against its target', () => {
    expect(model.tiles.map((t) => t.id)).toEqual(['answer_rate', 'service_level', 'asa', 'abandon_rate', 'calls_waiting', 'longest_wait', 'response_sla', 'at_risk', 'critical_faults', 'csat']);
    // (40 + 30) / (100 + 30) = 0.538…: red against 95 %.
    expect([tile('answer_rate').value, tile('answer_rate').volume, tile('answer_rate').status]).toEqual([70 / 130, 130, 'bad']);
    // ASA (200 + 150) / (40 + 30) = 5 s: green against 20 s.
    expect([tile('asa').value, tile('asa').status]).toEqual([5, 'ok']);
    expect([tile('abandon_rate').value, tile('abandon_rate').status]).toEqual([60 / 130, 'bad']);
    // Gauges: waiting adds up, the longest wait is the longest anywhere; no target: grey.
    expect([tile('calls_waiting').value, tile('calls_waiting').status]).toEqual([4, 'none']);
    expect(tile('longest_wait').value).toBe(12);
    expect(tile('at_risk').value).toBe(1);
    // Only critical faults count on the tile (GD's two minor ones do not); any is red.
    expect([tile('critical_faults').value, tile('critical_faults').target, tile('critical_faults').status]).toEqual([1, 0, 'bad']);
    // No response targets ended today: no value, not 0 %.
    expect([tile('response_sla').value, tile('response_sla').status]).toEqual([null, 'none']);
    // CSAT 9 of 10: on target, but 10 responses are too thin to judge.
    expect([tile('csat').value, tile('csat').status]).toEqual([0.9, 'none']);
    expect(tile('answer_rate').spark).toEqual([1, 0.5]);
  });

  it('colours each region by its worst KPI, and leaves a region without traffic grey', () => {
    expect(model.regions).toEqual([
      { code: 'GD', status: 'bad', failing: [
        { id: 'answer_rate', status: 'bad' }, { id: 'service_level', status: 'bad' }, { id: 'abandon_rate', status: 'bad' }, { id: 'critical_faults', status: 'bad' },
      ] },
      { code: 'BJ', status: 'ok', failing: [] },
      // SH: no calls and no faults: "no critical fault" alone is not a green.
      { code: 'SH', status: 'none', failing: [] },
    ]);
  });

  it('shows a region red on a critical fault even without traffic', () => {
    const faultOnly = wallboardModel({ ...DATA, faults: res([['open_faults', { region: 'SH', severity: 'critical' }, 1, 1, 1]]) }, META, ['SH']);
    expect(faultOnly.regions[0]!.status).toBe('bad');
  });
});

function fakeApi() {
  const calls: KpiQuery[] = [];
  let failWith: Error | null = null;
  let alertsAnswer: AlertInstance[] | Error = new ApiFailure(404, 'SQM_NOT_FOUND', 'No route');
  let alertCalls = 0;
  const api = {
    async kpis(query: KpiQuery): Promise<KpiResponse> {
      calls.push(query);
      if (failWith) throw failWith;
      return { from: query.from.toISOString(), to: query.to.toISOString(), series: [] };
    },
    async alerts(): Promise<AlertInstance[]> {
      alertCalls++;
      if (alertsAnswer instanceof Error) throw alertsAnswer;
      return alertsAnswer;
    },
  };
  return {
    api, calls,
    fail: (e: Error | null) => { failWith = e; },
    setAlerts: (a: AlertInstance[] | Error) => { alertsAnswer = a; },
    alertCalls: () => alertCalls,
  };
}

describe('createWallboardFeed', () => {
  it('asks for the last 15 minutes, today and open faults on minute-aligned windows, and sparklines once a minute', async () => {
    const fake = fakeApi();
    let now = new Date('2026-12-01T02:07:30.250Z'); // 10:07:30 in Beijing
    const feed = createWallboardFeed({ api: fake.api, timeZone: 'Asia/Shanghai', regions: ['GD', 'BJ'], now: () => now });
    await feed.tick();
    const [rolling, today, faults, day, dayFaults] = fake.calls;
    expect([rolling!.from.toISOString(), rolling!.to.toISOString(), rolling!.by, rolling!.regions]).toEqual(['2026-12-01T01:53:00.000Z', '2026-12-01T02:08:00.000Z', ['region'], ['GD', 'BJ']]);
    expect(rolling!.kpis).toEqual(['answer_rate', 'service_level', 'asa', 'abandon_rate', 'calls_waiting', 'longest_wait', 'at_risk']);
    expect([today!.kpis, today!.from.toISOString()]).toEqual([['response_sla', 'csat'], '2026-11-30T16:00:00.000Z']);
    expect([faults!.kpis, faults!.by, faults!.from.toISOString()]).toEqual([['open_faults'], ['region', 'severity'], '2026-12-01T02:07:00.000Z']);
    expect([day!.step, day!.by, dayFaults!.by]).toEqual(['15m', undefined, ['severity']]);
    // A second later: the three live requests only.
    now = new Date(now.getTime() + 1000);
    await feed.tick();
    expect(fake.calls).toHaveLength(8);
    // A minute after the first: sparklines again.
    now = new Date(now.getTime() + 59_000);
    await feed.tick();
    expect(fake.calls).toHaveLength(13);
  });

  it('keeps the last data and marks it stale while updates fail; the next good update clears the mark', async () => {
    const fake = fakeApi();
    let now = new Date('2026-12-01T02:00:00Z');
    const feed = createWallboardFeed({ api: fake.api, timeZone: 'Asia/Shanghai', regions: null, now: () => now });
    const states: { updatedAt: Date | null; staleSince: Date | null; error: string | null; rolling: unknown }[] = [];
    feed.subscribe((s) => states.push(s));
    await feed.tick();
    const good = states.at(-1)!;
    expect(good.updatedAt).toEqual(now);
    expect(good.staleSince).toBeNull();
    expect(fake.calls[0]!.regions).toBeUndefined(); // every region in scope

    fake.fail(new ApiFailure(0, 'SQM_NETWORK', 'connection refused'));
    now = new Date('2026-12-01T02:00:01Z');
    await feed.tick();
    now = new Date('2026-12-01T02:00:02Z');
    await feed.tick();
    const stale = states.at(-1)!;
    // Stale since the last good update, not since the latest failure; the old data stays.
    expect(stale.staleSince).toEqual(new Date('2026-12-01T02:00:00Z'));
    expect(stale.error).toBe('connection refused');
    expect(stale.rolling).toBe(good.rolling);

    fake.fail(null);
    now = new Date('2026-12-01T02:00:03Z');
    await feed.tick();
    expect(states.at(-1)!.staleSince).toBeNull();
    expect(states.at(-1)!.updatedAt).toEqual(now);
  });

  it('never runs two updates at once', async () => {
    const fake = fakeApi();
    const feed = createWallboardFeed({ api: fake.api, timeZone: 'Asia/Shanghai', regions: null, now: () => new Date('2026-12-01T02:00:00Z') });
    await Promise.all([feed.tick(), feed.tick()]);
    expect(fake.calls).toHaveLength(5); // one update (3 live + 2 sparkline requests), not two
  });

  it('shows an empty ticker when the server has no alerts API, asking again only every minute', async () => {
    const fake = fakeApi();
    let now = new Date('2026-12-01T02:00:00Z');
    const feed = createWallboardFeed({ api: fake.api, timeZone: 'Asia/Shanghai', regions: null, now: () => now });
    let last: { alerts: AlertInstance[]; alertsAvailable: boolean | null } | undefined;
    feed.subscribe((s) => { last = s; });
    await feed.tick();
    expect([last!.alerts, last!.alertsAvailable]).toEqual([[], false]);
    now = new Date('2026-12-01T02:00:30Z');
    await feed.tick();
    expect(fake.alertCalls()).toBe(1);
    const firing = { id: 'a', state: 'firing', firingSince: '2026-12-01T01:59:00Z', since: '2026-12-01T01:59:00Z' } as AlertInstance;
    const older = { id: 'b', state: 'firing', firingSince: '2026-12-01T01:00:00Z', since: '2026-12-01T01:00:00Z' } as AlertInstance;
    fake.setAlerts([older, firing, { ...firing, id: 'c', state: 'resolved' }]);
    now = new Date('2026-12-01T02:01:00Z');
    await feed.tick();
    // Newest first; resolved ones are not on the ticker.
    expect([last!.alerts.map((a) => a.id), last!.alertsAvailable]).toEqual([['a', 'b'], true]);
  });
});

describe('createWallboardFeed over the live stream', () => {
  class FakeSocket {
    sent: Record<string, unknown>[] = [];
    closed = false;
    onopen: ((event: unknown) => void) | null = null;
    onmessage: ((event: { data: unknown }) => void) | null = null;
    onclose: ((event: unknown) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;
    send(data: string) { this.sent.push(JSON.parse(data) as Record<string, unknown>); }
    close() { this.closed = true; }
    receive(message: object) { this.onmessage?.({ data: JSON.stringify(message) }); }
  }

  function harness() {
    const fake = fakeApi();
    const sockets: FakeSocket[] = [];
    const timeouts: { fn: () => void; ms: number }[] = [];
    let now = new Date('2026-12-01T02:00:00Z');
    const feed = createWallboardFeed({
      api: fake.api, timeZone: 'Asia/Shanghai', regions: ['GD'], now: () => now,
      connect: () => { const s = new FakeSocket(); sockets.push(s); return s; },
      timers: {
        setTimeout: (fn, ms) => { timeouts.push({ fn, ms }); return timeouts.length; },
        clearTimeout: () => undefined,
        setInterval: () => 0,
        clearInterval: () => undefined,
      },
    });
    let last: WallboardFeedState | undefined;
    feed.subscribe((s) => { last = s; });
    return {
      fake, sockets, timeouts, feed, state: () => last!, setNow: (d: Date) => { now = d; },
      /** start(), then let its first update (a poll, while the stream connects) finish. */
      start: async () => { feed.start(); await new Promise((resolve) => setImmediate(resolve)); },
    };
  }
  const window = { name: 'last 15m', from: '2026-12-01T01:45:01.000Z', to: '2026-12-01T02:00:01.000Z' };

  it('subscribes once connected, takes snapshots and updates, and stops polling', async () => {
    const h = harness();
    await h.start();
    const socket = h.sockets[0]!;
    socket.onopen?.({});
    expect(socket.sent.map((m) => [m.id, m.window, m.by, m.step, m.regions])).toEqual([
      ['rolling', 'last 15m', ['region'], undefined, ['GD']],
      ['today', 'today', ['region'], undefined, ['GD']],
      ['faults', 'last 1m', ['region', 'severity'], undefined, ['GD']],
      ['day', 'today', undefined, '15m', ['GD']],
      ['dayFaults', 'today', ['severity'], '15m', ['GD']],
    ]);
    socket.receive({ type: 'hello', protocol: 1, tickMs: 1000, heartbeatMs: 15000 });
    socket.receive({ type: 'snapshot', id: 'rolling', seq: 1, at: window.to, window, values: [
      { kpi: 'answer_rate', labels: { region: 'GD' }, value: 0.5, numerator: 5, denominator: 10 },
    ] });
    expect(h.state().transport).toBe('live');
    expect(h.state().rolling!.series).toEqual([{ kpi: 'answer_rate', labels: { region: 'GD' }, points: [{ t: window.from, value: 0.5, numerator: 5, denominator: 10 }] }]);
    socket.receive({ type: 'update', id: 'rolling', seq: 2, at: window.to, window, changed: [
      { kpi: 'answer_rate', labels: { region: 'GD' }, value: 0.6, numerator: 6, denominator: 10 },
    ], removed: [] });
    expect(h.state().rolling!.series[0]!.points[0]!.value).toBe(0.6);
    // Live: a tick asks the KPI API nothing more.
    const before = h.fake.calls.length;
    h.setNow(new Date('2026-12-01T02:00:02Z'));
    await h.feed.tick();
    expect(h.fake.calls.length).toBe(before);
  });

  it('orders stepped values in time and drops removed buckets', async () => {
    const h = harness();
    await h.start();
    const socket = h.sockets[0]!;
    const day = { name: 'today', from: '2026-11-30T16:00:00.000Z', to: '2026-12-01T02:00:01.000Z' };
    const v = (t: string, value: number) => ({ kpi: 'answer_rate', labels: {}, t, value, numerator: value, denominator: 1 });
    socket.receive({ type: 'snapshot', id: 'day', seq: 1, at: day.to, window: day, values: [v('2026-12-01T01:45:00.000Z', 0.9), v('2026-12-01T01:30:00.000Z', 0.8)] });
    expect(h.state().day!.series[0]!.points.map((p) => p.value)).toEqual([0.8, 0.9]);
    socket.receive({ type: 'update', id: 'day', seq: 2, at: day.to, window: day, changed: [], removed: [{ kpi: 'answer_rate', labels: {}, t: '2026-12-01T01:30:00.000Z' }] });
    expect(h.state().day!.series[0]!.points.map((p) => p.value)).toEqual([0.9]);
  });

  it('marks the data stale when the stream drops, polls meanwhile, and reconnects with back-off', async () => {
    const h = harness();
    await h.start();
    const first = h.sockets[0]!;
    first.receive({ type: 'snapshot', id: 'rolling', seq: 1, at: window.to, window, values: [] });
    const liveAt = h.state().updatedAt;
    h.fake.fail(new ApiFailure(0, 'SQM_NETWORK', 'down'));
    h.setNow(new Date('2026-12-01T02:00:05Z'));
    first.onclose?.({});
    expect([h.state().staleSince, h.state().transport]).toEqual([liveAt, 'polling']);
    expect(h.timeouts.map((t) => t.ms)).toEqual([1000]);
    // While it is down the wall polls; when polling works, the data is current again.
    h.fake.fail(null);
    await h.feed.tick();
    expect(h.state().staleSince).toBeNull();
    // The retry opens a new socket; its first snapshot switches back to live.
    h.timeouts[0]!.fn();
    const second = h.sockets[1]!;
    second.onerror?.({});
    expect(h.timeouts.map((t) => t.ms)).toEqual([1000, 2000]);
    h.timeouts[1]!.fn();
    h.sockets[2]!.receive({ type: 'snapshot', id: 'rolling', seq: 1, at: window.to, window, values: [] });
    expect(h.state().transport).toBe('live');
  });

  it('a silent stream past two heart-beats counts as dropped', async () => {
    const h = harness();
    await h.start();
    const socket = h.sockets[0]!;
    socket.receive({ type: 'hello', protocol: 1, tickMs: 1000, heartbeatMs: 15000 });
    socket.receive({ type: 'snapshot', id: 'rolling', seq: 1, at: window.to, window, values: [] });
    h.setNow(new Date('2026-12-01T02:00:32Z')); // 32 s: past 2 × 15 s + one tick
    await h.feed.tick();
    expect(socket.closed).toBe(true);
    expect(h.state().transport).toBe('polling');
    expect(h.state().staleSince).toEqual(new Date('2026-12-01T02:00:00Z'));
  });

  it('applies alert events to the ticker at once', async () => {
    const h = harness();
    await h.start();
    const instance = { id: 'gd', state: 'firing', since: '2026-12-01T01:59:00Z', firingSince: '2026-12-01T01:59:00Z' } as AlertInstance;
    h.sockets[0]!.receive({ type: 'alert', event: { type: 'firing', at: instance.since, instance } });
    expect(h.state().alerts.map((a) => a.id)).toEqual(['gd']);
    h.sockets[0]!.receive({ type: 'alert', event: { type: 'resolved', at: instance.since, instance: { ...instance, state: 'resolved' } } });
    expect(h.state().alerts).toEqual([]);
  });
});
