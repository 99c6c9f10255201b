/**
 * The KPI catalogue (KPIS.md): one entry per KPI with its names, unit,
 * direction, family, the dimensions it can be cut by, and how a value follows
 * from numerator and denominator. Targets come from the configuration.
 */
import type { SqmConfig } from '../config/index.js';

export const FAMILIES = ['contact-centre', 'tickets', 'faults', 'surveys'] as const;
export type FamilyId = (typeof FAMILIES)[number];

/** Every dimension any KPI can be cut by; also the allow-list for dimension identifiers in SQL. */
export const DIMENSIONS = ['region', 'queue', 'channel', 'agent', 'category', 'priority', 'domain', 'severity', 'touchpoint'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const FAMILY_DIMENSIONS: Record<FamilyId, readonly Dimension[]> = {
  'contact-centre': ['region', 'queue', 'channel', 'agent'],
  tickets: ['region', 'channel', 'category', 'priority'],
  faults: ['region', 'domain', 'severity'],
  surveys: ['region', 'channel', 'touchpoint'],
};

export type Unit = 'count' | 'ratio' | 'seconds' | 'hours' | 'minutes' | 'per_million' | 'nps' | 'ces';
export type Direction = 'higher' | 'lower';

/**
 * How a point's value follows from its numerator and denominator:
 * - `ratio`, `mean`: numerator / denominator (null on an empty denominator)
 * - `count`: value = numerator, denominator = 1 (an empty bucket is 0, not null)
 * - `per_million`: numerator / denominator × 1,000,000
 * - `percent_points`: numerator / denominator × 100 (NPS)
 * - `gauge_sum`: value = numerator (sum over reporting queues); null when no queue reported
 */
export type ValueKind = 'ratio' | 'mean' | 'count' | 'per_million' | 'percent_points' | 'gauge_sum';

export const KPI_IDS = [
  'offered', 'answer_rate', 'service_level', 'abandon_rate', 'asa', 'aht', 'fcr', 'calls_waiting', 'longest_wait',
  'response_sla', 'resolution_sla', 'mean_response_hours', 'complaints', 'complaint_rate', 'repeat_complaint_rate', 'backlog', 'at_risk',
  'mttr_hours', 'mtta_minutes', 'restore_sla', 'open_faults', 'customers_affected',
  'csat', 'nps', 'ces',
] as const;
export type KpiId = (typeof KPI_IDS)[number];

export interface KpiDefinition {
  id: KpiId;
  zh: string;
  en: string;
  unit: Unit;
  direction: Direction;
  family: FamilyId;
  kind: ValueKind;
  /** Dimensions this KPI can be cut by. */
  dimensions: readonly Dimension[];
}

const CC = FAMILY_DIMENSIONS['contact-centre'];
const GAUGE: readonly Dimension[] = ['region', 'queue'];
const TK = FAMILY_DIMENSIONS.tickets;
const FT = FAMILY_DIMENSIONS.faults;
const SV = FAMILY_DIMENSIONS.surveys;

function def(id: KpiId, zh: string, en: string, unit: Unit, direction: Direction, family: FamilyId, kind: ValueKind, dimensions: readonly Dimension[]): KpiDefinition {
  return Object.freeze({ id, zh, en, unit, direction, family, kind, dimensions });
}

export const KPIS: Readonly<Record<KpiId, KpiDefinition>> = Object.freeze({
  offered: def('offered', '呼入量', 'Offered contacts', 'count', 'higher', 'contact-centre', 'count', CC),
  answer_rate: def('answer_rate', '人工接通率', 'Answer rate', 'ratio', 'higher', 'contact-centre', 'ratio', CC),
  service_level: def('service_level', 'N秒接通率', 'Service level', 'ratio', 'higher', 'contact-centre', 'ratio', CC),
  abandon_rate: def('abandon_rate', '放弃率', 'Abandon rate', 'ratio', 'lower', 'contact-centre', 'ratio', CC),
  asa: def('asa', '平均应答时长', 'Average speed of answer', 'seconds', 'lower', 'contact-centre', 'mean', CC),
  aht: def('aht', '平均处理时长', 'Average handling time', 'seconds', 'lower', 'contact-centre', 'mean', CC),
  fcr: def('fcr', '一次解决率', 'First-contact resolution', 'ratio', 'higher', 'contact-centre', 'ratio', CC),
  calls_waiting: def('calls_waiting', '排队数', 'Contacts waiting', 'count', 'lower', 'contact-centre', 'gauge_sum', GAUGE),
  // Numerator is the longest wait (a max), denominator the queues reporting: value = numerator.
  longest_wait: def('longest_wait', '最长等待', 'Longest wait', 'seconds', 'lower', 'contact-centre', 'gauge_sum', GAUGE),
  response_sla: def('response_sla', '响应及时率', 'Response within SLA', 'ratio', 'higher', 'tickets', 'ratio', TK),
  resolution_sla: def('resolution_sla', '解决及时率', 'Resolution within SLA', 'ratio', 'higher', 'tickets', 'ratio', TK),
  mean_response_hours: def('mean_response_hours', '平均响应时长', 'Mean response time', 'hours', 'lower', 'tickets', 'mean', TK),
  complaints: def('complaints', '投诉量', 'Complaints', 'count', 'lower', 'tickets', 'count', TK),
  complaint_rate: def('complaint_rate', '百万用户投诉率', 'Complaints per million subscribers', 'per_million', 'lower', 'tickets', 'per_million', TK),
  repeat_complaint_rate: def('repeat_complaint_rate', '重复投诉率', 'Repeat complaint rate', 'ratio', 'lower', 'tickets', 'ratio', TK),
  backlog: def('backlog', '积压工单', 'Open tickets', 'count', 'lower', 'tickets', 'count', TK),
  at_risk: def('at_risk', '临近超时', 'Tickets near a deadline', 'count', 'lower', 'tickets', 'count', TK),
  mttr_hours: def('mttr_hours', '平均修复时长', 'Mean time to restore', 'hours', 'lower', 'faults', 'mean', FT),
  mtta_minutes: def('mtta_minutes', '平均确认时长', 'Mean time to acknowledge', 'minutes', 'lower', 'faults', 'mean', FT),
  restore_sla: def('restore_sla', '故障修复及时率', 'Restored within SLA', 'ratio', 'higher', 'faults', 'ratio', FT),
  open_faults: def('open_faults', '未恢复故障', 'Open faults', 'count', 'lower', 'faults', 'count', FT),
  customers_affected: def('customers_affected', '影响用户数', 'Customers affected', 'count', 'lower', 'faults', 'count', FT),
  csat: def('csat', '满意度', 'Customer satisfaction', 'ratio', 'higher', 'surveys', 'ratio', SV),
  nps: def('nps', '净推荐值', 'Net promoter score', 'nps', 'higher', 'surveys', 'percent_points', SV),
  ces: def('ces', '费力度', 'Customer effort score', 'ces', 'higher', 'surveys', 'mean', SV),
});

export function isKpiId(id: string): id is KpiId {
  return (KPI_IDS as readonly string[]).includes(id);
}

export function isDimension(name: string): name is Dimension {
  return (DIMENSIONS as readonly string[]).includes(name);
}

/** A point's value from its numerator and denominator (null on an empty denominator). */
export function valueOf(kind: ValueKind, numerator: number, denominator: number): number | null {
  switch (kind) {
    case 'count':
      return numerator;
    case 'gauge_sum':
      return denominator === 0 ? null : numerator;
    case 'per_million':
      return denominator === 0 ? null : (numerator / denominator) * 1_000_000;
    case 'percent_points':
      return denominator === 0 ? null : (numerator / denominator) * 100;
    case 'ratio':
    case 'mean':
      return denominator === 0 ? null : numerator / denominator;
  }
}

export interface CatalogueEntry extends KpiDefinition {
  /** Default target (config.targets[id].value), or null when the KPI has none. */
  target: number | null;
  /** Where the quality-index score reaches 0, when configured. */
  floor: number | null;
  weight: number | null;
}

/** The catalogue with the configured targets, in KPIS.md order. */
export function kpiCatalogue(config: SqmConfig): CatalogueEntry[] {
  return KPI_IDS.map((id) => {
    const target = config.targets[id];
    return { ...KPIS[id], target: target?.value ?? null, floor: target?.floor ?? null, weight: target?.weight ?? null };
  });
}
