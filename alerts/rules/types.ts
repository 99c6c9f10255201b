/**
 * Rules: what a rule definition looks like (as written in YAML, the API and
 * the store), the normalised form the engine evaluates, and the one small
 * contract every rule kind implements (`RuleKindImpl`): turn a rule and an
 * instant into observations, ONE store query per evaluation for all label sets.
 */
import type { SqmConfig } from '../../config/index.js';
import type { Dimension, KpiEngine, KpiId } from '../../kpi/index.js';
import type { Store } from '../../store/index.js';
import type { RuleKind, Severity, SlaItem } from '../types.js';

export const SEVERITIES: readonly Severity[] = ['warning', 'critical'];
export const NO_DATA_POLICIES = ['keep', 'ok', 'alert'] as const;
export type NoDataPolicy = (typeof NO_DATA_POLICIES)[number];

export type Tiers = Partial<Record<Severity, number>>;

/** Fields every kind shares, as written. */
export interface RuleDefinitionBase {
  id: string;
  kind?: RuleKind;
  description?: string;
  /** Default true. A disabled rule is kept but not evaluated. */
  enabled?: boolean;
  /** Evaluation interval (default 30s). */
  every?: string;
  /** How long the condition must hold before firing (default 0). */
  for?: string;
  /** How long to stay firing after the condition clears (default 0). */
  keepFiringFor?: string;
  /** `always` (default) or the name of a calendar in `alerts.calendars`. */
  activeHours?: string;
  /** Notification policy (default `default`). */
  route?: string;
}

export interface KpiRuleDefinition extends RuleDefinitionBase {
  kind?: 'kpi';
  kpi: string;
  by?: string[];
  window: string;
  when: 'below' | 'above';
  thresholds: Tiers;
  clear?: Tiers;
  minVolume?: number;
  noData?: NoDataPolicy;
  overrides?: Record<string, { thresholds?: Tiers; clear?: Tiers; minVolume?: number }>;
}

export interface SlaRuleDefinition extends RuleDefinitionBase {
  kind: 'sla';
  source: 'tickets' | 'faults';
  /** Ticket categories / priorities, fault severities to watch (all when absent). */
  categories?: string[];
  priorities?: string[];
  severities?: string[];
  /** Fraction of a deadline that counts as "at risk" (default 0.75). */
  warningAt?: number;
  /** Items needed for each tier: warning counts items at risk or breached, critical counts breached ones (default 1 each). */
  thresholds?: Tiers;
  /** Items listed per instance, most overdue first (default 50); the count is always complete. */
  maxItems?: number;
  overrides?: Record<string, { thresholds?: Tiers }>;
}

export interface BurnWindowDefinition {
  long: string;
  short: string;
  factor: number;
  severity: Severity;
}

export interface BurnRateRuleDefinition extends RuleDefinitionBase {
  kind: 'burn_rate';
  kpi: string;
  by?: string[];
  /** The day's target; `targets[kpi].value` from the configuration when absent. */
  target?: number;
  /** Window pairs, each alerting when both windows burn faster than `factor`; list the fastest first. */
  windows: BurnWindowDefinition[];
  minVolume?: number;
  noData?: NoDataPolicy;
}

export type RuleDefinition = KpiRuleDefinition | SlaRuleDefinition | BurnRateRuleDefinition;

/** What every normalised rule carries. */
export interface RuleCommon {
  id: string;
  kind: RuleKind;
  description: string;
  enabled: boolean;
  everyMs: number;
  forMs: number;
  keepFiringForMs: number;
  activeHours: string;
  route: string;
  noData: NoDataPolicy;
  /** The tiers this rule can raise, lowest first (a no-data alert takes the lowest). */
  tiers: Severity[];
  /** The definition as written, for export. */
  definition: RuleDefinition;
}

export interface ThresholdSet {
  thresholds: Tiers;
  clear: Tiers;
  minVolume: number;
}

export interface KpiRule extends RuleCommon, ThresholdSet {
  kind: 'kpi';
  kpi: KpiId;
  by: Dimension[];
  windowMs: number;
  when: 'below' | 'above';
  /** Per-region thresholds, clear and minVolume, already merged with the rule's. */
  overrides: Record<string, ThresholdSet>;
}

export interface SlaRule extends RuleCommon {
  kind: 'sla';
  source: 'tickets' | 'faults';
  categories: string[] | null;
  priorities: string[] | null;
  severities: string[] | null;
  warningAt: number;
  thresholds: Required<Tiers>;
  maxItems: number;
  overrides: Record<string, Required<Tiers>>;
}

export interface BurnWindow {
  longMs: number;
  shortMs: number;
  factor: number;
  severity: Severity;
}

export interface BurnRateRule extends RuleCommon {
  kind: 'burn_rate';
  kpi: KpiId;
  by: Dimension[];
  target: number;
  /** Error budget: 1 − target for higher-is-better ratios, the target itself for lower-is-better ones. */
  budget: number;
  direction: 'higher' | 'lower';
  windows: BurnWindow[];
  minVolume: number;
}

export type Rule = KpiRule | SlaRule | BurnRateRule;

/**
 * What a rule saw for one label set at one evaluation. The state machine
 * turns it into transitions; it never looks at the store.
 */
export interface Observation {
  /** `rule`, `region` and the rule's other `by` labels. */
  labels: Record<string, string>;
  /** `value`: judged; `insufficient_volume`: below minVolume, not judged; `no_data`: no records at all. */
  status: 'value' | 'insufficient_volume' | 'no_data';
  value: number | null;
  volume: number | null;
  /** Highest tier whose threshold is crossed now (what starts or raises an alert). */
  crossed: Severity | null;
  /** Highest tier not yet recovered past its clear threshold (what keeps a firing alert at a tier). */
  uncleared: Severity | null;
  /** Trigger threshold per tier, for display. */
  thresholds: Tiers;
  items?: SlaItem[];
  projectedMissAt?: string | null;
}

export interface EvaluationContext {
  store: Store;
  config: SqmConfig;
  kpis: KpiEngine;
  /** The evaluation instant. */
  at: Date;
}

/** One rule kind: one file behind this contract (kpi-rule.ts, sla-timer.ts, burn-rate.ts). */
export interface RuleKindImpl<R extends Rule = Rule> {
  kind: R['kind'];
  /** Observations for every label set the rule sees, from ONE query. Throws on a query error. */
  evaluate(rule: R, ctx: EvaluationContext): Promise<Observation[]>;
}

/** Highest of two severities (null is lowest). */
export function maxSeverity(a: Severity | null, b: Severity | null): Severity | null {
  if (a === 'critical' || b === 'critical') return 'critical';
  return a ?? b;
}

export function minSeverity(a: Severity | null, b: Severity | null): Severity | null {
  if (a === null || b === null) return null;
  return a === 'warning' || b === 'warning' ? 'warning' : 'critical';
}
