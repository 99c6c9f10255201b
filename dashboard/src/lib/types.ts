/**
 * The server's API shapes as the dashboard sees them. The dashboard talks to
 * the server over HTTP only and imports none of its code, so these mirror:
 * - the KPI query (RECORDS.md "KPI query", kpi/types.ts),
 * - GET /api/v1/meta (server/routes/meta.ts),
 * - the alerting contract (ALERTING.md, alerts/types.ts `AlertInstance`).
 */

export type Lang = 'zh' | 'en';
export const STEPS = ['1m', '5m', '15m', '1h', '1d'] as const;
export type Step = (typeof STEPS)[number];

export interface KpiPoint {
  t: string;
  value: number | null;
  numerator: number;
  denominator: number;
}

export interface KpiSeries {
  kpi: string;
  labels: Record<string, string>;
  points: KpiPoint[];
}

export interface KpiResponse {
  from: string;
  to: string;
  step?: Step;
  series: KpiSeries[];
}

export interface KpiQuery {
  kpis: readonly string[];
  from: Date;
  to: Date;
  /** Absent or empty: every region in the caller's scope. */
  regions?: readonly string[];
  by?: readonly string[];
  step?: Step;
}

export type Unit = 'count' | 'ratio' | 'seconds' | 'hours' | 'minutes' | 'per_million' | 'nps' | 'ces';
export type Direction = 'higher' | 'lower';
export type ValueKind = 'ratio' | 'mean' | 'count' | 'per_million' | 'percent_points' | 'gauge_sum';

/** One entry of the KPI catalogue with its configured target (GET /api/v1/meta). */
export interface KpiMeta {
  id: string;
  zh: string;
  en: string;
  unit: Unit;
  direction: Direction;
  family: string;
  kind: ValueKind;
  dimensions: string[];
  target: number | null;
  floor: number | null;
  weight: number | null;
}

export interface RegionMeta {
  code: string;
  zh: string;
  en: string;
}

export interface Meta {
  timezone: string;
  regions: RegionMeta[];
  kpis: KpiMeta[];
  dashboard: { amberBand: number; rotateSeconds: number };
  me: { name: string; role: string; regions: string[] | null };
}

// ---- alerting (ALERTING.md; alerts/types.ts) ----

export type Severity = 'warning' | 'critical';
export type InstanceState = 'ok' | 'pending' | 'firing' | 'resolved';

export interface SlaItem {
  kind: 'ticket' | 'fault';
  id: string;
  target: 'response' | 'resolution' | 'restore';
  deadline: string;
  elapsed: number;
}

export interface AlertInstance {
  id: string;
  ruleId: string;
  ruleKind: 'kpi' | 'sla' | 'burn_rate';
  labels: Record<string, string>;
  state: InstanceState;
  severity: Severity | null;
  value: number | null;
  threshold: number | null;
  volume: number | null;
  since: string;
  firingSince: string | null;
  acknowledged: { by: string; at: string; comment?: string } | null;
  silencedBy: string[];
  route: string;
  summary: { zh: string; en: string };
  url?: string;
  items?: SlaItem[];
  projectedMissAt?: string | null;
}

/** One transition in an instance's history (ALERTING.md: every transition with a reason, the value and the volume; alerts/alert-store.ts `HistoryRow`). */
export interface AlertHistoryEntry {
  at: string;
  from: InstanceState;
  to: InstanceState;
  severity: Severity | null;
  reason: string;
  value: number | null;
  volume: number | null;
  threshold?: number | null;
  message?: string;
  /** Who caused it: a person for acknowledgements, `engine` otherwise. */
  actor?: string;
}

/** A silence (alerts/silences.ts): label matchers written `name=value` (also `!=`, `=~`, `!~`). */
export interface Silence {
  id: string;
  matchers: string[];
  startsAt: string;
  endsAt: string | null;
  author?: string;
  reason: string;
  state?: 'pending' | 'active' | 'expired';
}

export interface SilenceInput {
  matchers: string[];
  startsAt: string;
  endsAt: string;
  reason: string;
}

/** A KPI rule (ALERTING.md "A KPI rule"); only the fields the admin page edits are typed closely. */
export interface KpiRule {
  id: string;
  kind?: string;
  kpi: string;
  by?: string[];
  window?: string;
  every?: string;
  when: 'below' | 'above';
  thresholds: { warning?: number; critical?: number };
  clear?: { warning?: number; critical?: number };
  for?: string;
  minVolume?: number;
  overrides?: Record<string, { thresholds?: { warning?: number; critical?: number }; clear?: { warning?: number; critical?: number }; minVolume?: number }>;
  route?: string;
  [other: string]: unknown;
}

/** A rule as GET /api/v1/rules lists it (alerts/engine.ts `RuleView`): the definition as written, with its health. */
export interface RuleView {
  id: string;
  kind: string;
  source: 'config' | 'api';
  enabled: boolean;
  definition: KpiRule;
  health?: { state: string; message: string | null };
  updatedAt?: string | null;
  updatedBy?: string | null;
}

/** What a rule preview returns: when the rule would have fired over the window replayed. */
export interface RulePreview {
  from?: string;
  to?: string;
  firings: { labels: Record<string, string>; severity: Severity; from: string; to: string | null; value?: number | null }[];
  /** When the condition held but had not yet held for `for` (server-side preview only). */
  pending?: { labels: Record<string, string>; severity: Severity; from: string; to: string | null; value?: number | null }[];
}

/** Generic admin records (receivers, policies, users, tokens): shown as key/value rows. */
export type AdminRecord = Record<string, unknown> & { id?: string; name?: string };
