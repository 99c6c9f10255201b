/**
 * The human text of an instance, in Chinese and English (ALERTING.md
 * "Notifications": rule, region, value vs threshold, volume, since when), and
 * its dashboard link. Channels render these; they never rebuild the numbers.
 */
import type { SqmConfig } from '../config/index.js';
import { KPIS, offsetSeconds, type KpiId, type Unit } from '../kpi/index.js';
import type { Rule } from './rules/types.js';
import type { AlertInstance, Severity } from './types.js';

const SEVERITY_ZH: Record<Severity, string> = { warning: '预警', critical: '严重' };

export function formatValue(value: number | null, unit: Unit): string {
  if (value === null || !Number.isFinite(value)) return '—';
  switch (unit) {
    case 'ratio': return `${(value * 100).toFixed(1)}%`;
    case 'seconds': return `${value.toFixed(1)} s`;
    case 'hours': return `${value.toFixed(2)} h`;
    case 'minutes': return `${value.toFixed(1)} min`;
    case 'count': return String(Math.round(value));
    case 'per_million': return value.toFixed(2);
    default: return value.toFixed(1);
  }
}

/** `2026-11-30 10:15` in the zone. */
export function formatLocal(iso: string, timezone: string): string {
  const epoch = Math.floor(Date.parse(iso) / 1000);
  return new Date((epoch + offsetSeconds(epoch, timezone)) * 1000).toISOString().slice(0, 16).replace('T', ' ');
}

function place(instance: AlertInstance, config: SqmConfig): { zh: string; en: string } {
  const code = instance.labels.region;
  const region = code ? config.regions.find((r) => r.code === code) : undefined;
  const extra = Object.entries(instance.labels).filter(([k]) => k !== 'rule' && k !== 'region').map(([k, v]) => `${k}=${v}`);
  const tail = extra.length > 0 ? ` ${extra.join(' ')}` : '';
  if (!code) return { zh: `全国${tail}`, en: `nationwide${tail}` };
  return { zh: `${region?.zh ?? code}（${code}）${tail}`, en: `${region?.en ?? code} (${code})${tail}` };
}

export function summarise(instance: AlertInstance, rule: Rule, config: SqmConfig): { zh: string; en: string } {
  const where = place(instance, config);
  const tz = config.timezone;
  const since = formatLocal(instance.firingSince && instance.state === 'firing' ? instance.firingSince : instance.since, tz);
  const severity = instance.severity;
  const recovered = instance.state === 'ok' || instance.state === 'resolved';

  if (rule.kind === 'sla') {
    const items = instance.items ?? [];
    const breached = items.filter((x) => x.elapsed >= 1).length;
    const what = rule.source === 'tickets' ? { zh: '张工单', en: 'tickets', noun: '工单' } : { zh: '个故障', en: 'faults', noun: '故障' };
    const n = instance.value ?? 0;
    if (recovered) return { zh: `${where.zh}：已无临近超时的${what.noun}`, en: `${where.en}: no ${what.en} near a deadline any more` };
    return {
      zh: `${where.zh}：${n} ${what.zh}已过时限的 ${Math.round(rule.warningAt * 100)}%，其中 ${breached} ${what.zh}已超时（自 ${since} 起）`,
      en: `${where.en}: ${n} ${what.en} past ${Math.round(rule.warningAt * 100)}% of a deadline, ${breached} breached (since ${since} ${tz})`,
    };
  }

  const kpi = KPIS[rule.kpi as KpiId];
  if (rule.kind === 'burn_rate') {
    const burn = instance.value === null ? '—' : instance.value.toFixed(1);
    const factor = instance.threshold === null ? '—' : String(instance.threshold);
    const target = formatValue(rule.target, kpi.unit);
    const miss = instance.projectedMissAt ? formatLocal(instance.projectedMissAt, tz) : null;
    if (recovered) return { zh: `${where.zh}${kpi.zh}错误预算消耗已恢复正常（${burn} 倍）`, en: `${kpi.en} in ${where.en}: the error budget burn is back to normal (${burn}×)` };
    return {
      zh: `${where.zh}${kpi.zh}错误预算消耗速度为允许值的 ${burn} 倍（阈值 ${factor} 倍）` + (miss ? `；按此速度，今日目标 ${target} 将于 ${miss} 失守` : ''),
      en: `${kpi.en} in ${where.en} is burning its error budget ${burn}× as fast as allowed (threshold ${factor}×)` +
        (miss ? `; at this pace today's target ${target} will be missed at ${miss} ${tz}` : ''),
    };
  }

  const value = formatValue(instance.value, kpi.unit);
  const threshold = formatValue(instance.threshold, kpi.unit);
  const volume = instance.volume === null ? '—' : String(Math.round(instance.volume));
  if (recovered) {
    return { zh: `${where.zh}${kpi.zh}已恢复：${value}（阈值 ${threshold}）`, en: `${kpi.en} in ${where.en} has recovered: ${value} (threshold ${threshold})` };
  }
  if (instance.value === null) {
    return { zh: `${where.zh}${kpi.zh}：窗口内无数据（自 ${since} 起）`, en: `${kpi.en} in ${where.en}: no data in the window (since ${since} ${tz})` };
  }
  const below = rule.when === 'below';
  const tier = severity ?? 'warning';
  return {
    zh: `${where.zh}${kpi.zh} ${value}，${below ? '低于' : '高于'}${SEVERITY_ZH[tier]}阈值 ${threshold}（样本量 ${volume}，自 ${since} 起）`,
    en: `${kpi.en} in ${where.en} is ${value}, ${below ? 'below' : 'above'} the ${tier} threshold ${threshold} (volume ${volume}, since ${since} ${tz})`,
  };
}

/**
 * The dashboard link of an instance: the manager view of its region with the
 * alert selected (the dashboard's hash routes, dashboard/src/lib/router.ts),
 * absolute when the notifications section gives the dashboard's address.
 */
export function instanceUrl(instance: Pick<AlertInstance, 'id' | 'labels'>, config: SqmConfig): string {
  const base = config.notifications?.dashboardUrl?.replace(/\/+$/, '') ?? '';
  const params = new URLSearchParams();
  if (instance.labels.region) params.set('region', instance.labels.region);
  params.set('alert', instance.id);
  return `${base}/#/manager?${params.toString()}`;
}
