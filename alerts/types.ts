/**
 * The alerting contract shared by the engine (rules, evaluator, instances) and
 * the notification pipeline (policies, grouping, channels). ALERTING.md is the
 * design; these types are how the two halves talk.
 */

export type Severity = 'warning' | 'critical';
export type InstanceState = 'ok' | 'pending' | 'firing' | 'resolved';
export type RuleKind = 'kpi' | 'sla' | 'burn_rate';

/** Reason codes written to history with every transition (ALERTING.md). */
export type ReasonCode =
  | 'threshold'
  | 'recovered'
  | 'insufficient_volume'
  | 'no_data'
  | 'error'
  | 'silenced'
  | 'acknowledged'
  | 'escalated'
  | 'rule_changed';

export interface Acknowledgement {
  by: string;
  at: string;
  comment?: string;
}

/** One item behind an SLA-timer instance (a ticket or fault near or past its deadline). */
export interface SlaItem {
  kind: 'ticket' | 'fault';
  id: string;
  target: 'response' | 'resolution' | 'restore';
  deadline: string;
  /** Fraction of the deadline elapsed (0.75 = warning, 1 = breached). */
  elapsed: number;
}

export interface AlertInstance {
  /** Stable id: a hash of the rule id and the labels. */
  id: string;
  ruleId: string;
  ruleKind: RuleKind;
  /** `rule`, `region`, and the rule's other `by` labels. Severity is not a label of the identity. */
  labels: Record<string, string>;
  state: InstanceState;
  severity: Severity | null;
  /** The KPI value (or burn rate, or item count) last seen, its threshold and its volume. */
  value: number | null;
  threshold: number | null;
  volume: number | null;
  /** When the instance entered its current state (ISO). */
  since: string;
  /** When it last started firing (ISO), if it has. */
  firingSince: string | null;
  acknowledged: Acknowledgement | null;
  /** Ids of the silences that match it now (empty: not silenced). */
  silencedBy: string[];
  /** The notification policy (ALERTING.md `route`). */
  route: string;
  /** Human text in both languages: what, where, value vs threshold, since when. */
  summary: { zh: string; en: string };
  /** A link into the dashboard for this instance. */
  url?: string;
  /** SLA timers: the items behind the instance. */
  items?: SlaItem[];
  /** Burn-rate rules: when today's target will be missed at this pace (ISO), if it will. */
  projectedMissAt?: string | null;
}

/**
 * What the engine tells the notification pipeline. `firing`: an instance
 * started firing; `update`: a firing instance changed severity (one update, not
 * a new alert) or was acknowledged; `resolved`: it stopped firing.
 */
export interface AlertEvent {
  type: 'firing' | 'update' | 'resolved';
  at: string;
  instance: AlertInstance;
}

/** The notification pipeline as the engine sees it. */
export interface AlertNotifier {
  notify(event: AlertEvent): void;
}

/** The engine's instances as the notification pipeline sees them (for escalation: is it acknowledged yet?). */
export interface AlertInstanceView {
  get(instanceId: string): AlertInstance | undefined;
}
