/**
 * Prometheus Alertmanager: POST the notice's alerts to `<url>/api/v2/alerts`,
 * so operators who already run Alertmanager keep their own routing, silences
 * and receivers.
 *
 * Alertmanager identifies an alert by its label set and resolves it by
 * itself once `endsAt` passes, so:
 * - a firing alert carries `endsAt` = the notice's `validUntil` (the next
 *   repeat arrives before then); a resolved one carries its resolve time;
 * - severity is a label (Alertmanager routes on it), so after a severity
 *   change the old label set is sent once more, ended now, or it would
 *   linger as a second alert until it expired.
 */
import type { AlertmanagerSettings } from '../../config/notifications.js';
import { authHeader, postJson } from './http.js';
import type { Channel, ChannelDeps, Notification, NotificationAlert } from './types.js';

export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

/** Alertmanager label names: `[a-zA-Z_][a-zA-Z0-9_]*`. */
function labelName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[a-zA-Z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

function labelsOf(alert: NotificationAlert, severity: string | null): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(alert.labels)) labels[labelName(name)] = value;
  labels.alertname = alert.ruleId;
  labels.rule = alert.ruleId;
  labels.source = 'sqm';
  if (severity) labels.severity = severity;
  return labels;
}

function annotationsOf(alert: NotificationAlert): Record<string, string> {
  const annotations: Record<string, string> = {
    summary: alert.summary.en,
    summary_zh: alert.summary.zh,
    sqm_instance_id: alert.instanceId,
    dashboard_url: alert.url,
  };
  if (alert.value !== null) annotations.value = String(alert.value);
  if (alert.threshold !== null) annotations.threshold = String(alert.threshold);
  if (alert.volume !== null) annotations.volume = String(alert.volume);
  if (alert.region) {
    annotations.region_zh = alert.region.zh;
    annotations.region_en = alert.region.en;
  }
  if (alert.acknowledged) annotations.acknowledged_by = alert.acknowledged.by;
  return annotations;
}

export function alertmanagerPayload(notification: Notification): PostableAlert[] {
  const out: PostableAlert[] = [];
  for (const alert of notification.alerts) {
    const base = { annotations: annotationsOf(alert), startsAt: alert.startsAt, generatorURL: alert.url };
    const endsAt = alert.status === 'resolved' ? (alert.endsAt ?? notification.createdAt) : notification.validUntil;
    out.push({ labels: labelsOf(alert, alert.severity), ...base, endsAt });
    if (alert.previousSeverity && alert.previousSeverity !== alert.severity) {
      out.push({ labels: labelsOf(alert, alert.previousSeverity), ...base, endsAt: notification.createdAt });
    }
  }
  return out;
}

export function alertsEndpoint(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/v2/alerts`;
}

export function createAlertmanagerChannel(settings: AlertmanagerSettings, deps: ChannelDeps): Channel {
  return {
    name: 'alertmanager',
    async send(notification, signal) {
      await postJson(deps.fetch, alertsEndpoint(settings.url), alertmanagerPayload(notification), authHeader(settings.auth, deps.env), signal);
    },
  };
}
