/**
 * The instance state machine (ALERTING.md "Instance states"), as pure
 * functions: (previous record, what happened, rule, now) → (next record,
 * history entries, events). No store, no clock, no notifier: the engine
 * persists what comes out and sends the events, so every transition can be
 * tested with a controllable clock.
 *
 *           condition true            held for `for`
 *   ok ──────────────────▶ pending ─────────────────▶ firing
 *   ▲          condition false │                        │ past `clear`
 *   └──────────────────────────┘                        ▼ (after keepFiringFor)
 *   ▲                                               resolved ─▶ ok
 *   └───────────────────────────────────────────────────┘
 */
import type { Observation, NoDataPolicy } from './rules/types.js';
import { maxSeverity, minSeverity } from './rules/types.js';
import type { AlertEvent, AlertInstance, InstanceState, ReasonCode, RuleKind, Severity } from './types.js';

export type EventType = AlertEvent['type'];
/** Conditions recorded once (when they start), not on every evaluation. */
export type NoteReason = 'insufficient_volume' | 'no_data' | 'error';

/** An instance with the engine's bookkeeping; persisted as one document. */
export interface InstanceRecord {
  instance: AlertInstance;
  /** While firing: when the condition stopped holding (the keepFiringFor timer), ISO. */
  clearedSince: string | null;
  /** The condition last recorded that is not a transition, so it is written to history once. */
  note: NoteReason | null;
  /** The last event sent for this instance: a restarted engine never sends it again. */
  lastEvent: { type: EventType; severity: Severity | null; at: string } | null;
}

export interface HistoryEntry {
  instanceId: string;
  ruleId: string;
  region: string;
  at: string;
  from: InstanceState;
  to: InstanceState;
  severity: Severity | null;
  reason: ReasonCode;
  value: number | null;
  volume: number | null;
  threshold: number | null;
  message: string;
  /** Who caused it: a person for acks, `engine` otherwise. */
  actor: string;
}

export interface StepResult {
  record: InstanceRecord;
  history: HistoryEntry[];
  events: EventType[];
}

/** What the state machine needs of a rule. */
export interface MachineRule {
  id: string;
  kind: RuleKind;
  forMs: number;
  keepFiringForMs: number;
  noData: NoDataPolicy;
  /** Tiers the rule can raise, lowest first. */
  tiers: readonly Severity[];
  route: string;
}

export function newRecord(id: string, rule: MachineRule, labels: Record<string, string>, now: Date): InstanceRecord {
  return {
    instance: {
      id, ruleId: rule.id, ruleKind: rule.kind, labels: { ...labels },
      state: 'ok', severity: null, value: null, threshold: null, volume: null,
      since: now.toISOString(), firingSince: null, acknowledged: null, silencedBy: [],
      route: rule.route, summary: { zh: '', en: '' },
    },
    clearedSince: null,
    note: null,
    lastEvent: null,
  };
}

function clone(record: InstanceRecord): InstanceRecord {
  return structuredClone(record);
}

class Step {
  readonly history: HistoryEntry[] = [];
  readonly events: EventType[] = [];
  constructor(readonly record: InstanceRecord, readonly now: Date, readonly actor = 'engine') {}

  get instance(): AlertInstance {
    return this.record.instance;
  }

  log(from: InstanceState, to: InstanceState, reason: ReasonCode, message = ''): void {
    const i = this.instance;
    this.history.push({
      instanceId: i.id, ruleId: i.ruleId, region: i.labels.region ?? '', at: this.now.toISOString(),
      from, to, severity: i.severity, reason, value: i.value, volume: i.volume, threshold: i.threshold, message, actor: this.actor,
    });
  }

  move(to: InstanceState, reason: ReasonCode, message = ''): void {
    const from = this.instance.state;
    this.instance.state = to;
    this.instance.since = this.now.toISOString();
    this.log(from, to, reason, message);
  }

  emit(type: EventType): void {
    this.events.push(type);
    this.record.lastEvent = { type, severity: this.instance.severity, at: this.now.toISOString() };
  }

  result(): StepResult {
    return { record: this.record, history: this.history, events: this.events };
  }
}

const isActive = (state: InstanceState) => state === 'pending' || state === 'firing';

