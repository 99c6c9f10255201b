/**
 * SLA timers and burn-rate rules over the real store, on every backend, with
 * values worked out by hand (deadlines from config/default.yaml: tickets
 * urgent 2 h / 24 h, high 4 h / 24 h, normal 24 h / 48 h, low 24 h / 72 h;
 * faults critical 4 h, major 8 h, minor 24 h).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertEngine, createRecordingNotifier, instanceId, type AlertEngine, type RecordingNotifier } from '../../alerts/index.js';
import type { SqmConfig } from '../../config/index.js';
import { createKpiEngine } from '../../kpi/index.js';
import { createLogger } from '../../server/logger.js';
import type { Store } from '../../store/index.js';
import { testConfig } from '../helpers/app.js';
import { call, fault, HOUR, insertFixture, iso, MIN, ticket } from '../helpers/kpi-fixtures.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const iso8601 = (epoch: number) => new Date(epoch * 1000).toISOString();

describe.each(BACKENDS)('SLA timers on %s', (backend) => {
  const NOW = iso('2026-11-30T02:00:00Z');
  let clock = NOW;
  let store: Store;
  let engine: AlertEngine;
  let notifier: RecordingNotifier;
  const cfg: SqmConfig = testConfig({
    alerts: {
      rules: [
        { id: 'ticket-deadlines', kind: 'sla', source: 'tickets' },
        { id: 'fault-deadlines', kind: 'sla', source: 'faults', severities: ['critical', 'major'] },
      ],
    },
  });

  beforeAll(async () => {
    store = await openTestStore(backend);
    const now = () => new Date(clock * 1000);
    await insertFixture(store, {
      tickets: [
        // high, 3 h old, no response: 3/4 of the response deadline, at risk.
        ticket({ id: 't1', priority: 'high', openedAt: NOW - 3 * HOUR }),
        // urgent, 2.5 h old, no response: 1.25 of 2 h, breached.
        ticket({ id: 't2', priority: 'urgent', openedAt: NOW - 2.5 * HOUR }),
        // normal, answered after 1 h, 30 h old: 30/48 of the resolution deadline, not yet at risk.
        ticket({ id: 't3', priority: 'normal', openedAt: NOW - 30 * HOUR, firstResponseAt: NOW - 29 * HOUR }),
        // normal, answered, 40 h old: 40/48 = 0.8333 of the resolution deadline, at risk.
        ticket({ id: 't4', priority: 'normal', openedAt: NOW - 40 * HOUR, firstResponseAt: NOW - 39 * HOUR }),
        // high, resolved: out.
        ticket({ id: 't5', priority: 'high', openedAt: NOW - 5 * HOUR, firstResponseAt: NOW - 4.8 * HOUR, resolvedAt: NOW - 0.5 * HOUR }),
        // BJ normal, 1 h old: 1/24, fine.
        ticket({ id: 't6', region: 'BJ', priority: 'normal', openedAt: NOW - HOUR }),
        // SH low, 20 h old, no response: 20/24 = 0.8333, at risk.
        ticket({ id: 't7', region: 'SH', priority: 'low', openedAt: NOW - 20 * HOUR }),
      ],
      faults: [
        fault({ id: 'f1', severity: 'critical', detectedAt: NOW - 3.5 * HOUR }), // 3.5/4 = 0.875
        fault({ id: 'f2', severity: 'major', detectedAt: NOW - 9 * HOUR }), // 9/8 = 1.125, breached
        fault({ id: 'f3', region: 'BJ', severity: 'minor', detectedAt: NOW - 23 * HOUR }), // minor: not watched by this rule
        fault({ id: 'f4', severity: 'critical', detectedAt: NOW - 5 * HOUR, restoredAt: NOW - HOUR }), // restored
      ],
    });
    notifier = createRecordingNotifier();
    engine = createAlertEngine({ store, config: cfg, kpis: createKpiEngine({ store, config: cfg, now }), notifier, logger: createLogger('silent'), now });
  });
  afterAll(async () => {
    await engine?.stop();
    await store?.close();
  });

  it('rolls open tickets and faults up into one instance per rule and region, listing the items', async () => {
    await engine.evaluate(new Date(clock * 1000));
    // Rules are evaluated concurrently: compare as a set.
    const fired = notifier.events.map((e) => [e.type, e.instance.ruleId, e.instance.labels.region, e.instance.severity, e.instance.value].join(' ')).sort();
    expect(fired).toEqual([
      'firing fault-deadlines GD critical 2',
      'firing ticket-deadlines GD critical 3',
      'firing ticket-deadlines SH warning 1',
    ]);
    const gd = engine.get(instanceId('ticket-deadlines', { rule: 'ticket-deadlines', region: 'GD' }));
    expect(gd?.items).toEqual([
      { kind: 'ticket', id: 't2', target: 'response', deadline: iso8601(NOW - 0.5 * HOUR), elapsed: 1.25 },
      { kind: 'ticket', id: 't4', target: 'resolution', deadline: iso8601(NOW + 8 * HOUR), elapsed: 0.8333 },
      { kind: 'ticket', id: 't1', target: 'response', deadline: iso8601(NOW + HOUR), elapsed: 0.75 },
    ]);
    expect(gd?.summary.en).toBe('Guangdong (GD): 3 tickets past 75% of a deadline, 1 breached (since 2026-11-30 10:00 Asia/Shanghai)');
    const sh = engine.get(instanceId('ticket-deadlines', { rule: 'ticket-deadlines', region: 'SH' }));
    expect(sh?.items).toEqual([{ kind: 'ticket', id: 't7', target: 'response', deadline: iso8601(NOW + 4 * HOUR), elapsed: 0.8333 }]);
    const faults = engine.get(instanceId('fault-deadlines', { rule: 'fault-deadlines', region: 'GD' }));
    expect(faults?.items).toEqual([
      { kind: 'fault', id: 'f2', target: 'restore', deadline: iso8601(NOW - HOUR), elapsed: 1.125 },
      { kind: 'fault', id: 'f1', target: 'restore', deadline: iso8601(NOW + 0.5 * HOUR), elapsed: 0.875 },
    ]);
    expect(engine.get(instanceId('ticket-deadlines', { rule: 'ticket-deadlines', region: 'BJ' }))?.state).toBe('ok');
  });

  it('resolves a region once its items are answered or resolved', async () => {
    notifier.clear();
    clock = NOW + 5 * MIN;
    await insertFixture(store, {
      tickets: [
        ticket({ id: 't1', priority: 'high', openedAt: NOW - 3 * HOUR, resolvedAt: NOW + MIN }),
        ticket({ id: 't2', priority: 'urgent', openedAt: NOW - 2.5 * HOUR, firstResponseAt: NOW + MIN, resolvedAt: NOW + 2 * MIN }),
        ticket({ id: 't4', priority: 'normal', openedAt: NOW - 40 * HOUR, firstResponseAt: NOW - 39 * HOUR, resolvedAt: NOW + 3 * MIN }),
      ],
    });
    await engine.evaluate(new Date(clock * 1000));
    expect(notifier.events.map((e) => [e.type, e.instance.ruleId, e.instance.labels.region])).toEqual([['resolved', 'ticket-deadlines', 'GD']]);
  });
});

describe.each(BACKENDS)('burn-rate rules on %s', (backend) => {
  // 04:00 in Beijing on 2026-11-30 (20:00 UTC the day before); the local day began at 16:00 UTC.
  const TO = iso('2026-11-29T20:00:00Z');
  const DAY_START = iso('2026-11-29T16:00:00Z');
  let store: Store;
  const cfg: SqmConfig = testConfig({
    alerts: {
      rules: [{
        id: 'answer-burn', kind: 'burn_rate', kpi: 'answer_rate',
        windows: [{ long: '1h', short: '5m', factor: 2, severity: 'critical' }, { long: '6h', short: '30m', factor: 6, severity: 'warning' }],
        minVolume: 100,
      }],
    },
  });

  beforeAll(async () => {
    store = await openTestStore(backend);
    const rows = [];
    // 00:00-03:00 local: 20 calls a minute, all answered.
    for (let m = 0; m < 180; m++) for (let k = 0; k < 20; k++) rows.push(call({ id: `g${m}-${k}`, enteredAt: DAY_START + m * MIN + k, outcome: 'answered', wait: 10 }));
    // 03:00-04:00: 20 a minute, 17 answered and 3 abandoned after 30 s.
    for (let m = 180; m < 240; m++) {
      for (let k = 0; k < 20; k++) {
        rows.push(call({ id: `b${m}-${k}`, enteredAt: DAY_START + m * MIN + k, outcome: k < 17 ? 'answered' : 'abandoned', wait: k < 17 ? 10 : 30 }));
      }
    }
    await insertFixture(store, { calls: rows });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('fires when both windows burn faster than the factor, and says when the day\'s target will be missed', async () => {
    const now = () => new Date((TO + 30) * 1000);
    const notifier = createRecordingNotifier();
    const engine = createAlertEngine({ store, config: cfg, kpis: createKpiEngine({ store, config: cfg, now }), notifier, logger: createLogger('silent'), now });
    await engine.evaluate(now());
    // Last hour: 1200 offered, 180 unanswered: 0.15 / budget 0.05 = 3× (> 2); last 5 min: 15 of 100, also 3×.
    // Six hours: 180 of 4800 = 0.0375, 0.75× (< 6). Day so far: 180 errors in 4800 (3.75 %).
    // At the last hour's pace (1/3 call a second, 15 % unanswered) the day's ratio reaches 5 % when
    // 180 + (t/3)·0.15 = 0.05·(4800 + t/3), i.e. t = (0.05·4800 − 180) / ((1/3)·(0.15 − 0.05)) = 1800 s: 04:30 local.
    expect(notifier.events).toHaveLength(1);
    const instance = notifier.events[0]!.instance;
    expect(instance).toMatchObject({
      ruleKind: 'burn_rate', labels: { rule: 'answer-burn', region: 'GD' }, state: 'firing', severity: 'critical',
      value: 3, threshold: 2, volume: 4800, projectedMissAt: '2026-11-29T20:30:00.000Z',
    });
    expect(instance.summary.en).toBe(
      "Answer rate in Guangdong (GD) is burning its error budget 3.0× as fast as allowed (threshold 2×); at this pace today's target 95.0% will be missed at 2026-11-30 04:30 Asia/Shanghai",
    );
    await engine.stop();
  });
});
