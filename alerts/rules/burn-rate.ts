/**
 * Burn-rate rules (issue 4): how fast today's error budget is being spent.
 * The budget is 1 − target for a higher-is-better ratio (answer rate ≥ 0.95:
 * 5 % of calls may go unanswered) and the target itself for a lower-is-better
 * one (abandon rate ≤ 0.05). The burn rate over a window is the error ratio in
 * it divided by the budget: 1 spends the budget exactly over the day. A window
 * pair alerts when BOTH windows burn faster than its factor (the long one
 * proves it is serious, the short one that it is still happening), e.g.
 * 14.4× over 1 h and 5 min.
 *
 * ONE KPI-engine query per evaluation: a 1-minute series from the earlier of
 * local midnight and the longest window's start to the last whole minute,
 * summed in JS over each window and over the day so far. Whole minutes keep
 * the windows exact and let the engine read its per-minute rollups.
 *
 * `projectedMissAt`: if the day's volume and error ratio went on at the pace
 * of the (first alerting, else first) pair's long window until local midnight,
 * the instant the day's cumulative ratio would cross the target; `now` when it
 * is already past it and would not recover by midnight; null when the day's
 * target would still be met.
 */
import { startOfLocalDay, type KpiPoint } from '../../kpi/index.js';
import type { Severity } from '../types.js';
import type { BurnRateRule, Observation, RuleKindImpl, Tiers } from './types.js';

export interface Totals {
  numerator: number;
  denominator: number;
}

/** Errors in a window: unanswered calls for a higher-is-better ratio, the counted events for a lower-is-better one. */
export function errorsOf(totals: Totals, direction: 'higher' | 'lower'): number {
  return direction === 'higher' ? totals.denominator - totals.numerator : totals.numerator;
}

export function burnRate(totals: Totals, rule: Pick<BurnRateRule, 'direction' | 'budget'>): number {
  if (totals.denominator === 0) return 0;
  return errorsOf(totals, rule.direction) / totals.denominator / rule.budget;
}

/** When the day's target will be missed at the pace of `pace` (a window of `paceSeconds`), or null. Epoch seconds. */
export function projectMiss(day: Totals, pace: Totals, paceSeconds: number, rule: Pick<BurnRateRule, 'direction' | 'budget'>, now: number, dayEnd: number): number | null {
  const b = rule.budget;
  const errorsSoFar = errorsOf(day, rule.direction);
  const volumeRate = pace.denominator / paceSeconds;
  const errorRatio = pace.denominator === 0 ? 0 : errorsOf(pace, rule.direction) / pace.denominator;
  const remaining = Math.max(0, dayEnd - now);
  const finalVolume = day.denominator + volumeRate * remaining;
  if (finalVolume === 0) return null;
  const finalRatio = (errorsSoFar + volumeRate * errorRatio * remaining) / finalVolume;
  if (finalRatio <= b) return null;
  const ratioNow = day.denominator === 0 ? 0 : errorsSoFar / day.denominator;
  if (ratioNow > b) return now;
  // The cumulative ratio reaches the budget when (E + v·e·t) = b·(T + v·t).
  const t = (b * day.denominator - errorsSoFar) / (volumeRate * (errorRatio - b));
  return Math.round(now + t);
}

/** Sum a 1-minute series over [from, to). */
export function sumSince(points: readonly KpiPoint[], from: number): Totals {
  let numerator = 0;
  let denominator = 0;
  for (const p of points) {
    if (Date.parse(p.t) / 1000 >= from) {
      numerator += p.numerator;
      denominator += p.denominator;
    }
  }
  return { numerator, denominator };
}

export function observeBurn(rule: BurnRateRule, labels: Record<string, string>, points: readonly KpiPoint[], to: number, dayStart: number, dayEnd: number): Observation {
  const all = { rule: rule.id, ...labels };
  const thresholds: Tiers = {};
  for (const w of rule.windows) thresholds[w.severity] ??= w.factor;
  const longest = Math.max(...rule.windows.map((w) => w.longMs)) / 1000;
  const volume = sumSince(points, to - longest).denominator;
  if (volume === 0) return { labels: all, status: 'no_data', value: null, volume: 0, crossed: null, uncleared: null, thresholds, projectedMissAt: null };

  const burns = rule.windows.map((w) => {
    const long = sumSince(points, to - w.longMs / 1000);
    const short = sumSince(points, to - w.shortMs / 1000);
    return { w, long, longBurn: burnRate(long, rule), shortBurn: burnRate(short, rule) };
  });
  // The highest-severity pair with both windows past its factor; the first such pair among equals.
  let matched: (typeof burns)[number] | undefined;
  for (const b of burns) {
    const fires = b.longBurn > b.w.factor && b.shortBurn > b.w.factor;
    if (fires && (!matched || (b.w.severity === 'critical' && matched.w.severity !== 'critical'))) matched = b;
  }
  const crossed: Severity | null = matched?.w.severity ?? null;
  const shown = matched ?? (burns[0] as (typeof burns)[number]);
  const miss = projectMiss(sumSince(points, dayStart), shown.long, shown.w.longMs / 1000, rule, to, dayEnd);
  const observation: Observation = {
    labels: all,
    status: volume < rule.minVolume ? 'insufficient_volume' : 'value',
    value: Math.round(shown.longBurn * 1000) / 1000,
    volume,
    crossed: volume < rule.minVolume ? null : crossed,
    uncleared: volume < rule.minVolume ? null : crossed,
    thresholds,
    projectedMissAt: miss === null ? null : new Date(miss * 1000).toISOString(),
  };
  return observation;
}

export const burnRateKind: RuleKindImpl<BurnRateRule> = {
  kind: 'burn_rate',
  async evaluate(rule, ctx) {
    const tz = ctx.config.timezone;
    const to = Math.floor(ctx.at.getTime() / 60_000) * 60;
    const dayStart = startOfLocalDay(to, tz);
    const dayEnd = startOfLocalDay(dayStart + 26 * 3600, tz);
    const longest = Math.max(...rule.windows.map((w) => w.longMs)) / 1000;
    const from = Math.min(dayStart, to - longest);
    const response = await ctx.kpis.query({
      kpis: [rule.kpi], from: new Date(from * 1000), to: new Date(to * 1000), regions: null, by: rule.by, step: '1m',
    });
    return response.series
      .filter((s) => rule.by.every((d) => s.labels[d] !== undefined))
      .map((s) => observeBurn(rule, s.labels, s.points, to, dayStart, dayEnd));
  },
};
