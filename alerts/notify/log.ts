/**
 * The notification log (migration 005 `notification_log`): one row per
 * attempt to deliver a notice, and one per notice deliberately not sent
 * (silenced, superseded by a newer notice, no policy). The API reads it with
 * filters, and a manager only sees rows of their regions: the region filter
 * is part of the query, never applied afterwards.
 */
import { sql, type Sql, type Store } from '../../store/index.js';

export const LOG_STATUSES = ['sent', 'retrying', 'failed', 'suppressed', 'superseded'] as const;
export type LogStatus = (typeof LOG_STATUSES)[number];

export interface LogEntry {
  /** Milliseconds since the epoch. */
  atMs: number;
  /** Orders entries of the same atMs: increasing in the order they were made. */
  seq: number;
  id: string;
  noticeId: string;
  policy: string;
  groupKey: string;
  receiver: string;
  channel: string;
  kind: string;
  instanceIds: string[];
  rules: string[];
  regions: string[];
  status: LogStatus;
  attempt: number;
  maxAttempts: number;
  error: string;
  reason: string;
  durationMs: number;
  /** When the next attempt is due (ms), or 0. */
  nextAttemptAtMs: number;
}

/** Where the dispatcher writes; tests may keep entries in memory. */
export interface NotificationLogSink {
  write(entries: readonly LogEntry[]): Promise<void>;
}

export interface LogQuery {
  from: Date;
  to: Date;
  statuses?: readonly string[];
  channels?: readonly string[];
  receivers?: readonly string[];
  instanceId?: string;
  /** null: every region; otherwise rows touching at least one of these. */
  regions: readonly string[] | null;
  limit: number;
}

/** An entry as the API shows it: ISO times, and null for an empty error, reason or next attempt. */
export type LogRecord = Omit<LogEntry, 'atMs' | 'seq' | 'error' | 'reason' | 'nextAttemptAtMs'> & {
  at: string;
  error: string | null;
  reason: string | null;
  nextAttemptAt: string | null;
};

const MAX_TEXT = 2000;

export class StoreNotificationLog implements NotificationLogSink {
  constructor(private readonly store: Store) {}

  async write(entries: readonly LogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.store.insert('notification_log', entries.map((e) => ({
      at: Math.floor(e.atMs / 1000),
      atMs: e.atMs,
      seq: e.seq,
      id: e.id,
      noticeId: e.noticeId,
      policy: e.policy,
      groupKey: e.groupKey,
      receiver: e.receiver,
      channel: e.channel,
      kind: e.kind,
      instanceIds: e.instanceIds,
      rules: e.rules,
      regions: e.regions,
      status: e.status,
      attempt: e.attempt,
      maxAttempts: e.maxAttempts,
      error: e.error.slice(0, MAX_TEXT),
      reason: e.reason.slice(0, MAX_TEXT),
      durationMs: Math.max(0, Math.min(Math.round(e.durationMs), 4_294_967_295)),
      nextAttemptAt: Math.floor(e.nextAttemptAtMs / 1000),
    })));
  }

  async query(q: LogQuery): Promise<LogRecord[]> {
    const conditions: Sql[] = [
      // `at` (seconds) prunes partitions; `atMs` is exact.
      sql`at >= ${new Date(Math.floor(q.from.getTime() / 1000) * 1000)}`,
      sql`at <= ${new Date(Math.floor(q.to.getTime() / 1000) * 1000)}`,
      sql`atMs >= ${q.from.getTime()}`,
      sql`atMs < ${q.to.getTime()}`,
    ];
    if (q.statuses && q.statuses.length > 0) conditions.push(sql`status IN ${sql.list(q.statuses)}`);
    if (q.channels && q.channels.length > 0) conditions.push(sql`channel IN ${sql.list(q.channels)}`);
    if (q.receivers && q.receivers.length > 0) conditions.push(sql`receiver IN ${sql.list(q.receivers)}`);
    if (q.instanceId) conditions.push(sql`has(instanceIds, ${q.instanceId})`);
    if (q.regions !== null) {
      // An empty scope sees nothing rather than everything.
      conditions.push(q.regions.length > 0 ? sql`hasAny(regions, ${[...q.regions]})` : sql`0`);
    }
    const rows = await this.store.query<Record<string, unknown>>(sql`
      SELECT id, atMs, noticeId, policy, groupKey, receiver, channel, kind, instanceIds, rules, regions,
             status, attempt, maxAttempts, error, reason, durationMs, nextAttemptAt
      FROM ${this.store.table('notification_log')}
      WHERE ${sql.join(conditions, ' AND ')}
      ORDER BY atMs DESC, seq DESC
      LIMIT ${q.limit}`);
    return rows.map((r) => ({
      id: String(r.id),
      at: new Date(Number(r.atMs)).toISOString(),
      noticeId: String(r.noticeId),
      policy: String(r.policy),
      groupKey: String(r.groupKey),
      receiver: String(r.receiver),
      channel: String(r.channel),
      kind: String(r.kind),
      instanceIds: r.instanceIds as string[],
      rules: r.rules as string[],
      regions: r.regions as string[],
      status: String(r.status) as LogStatus,
      attempt: Number(r.attempt),
      maxAttempts: Number(r.maxAttempts),
      error: r.error ? String(r.error) : null,
      reason: r.reason ? String(r.reason) : null,
      durationMs: Number(r.durationMs),
      nextAttemptAt: Number(r.nextAttemptAt) > 0 ? new Date(Number(r.nextAttemptAt) * 1000).toISOString() : null,
    }));
  }
}

/** Keeps entries in memory (unit tests, and a dispatcher without a store). */
export class MemoryNotificationLog implements NotificationLogSink {
  readonly entries: LogEntry[] = [];
  async write(entries: readonly LogEntry[]): Promise<void> {
    this.entries.push(...entries);
  }
}
