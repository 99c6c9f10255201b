/**
 * Server-side sessions. The cookie holds 32 random bytes (base64url); the
 * store keeps only their SHA-256, so a copy of the table logs no one in.
 *
 * A session ends when it is revoked (logout), when it has not been used for
 * its idle time, or at its absolute expiry, whichever comes first; user
 * sessions also end when the user is disabled, deleted or changes password
 * (users.ts `sessionsNotBefore`), display sessions when their token is revoked.
 *
 * Use is recorded (`lastSeenAt`) at most once per `touchMs`, not on every
 * request: the idle time is minutes, and an insert per request would cost the
 * store more than the requests themselves.
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql, type Store } from '../../store/index.js';
import { epochSeconds, nextVersion } from './rows.js';

export type SessionKind = 'user' | 'display';

export interface SessionRecord {
  idHash: string;
  kind: SessionKind;
  /** The user name, or the display token's id. */
  subject: string;
  createdAtMs: number;
  lastSeenAtMs: number;
  /** The last use written to the store (touches are sparse). */
  storedLastSeenAtMs: number;
  expiresAtMs: number;
  /** 0: no idle expiry. */
  idleSeconds: number;
  ip: string;
  userAgent: string;
  revoked: boolean;
}

export type SessionState = 'active' | 'revoked' | 'expired' | 'idle';

/** Cookie values are exactly 32 bytes in base64url: anything else is refused without a store query. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

export function sessionIdHash(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

export function sessionState(session: SessionRecord, nowMs: number): SessionState {
  if (session.revoked) return 'revoked';
  if (nowMs >= session.expiresAtMs) return 'expired';
  if (session.idleSeconds > 0 && nowMs >= session.lastSeenAtMs + session.idleSeconds * 1000) return 'idle';
  return 'active';
}

interface SessionRow {
  idHash: string;
  kind: string;
  subject: string;
  createdAtMs: number;
  lastSeenAt: number;
  expiresAt: number;
  idleSeconds: number;
  ip: string;
  userAgent: string;
  revoked: number;
}

export interface NewSession {
  kind: SessionKind;
  subject: string;
  lifetimeSeconds: number;
  idleSeconds: number;
  ip: string;
  userAgent: string;
}

export interface SessionStoreOptions {
  store: Store;
  now: () => Date;
  touchMs?: number;
  cacheMs?: number;
}

export class SessionStore {
  private readonly store: Store;
  private readonly now: () => Date;
  private readonly touchMs: number;
  private readonly cacheMs: number;
  private readonly cache = new Map<string, { session: SessionRecord; loadedAt: number }>();

  constructor(options: SessionStoreOptions) {
    this.store = options.store;
    this.now = options.now;
    this.touchMs = options.touchMs ?? 60_000;
    this.cacheMs = options.cacheMs ?? 10_000;
  }

  /** A new session; the returned `id` goes into the cookie and nowhere else. */
  async create(spec: NewSession): Promise<{ id: string; session: SessionRecord }> {
    const id = randomBytes(32).toString('base64url');
    const nowMs = this.now().getTime();
    const session: SessionRecord = {
      idHash: sessionIdHash(id),
      kind: spec.kind,
      subject: spec.subject,
      createdAtMs: nowMs,
      lastSeenAtMs: nowMs,
      storedLastSeenAtMs: nowMs,
      expiresAtMs: nowMs + spec.lifetimeSeconds * 1000,
      idleSeconds: spec.idleSeconds,
      // Bounded: these are shown to admins, never trusted.
      ip: spec.ip.slice(0, 64),
      userAgent: spec.userAgent.slice(0, 256),
      revoked: false,
    };
    await this.write(session);
    return { id, session };
  }

  /** The session a cookie value names, or undefined (unknown, or not a value we could have issued). */
  async find(id: string): Promise<SessionRecord | undefined> {
    if (!COOKIE_VALUE.test(id)) return undefined;
    const idHash = sessionIdHash(id);
    const nowMs = this.now().getTime();
    const cached = this.cache.get(idHash);
    if (cached && nowMs - cached.loadedAt < this.cacheMs && nowMs >= cached.loadedAt) return cached.session;
    const rows = await this.store.query<SessionRow>(sql`
      SELECT idHash, k AS kind, s AS subject, c AS createdAtMs, l AS lastSeenAt, e AS expiresAt,
             i AS idleSeconds, a AS ip, u AS userAgent, r AS revoked
      FROM (
        SELECT idHash, argMax(kind, version) AS k, argMax(subject, version) AS s, argMax(createdAtMs, version) AS c,
               argMax(toUInt32(lastSeenAt), version) AS l, argMax(toUInt32(expiresAt), version) AS e,
               argMax(idleSeconds, version) AS i, argMax(ip, version) AS a, argMax(userAgent, version) AS u,
               argMax(revoked, version) AS r
        FROM ${this.store.table('sessions')}
        WHERE idHash = ${idHash}
        GROUP BY idHash
      )`);
    const row = rows[0];
    if (!row) return undefined;
    const session: SessionRecord = {
      idHash: row.idHash,
      kind: row.kind === 'display' ? 'display' : 'user',
      subject: row.subject,
      createdAtMs: Number(row.createdAtMs),
      // The cached copy may have seen a later use than the store (touches are sparse).
      lastSeenAtMs: Math.max(Number(row.lastSeenAt) * 1000, cached?.session.lastSeenAtMs ?? 0),
      storedLastSeenAtMs: Number(row.lastSeenAt) * 1000,
      expiresAtMs: Number(row.expiresAt) * 1000,
      idleSeconds: Number(row.idleSeconds),
      ip: row.ip,
      userAgent: row.userAgent,
      revoked: Number(row.revoked) === 1,
    };
    this.remember(session, nowMs);
    return session;
  }

  /** Record a use: in memory always, in the store when the last stored use is older than touchMs. */
  async touch(session: SessionRecord): Promise<void> {
    const nowMs = this.now().getTime();
    session.lastSeenAtMs = Math.max(session.lastSeenAtMs, nowMs);
    if (nowMs - session.storedLastSeenAtMs >= this.touchMs) await this.write(session);
  }

  async revoke(session: SessionRecord): Promise<void> {
    const revoked = { ...session, revoked: true };
    await this.write(revoked);
  }

  private remember(session: SessionRecord, nowMs: number): void {
    if (!this.cache.has(session.idHash) && this.cache.size >= 10_000) {
      this.cache.delete(this.cache.keys().next().value as string);
    }
    this.cache.set(session.idHash, { session, loadedAt: nowMs });
  }

  private async write(session: SessionRecord): Promise<void> {
    session.storedLastSeenAtMs = session.lastSeenAtMs;
    await this.store.insert('sessions', [{
      idHash: session.idHash,
      kind: session.kind,
      subject: session.subject,
      createdAt: epochSeconds(session.createdAtMs),
      createdAtMs: session.createdAtMs,
      lastSeenAt: epochSeconds(session.lastSeenAtMs),
      expiresAt: epochSeconds(session.expiresAtMs),
      idleSeconds: session.idleSeconds,
      ip: session.ip,
      userAgent: session.userAgent,
      revoked: session.revoked ? 1 : 0,
      version: nextVersion(),
    }]);
    this.remember(session, this.now().getTime());
  }
}
