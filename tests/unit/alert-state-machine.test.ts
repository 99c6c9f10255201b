/**
 * The instance state machine (alerts/state-machine.ts) with a controllable
 * clock: every transition and its reason, hysteresis, `for`, `keepFiringFor`,
 * thin samples, no data under each policy, acknowledgements, silences, rule
 * changes and query errors. Values are chosen by hand against the rule below
 * (ALERTING.md's example: below 0.95 warning, 0.90 critical, clear 0.96 / 0.92).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import { observeKpi } from '../../alerts/rules/kpi-rule.js';
import type { KpiRule, Observation } from '../../alerts/rules/types.js';
import { validateRule } from '../../alerts/rules/validate.js';
import {
  acknowledge, AlertStateError, applySilences, markError, newRecord, outsideActiveHours, resolveForRuleChange, step,
  type InstanceRecord, type StepResult,
} from '../../alerts/state-machine.js';

const config = loadConfig();
const T0 = Date.parse('2026-11-30T02:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

function rule(over: Record<string, unknown> = {}): KpiRule {
  const result = validateRule({
    id: 'answer-rate', kpi: 'answer_rate', by: ['region'], window: '15m', when: 'below',
    thresholds: { warning: 0.95, critical: 0.90 }, clear: { warning: 0.96, critical: 0.92 },
    for: '2m', minVolume: 30, noData: 'keep', ...over,
  }, config);
  if (!result.rule) throw new Error(result.problems.join('; '));
  return result.rule as KpiRule;
}

/** An observation of `value` over `volume` offered calls in GD. */
function seen(r: KpiRule, value: number | null, volume = 100): Observation {
  if (value === null) return observeKpi(r, { region: 'GD' }, { t: '', value: null, numerator: 0, denominator: 0 });
  return observeKpi(r, { region: 'GD' }, { t: '', value, numerator: value * volume, denominator: volume });
}

/** Drive a sequence of (seconds, value[, volume]) through the machine, collecting everything. */
function drive(r: KpiRule, steps: [number, number | null, number?][], start?: InstanceRecord) {
  let record = start ?? newRecord('i1', r, { rule: r.id, region: 'GD' }, at(0));
  const results: StepResult[] = [];
  for (const [s, value, volume] of steps) {
    const result = step(record, seen(r, value, volume), r, at(s));
    results.push(result);
    record = result.record;
  }
  return { record, results, history: results.flatMap((x) => x.history), events: results.flatMap((x) => x.events) };
}

const brief = (h: { from: string; to: string; reason: string; severity: string | null }) => `${h.from}>${h.to}:${h.reason}:${h.severity}`;

