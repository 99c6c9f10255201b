/**
 * Rule validation (the same for the configuration, the API and YAML import):
 * every problem names its field; defaults and per-region overrides are filled
 * in; the configuration's default rules are valid. Plus durations, KPI
 * judging (which tier a value crosses and which it has not yet cleared) and
 * the burn-rate arithmetic with hand-worked values.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, validateConfigObject } from '../../config/index.js';
import { checkAlertsConfig } from '../../alerts/config-check.js';
import { formatDuration, parseDuration } from '../../alerts/durations.js';
import { burnRate, observeBurn, projectMiss } from '../../alerts/rules/burn-rate.js';
import { judge, volumeOf } from '../../alerts/rules/kpi-rule.js';
import type { BurnRateRule, KpiRule, SlaRule } from '../../alerts/rules/types.js';
import { validateRule, validateRules } from '../../alerts/rules/validate.js';

const config = loadConfig();

describe('durations', () => {
  it.each([
    ['30s', 30_000], ['15m', 900_000], ['2h', 7_200_000], ['1d', 86_400_000], ['1h30m', 5_400_000], ['0', 0], ['0m', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(['', '15', 'm', '1.5h', '-1m', '1m1h', 'soon'])('"%s" is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
  it('formats back to the shortest text', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(0)).toBe('0');
  });
});

describe('rule validation', () => {
  it('accepts the default configuration\'s rules', () => {
    const { rules, problems } = validateRules(config.alerts?.rules, config, 'alerts/rules');
    expect(problems).toEqual([]);
    expect(rules.map((r) => `${r.id}:${r.kind}`)).toEqual([
      'answer-rate:kpi', 'service-level:kpi', 'abandon-rate:kpi', 'response-sla:kpi', 'resolution-sla:kpi', 'mttr:kpi',
      'restore-sla:kpi', 'csat:kpi', 'complaint-rate:kpi', 'ticket-deadlines:sla', 'fault-restore-deadlines:sla', 'answer-rate-burn:burn_rate',
    ]);
  });

  it('fills in defaults and merges per-region overrides', () => {
    const { rule } = validateRule({ id: 'ar', kpi: 'answer_rate', window: '15m', when: 'below', thresholds: { warning: 0.95 }, overrides: { XZ: { thresholds: { warning: 0.9 }, minVolume: 5 } } }, config);
    expect(rule).toMatchObject({
      id: 'ar', kind: 'kpi', by: ['region'], windowMs: 900_000, everyMs: 30_000, forMs: 0, keepFiringForMs: 0,
      activeHours: 'always', route: 'default', noData: 'keep', minVolume: 0, enabled: true, tiers: ['warning'],
      thresholds: { warning: 0.95 }, clear: { warning: 0.95 },
      overrides: { XZ: { thresholds: { warning: 0.9 }, clear: { warning: 0.9 }, minVolume: 5 } },
    });
  });

  it('names every structural problem with its field and the rule\'s path', () => {
    const { problems } = validateRule({ id: 'x', kpi: 'answer_rate', window: '15m', when: 'below', thresholds: {}, noData: 'maybe', extra: 1 }, config, 'alerts/rules/4');
    expect(problems).toEqual([
      'alerts/rules/4: must NOT have additional properties "extra"',
      'alerts/rules/4/thresholds: must NOT have fewer than 1 properties',
      'alerts/rules/4/noData: must be equal to one of the allowed values (keep, ok, alert)',
    ]);
    expect(validateRule({ id: 'x', kind: 'magic' }, config).problems).toEqual(['kind: must be one of kpi, sla, burn_rate']);
    expect(validateRule('x', config).problems).toEqual(['(rule): must be an object']);
    expect(validateRule({ kpi: 'answer_rate', window: '15m', when: 'below', thresholds: { warning: 1 } }, config).problems).toEqual([
      '(rule): must have required property \'id\'',
    ]);
  });

  it('checks what a schema cannot: the KPI, its cuts, both sides of each threshold, regions, calendars, limits', () => {
    const { problems } = validateRule({
      id: 'x', kpi: 'abandon_rate', by: ['region', 'category'], window: '40d', every: '0', when: 'above',
      thresholds: { warning: 0.10, critical: 0.05 }, clear: { warning: 0.12, critical: 0.04 },
      overrides: { ZZ: { thresholds: { warning: 0.2 } } }, activeHours: 'night-shift',
    }, config);
    expect(problems).toEqual([
      'activeHours: unknown calendar "night-shift"; use always or one of: business-hours',
      'every: must be between 1s and 86400s',
      'by: abandon_rate cannot be cut by category; valid: region, queue, channel, agent',
      'window: must be between 1s and 2678400s',
      'thresholds/critical: must not be below warning (0.1) for an "above" rule',
      'clear/warning: must be at or below thresholds/warning (0.1): an "above" rule recovers downwards',
      'overrides/ZZ: unknown region "ZZ"',
    ]);
  });

  it('checks SLA timers and burn-rate rules too', () => {
    expect(validateRule({ id: 's', kind: 'sla', source: 'faults', priorities: ['high'], warningAt: 1.5 }, config).problems).toEqual([
      'warningAt: must be < 1',
    ]);
    expect(validateRule({ id: 's', kind: 'sla', source: 'faults', priorities: ['high'] }, config).problems).toEqual([
      'priorities: applies to tickets only (source: tickets)',
    ]);
    const sla = validateRule({ id: 's', kind: 'sla', source: 'tickets', overrides: { GD: { thresholds: { critical: 5 } } } }, config).rule as SlaRule;
    expect(sla).toMatchObject({ warningAt: 0.75, thresholds: { warning: 1, critical: 1 }, maxItems: 50, overrides: { GD: { warning: 1, critical: 5 } }, noData: 'ok' });
    expect(validateRule({
      id: 'b', kind: 'burn_rate', kpi: 'asa', windows: [{ long: '5m', short: '1h', factor: 2, severity: 'critical' }, { long: '90s', short: '1m', factor: 2, severity: 'warning' }],
    }, config).problems).toEqual([
      'kpi: asa is not a ratio; a burn rate needs a ratio KPI with a target',
      'target: must be between 0 and 1 (exclusive), got 20',
      'windows/0/short: must be shorter than long (5m)',
      'windows/1/long: must be whole minutes',
    ]);
    expect(validateRule({ id: 'b', kind: 'burn_rate', kpi: 'repeat_complaint_rate', target: 0.05, windows: [{ long: '1h', short: '5m', factor: 2, severity: 'critical' }] }, config).rule)
      .toMatchObject({ direction: 'lower', budget: 0.05, tiers: ['critical'] });
    expect(validateRule({ id: 'b', kind: 'burn_rate', kpi: 'answer_rate', windows: [{ long: '1h', short: '5m', factor: 2, severity: 'critical' }] }, config).rule)
      .toMatchObject({ direction: 'higher', target: 0.95, noData: 'ok' });
  });

  it('finds duplicate ids in a list', () => {
    const rule = { id: 'a', kpi: 'csat', window: '1h', when: 'below', thresholds: { warning: 0.9 } };
    expect(validateRules([rule, rule], config).problems).toEqual(['rules/1/id: duplicate rule id "a"']);
    expect(validateRules({ rules: [] }, config).problems).toEqual(['rules: must be a list of rules']);
  });

  it('stops a configuration with a bad rule at start-up, naming the field', () => {
    const raw = structuredClone(config) as unknown as { alerts: { rules: unknown[]; maintenanceWindows: unknown[]; calendars: Record<string, unknown> } };
    raw.alerts.rules[0] = { ...(raw.alerts.rules[0] as object), thresholds: { warning: 0.9, critical: 0.95 } };
    raw.alerts.maintenanceWindows = [{ id: 'mw', matchers: ['region=GD', 'rule~x'], days: ['tue'], start: '02:00', end: '02:00' }];
    raw.alerts.calendars['elsewhere'] = { timezone: 'Mars/Olympus', hours: {} };
    try {
      validateConfigObject(raw, 'test');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        'alerts/calendars/elsewhere/timezone: unknown time zone "Mars/Olympus"',
        'alerts/maintenanceWindows/0/matchers/1: "rule~x" is not a matcher (label=value, label!=value, label=~regex, label!~regex)',
        'alerts/maintenanceWindows/0/end: must differ from start',
        'alerts/rules/0/thresholds/critical: must not be above warning (0.9) for a "below" rule',
        // The critical clear (0.92) is now below its threshold, and so is XZ's, moved with it (0.85 − 0.03).
        'alerts/rules/0/clear/critical: must be at or above thresholds/critical (0.95): a "below" rule recovers upwards',
        'alerts/rules/0/overrides/XZ/clear/critical: must be at or above thresholds/critical (0.85): a "below" rule recovers upwards',
      ]);
    }
    expect(checkAlertsConfig(config)).toEqual([]);
  });
});

describe('judging a KPI value', () => {
  const rule = validateRule({ id: 'x', kpi: 'answer_rate', window: '15m', when: 'below', thresholds: { warning: 0.95, critical: 0.90 }, clear: { warning: 0.96, critical: 0.92 } }, config).rule as KpiRule;
  it.each([
    [0.97, null, null],
    [0.96, null, null], // at the clear threshold: recovered
    [0.955, null, 'warning'], // met the target, not yet past the warning clear
    [0.95, null, 'warning'],
    [0.94, 'warning', 'warning'],
    [0.91, 'warning', 'critical'], // above the critical threshold, below its clear
    [0.90, 'warning', 'critical'],
    [0.89, 'critical', 'critical'],
  ])('%d crosses %s and has not cleared %s', (value, crossed, uncleared) => {
    expect(judge(value, rule, 'below')).toEqual({ crossed, uncleared });
  });
  it('measures volume as the denominator of ratios and the count itself for counts and per-million rates', () => {
    expect(volumeOf('ratio', { numerator: 3, denominator: 40 })).toBe(40);
    expect(volumeOf('count', { numerator: 7, denominator: 1 })).toBe(7);
    expect(volumeOf('per_million', { numerator: 12, denominator: 57_100_000 })).toBe(12);
  });
});

describe('burn-rate arithmetic', () => {
  const higher = { direction: 'higher' as const, budget: 0.05 };
  it('divides the error ratio by the budget', () => {
    expect(burnRate({ numerator: 1020, denominator: 1200 }, higher)).toBeCloseTo(3, 10); // 180/1200 = 0.15
    expect(burnRate({ numerator: 60, denominator: 1200 }, { direction: 'lower', budget: 0.05 })).toBeCloseTo(1, 10); // abandon 5 %
    expect(burnRate({ numerator: 0, denominator: 0 }, higher)).toBe(0);
  });

  it('projects when the day\'s target will be missed', () => {
    const now = 1_000_000;
    const dayEnd = now + 14 * 3600;
    // 12000 calls so far, 180 unanswered (1.5 %); the last hour: 1200 calls, 15 % unanswered.
    // (0.05·12000 − 180) / ((1200/3600)·(0.15 − 0.05)) = 420 / (1/30) = 12600 s.
    expect(projectMiss({ numerator: 11820, denominator: 12000 }, { numerator: 1020, denominator: 1200 }, 3600, higher, now, dayEnd)).toBe(now + 12600);
    // 6 % unanswered at 1200 an hour: the day ends at (72 + 16800·0.06) / 28800 = 3.75 %, within budget.
    expect(projectMiss({ numerator: 11928, denominator: 12000 }, { numerator: 1128, denominator: 1200 }, 3600, higher, now, dayEnd)).toBeNull();
    // Already at 8 % and still failing: missed now.
    expect(projectMiss({ numerator: 920, denominator: 1000 }, { numerator: 100, denominator: 200 }, 3600, higher, now, dayEnd)).toBe(now);
    // Already at 8 % but recovering fast enough: (80 + 0·…) / (1000 + 14·7200) < 5 %: not missed.
    expect(projectMiss({ numerator: 920, denominator: 1000 }, { numerator: 7200, denominator: 7200 }, 3600, higher, now, dayEnd)).toBeNull();
  });

  it('needs both windows of a pair past the factor; the critical pair wins; thin samples are not judged', () => {
    const rule = validateRule({
      id: 'b', kind: 'burn_rate', kpi: 'abandon_rate', minVolume: 50,
      windows: [{ long: '1h', short: '5m', factor: 4, severity: 'critical' }, { long: '2h', short: '10m', factor: 2, severity: 'warning' }],
    }, config).rule as BurnRateRule;
    const to = 7200 * 1000;
    // 120 one-minute points, 1 call each; abandoned (numerator) as given.
    const points = (abandonedAt: (minute: number) => boolean, calls = 1) => Array.from({ length: 120 }, (_, m) => ({
      t: new Date((to - 7200 + m * 60) * 1000).toISOString(), value: null, numerator: abandonedAt(m) ? calls : 0, denominator: calls,
    }));
    // Last 30 minutes all abandoned: 1 h = 30/60 = 0.5 → 10×; 5 m = 1 → 20×; 2 h = 30/120 = 0.25 → 5×; 10 m → 20×.
    const both = observeBurn(rule, { region: 'GD' }, points((m) => m >= 90), to, to - 7200, to + 3600);
    expect(both).toMatchObject({ status: 'value', crossed: 'critical', value: 10, volume: 120, thresholds: { critical: 4, warning: 2 } });
    // Abandoned from minute 30 to 99 only: 1 h = 40/60 → 13.3× but the last 5 min are clean: the critical pair does not fire;
    // 2 h = 70/120 → 11.7×, last 10 min clean too: nothing fires.
    const stale = observeBurn(rule, { region: 'GD' }, points((m) => m >= 30 && m < 100), to, to - 7200, to + 3600);
    expect(stale.crossed).toBeNull();
    // A steady third of calls abandoned (every third minute): 1 h = 20/60 → 6.7× (> 4) but the last 5 min hold only
    // minute 117: 1/5 → 4×, not past 4, so the critical pair is quiet; 2 h = 40/120 → 6.7× and 10 min = 3/10 → 6×: warning.
    const steady = observeBurn(rule, { region: 'GD' }, points((m) => m % 3 === 0), to, to - 7200, to + 3600);
    expect(steady).toMatchObject({ crossed: 'warning', thresholds: { critical: 4, warning: 2 } });
    expect(steady.value).toBeCloseTo(6.667, 3);
    const thin = observeBurn(rule, { region: 'GD' }, points((m) => m >= 90).slice(100), to, to - 7200, to + 3600);
    expect(thin).toMatchObject({ status: 'insufficient_volume', crossed: null, volume: 20 });
    expect(observeBurn(rule, { region: 'GD' }, [], to, to - 7200, to + 3600)).toMatchObject({ status: 'no_data', value: null });
  });
});
