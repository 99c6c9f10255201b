/**
 * The `notifications:` section (ALERTING.md "Notifications"): receivers (one
 * channel each, optionally scoped to regions) and policies (grouping and
 * ordered escalation steps). The same shapes are accepted by the API
 * (POST/PUT /api/v1/receivers and /policies), so one schema and one set of
 * cross-field checks serve both.
 *
 * Secrets (SMTP passwords, robot keys, webhook tokens) are never written here:
 * a receiver names the environment variable that holds each one
 * (`passwordEnv`, `keyEnv`, `tokenEnv`…), so a config file or an API response
 * can be shown to anyone without leaking a credential.
 */

export const CHANNELS = ['dashboard', 'webhook', 'email', 'wecom', 'dingtalk', 'alertmanager'] as const;
export type ChannelName = (typeof CHANNELS)[number];

export const LANGUAGES = ['zh', 'en', 'both'] as const;
export type Language = (typeof LANGUAGES)[number];

/** The built-in receiver: the live dashboard, always present, needs no settings. */
export const DASHBOARD_RECEIVER_ID = 'dashboard';

export type HttpAuthConfig =
  | { type: 'bearer'; tokenEnv: string }
  | { type: 'basic'; username: string; passwordEnv: string };

export interface WebhookSettings {
  url: string;
  auth?: HttpAuthConfig;
}

export interface EmailSettings {
  to: string[];
  cc?: string[];
  from: string;
  smtp: {
    host: string;
    port: number;
    /** TLS from the first byte (port 465); default: true on 465, otherwise STARTTLS when offered. */
    secure?: boolean;
    /** Refuse to send unless the server upgrades to TLS with STARTTLS. */
    requireTLS?: boolean;
    user?: string;
    passwordEnv?: string;
  };
}

export interface WecomSettings {
  /** Default https://qyapi.weixin.qq.com/cgi-bin/webhook/send */
  url?: string;
  /** Environment variable holding the robot's `key`. */
  keyEnv: string;
}

export interface DingtalkSettings {
  /** Default https://oapi.dingtalk.com/robot/send */
  url?: string;
  /** Environment variable holding the robot's `access_token`. */
  accessTokenEnv: string;
  /** Environment variable holding the signing secret (加签, `SEC…`); unsigned when absent. */
  secretEnv?: string;
}

export interface AlertmanagerSettings {
  /** Base URL, e.g. http://alertmanager:9093 (SQM posts to /api/v2/alerts). */
  url: string;
  auth?: HttpAuthConfig;
}

export interface ReceiverConfig {
  id: string;
  channel: ChannelName;
  description?: string;
  /** Only alerts of these regions reach this receiver (all regions when absent). */
  regions?: string[];
  /** Language of the messages; default both (Chinese first). */
  language?: Language;
  webhook?: WebhookSettings;
  email?: EmailSettings;
  wecom?: WecomSettings;
  dingtalk?: DingtalkSettings;
  alertmanager?: AlertmanagerSettings;
}

export interface EscalationStepConfig {
  /** Time since the alert started firing before this step is taken (default 0s: at once). */
  after?: string;
  receivers: string[];
}

export interface PolicyConfig {
  id: string;
  description?: string;
  /** Labels that make a group (default: rule, region). */
  groupBy?: string[];
  /** Defaults: 30s, 5m, 4h (Alertmanager's). */
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  /** Ordered; each later step is taken only while the alert is firing and not acknowledged. */
  steps: EscalationStepConfig[];
}

export interface NotificationsConfig {
  /** Base URL of the dashboard, for links in messages. */
  dashboardUrl?: string;
  retry?: {
    /** Attempts per notice, first included (default 5). */
    attempts?: number;
    /** Delay before the second attempt, doubled each time (default 10s) up to maxDelay (default 5m). */
    initialDelay?: string;
    maxDelay?: string;
    /** Longest one send may take (default 10s). */
    timeout?: string;
  };
  receivers?: ReceiverConfig[];
  policies?: PolicyConfig[];
}

export const DEFAULT_GROUP_BY = ['rule', 'region'] as const;
export const DEFAULT_GROUP_WAIT = '30s';
export const DEFAULT_GROUP_INTERVAL = '5m';
export const DEFAULT_REPEAT_INTERVAL = '4h';

