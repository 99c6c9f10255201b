/**
 * A KPI rule replayed over past KPI values, for the admin page's preview
 * ("when would this rule have fired in the last 24 hours?") when the server
 * offers no preview of its own.
 *
 * It follows ALERTING.md on bucketed values from GET /api/v1/kpis: the KPI of
 * each bucket (the rule's window when it is one of the API's steps, else
 * 15 minutes) is compared with the thresholds (per-region overrides applied);
 * a thin bucket (volume below minVolume) leaves the state as it is; the
 * condition must hold for `for` before firing; a firing run ends when the
 * value recovers past `clear` (hysteresis). Severity is the highest tier
 * crossed during the run. It is an approximation of the engine's sliding
 * window, and the page says so.
 */
import type { KpiResponse, KpiRule, RulePreview, Severity, Step } from './types.js';

const STEP_SECONDS: Record<Step, number> = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '1d': 86400 };

/** `90s`, `15m`, `2h`, `1d` → seconds (null when unreadable). */
export function durationSeconds(text: string | undefined): number | null {
  if (text === undefined) return 0;
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim());
  if (!match) return null;
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** The bucket size for a rule: its window when the KPI API has that step, else 15 minutes. */
export function previewStep(rule: Pick<KpiRule, 'window'>): Step {
  const seconds = durationSeconds(rule.window);
  const exact = (Object.entries(STEP_SECONDS) as [Step, number][]).find(([, s]) => s === seconds);
  return exact && exact[0] !== '1d' ? exact[0] : '15m';
}

type Tiers = { warning?: number; critical?: number };

function crossed(value: number, threshold: number | undefined, when: 'below' | 'above'): boolean {
  if (threshold === undefined) return false;
  return when === 'below' ? value < threshold : value > threshold;
}

/** The highest tier whose threshold the value crosses, or null. */
export function severityOf(value: number, thresholds: Tiers, when: 'below' | 'above'): Severity | null {
  if (crossed(value, thresholds.critical, when)) return 'critical';
  if (crossed(value, thresholds.warning, when)) return 'warning';
  return null;
}

/** Whether a firing instance of `severity` has recovered: past its clear value (or its threshold when no clear is set). */
function recovered(value: number, severity: Severity, thresholds: Tiers, clear: Tiers, when: 'below' | 'above'): boolean {
  // Recovering means leaving every tier: past the warning tier's clear value (or the lowest tier set).
  const tier = thresholds.warning !== undefined ? 'warning' : severity;
  const limit = clear[tier] ?? thresholds[tier];
  if (limit === undefined) return true;
  return when === 'below' ? value >= limit : value <= limit;
}

export function replayRule(rule: KpiRule, response: KpiResponse, step: Step): RulePreview {
  const stepSeconds = STEP_SECONDS[step];
  const holdSeconds = durationSeconds(rule.for) ?? 0;
  const firings: RulePreview['firings'] = [];
  for (const series of response.series) {
    if (series.kpi !== rule.kpi) continue;
    const region = series.labels.region;
    const override = region ? rule.overrides?.[region] : undefined;
    const thresholds: Tiers = { ...rule.thresholds, ...(override?.thresholds ?? {}) };
    const clear: Tiers = { ...(rule.clear ?? {}), ...(override?.clear ?? {}) };
    const minVolume = override?.minVolume ?? rule.minVolume ?? 0;
    let pendingSince: number | null = null;
    let firing: RulePreview['firings'][number] | null = null;
    for (const point of series.points) {
      const t = Date.parse(point.t);
      if (point.value === null || point.denominator < minVolume) continue; // thin or empty: state stays
      const severity = severityOf(point.value, thresholds, rule.when);
      if (firing) {
        if (recovered(point.value, firing.severity, thresholds, clear, rule.when)) {
          firing.to = new Date(t).toISOString();
          firings.push(firing);
          firing = null;
          pendingSince = null;
        } else if (severity === 'critical') {
          firing.severity = 'critical';
        }
        continue;
      }
      if (!severity) {
        pendingSince = null;
        continue;
      }
      pendingSince ??= t;
      // The condition holds through the bucket: it fires once it has held `for`.
      const firesAt = pendingSince + holdSeconds * 1000;
      if (firesAt < t + stepSeconds * 1000) {
        firing = { labels: { ...series.labels }, severity, from: new Date(Math.max(firesAt, t)).toISOString(), to: null, value: point.value };
      }
    }
    if (firing) firings.push(firing);
  }
  firings.sort((a, b) => a.from.localeCompare(b.from));
  return { from: response.from, to: response.to, firings };
}