/** One evaluation of one label set. */
export function step(prev: InstanceRecord, obs: Observation, rule: MachineRule, now: Date): StepResult {
  const s = new Step(clone(prev), now);
  const i = s.instance;
  const rec = s.record;
  i.value = obs.value;
  i.volume = obs.volume;
  i.route = rule.route;
  if (obs.items !== undefined) i.items = obs.items;
  if (obs.projectedMissAt !== undefined) i.projectedMissAt = obs.projectedMissAt;
  // An observation made up for a label set that vanished knows no thresholds: keep the last ones shown.
  const known = Object.keys(obs.thresholds).length > 0;
  const thresholdOf = (severity: Severity | null) => (known ? obs.thresholds[severity ?? rule.tiers[0] ?? 'warning'] ?? null : i.threshold);

  // Not judged: a thin sample, or no data under `noData: keep`. The state stays as it is.
  if (obs.status === 'insufficient_volume' || (obs.status === 'no_data' && rule.noData === 'keep')) {
    const note: NoteReason = obs.status;
    i.threshold = thresholdOf(i.severity);
    if (rec.note !== note) {
      rec.note = note;
      // An ok instance has nothing at stake; a thin night would otherwise write a row per region.
      if (i.state !== 'ok') s.log(i.state, i.state, note, note === 'no_data' ? 'no records in the window' : 'volume below minVolume');
    }
    return s.result();
  }

  let crossed: Severity | null;
  let uncleared: Severity | null;
  let onReason: ReasonCode = 'threshold';
  let offReason: ReasonCode = 'recovered';
  if (obs.status === 'no_data') {
    // noData ok: as if recovered; noData alert: as if the lowest tier were crossed. The labels stay the instance's own.
    crossed = uncleared = rule.noData === 'alert' ? (rule.tiers[0] ?? 'warning') : null;
    onReason = offReason = 'no_data';
    rec.note = 'no_data';
  } else {
    crossed = obs.crossed;
    uncleared = obs.uncleared;
    rec.note = null;
  }

  switch (i.state) {
    case 'ok':
    case 'resolved': {
      if (crossed) {
        i.severity = crossed;
        i.threshold = thresholdOf(crossed);
        if (rule.forMs <= 0) {
          i.firingSince = now.toISOString();
          rec.clearedSince = null;
          s.move('firing', onReason);
          s.emit('firing');
        } else {
          s.move('pending', onReason);
        }
      } else if (i.state === 'resolved') {
        i.threshold = thresholdOf(null);
        s.move('ok', offReason);
        i.severity = null;
      } else {
        i.threshold = thresholdOf(null);
      }
      break;
    }
    case 'pending': {
      if (crossed) {
        i.severity = crossed;
        i.threshold = thresholdOf(crossed);
        if (now.getTime() - Date.parse(i.since) >= rule.forMs) {
          i.firingSince = now.toISOString();
          rec.clearedSince = null;
          s.move('firing', onReason);
          s.emit('firing');
        }
      } else {
        s.move('ok', offReason);
        i.severity = null;
        i.threshold = thresholdOf(null);
      }
      break;
    }
    case 'firing': {
      // Hysteresis: a tier stays until the value recovers past its clear threshold, never above the current one.
      const effective = maxSeverity(crossed, minSeverity(i.severity, uncleared));
      if (effective) {
        rec.clearedSince = null;
        i.threshold = thresholdOf(effective);
        if (effective !== i.severity) {
          const message = `severity ${i.severity} → ${effective}`;
          i.severity = effective;
          s.log('firing', 'firing', onReason, message);
          s.emit('update');
        }
        break;
      }
      if (rec.clearedSince === null) rec.clearedSince = now.toISOString();
      if (now.getTime() - Date.parse(rec.clearedSince) < rule.keepFiringForMs) break;
      rec.clearedSince = null;
      i.acknowledged = null;
      i.threshold = thresholdOf(i.severity);
      s.move('resolved', offReason);
      s.emit('resolved');
      break;
    }
  }
  return s.result();
}

export class AlertStateError extends Error {
  override name = 'AlertStateError';
}

/** A person acknowledges a firing instance: escalation stops, evaluation goes on; the pipeline hears an update. */
export function acknowledge(prev: InstanceRecord, by: string, comment: string | undefined, now: Date): StepResult {
  const s = new Step(clone(prev), now, by);
  const i = s.instance;
  if (i.state !== 'firing') throw new AlertStateError(`only a firing alert can be acknowledged; this one is ${i.state}`);
  if (i.acknowledged) return s.result();
  i.acknowledged = { by, at: now.toISOString(), ...(comment ? { comment } : {}) };
  s.log('firing', 'firing', 'acknowledged', comment ?? '');
  s.emit('update');
  return s.result();
}

/**
 * The silences muting an instance changed. Recorded for active instances; a
 * firing one sends an update so the pipeline knows to stay quiet (or to speak
 * again when the silence ends).
 */
export function applySilences(prev: InstanceRecord, ids: readonly string[], now: Date): StepResult {
  const s = new Step(clone(prev), now);
  const i = s.instance;
  const same = ids.length === i.silencedBy.length && ids.every((id, k) => i.silencedBy[k] === id);
  if (same) return s.result();
  i.silencedBy = [...ids];
  if (isActive(i.state)) {
    s.log(i.state, i.state, 'silenced', ids.length > 0 ? `silenced by ${ids.join(', ')}` : 'no longer silenced');
    if (i.state === 'firing') s.emit('update');
  }
  return s.result();
}

/** The rule was deleted (or changed what it measures): its instances resolve with `rule_changed`. */
export function resolveForRuleChange(prev: InstanceRecord, now: Date, message: string): StepResult {
  const s = new Step(clone(prev), now);
  const i = s.instance;
  s.record.clearedSince = null;
  s.record.note = null;
  if (i.state === 'firing') {
    i.acknowledged = null;
    s.move('resolved', 'rule_changed', message);
    s.emit('resolved');
  } else if (i.state === 'pending' || i.state === 'resolved') {
    s.move('ok', 'rule_changed', message);
    i.severity = null;
  }
  return s.result();
}

/** The rule's query failed: the instance keeps its state; the error is recorded once. */
export function markError(prev: InstanceRecord, message: string, now: Date): StepResult {
  const s = new Step(clone(prev), now);
  if (s.record.note !== 'error') {
    s.record.note = 'error';
    if (s.instance.state !== 'ok') s.log(s.instance.state, s.instance.state, 'error', message);
  }
  return s.result();
}

/** Outside the rule's active hours nothing new may start: a pending instance goes back to ok; a firing one stays. */
export function outsideActiveHours(prev: InstanceRecord, now: Date): StepResult {
  const s = new Step(clone(prev), now);
  if (s.instance.state === 'pending') {
    s.move('ok', 'recovered', 'outside the rule\'s active hours');
    s.instance.severity = null;
  }
  return s.result();
}