describe('alert state machine', () => {
  it('stays ok while the value meets the threshold, writing nothing', () => {
    const { record, history, events } = drive(rule(), [[0, 0.97], [30, 0.95]]);
    // 0.95 is the target itself: met, not crossed.
    expect(record.instance.state).toBe('ok');
    expect(history).toEqual([]);
    expect(events).toEqual([]);
  });

  it('goes ok → pending → firing after `for`, then through both tiers with hysteresis, then resolved → ok', () => {
    const r = rule();
    const { results, record } = drive(r, [
      [0, 0.94],    // below warning: pending
      [60, 0.93],   // held 60 s < 2 m: still pending
      [120, 0.93],  // held 120 s: firing (warning)
      [150, 0.89],  // below critical: one update to critical
      [180, 0.91],  // above critical threshold but below its clear (0.92): stays critical
      [210, 0.93],  // past the critical clear, still below warning: down to warning (one update)
      [240, 0.955], // above the warning threshold but below its clear (0.96): stays firing
      [270, 0.965], // past the warning clear: resolved
      [300, 0.97],  // resolved → ok
    ]);
    expect(results.map((x) => x.events)).toEqual([[], [], ['firing'], ['update'], [], ['update'], [], ['resolved'], []]);
    expect(results.map((x) => x.history.map(brief))).toEqual([
      ['ok>pending:threshold:warning'],
      [],
      ['pending>firing:threshold:warning'],
      ['firing>firing:threshold:critical'],
      [],
      ['firing>firing:threshold:warning'],
      [],
      ['firing>resolved:recovered:warning'],
      ['resolved>ok:recovered:warning'],
    ]);
    // History keeps the value, volume and threshold seen.
    expect(results[2]?.history[0]).toMatchObject({ value: 0.93, volume: 100, threshold: 0.95, at: at(120).toISOString() });
    expect(results[3]?.history[0]).toMatchObject({ value: 0.89, threshold: 0.90, message: 'severity warning → critical' });
    expect(record.instance).toMatchObject({ state: 'ok', severity: null, since: at(300).toISOString(), firingSince: at(120).toISOString() });
  });

  it('returns from pending to ok when the condition stops before `for`', () => {
    const { results, record } = drive(rule(), [[0, 0.94], [30, 0.97]]);
    expect(results[1]?.history.map(brief)).toEqual(['pending>ok:recovered:warning']);
    expect(results.flatMap((x) => x.events)).toEqual([]);
    expect(record.instance.state).toBe('ok');
  });

  it('fires at once with `for: 0`, at the highest tier crossed', () => {
    const { results } = drive(rule({ for: '0' }), [[0, 0.85]]);
    expect(results[0]?.events).toEqual(['firing']);
    expect(results[0]?.history.map(brief)).toEqual(['ok>firing:threshold:critical']);
    expect(results[0]?.record.instance.threshold).toBe(0.90);
  });

  it('a pending timer counts from when the condition started, not from the latest evaluation', () => {
    const r = rule();
    const { results } = drive(r, [[0, 0.94], [90, 0.94], [119, 0.94], [121, 0.94]]);
    expect(results.map((x) => x.record.instance.state)).toEqual(['pending', 'pending', 'pending', 'firing']);
  });

  it('keeps firing for keepFiringFor after the condition clears, and the timer restarts if it returns', () => {
    const r = rule({ for: '0', keepFiringFor: '1m' });
    const { results } = drive(r, [
      [0, 0.94],   // firing
      [30, 0.97],  // cleared: keep firing (timer starts at 30)
      [60, 0.94],  // back: timer reset
      [90, 0.97],  // cleared again at 90
      [120, 0.97], // 30 s < 60 s: still firing
      [150, 0.97], // 60 s: resolved
    ]);
    expect(results.map((x) => x.record.instance.state)).toEqual(['firing', 'firing', 'firing', 'firing', 'firing', 'resolved']);
    expect(results.map((x) => x.events)).toEqual([['firing'], [], [], [], [], ['resolved']]);
    expect(results[1]?.record.clearedSince).toBe(at(30).toISOString());
    expect(results[2]?.record.clearedSince).toBeNull();
  });

  it('a thin sample leaves the state as it is and records insufficient_volume once', () => {
    const r = rule({ for: '0' });
    const { results } = drive(r, [
      [0, 0.80],      // firing critical over 100 calls
      [30, 0.99, 4],  // 4 calls at 3 a.m.: not judged
      [60, 0.99, 4],  // still thin: nothing new in history
      [90, 0.50, 10], // a terrible value on 10 calls: still not judged
    ]);
    expect(results.map((x) => x.record.instance.state)).toEqual(['firing', 'firing', 'firing', 'firing']);
    expect(results.map((x) => x.record.instance.severity)).toEqual(['critical', 'critical', 'critical', 'critical']);
    expect(results.map((x) => x.history.map(brief))).toEqual([
      ['ok>firing:threshold:critical'], ['firing>firing:insufficient_volume:critical'], [], [],
    ]);
    expect(results[1]?.history[0]).toMatchObject({ value: 0.99, volume: 4 });
    expect(results.flatMap((x) => x.events)).toEqual(['firing']);
  });

  it('a thin sample on an ok instance never starts an alert', () => {
    const { record, history } = drive(rule({ for: '0' }), [[0, 0.5, 29]]);
    expect(record.instance.state).toBe('ok');
    expect(history).toEqual([]);
  });

  it('no data under noData: keep leaves the state and records no_data once', () => {
    const { results } = drive(rule({ for: '0' }), [[0, 0.85], [30, null], [60, null]]);
    expect(results.map((x) => x.record.instance.state)).toEqual(['firing', 'firing', 'firing']);
    expect(results.map((x) => x.history.map(brief))).toEqual([['ok>firing:threshold:critical'], ['firing>firing:no_data:critical'], []]);
  });

  it('no data under noData: ok resolves, with the reason no_data', () => {
    const { results } = drive(rule({ for: '0', noData: 'ok' }), [[0, 0.85], [30, null]]);
    expect(results[1]?.events).toEqual(['resolved']);
    expect(results[1]?.history.map(brief)).toEqual(['firing>resolved:no_data:critical']);
  });

  it('no data under noData: alert fires at the lowest tier, on the instance\'s own labels', () => {
    const r = rule({ for: '0', noData: 'alert' });
    const { results, record } = drive(r, [[0, null]]);
    expect(results[0]?.events).toEqual(['firing']);
    expect(results[0]?.history.map(brief)).toEqual(['ok>firing:no_data:warning']);
    expect(record.instance.labels).toEqual({ rule: 'answer-rate', region: 'GD' });
    expect(record.instance.value).toBeNull();
  });

  it('uses per-region overrides, moving the clear threshold with the threshold', () => {
    const r = rule({ for: '0', overrides: { XZ: { thresholds: { warning: 0.90, critical: 0.85 } } } });
    expect(r.overrides.XZ).toEqual({ thresholds: { warning: 0.90, critical: 0.85 }, clear: { warning: 0.91, critical: 0.87 }, minVolume: 30 });
    const xz = (value: number) => observeKpi(r, { region: 'XZ' }, { t: '', value, numerator: value * 100, denominator: 100 });
    // 0.92 is below GD's warning (0.95) but above XZ's (0.90).
    expect(xz(0.92).crossed).toBeNull();
    expect(seen(r, 0.92).crossed).toBe('warning');
    expect(xz(0.89)).toMatchObject({ crossed: 'warning', uncleared: 'warning' });
    expect(xz(0.905)).toMatchObject({ crossed: null, uncleared: 'warning' });
  });

  describe('acknowledgements', () => {
    it('records who, when and why; sends one update; clears when the instance resolves', () => {
      const r = rule({ for: '0' });
      const fired = drive(r, [[0, 0.85]]).record;
      const acked = acknowledge(fired, 'gd-manager', 'on it', at(60));
      expect(acked.events).toEqual(['update']);
      expect(acked.history.map(brief)).toEqual(['firing>firing:acknowledged:critical']);
      expect(acked.history[0]).toMatchObject({ actor: 'gd-manager', message: 'on it' });
      expect(acked.record.instance.acknowledged).toEqual({ by: 'gd-manager', at: at(60).toISOString(), comment: 'on it' });
      // Acknowledging again changes nothing.
      const again = acknowledge(acked.record, 'someone-else', undefined, at(90));
      expect(again.events).toEqual([]);
      expect(again.record.instance.acknowledged?.by).toBe('gd-manager');
      // Evaluation goes on; the resolve notice is still sent and the ack clears.
      const resolved = step(acked.record, seen(r, 0.99), r, at(120));
      expect(resolved.events).toEqual(['resolved']);
      expect(resolved.record.instance.acknowledged).toBeNull();
    });

    it('refuses an instance that is not firing', () => {
      const pending = drive(rule(), [[0, 0.94]]).record;
      expect(() => acknowledge(pending, 'x', undefined, at(10))).toThrow(AlertStateError);
    });
  });

  it('records silences on active instances and tells the pipeline about a firing one', () => {
    const r = rule({ for: '0' });
    const fired = drive(r, [[0, 0.85]]).record;
    const muted = applySilences(fired, ['s-1'], at(30));
    expect(muted.events).toEqual(['update']);
    expect(muted.history.map(brief)).toEqual(['firing>firing:silenced:critical']);
    expect(muted.record.instance.silencedBy).toEqual(['s-1']);
    expect(applySilences(muted.record, ['s-1'], at(60)).events).toEqual([]);
    const unmuted = applySilences(muted.record, [], at(90));
    expect(unmuted.history[0]?.message).toBe('no longer silenced');
    // An ok instance just carries the list.
    const ok = newRecord('i2', r, { rule: r.id, region: 'BJ' }, at(0));
    const okMuted = applySilences(ok, ['s-1'], at(30));
    expect(okMuted.history).toEqual([]);
    expect(okMuted.events).toEqual([]);
  });

  it('resolves with rule_changed when the rule goes away', () => {
    const r = rule({ for: '0' });
    const fired = drive(r, [[0, 0.85]]).record;
    const gone = resolveForRuleChange(fired, at(30), 'the rule was deleted');
    expect(gone.events).toEqual(['resolved']);
    expect(gone.history.map(brief)).toEqual(['firing>resolved:rule_changed:critical']);
    const pending = drive(rule(), [[0, 0.94]]).record;
    const pendingGone = resolveForRuleChange(pending, at(30), 'the rule was deleted');
    expect(pendingGone.events).toEqual([]);
    expect(pendingGone.history.map(brief)).toEqual(['pending>ok:rule_changed:warning']);
  });

  it('a query error keeps the state and is recorded once', () => {
    const r = rule({ for: '0' });
    const fired = drive(r, [[0, 0.85]]).record;
    const first = markError(fired, 'Code: 60. Table does not exist', at(30));
    expect(first.record.instance.state).toBe('firing');
    expect(first.history.map(brief)).toEqual(['firing>firing:error:critical']);
    expect(first.history[0]?.message).toContain('Code: 60');
    expect(markError(first.record, 'again', at(60)).history).toEqual([]);
    // The next good evaluation carries on from the kept state.
    expect(step(first.record, seen(r, 0.85), r, at(90)).events).toEqual([]);
  });

  it('outside active hours a pending instance goes back to ok and a firing one stays', () => {
    const pending = drive(rule(), [[0, 0.94]]).record;
    expect(outsideActiveHours(pending, at(30)).history.map(brief)).toEqual(['pending>ok:recovered:warning']);
    const fired = drive(rule({ for: '0' }), [[0, 0.94]]).record;
    const kept = outsideActiveHours(fired, at(30));
    expect(kept.record.instance.state).toBe('firing');
    expect(kept.history).toEqual([]);
  });
});
