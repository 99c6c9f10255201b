/**
 * The audit log: who did what, when (logins, failed logins, user and token
 * changes, rule and silence changes, acknowledgements, exports).
 *
 * The interface is what routes call. The implementation here only writes a
 * structured log line; the store-backed one (readable by admins through the
 * API) replaces it.
 */
import type { Logger } from './logger.js';

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

export function createLogOnlyAuditLog(logger: Logger): AuditLog {
  const log = logger.child({ module: 'audit' });
  return {
    async record(entry) {
      log.info({ audit: entry }, entry.action);
    },
  };
}