// The same grammar as the rules' durations (alerts/durations.ts): `30s`, `5m`, `4h`, `1d`,
// compound `1h30m`, or `0`; whole seconds. Repeated here so configuration checks need no alert code.
const DURATION_PATTERN = '^(0|(?=\\d)(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?)$';
const DURATION_GRAMMAR = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Milliseconds in `30s`, `5m`, `4h`, `1h30m`, `0`; throws on anything else. */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const match = DURATION_GRAMMAR.exec(text);
  if (!match || text.length === 0) throw new Error(`not a duration: "${text}" (use e.g. 30s, 5m, 4h, 1h30m)`);
  const [, d, h, m, s] = match;
  const seconds = Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
  if (!Number.isSafeInteger(seconds * 1000)) throw new Error(`duration too long: "${text}"`);
  return seconds * 1000;
}

const ID = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' } as const;
const ENV_NAME = { type: 'string', pattern: '^[A-Z_][A-Z0-9_]{0,127}$' } as const;
const DURATION = { type: 'string', pattern: DURATION_PATTERN } as const;
const HTTP_URL = { type: 'string', pattern: '^https?://', maxLength: 2048 } as const;
const EMAIL = { type: 'string', pattern: '^[^@\\s<>]+@[^@\\s<>]+$', maxLength: 254 } as const;
const REGION = { type: 'string', pattern: '^[A-Z]{2,3}$' } as const;

const httpAuthSchema = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { enum: ['bearer', 'basic'] },
    tokenEnv: ENV_NAME,
    username: { type: 'string', minLength: 1, maxLength: 256 },
    passwordEnv: ENV_NAME,
  },
  additionalProperties: false,
} as const;

export const receiverSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'channel'],
  properties: {
    id: ID,
    channel: { enum: [...CHANNELS] },
    description: { type: 'string', maxLength: 500 },
    regions: { type: 'array', maxItems: 1000, items: REGION },
    language: { enum: [...LANGUAGES] },
    webhook: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: { url: HTTP_URL, auth: httpAuthSchema },
    },
    email: {
      type: 'object',
      additionalProperties: false,
      required: ['to', 'from', 'smtp'],
      properties: {
        to: { type: 'array', minItems: 1, maxItems: 100, items: EMAIL },
        cc: { type: 'array', maxItems: 100, items: EMAIL },
        from: { type: 'string', minLength: 3, maxLength: 320, pattern: '@' },
        smtp: {
          type: 'object',
          additionalProperties: false,
          required: ['host', 'port'],
          properties: {
            host: { type: 'string', minLength: 1, maxLength: 255 },
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            secure: { type: 'boolean' },
            requireTLS: { type: 'boolean' },
            user: { type: 'string', minLength: 1, maxLength: 256 },
            passwordEnv: ENV_NAME,
          },
        },
      },
    },
    wecom: {
      type: 'object',
      additionalProperties: false,
      required: ['keyEnv'],
      properties: { url: HTTP_URL, keyEnv: ENV_NAME },
    },
    dingtalk: {
      type: 'object',
      additionalProperties: false,
      required: ['accessTokenEnv'],
      properties: { url: HTTP_URL, accessTokenEnv: ENV_NAME, secretEnv: ENV_NAME },
    },
    alertmanager: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: { url: HTTP_URL, auth: httpAuthSchema },
    },
  },
} as const;

export const policySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'steps'],
  properties: {
    id: ID,
    description: { type: 'string', maxLength: 500 },
    groupBy: { type: 'array', maxItems: 20, items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' } },
    groupWait: DURATION,
    groupInterval: DURATION,
    repeatInterval: DURATION,
    steps: {
      type: 'array',
      minItems: 1,
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['receivers'],
        properties: {
          after: DURATION,
          receivers: { type: 'array', minItems: 1, maxItems: 100, items: ID },
        },
      },
    },
  },
} as const;

export const notificationsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dashboardUrl: HTTP_URL,
    retry: {
      type: 'object',
      additionalProperties: false,
      properties: {
        attempts: { type: 'integer', minimum: 1, maximum: 20 },
        initialDelay: DURATION,
        maxDelay: DURATION,
        timeout: DURATION,
      },
    },
    receivers: { type: 'array', maxItems: 10000, items: receiverSchema },
    policies: { type: 'array', maxItems: 1000, items: policySchema },
  },
} as const;

function checkUrl(text: string, field: string, problems: string[]): void {
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`${field}: must be an http(s) URL`);
  } catch {
    problems.push(`${field}: not a URL: "${text}"`);
  }
}

/**
 * Checks one receiver beyond its schema: the settings object of its own
 * channel and no other, known regions, consistent auth. `field` prefixes
 * every problem (`notifications/receivers/2`).
 */
