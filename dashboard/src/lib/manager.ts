/**
 * The regional manager's desk, as plain functions: which KPIs the glance
 * table shows, trend ranges, and SLA items at risk (nearest deadline first)
 * from the alert API's SLA-timer instances.
 */
import { ceilMinute, startOfDay } from './time-zone.js';
import type { AlertInstance, SlaItem, Step } from './types.js';

export const GLANCE_KPIS = ['answer_rate', 'service_level', 'abandon_rate', 'asa', 'response_sla', 'csat', 'at_risk', 'backlog', 'open_faults'] as const;
export const DRILL_KPIS = ['offered', 'answer_rate', 'service_level', 'asa', 'abandon_rate'] as const;
export const DRILL_DIMENSIONS = ['queue', 'channel'] as const;

export type TrendRange = 'today' | '24h' | '7d';
export const TREND_RANGES: readonly TrendRange[] = ['today', '24h', '7d'];

export function trendWindow(range: TrendRange, now: Date, timeZone: string): { from: Date; to: Date; step: Step } {
  const to = ceilMinute(now);
  switch (range) {
    case 'today':
      return { from: startOfDay(now, timeZone), to, step: '15m' };
    case '24h':
      return { from: new Date(to.getTime() - 24 * 3600_000), to, step: '15m' };
    case '7d':
      // Whole hours, so hourly buckets line up with the clock.
      return { from: new Date(Math.floor((to.getTime() - 7 * 24 * 3600_000) / 3600_000) * 3600_000), to, step: '1h' };
  }
}

export interface RiskItem extends SlaItem {
  region: string;
  instanceId: string;
  /** Milliseconds until the deadline (negative: past it). */
  remainingMs: number;
}

/** Every ticket and fault behind SLA-timer instances in the given regions, nearest deadline first. */
export function riskItems(alerts: readonly AlertInstance[], regions: readonly string[] | null, now: Date): RiskItem[] {
  const items: RiskItem[] = [];
  for (const alert of alerts) {
    if (alert.ruleKind !== 'sla' || !alert.items) continue;
    const region = alert.labels.region ?? '';
    if (regions && !regions.includes(region)) continue;
    for (const item of alert.items) {
      items.push({ ...item, region, instanceId: alert.id, remainingMs: new Date(item.deadline).getTime() - now.getTime() });
    }
  }
  return items.sort((a, b) => a.remainingMs - b.remainingMs || a.id.localeCompare(b.id));
}

/**
 * Label matchers (`name=value`) that silence exactly this instance: its rule
 * and every label it carries. A scoped manager's silence must name its region,
 * and the instance's `region` label does.
 */
export function silenceMatchers(alert: AlertInstance): string[] {
  const matchers = new Map<string, string>([['rule', alert.ruleId]]);
  for (const [name, value] of Object.entries(alert.labels)) matchers.set(name, value);
  return [...matchers].map(([name, value]) => `${name}=${value}`);
}

export const SILENCE_DURATIONS = { '30m': 30 * 60_000, '1h': 3600_000, '4h': 4 * 3600_000, '1d': 24 * 3600_000 } as const;
export type SilenceDuration = keyof typeof SILENCE_DURATIONS;

/** Active alerts first (firing before pending), critical before warning, newest first. */
export function sortInbox(alerts: readonly AlertInstance[]): AlertInstance[] {
  const stateRank: Record<string, number> = { firing: 0, pending: 1, resolved: 2, ok: 3 };
  const severityRank = (a: AlertInstance) => (a.severity === 'critical' ? 0 : 1);
  return [...alerts].sort((a, b) =>
    (stateRank[a.state] ?? 9) - (stateRank[b.state] ?? 9)
    || severityRank(a) - severityRank(b)
    || (b.firingSince ?? b.since).localeCompare(a.firingSince ?? a.since));
}
