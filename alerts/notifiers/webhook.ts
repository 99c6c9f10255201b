/**
 * Generic webhook: one JSON POST per notice (the payload is documented in
 * alerts/notifiers/README.md and built by `webhookPayload`), with an optional
 * bearer or basic Authorization header whose secret comes from the
 * environment. `X-SQM-Notification-Id` lets a receiver drop a retried notice
 * it already has.
 */
import type { WebhookSettings } from '../../config/notifications.js';
import { authHeader, postJson } from './http.js';
import { renderText, title } from './render.js';
import type { Channel, ChannelDeps, Notification } from './types.js';

export const WEBHOOK_PAYLOAD_VERSION = '1';

export interface WebhookPayload {
  version: string;
  source: 'sqm';
  id: string;
  kind: Notification['kind'];
  status: Notification['status'];
  policy: string;
  receiver: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  createdAt: string;
  title: { zh: string; en: string };
  text: string;
  alerts: {
    instanceId: string;
    rule: string;
    ruleKind: string;
    labels: Record<string, string>;
    status: 'firing' | 'resolved';
    event: string;
    severity: string | null;
    previousSeverity: string | null;
    value: number | null;
    threshold: number | null;
    volume: number | null;
    kpi: string | null;
    region: { code: string; zh: string; en: string } | null;
    startsAt: string;
    endsAt: string | null;
    acknowledged: { by: string; at: string; comment?: string } | null;
    summary: { zh: string; en: string };
    url: string;
    items?: unknown[];
    projectedMissAt?: string | null;
  }[];
}

export function webhookPayload(notification: Notification): WebhookPayload {
  return {
    version: WEBHOOK_PAYLOAD_VERSION,
    source: 'sqm',
    id: notification.id,
    kind: notification.kind,
    status: notification.status,
    policy: notification.policy,
    receiver: notification.receiver,
    groupKey: notification.groupKey,
    groupLabels: notification.groupLabels,
    createdAt: notification.createdAt,
    title: { zh: title(notification, 'zh'), en: title(notification, 'en') },
    text: renderText(notification),
    alerts: notification.alerts.map((a) => ({
      instanceId: a.instanceId,
      rule: a.ruleId,
      ruleKind: a.ruleKind,
      labels: a.labels,
      status: a.status,
      event: a.event,
      severity: a.severity,
      previousSeverity: a.previousSeverity,
      value: a.value,
      threshold: a.threshold,
      volume: a.volume,
      kpi: a.kpi?.id ?? null,
      region: a.region,
      startsAt: a.startsAt,
      endsAt: a.endsAt,
      acknowledged: a.acknowledged,
      summary: a.summary,
      url: a.url,
      ...(a.items ? { items: a.items } : {}),
      ...(a.projectedMissAt !== undefined ? { projectedMissAt: a.projectedMissAt } : {}),
    })),
  };
}

export function createWebhookChannel(settings: WebhookSettings, deps: ChannelDeps): Channel {
  return {
    name: 'webhook',
    async send(notification, signal) {
      const headers = { ...authHeader(settings.auth, deps.env), 'x-sqm-notification-id': notification.id };
      await postJson(deps.fetch, settings.url, webhookPayload(notification), headers, signal);
    },
  };
}
