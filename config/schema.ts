/**
 * The configuration's shape and its JSON Schema. Validated once at start-up
 * (config/load.ts), then frozen; a bad file stops the process with a message
 * naming the field.
 */
import { notificationsSchema, type NotificationsConfig } from './notifications.js';
import { alertsSchema, type AlertsConfig } from './alerts.js';

export const ROLES = ['admin', 'executive', 'manager', 'supervisor', 'viewer', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

export const TICKET_PRIORITIES = ['urgent', 'high', 'normal', 'low'] as const;
export const FAULT_SEVERITIES = ['critical', 'major', 'minor'] as const;

export interface RegionConfig {
  code: string;
  zh: string;
  en: string;
  subscribers?: number;
}

export interface TargetConfig {
  value: number;
  floor?: number;
  weight?: number;
}

export interface TokenConfig {
  name: string;
  role: Role;
  /** SHA-256 (hex) of the token. */
  sha256?: string;
  /** Name of an environment variable holding the token. */
  tokenEnv?: string;
  /** Regions the token may see (all when absent). */
  regions?: string[];
}

export const CALL_CHANNELS = ['voice', 'chat', 'video'] as const;

/** How one Asterisk queue's calls are recorded (collector/sources/queue-log.ts). */
export interface QueueLogQueueConfig {
  region: string;
  /** SQM queue name; the Asterisk queue name when absent. */
  queue?: string;
  /** Default voice. */
  channel?: (typeof CALL_CHANNELS)[number];
}

export interface SqmConfig {
  timezone: string;
  retentionMonths: number;
  clickhouse: { database: string };
  contactCentre: { shortAbandonSeconds: number; serviceLevelSeconds: number };
  ticketDeadlines: Record<(typeof TICKET_PRIORITIES)[number], { responseHours: number; resolutionHours: number }>;
  faultDeadlines: Record<(typeof FAULT_SEVERITIES)[number], { restoreHours: number }>;
  targets: Record<string, TargetConfig>;
  ingest: {
    maxBodyBytes: number;
    maxRecordsPerRequest: number;
    maxStringLength: number;
    maxFutureSeconds: number;
    batchMaxRecords: number;
    batchMaxWaitMs: number;
    /** The write-ahead spool between "accepted" and "stored" (defaults: collector/index.ts SPOOL_DEFAULTS). */
    spool?: {
      /** Bytes not yet stored the spool may hold; beyond it ingest answers 503 with Retry-After. */
      maxBytes?: number;
      segmentBytes?: number;
      /** Pending records kept in memory up to this; the rest are read back from disk. */
      memoryBytes?: number;
      /** How long a request waits for its records to be stored (a healthy store) before answering 200 anyway. */
      waitForStoreMs?: number;
    };
  };
  tokens: TokenConfig[];
  regions: RegionConfig[];
  /** Asterisk queue_log import: queue name → region (an unmapped queue is reported, never guessed). */
  queueLog?: { queues: Record<string, QueueLogQueueConfig> };
  /** The live WebSocket stream (defaults: server/live/settings.ts `LIVE_DEFAULTS`). */
  live?: LiveConfig;
  /** GET /metrics for Prometheus (defaults: server/metrics.ts `METRICS_DEFAULTS`). */
  metrics?: MetricsConfig;
  /** Sessions, passwords, login lock-out, rate limits (defaults in server/security.ts `securitySettings`). */
  security?: SecurityConfig;
  /** Dashboard display settings (served by GET /api/v1/meta). */
  dashboard?: DashboardConfig;
  /** Receivers and policies for alert notifications (config/notifications.ts). */
  notifications?: NotificationsConfig;
  /** Alert calendars, maintenance windows and seed rules (config/alerts.ts). */
  alerts?: AlertsConfig;
}

export interface DashboardConfig {
  /** A value this close to its target (relative, 0.05 = 5 %) on the wrong side is amber, not red. Default 0.05. */
  amberBand?: number;
  /** Seconds between wallboard pages in kiosk mode. Default 20. */
  rotateSeconds?: number;
}

/** Every field is optional; server/security.ts `SECURITY_DEFAULTS` documents the defaults. */
export interface SecurityConfig {
  /** Behind a reverse proxy: true, or the number of proxy hops, so client addresses and https are seen. */
  trustProxy?: boolean | number;
  /** Session cookie's Secure flag: `auto` sets it when the request came over https. */
  cookieSecure?: 'auto' | 'always' | 'never';
  session?: { idleMinutes?: number; absoluteHours?: number; displayDays?: number };
  passwords?: { minLength?: number; scryptLog2N?: number };
  login?: {
    maxFailuresPerUser?: number;
    maxFailuresPerIp?: number;
    failureWindowMinutes?: number;
    lockoutMinutes?: number;
    perIpPerMinute?: number;
  };
  rateLimit?: {
    enabled?: boolean;
    windowSeconds?: number;
    perPrincipal?: number;
    ingestPerPrincipal?: number;
    anonymousPerIp?: number;
    badCredentialsPerIp?: number;
  };
}

/** Every field is optional; server/live/settings.ts `LIVE_DEFAULTS` documents the defaults. */
export interface LiveConfig {
  /** How often every live subscription is recomputed and its changes sent. Default 1000. */
  tickMs?: number;
  /** WebSocket ping and app-level heartbeat interval; a client that misses a pong is cut. Default 15000. */
  heartbeatMs?: number;
  /** A client whose unsent bytes exceed this has fallen behind and is closed (code 4008). Default 1 MiB. */
  maxBufferedBytes?: number;
  /** How long a closing client may take to acknowledge before its socket is destroyed. Default 5000. */
  closeGraceMs?: number;
  /** Connections at once; more are refused with code 1013. Default 5000. */
  maxClients?: number;
  /** Subscriptions one connection may hold. Default 16. */
  maxSubscriptionsPerClient?: number;
  /** Distinct subscriptions (after sharing) the hub computes. Default 1000. */
  maxSubscriptions?: number;
  /** KPI queries the hub runs at once during a tick. Default 4. */
  maxConcurrentQueries?: number;
  /** Values (KPI × labels × bucket) one subscription may hold. Default 20000. */
  maxValuesPerSubscription?: number;
}

/** Every field is optional; server/metrics.ts `METRICS_DEFAULTS` documents the defaults. */
export interface MetricsConfig {
  /** Serve GET /metrics. Default true. */
  enabled?: boolean;
  /** Addresses (CIDR, or a single address) that may scrape without a token. Default loopback only. */
  allow?: string[];
  /** SHA-256 (hex) of a bearer token that may scrape from any address. */
  sha256?: string;
  /** Or the name of an environment variable holding that token. */
  tokenEnv?: string;
  /** How often the sqm_kpi_value gauges are recomputed (one KPI query per family). Default 15. */
  kpiRefreshSeconds?: number;
}

const positiveHours = { type: 'number', exclusiveMinimum: 0, maximum: 24 * 366 };
const count = (max: number) => ({ type: 'integer', minimum: 1, maximum: max });

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['timezone', 'retentionMonths', 'clickhouse', 'contactCentre', 'ticketDeadlines', 'faultDeadlines', 'targets', 'ingest', 'tokens', 'regions'],
  properties: {
    timezone: { type: 'string', minLength: 1, maxLength: 64 },
    retentionMonths: { type: 'integer', minimum: 1, maximum: 600 },
    clickhouse: {
      type: 'object',
      additionalProperties: false,
      required: ['database'],
      properties: { database: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$' } },
    },
    contactCentre: {
      type: 'object',
      additionalProperties: false,
      required: ['shortAbandonSeconds', 'serviceLevelSeconds'],
      properties: {
        // The rollups keep wait histograms up to 600 s (store/migrations/002).
        shortAbandonSeconds: { type: 'integer', minimum: 0, maximum: 600 },
        serviceLevelSeconds: { type: 'integer', minimum: 1, maximum: 599 },
      },
    },
    ticketDeadlines: {
      type: 'object',
      additionalProperties: false,
      required: [...TICKET_PRIORITIES],
      properties: Object.fromEntries(TICKET_PRIORITIES.map((p) => [p, {
        type: 'object',
        additionalProperties: false,
        required: ['responseHours', 'resolutionHours'],
        properties: { responseHours: positiveHours, resolutionHours: positiveHours },
      }])),
    },
    faultDeadlines: {
      type: 'object',
      additionalProperties: false,
      required: [...FAULT_SEVERITIES],
      properties: Object.fromEntries(FAULT_SEVERITIES.map((s) => [s, {
        type: 'object',
        additionalProperties: false,
        required: ['restoreHours'],
        properties: { restoreHours: positiveHours },
      }])),
    },
    targets: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['value'],
        properties: {
          value: { type: 'number' },
          floor: { type: 'number' },
          weight: { type: 'number', minimum: 0, maximum: 100 },
        },
      },
    },
    ingest: {
      type: 'object',
      additionalProperties: false,
      required: ['maxBodyBytes', 'maxRecordsPerRequest', 'maxStringLength', 'maxFutureSeconds', 'batchMaxRecords', 'batchMaxWaitMs'],
      properties: {
        maxBodyBytes: { type: 'integer', minimum: 1024, maximum: 1024 * 1024 * 1024 },
        maxRecordsPerRequest: { type: 'integer', minimum: 1, maximum: 1_000_000 },
        maxStringLength: { type: 'integer', minimum: 16, maximum: 65536 },
        maxFutureSeconds: { type: 'integer', minimum: 0, maximum: 86400 },
        batchMaxRecords: { type: 'integer', minimum: 1, maximum: 1_000_000 },
        batchMaxWaitMs: { type: 'integer', minimum: 0, maximum: 60_000 },
        spool: {
          type: 'object',
          additionalProperties: false,
          properties: {
            maxBytes: { type: 'integer', minimum: 1024, maximum: 1024 ** 4 },
            segmentBytes: { type: 'integer', minimum: 1024, maximum: 1024 ** 3 },
            memoryBytes: { type: 'integer', minimum: 0, maximum: 16 * 1024 ** 3 },
            waitForStoreMs: { type: 'integer', minimum: 0, maximum: 60_000 },
          },
        },
      },
    },
    tokens: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'role'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 64 },
          role: { enum: [...ROLES] },
          sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
          tokenEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
          regions: { type: 'array', items: { type: 'string', pattern: '^[A-Z]{2,3}$' } },
        },
      },
    },
    regions: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'zh', 'en'],
        properties: {
          code: { type: 'string', pattern: '^[A-Z]{2,3}$' },
          zh: { type: 'string', minLength: 1, maxLength: 64 },
          en: { type: 'string', minLength: 1, maxLength: 64 },
          subscribers: { type: 'integer', minimum: 0 },
        },
      },
    },
    dashboard: {
      type: 'object',
      additionalProperties: false,
      properties: {
        amberBand: { type: 'number', minimum: 0, maximum: 1 },
        rotateSeconds: { type: 'integer', minimum: 5, maximum: 3600 },
      },
    },
    security: {
      type: 'object',
      additionalProperties: false,
      properties: {
        trustProxy: { anyOf: [{ type: 'boolean' }, { type: 'integer', minimum: 1, maximum: 10 }] },
        cookieSecure: { enum: ['auto', 'always', 'never'] },
        session: {
          type: 'object',
          additionalProperties: false,
          properties: { idleMinutes: count(7 * 24 * 60), absoluteHours: count(24 * 90), displayDays: count(3660) },
        },
        passwords: {
          type: 'object',
          additionalProperties: false,
          properties: { minLength: { type: 'integer', minimum: 8, maximum: 128 }, scryptLog2N: { type: 'integer', minimum: 14, maximum: 20 } },
        },
        login: {
          type: 'object',
          additionalProperties: false,
          properties: {
            maxFailuresPerUser: count(1000),
            maxFailuresPerIp: count(100_000),
            failureWindowMinutes: count(24 * 60),
            lockoutMinutes: count(24 * 60),
            perIpPerMinute: count(100_000),
          },
        },
        rateLimit: {
          type: 'object',
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean' },
            windowSeconds: count(3600),
            perPrincipal: count(10_000_000),
            ingestPerPrincipal: count(10_000_000),
            anonymousPerIp: count(10_000_000),
            badCredentialsPerIp: count(10_000_000),
          },
        },
      },
    },
    notifications: notificationsSchema,
    alerts: alertsSchema,
    live: {
      type: 'object',
      additionalProperties: false,
      properties: {
        tickMs: { type: 'integer', minimum: 100, maximum: 3_600_000 },
        heartbeatMs: { type: 'integer', minimum: 1000, maximum: 3_600_000 },
        maxBufferedBytes: { type: 'integer', minimum: 1024, maximum: 1024 * 1024 * 1024 },
        closeGraceMs: { type: 'integer', minimum: 0, maximum: 600_000 },
        maxClients: { type: 'integer', minimum: 1, maximum: 1_000_000 },
        maxSubscriptionsPerClient: { type: 'integer', minimum: 1, maximum: 1000 },
        maxSubscriptions: { type: 'integer', minimum: 1, maximum: 100_000 },
        maxConcurrentQueries: { type: 'integer', minimum: 1, maximum: 64 },
        maxValuesPerSubscription: { type: 'integer', minimum: 1, maximum: 1_000_000 },
      },
    },
    metrics: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        allow: { type: 'array', maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 64 } },
        sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
        tokenEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
        kpiRefreshSeconds: { type: 'integer', minimum: 1, maximum: 86400 },
      },
    },
    queueLog: {
      type: 'object',
      additionalProperties: false,
      required: ['queues'],
      properties: {
        queues: {
          type: 'object',
          maxProperties: 10000,
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            required: ['region'],
            properties: {
              region: { type: 'string', pattern: '^[A-Z]{2,3}$' },
              queue: { type: 'string', minLength: 1, maxLength: 256 },
              channel: { enum: [...CALL_CHANNELS] },
            },
          },
        },
      },
    },
  },
} as const;
