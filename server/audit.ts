/**
 * The audit log: who did what, when (logins, failed logins, lock-outs, user
 * and token changes, rule and silence changes, acknowledgements, exports).
 *
 * Routes call `ctx.audit.record(entry)`. The store-backed log writes one row
 * to `audit_log` (store/migrations/004_people.sql) and one structured log line.
 * If the store refuses the row, the log line (at error level, with the whole
 * entry) is the record: an action that already happened is not failed
 * afterwards because its audit row could not be written.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Store } from '../store/index.js';
import type { Logger } from './logger.js';
import { nextVersion } from './people/rows.js';

export interface AuditEntry {
  /** Who: a user name or a token's name; `anonymous` for failed logins. */
  actor: string;
  /** What, as `noun.verb`: `login.success`, `login.failure`, `rule.update`, `silence.create`, `alert.acknowledge`, `export.csv`… */
  action: string;
  /** What it was done to (a rule id, a user name, an alert instance id). */
  target?: string;
  /** The region concerned, when there is one. */
  region?: string;
  /** Client address. */
  ip?: string;
  details?: Record<string, unknown>;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
}

/** One stored entry, as the API returns it. */
export interface AuditRecord {
  id: string;
  /** Orders entries (also within one second); `before` pages by it. */
  seq: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  region: string;
  ip: string;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  actor?: string;
  /** Exact actions, or prefixes written `login.*`. */
  actions?: string[];
  from?: Date;
  to?: Date;
  /** Only entries older than this `seq` (the previous page's last). */
  before?: string;
  limit: number;
}

export interface StoreAuditLog extends AuditLog {
  query(filter: AuditQuery): Promise<AuditRecord[]>;
}

export function createLogOnlyAuditLog(logger: Logger): AuditLog {
  const log = logger.child({ module: 'audit' });
  return {
    async record(entry) {
      log.info({ audit: entry }, entry.action);
    },
  };
}

/** Keep rows bounded whatever a caller passes: these fields are labels, not documents. */
const clip = (text: string | undefined, max: number): string => (text ?? '').slice(0, max);

function detailsText(details: Record<string, unknown> | undefined): string {
  if (!details) return '{}';
  try {
    const text = JSON.stringify(details);
    return text.length <= 8192 ? text : JSON.stringify({ truncated: true, text: text.slice(0, 8000) });
  } catch {
    return JSON.stringify({ unserialisable: true });
  }
}

interface AuditRow {
  // Aliases differ from the columns: an alias named like a column would shadow it in WHERE.
  atSeconds: number;
  cursor: string;
  id: string;
  actor: string;
  action: string;
  target: string;
  region: string;
  ip: string;
  details: string;
}

export function createStoreAuditLog(options: { store: Store; logger: Logger; now: () => Date }): StoreAuditLog {
  const { store, now } = options;
  const log = options.logger.child({ module: 'audit' });
  return {
    async record(entry) {
      const at = now();
      const row = {
        at: Math.floor(at.getTime() / 1000),
        seq: nextVersion(),
        id: randomBytes(8).toString('hex'),
        actor: clip(entry.actor, 128),
        action: clip(entry.action, 64),
        target: clip(entry.target, 256),
        region: clip(entry.region, 16),
        ip: clip(entry.ip, 64),
        details: detailsText(entry.details),
      };
      try {
        await store.insert('audit_log', [row]);
        log.info({ audit: entry }, entry.action);
      } catch (error) {
        log.error({ audit: entry, at: at.toISOString(), err: error }, `audit row not stored: ${entry.action}`);
      }
    },

    async query(filter) {
      const conditions = [sql`1`];
      if (filter.actor !== undefined) conditions.push(sql`actor = ${filter.actor}`);
      if (filter.actions && filter.actions.length > 0) {
        const exact = filter.actions.filter((a) => !a.endsWith('.*'));
        const prefixes = filter.actions.filter((a) => a.endsWith('.*')).map((a) => a.slice(0, -1));
        const any = [
          ...(exact.length > 0 ? [sql`action IN ${sql.list(exact)}`] : []),
          // substring() rather than LIKE: a prefix holds no pattern characters to escape.
          ...prefixes.map((p) => sql`substring(action, 1, ${p.length}) = ${p}`),
        ];
        conditions.push(sql`(${sql.join(any, ' OR ')})`);
      }
      if (filter.from) conditions.push(sql`at >= ${filter.from}`);
      if (filter.to) conditions.push(sql`at < ${filter.to}`);
      if (filter.before !== undefined) conditions.push(sql`seq < ${BigInt(filter.before)}`);
      const rows = await store.query<AuditRow>(sql`
        SELECT toUInt32(at) AS atSeconds, toString(seq) AS cursor, id, actor, action, target, region, ip, details
        FROM ${store.table('audit_log')}
        WHERE ${sql.join(conditions, ' AND ')}
        ORDER BY seq DESC
        LIMIT ${filter.limit}`);
      return rows.map((row) => {
        let details: Record<string, unknown>;
        try {
          details = JSON.parse(row.details) as Record<string, unknown>;
        } catch {
          details = {};
        }
        return {
          id: row.id,
          seq: String(row.cursor),
          at: new Date(Number(row.atSeconds) * 1000).toISOString(),
          actor: row.actor,
          action: row.action,
          target: row.target,
          region: row.region,
          ip: row.ip,
          details,
        };
      });
    },
  };
}
