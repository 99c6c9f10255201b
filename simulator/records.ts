/**
 * The records the simulator sends, in the exact shapes of RECORDS.md
 * (/work/shared/design/RECORDS.md): camelCase fields, ISO-8601 times with an offset.
 */

export const CALL_CHANNELS = ['voice', 'chat', 'video'] as const;
export const CALL_OUTCOMES = ['answered', 'abandoned', 'callback', 'overflow'] as const;
export const TICKET_CHANNELS = ['hotline', 'app', 'web', 'wechat', 'sms', 'store', 'social'] as const;
export const TICKET_CATEGORIES = ['complaint', 'fault', 'inquiry', 'request'] as const;
export const TICKET_PRIORITIES = ['urgent', 'high', 'normal', 'low'] as const;
export const TICKET_STATUSES = ['open', 'in_progress', 'pending', 'resolved', 'closed'] as const;
export const FAULT_DOMAINS = ['wireless', 'transmission', 'core', 'broadband', 'power'] as const;
export const FAULT_SEVERITIES = ['critical', 'major', 'minor'] as const;
export const SURVEY_TOUCHPOINTS = ['call', 'ticket', 'fault', 'store'] as const;

export type CallChannel = (typeof CALL_CHANNELS)[number];
export type CallOutcome = (typeof CALL_OUTCOMES)[number];
export type TicketChannel = (typeof TICKET_CHANNELS)[number];
export type TicketCategory = (typeof TICKET_CATEGORIES)[number];
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export type FaultDomain = (typeof FAULT_DOMAINS)[number];
export type FaultSeverity = (typeof FAULT_SEVERITIES)[number];
export type SurveyTouchpoint = (typeof SURVEY_TOUCHPOINTS)[number];

export interface CallRecord {
  id: string;
  region: string;
  queue: string;
  channel: CallChannel;
  enteredAt: string;
  answeredAt?: string;
  endedAt: string;
  outcome: CallOutcome;
  talkSeconds?: number;
  holdSeconds?: number;
  wrapSeconds?: number;
  agent?: string;
  customer?: string;
  resolved?: boolean;
}

export interface TicketRecord {
  id: string;
  region: string;
  channel: TicketChannel;
  category: TicketCategory;
  priority: TicketPriority;
  openedAt: string;
  firstResponseAt?: string;
  resolvedAt?: string;
  closedAt?: string;
  status: TicketStatus;
  reopenCount?: number;
  customer?: string;
  updatedAt: string;
}

export interface FaultRecord {
  id: string;
  region: string;
  site?: string;
  domain: FaultDomain;
  severity: FaultSeverity;
  detectedAt: string;
  acknowledgedAt?: string;
  restoredAt?: string;
  customersAffected?: number;
  cause?: string;
  updatedAt: string;
}

export interface SurveyRecord {
  id: string;
  region: string;
  /** The channel of the contact surveyed: a call channel, a ticket channel, or `sms` after a fault. */
  channel: string;
  touchpoint: SurveyTouchpoint;
  refId?: string;
  answeredAt: string;
  csat?: number;
  nps?: number;
  ces?: number;
  customer?: string;
}

export interface QueueStateRecord {
  region: string;
  queue: string;
  at: string;
  waiting: number;
  longestWaitSeconds: number;
  agentsReady?: number;
  agentsBusy?: number;
  agentsPaused?: number;
}

export interface SubscribersRecord {
  region: string;
  asOf: string;
  subscribers: number;
}

/** One batch of generated records, keyed by the ingest API's kind. */
export interface RecordBatch {
  calls: CallRecord[];
  tickets: TicketRecord[];
  faults: FaultRecord[];
  surveys: SurveyRecord[];
  queues: QueueStateRecord[];
  subscribers: SubscribersRecord[];
}

export type BatchKind = keyof RecordBatch;
export const BATCH_KINDS: readonly BatchKind[] = ['subscribers', 'faults', 'calls', 'tickets', 'surveys', 'queues'];

export function emptyBatch(): RecordBatch {
  return { calls: [], tickets: [], faults: [], surveys: [], queues: [], subscribers: [] };
}

export function batchSize(batch: RecordBatch): number {
  let n = 0;
  for (const kind of BATCH_KINDS) n += batch[kind].length;
  return n;
}
