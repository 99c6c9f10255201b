/**
 * Rows in the table layout of store/migrations/001_raw_tables.sql, for KPI
 * tests that insert straight into the store (no collector involved). Times are
 * epoch seconds; `iso('…')` turns a readable time into one.
 */
import type { Store } from '../../store/index.js';

export const iso = (text: string): number => Date.parse(text) / 1000;
export const MIN = 60;
export const HOUR = 3600;
export const DAY = 86400;

/** ingestedAt for every fixture row: any fixed time will do. */
const INGESTED = iso('2026-12-01T00:00:00Z');

export interface CallSpec {
  id: string;
  enteredAt: number;
  outcome: 'answered' | 'abandoned' | 'callback' | 'overflow';
  /** Seconds waited before answer or hang-up. */
  wait: number;
  region?: string;
  queue?: string;
  channel?: 'voice' | 'chat' | 'video';
  talk?: number | null;
  hold?: number | null;
  wrap?: number | null;
  agent?: string;
  customer?: string;
  resolved?: boolean | null;
}

export function call(c: CallSpec) {
  const answeredAt = c.outcome === 'answered' ? c.enteredAt + c.wait : null;
  return {
    id: c.id,
    region: c.region ?? 'GD',
    queue: c.queue ?? 'q1',
    channel: c.channel ?? 'voice',
    enteredAt: c.enteredAt,
    answeredAt,
    endedAt: (answeredAt ?? c.enteredAt + c.wait) + (c.talk ?? 0),
    outcome: c.outcome,
    waitSeconds: c.wait,
    talkSeconds: c.talk ?? null,
    holdSeconds: c.hold ?? null,
    wrapSeconds: c.wrap ?? null,
    agent: c.agent ?? '',
    customer: c.customer ?? '',
    resolved: c.resolved === undefined || c.resolved === null ? null : c.resolved ? 1 : 0,
    ingestedAt: INGESTED,
  };
}

export interface TicketSpec {
  id: string;
  openedAt: number;
  updatedAt?: number;
  region?: string;
  channel?: string;
  category?: 'complaint' | 'fault' | 'inquiry' | 'request';
  priority?: 'urgent' | 'high' | 'normal' | 'low';
  firstResponseAt?: number | null;
  resolvedAt?: number | null;
  closedAt?: number | null;
  status?: 'open' | 'in_progress' | 'pending' | 'resolved' | 'closed';
  reopenCount?: number;
  customer?: string;
}

export function ticket(t: TicketSpec) {
  return {
    id: t.id,
    region: t.region ?? 'GD',
    channel: t.channel ?? 'hotline',
    category: t.category ?? 'inquiry',
    priority: t.priority ?? 'normal',
    openedAt: t.openedAt,
    firstResponseAt: t.firstResponseAt ?? null,
    resolvedAt: t.resolvedAt ?? null,
    closedAt: t.closedAt ?? null,
    status: t.status ?? (t.resolvedAt ? 'resolved' : 'open'),
    reopenCount: t.reopenCount ?? 0,
    customer: t.customer ?? '',
    updatedAt: t.updatedAt ?? Math.max(t.openedAt, t.firstResponseAt ?? 0, t.resolvedAt ?? 0, t.closedAt ?? 0),
    ingestedAt: INGESTED,
  };
}

export interface FaultSpec {
  id: string;
  detectedAt: number;
  updatedAt?: number;
  region?: string;
  site?: string;
  domain?: 'wireless' | 'transmission' | 'core' | 'broadband' | 'power';
  severity?: 'critical' | 'major' | 'minor';
  acknowledgedAt?: number | null;
  restoredAt?: number | null;
  customersAffected?: number;
  cause?: string;
}

export function fault(f: FaultSpec) {
  return {
    id: f.id,
    region: f.region ?? 'GD',
    site: f.site ?? '',
    domain: f.domain ?? 'wireless',
    severity: f.severity ?? 'critical',
    detectedAt: f.detectedAt,
    acknowledgedAt: f.acknowledgedAt ?? null,
    restoredAt: f.restoredAt ?? null,
    customersAffected: f.customersAffected ?? 0,
    cause: f.cause ?? '',
    updatedAt: f.updatedAt ?? Math.max(f.detectedAt, f.acknowledgedAt ?? 0, f.restoredAt ?? 0),
    ingestedAt: INGESTED,
  };
}

export interface SurveySpec {
  id: string;
  answeredAt: number;
  region?: string;
  channel?: string;
  touchpoint?: 'call' | 'ticket' | 'fault' | 'store';
  csat?: number | null;
  nps?: number | null;
  ces?: number | null;
  customer?: string;
}

export function survey(s: SurveySpec) {
  return {
    id: s.id,
    region: s.region ?? 'GD',
    channel: s.channel ?? 'voice',
    touchpoint: s.touchpoint ?? 'call',
    refId: '',
    answeredAt: s.answeredAt,
    csat: s.csat ?? null,
    nps: s.nps ?? null,
    ces: s.ces ?? null,
    customer: s.customer ?? '',
    ingestedAt: INGESTED,
  };
}

export function queueState(q: { region?: string; queue?: string; at: number; waiting: number; longestWaitSeconds: number }) {
  return {
    region: q.region ?? 'GD',
    queue: q.queue ?? 'q1',
    at: q.at,
    waiting: q.waiting,
    longestWaitSeconds: q.longestWaitSeconds,
    agentsReady: null,
    agentsBusy: null,
    agentsPaused: null,
    ingestedAt: INGESTED,
  };
}

export function subscriberCount(s: { region: string; asOf: string; subscribers: number; ingestedAt?: number }) {
  return { region: s.region, asOf: s.asOf, subscribers: s.subscribers, ingestedAt: s.ingestedAt ?? INGESTED };
}

export interface Fixture {
  calls?: ReturnType<typeof call>[];
  tickets?: ReturnType<typeof ticket>[];
  faults?: ReturnType<typeof fault>[];
  surveys?: ReturnType<typeof survey>[];
  queues?: ReturnType<typeof queueState>[];
  subscribers?: ReturnType<typeof subscriberCount>[];
}

export async function insertFixture(store: Store, f: Fixture): Promise<void> {
  await store.insert('calls', f.calls ?? []);
  await store.insert('tickets', f.tickets ?? []);
  await store.insert('faults', f.faults ?? []);
  await store.insert('surveys', f.surveys ?? []);
  await store.insert('queue_states', f.queues ?? []);
  await store.insert('subscribers', f.subscribers ?? []);
}