export function checkReceiver(receiver: ReceiverConfig, field: string, regionCodes: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  if (receiver.id === DASHBOARD_RECEIVER_ID && receiver.channel !== 'dashboard') {
    problems.push(`${field}/id: "${DASHBOARD_RECEIVER_ID}" is the built-in dashboard receiver`);
  }
  for (const channel of CHANNELS) {
    if (channel === 'dashboard') continue;
    const settings = receiver[channel];
    if (channel === receiver.channel && settings === undefined) problems.push(`${field}/${channel}: required for channel "${channel}"`);
    if (channel !== receiver.channel && settings !== undefined) problems.push(`${field}/${channel}: not allowed for channel "${receiver.channel}"`);
  }
  for (const [i, code] of (receiver.regions ?? []).entries()) {
    if (!regionCodes.has(code)) problems.push(`${field}/regions/${i}: unknown region "${code}"`);
  }
  const auths: [HttpAuthConfig | undefined, string][] = [
    [receiver.webhook?.auth, `${field}/webhook/auth`],
    [receiver.alertmanager?.auth, `${field}/alertmanager/auth`],
  ];
  for (const [auth, at] of auths) {
    if (!auth) continue;
    const loose = auth as { type: string; tokenEnv?: string; username?: string; passwordEnv?: string };
    if (loose.type === 'bearer' && (loose.tokenEnv === undefined || loose.username !== undefined || loose.passwordEnv !== undefined)) {
      problems.push(`${at}: bearer auth takes exactly tokenEnv`);
    }
    if (loose.type === 'basic' && (loose.username === undefined || loose.passwordEnv === undefined || loose.tokenEnv !== undefined)) {
      problems.push(`${at}: basic auth takes exactly username and passwordEnv`);
    }
  }
  if (receiver.webhook) checkUrl(receiver.webhook.url, `${field}/webhook/url`, problems);
  if (receiver.alertmanager) checkUrl(receiver.alertmanager.url, `${field}/alertmanager/url`, problems);
  if (receiver.wecom?.url) checkUrl(receiver.wecom.url, `${field}/wecom/url`, problems);
  if (receiver.dingtalk?.url) checkUrl(receiver.dingtalk.url, `${field}/dingtalk/url`, problems);
  const smtp = receiver.email?.smtp;
  if (smtp && (smtp.user === undefined) !== (smtp.passwordEnv === undefined)) {
    problems.push(`${field}/email/smtp: give both user and passwordEnv, or neither`);
  }
  return problems;
}

/** Checks one policy beyond its schema: known receivers, steps in time order. */
export function checkPolicy(policy: PolicyConfig, field: string, receiverIds: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  let previous = 0;
  policy.steps.forEach((step, i) => {
    const after = parseDuration(step.after ?? '0s');
    if (after < previous) problems.push(`${field}/steps/${i}/after: steps must be in time order (${step.after} comes before the previous step)`);
    previous = after;
    step.receivers.forEach((id, j) => {
      if (!receiverIds.has(id)) problems.push(`${field}/steps/${i}/receivers/${j}: unknown receiver "${id}"`);
    });
  });
  if (parseDuration(policy.groupInterval ?? DEFAULT_GROUP_INTERVAL) === 0) problems.push(`${field}/groupInterval: must be more than 0`);
  if (parseDuration(policy.repeatInterval ?? DEFAULT_REPEAT_INTERVAL) === 0) problems.push(`${field}/repeatInterval: must be more than 0`);
  return problems;
}

/** Cross-field checks of the whole section (config/load.ts calls this after the schema). */
export function checkNotificationsConfig(section: NotificationsConfig | undefined, regionCodes: ReadonlySet<string>): string[] {
  if (!section) return [];
  const problems: string[] = [];
  const ids = new Set<string>([DASHBOARD_RECEIVER_ID]);
  (section.receivers ?? []).forEach((receiver, i) => {
    const field = `notifications/receivers/${i}`;
    if (receiver.id === DASHBOARD_RECEIVER_ID) problems.push(`${field}/id: "${DASHBOARD_RECEIVER_ID}" is built in; do not declare it`);
    else if (ids.has(receiver.id)) problems.push(`${field}/id: duplicate receiver "${receiver.id}"`);
    ids.add(receiver.id);
    problems.push(...checkReceiver(receiver, field, regionCodes));
  });
  const policyIds = new Set<string>();
  (section.policies ?? []).forEach((policy, i) => {
    const field = `notifications/policies/${i}`;
    if (policyIds.has(policy.id)) problems.push(`${field}/id: duplicate policy "${policy.id}"`);
    policyIds.add(policy.id);
    problems.push(...checkPolicy(policy, field, ids));
  });
  const retry = section.retry;
  if (retry && parseDuration(retry.timeout ?? '10s') === 0) problems.push('notifications/retry/timeout: must be more than 0');
  if (section.dashboardUrl) checkUrl(section.dashboardUrl, 'notifications/dashboardUrl', problems);
  return problems;
}
