/**
 * The configuration's shape and its JSON Schema. Validated once at start-up
 * (config/load.ts), then frozen; a bad file stops the process with a message
 * naming the field.
 */

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
  };
  tokens: TokenConfig[];
  regions: RegionConfig[];
  /** Asterisk queue_log import: queue name → region (an unmapped queue is reported, never guessed). */
  queueLog?: { queues: Record<string, QueueLogQueueConfig> };
}

const positiveHours = { type: 'number', exclusiveMinimum: 0, maximum: 24 * 366 };

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
