/**
 * The one contract every notification channel implements. The dispatcher
 * (alerts/notify/dispatcher.ts) decides what to send and when; a channel only
 * turns one `Notification` into its wire format and delivers it, throwing on
 * failure so the dispatcher can log the attempt and retry.
 *
 * A Notification is plain data (JSON-serialisable): it is kept in the
 * dispatcher's saved state while a retry is due, so a restart can resend the
 * very same notice.
 */
import type { Acknowledgement, AlertEvent, AlertInstance, RuleKind, Severity, SlaItem } from '../types.js';
import type { ChannelName, Language } from '../../config/notifications.js';
import type { Logger } from '../../server/logger.js';

export type { ChannelName, Language };

/** Units the message renderer knows (kpi/catalogue.ts `Unit`), or null when the value is a plain number. */
export type ValueUnit = 'count' | 'ratio' | 'seconds' | 'hours' | 'minutes' | 'per_million' | 'nps' | 'ces' | 'burn_rate';

export interface RegionName {
  code: string;
  zh: string;
  en: string;
}

/** One alert as a notice shows it. */
export interface NotificationAlert {
  instanceId: string;
  ruleId: string;
  ruleKind: RuleKind;
  labels: Record<string, string>;
  /** What happened to this alert since the receiver last heard of it. */
  event: AlertEvent['type'];
  status: 'firing' | 'resolved';
  severity: Severity | null;
  /** The severity the receiver was last told, when it has changed since (an update). */
  previousSeverity: Severity | null;
  value: number | null;
  threshold: number | null;
  volume: number | null;
  /** The KPI's catalogue names and unit, when the rule watches a catalogue KPI. */
  kpi: { id: string; zh: string; en: string; unit: ValueUnit } | null;
  region: RegionName | null;
  /** When it started firing (ISO). */
  startsAt: string;
  /** When it resolved (ISO), for resolved alerts. */
  endsAt: string | null;
  acknowledged: Acknowledgement | null;
  summary: { zh: string; en: string };
  /** Absolute link to the dashboard view of this alert. */
  url: string;
  items?: SlaItem[];
  projectedMissAt?: string | null;
  /** The engine's instance as last seen (the dashboard channel republishes it). */
  instance: AlertInstance;
}

/** One group's notice to one receiver. */
export interface Notification {
  /** Unique per notice; retries of a notice keep it (receivers may de-duplicate on it). */
  id: string;
  /** `firing`: new alerts; `update`: severity changes or some resolved; `resolved`: all resolved; `repeat`: unchanged reminder. */
  kind: 'firing' | 'update' | 'resolved' | 'repeat';
  /** `firing` while any alert in it fires. */
  status: 'firing' | 'resolved';
  policy: string;
  receiver: string;
  channel: ChannelName;
  language: Language;
  groupKey: string;
  groupLabels: Record<string, string>;
  /** Firing alerts first, then resolved ones. */
  alerts: NotificationAlert[];
  /** When the notice was made (ISO). */
  createdAt: string;
  /**
   * Until when a firing alert in this notice stands without being heard of
   * again (ISO): the next repeat is due before then. Alertmanager needs it as
   * `endsAt`, or it resolves the alert on its own after its resolve_timeout.
   */
  validUntil: string;
  /** IANA time zone for times in messages (config.timezone). */
  timezone: string;
}

/** What a channel may use: the network, secrets by environment-variable name, a logger. */
export interface ChannelDeps {
  fetch: typeof fetch;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Clock for signatures (DingTalk's timestamp). */
  now: () => Date;
}

export interface Channel {
  readonly name: ChannelName;
  /** Deliver one notice. Resolves once the receiver accepted it; throws with a clear message otherwise. */
  send(notification: Notification, signal: AbortSignal): Promise<void>;
  /** Release connections (SMTP pools); optional. */
  close?(): void;
}

/** A delivery failure worth retrying or not: a 4xx refusal (bad key, bad payload) is permanent. */
export class ChannelError extends Error {
  override name = 'ChannelError';
  constructor(message: string, readonly permanent = false) {
    super(message);
  }
}
