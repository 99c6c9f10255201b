/**
 * From the engine's AlertInstance to what a notice shows: group labels and
 * key, the KPI's names and unit, the region's Chinese and English names, an
 * absolute dashboard link.
 */
import type { SqmConfig } from '../../config/index.js';
import { isKpiId, KPIS } from '../../kpi/catalogue.js';
import type { NotificationAlert, RegionName } from '../notifiers/types.js';
import type { AlertEvent, AlertInstance, Severity } from '../types.js';

/** Group labels of an instance: `rule` falls back to the rule id, `severity` to the instance's severity. */
export function groupLabelsOf(instance: AlertInstance, groupBy: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const name of groupBy) {
    const value = instance.labels[name]
      ?? (name === 'rule' ? instance.ruleId : name === 'severity' ? (instance.severity ?? '') : '');
    labels[name] = value;
  }
  return labels;
}

/** `{rule="answer-rate",region="GD"}`, Alertmanager's way of naming a group. */
export function groupKeyOf(labels: Record<string, string>): string {
  return `{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

/**
 * The catalogue KPI a rule watches, when it can be told: a `kpi` label, or a
 * rule id that names a KPI (`answer-rate` → `answer_rate`). Used only for
 * names and units in messages; without it values print as plain numbers.
 */
export function kpiOf(instance: AlertInstance): NotificationAlert['kpi'] {
  for (const candidate of [instance.labels.kpi, instance.ruleId, instance.ruleId.replace(/-/g, '_')]) {
    if (candidate && isKpiId(candidate)) {
      const def = KPIS[candidate];
      return { id: def.id, zh: def.zh, en: def.en, unit: def.unit };
    }
  }
  return null;
}

export interface NoticeContext {
  regions: ReadonlyMap<string, RegionName>;
  dashboardUrl: string;
}

export function noticeContext(config: SqmConfig): NoticeContext {
  return {
    regions: new Map(config.regions.map((r) => [r.code, { code: r.code, zh: r.zh, en: r.en }])),
    dashboardUrl: config.notifications?.dashboardUrl ?? 'http://localhost:8080',
  };
}

/** The instance's own link when absolute; a relative one is joined to the dashboard's URL. */
export function alertUrl(instance: AlertInstance, dashboardUrl: string): string {
  const base = dashboardUrl.replace(/\/+$/, '');
  if (instance.url && /^https?:\/\//.test(instance.url)) return instance.url;
  if (instance.url) return `${base}/${instance.url.replace(/^\/+/, '')}`;
  return `${base}/alerts/${encodeURIComponent(instance.id)}`;
}

export function toNotificationAlert(
  instance: AlertInstance,
  options: { event: AlertEvent['type']; status: 'firing' | 'resolved'; previousSeverity: Severity | null; endsAt: string | null },
  context: NoticeContext,
): NotificationAlert {
  const regionCode = instance.labels.region;
  return {
    instanceId: instance.id,
    ruleId: instance.ruleId,
    ruleKind: instance.ruleKind,
    labels: { ...instance.labels },
    event: options.event,
    status: options.status,
    severity: instance.severity,
    previousSeverity: options.previousSeverity,
    value: instance.value,
    threshold: instance.threshold,
    volume: instance.volume,
    kpi: kpiOf(instance),
    region: regionCode ? (context.regions.get(regionCode) ?? { code: regionCode, zh: regionCode, en: regionCode }) : null,
    startsAt: instance.firingSince ?? instance.since,
    endsAt: options.endsAt,
    acknowledged: instance.acknowledged,
    summary: instance.summary,
    url: alertUrl(instance, context.dashboardUrl),
    ...(instance.items ? { items: instance.items } : {}),
    ...(instance.projectedMissAt !== undefined ? { projectedMissAt: instance.projectedMissAt } : {}),
    instance,
  };
}

const SEVERITY_RANK: Record<string, number> = { critical: 0, warning: 1 };

/** Firing before resolved; critical before warning; older first. */
export function compareAlerts(a: NotificationAlert, b: NotificationAlert): number {
  if (a.status !== b.status) return a.status === 'firing' ? -1 : 1;
  const bySeverity = (SEVERITY_RANK[a.severity ?? ''] ?? 2) - (SEVERITY_RANK[b.severity ?? ''] ?? 2);
  if (bySeverity !== 0) return bySeverity;
  return a.startsAt < b.startsAt ? -1 : a.startsAt > b.startsAt ? 1 : a.instanceId.localeCompare(b.instanceId);
}
