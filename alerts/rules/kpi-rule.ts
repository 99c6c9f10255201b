/**
 * KPI rules (ALERTING.md "A KPI rule"): a KPI over a sliding window, one
 * instance per label set, compared with warning/critical thresholds and their
 * clear thresholds. ONE KPI-engine query per evaluation covers every region and
 * label set (`regions: null`), never one query per region.
 */
import { KPIS, type KpiPoint, type ValueKind } from '../../kpi/index.js';
import type { Severity } from '../types.js';
import { SEVERITIES, type KpiRule, type Observation, type RuleKindImpl, type ThresholdSet } from './types.js';

/**
 * The sample size a thin-sample check looks at: the denominator of a ratio or
 * mean (offered calls, answered surveys…), the count itself for counts and
 * per-million rates (complaints: the subscriber base is not a sample).
 */
export function volumeOf(kind: ValueKind, point: Pick<KpiPoint, 'numerator' | 'denominator'>): number {
  return kind === 'count' || kind === 'per_million' ? point.numerator : point.denominator;
}

/**
 * Which tiers a value crosses (`below`: strictly under the threshold, the
 * target itself being met) and which it has not yet recovered from (`below`:
 * under the clear threshold).
 */
export function judge(value: number, set: ThresholdSet, when: 'below' | 'above'): { crossed: Severity | null; uncleared: Severity | null } {
  const past = (limit: number | undefined) => limit !== undefined && (when === 'below' ? value < limit : value > limit);
  let crossed: Severity | null = null;
  let uncleared: Severity | null = null;
  for (const tier of SEVERITIES) {
    if (past(set.thresholds[tier])) crossed = tier;
    if (past(set.clear[tier])) uncleared = tier;
  }
  return { crossed, uncleared };
}

export function thresholdsFor(rule: KpiRule, region: string | undefined): ThresholdSet {
  return (region !== undefined ? rule.overrides[region] : undefined) ?? rule;
}

/** One label set's point, judged. */
export function observeKpi(rule: KpiRule, labels: Record<string, string>, point: KpiPoint | undefined): Observation {
  const set = thresholdsFor(rule, labels.region);
  const all = { rule: rule.id, ...labels };
  if (!point || point.value === null) {
    return { labels: all, status: 'no_data', value: null, volume: point ? volumeOf(KPIS[rule.kpi].kind, point) : null, crossed: null, uncleared: null, thresholds: set.thresholds };
  }
  const volume = volumeOf(KPIS[rule.kpi].kind, point);
  if (volume < set.minVolume) {
    return { labels: all, status: 'insufficient_volume', value: point.value, volume, crossed: null, uncleared: null, thresholds: set.thresholds };
  }
  return { labels: all, status: 'value', value: point.value, volume, ...judge(point.value, set, rule.when), thresholds: set.thresholds };
}

export const kpiRuleKind: RuleKindImpl<KpiRule> = {
  kind: 'kpi',
  async evaluate(rule, ctx) {
    const response = await ctx.kpis.query({
      kpis: [rule.kpi],
      from: new Date(ctx.at.getTime() - rule.windowMs),
      to: ctx.at,
      regions: null,
      by: rule.by,
    });
    // The engine pads a region without data with a series labelled by region only; with finer
    // `by` labels that series is no label set of ours (instances that saw data get no_data by absence).
    return response.series
      .filter((s) => rule.by.every((d) => s.labels[d] !== undefined))
      .map((s) => observeKpi(rule, s.labels, s.points[0]));
  },
};
