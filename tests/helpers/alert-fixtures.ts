/**
 * Alert instances and a controllable clock for notification tests: the
 * dispatcher only ever sees time through `clock.now`, so tests move it by hand.
 */
import type { AlertEvent, AlertInstance, AlertInstanceView } from '../../alerts/types.js';

export interface TestClock {
  now: () => Date;
  set(iso: string | Date): void;
  /** Move forward by seconds. */
  advance(seconds: number): Date;
  /** Seconds since the clock's start, as a Date. */
  at(seconds: number): Date;
}

export function testClock(start = '2026-11-30T01:00:00.000Z'): TestClock {
  const origin = new Date(start).getTime();
  let current = origin;
  return {
    now: () => new Date(current),
    set(iso) {
      current = new Date(iso).getTime();
    },
    advance(seconds) {
      current += seconds * 1000;
      return new Date(current);
    },
    at(seconds) {
      current = origin + seconds * 1000;
      return new Date(current);
    },
  };
}

/** A firing answer-rate instance for a region; override anything. */
export function instance(region: string, overrides: Partial<AlertInstance> = {}): AlertInstance {
  const ruleId = overrides.ruleId ?? 'answer-rate';
  return {
    id: `${ruleId}:${region}${overrides.labels?.queue ? `:${overrides.labels.queue}` : ''}`,
    ruleId,
    ruleKind: 'kpi',
    labels: { rule: ruleId, region },
    state: 'firing',
    severity: 'critical',
    value: 0.875,
    threshold: 0.9,
    volume: 412,
    since: '2026-11-30T01:00:00.000Z',
    firingSince: '2026-11-30T01:00:00.000Z',
    acknowledged: null,
    silencedBy: [],
    route: 'regional-managers',
    summary: { zh: `${region} 人工接通率 87.5%，低于 90%`, en: `${region} answer rate 87.5%, below 90%` },
    ...overrides,
  };
}

export function event(type: AlertEvent['type'], inst: AlertInstance, at: Date): AlertEvent {
  return { type, at: at.toISOString(), instance: inst };
}

/** The engine's instances as the dispatcher sees them: set what the engine would hold. */
export class FakeInstanceView implements AlertInstanceView {
  readonly instances = new Map<string, AlertInstance>();
  get(id: string): AlertInstance | undefined {
    return this.instances.get(id);
  }
  put(inst: AlertInstance): AlertInstance {
    this.instances.set(inst.id, inst);
    return inst;
  }
}
