/**
 * Users: one row per change in the `users` table (a ReplacingMergeTree on
 * `version`), read back with argMax per user name. Deleting appends a row with
 * `deleted = 1`, so the history stays until merges collapse it.
 *
 * Reads for authentication go through a small cache that is trusted for
 * `cacheMs` (10 s by default): a change made in this process is seen at once,
 * one made by another SQM process within that time.
 */
import type { Role } from '../../config/index.js';
import { sql, type Store } from '../../store/index.js';
import { epochSeconds, isoFromSeconds, nextVersion, regionsFromRow, regionsToRow } from './rows.js';

export interface UserRecord {
  username: string;
  displayName: string;
  role: Role;
  /** null = every region. */
  regions: string[] | null;
  disabled: boolean;
  /** scrypt hash with its parameters (passwords.ts); never leaves the server. */
  passwordHash: string;
  /** Sessions created before this instant (epoch ms) are no longer valid. */
  sessionsNotBefore: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

/** What the API shows of a user. */
export interface PublicUser {
  username: string;
  displayName: string;
  role: Role;
  regions: string[] | null;
  disabled: boolean;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

export function publicUser(user: UserRecord): PublicUser {
  const { passwordHash: _hash, sessionsNotBefore: _notBefore, ...shown } = user;
  return shown;
}

interface UserRow {
  username: string;
  displayName: string;
  role: string;
  regions: string[];
  allRegions: number;
  passwordHash: string;
  disabled: number;
  sessionsNotBefore: number;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
  updatedBy: string;
}

function fromRow(row: UserRow): UserRecord {
  return {
    username: row.username,
    displayName: row.displayName,
    role: row.role as Role,
    regions: regionsFromRow(row.allRegions, row.regions),
    disabled: Number(row.disabled) === 1,
    passwordHash: row.passwordHash,
    sessionsNotBefore: Number(row.sessionsNotBefore),
    createdAt: isoFromSeconds(Number(row.createdAt)),
    createdBy: row.createdBy,
    updatedAt: isoFromSeconds(Number(row.updatedAt)),
    updatedBy: row.updatedBy,
  };
}

export interface UserDirectoryOptions {
  store: Store;
  now: () => Date;
  cacheMs?: number;
}

export class UserDirectory {
  private readonly store: Store;
  private readonly now: () => Date;
  private readonly cacheMs: number;
  private readonly cache = new Map<string, { user: UserRecord | undefined; loadedAt: number }>();

  constructor(options: UserDirectoryOptions) {
    this.store = options.store;
    this.now = options.now;
    this.cacheMs = options.cacheMs ?? 10_000;
  }

  /** The newest version of every user that is not deleted (or of one user). */
  private select(username?: string) {
    const where = username === undefined ? sql`` : sql`WHERE username = ${username}`;
    return sql`
      SELECT username, dn AS displayName, rl AS role, rg AS regions, ar AS allRegions, ph AS passwordHash,
             dis AS disabled, snb AS sessionsNotBefore, ca AS createdAt, cb AS createdBy, ua AS updatedAt, ub AS updatedBy
      FROM (
        SELECT username,
               argMax(displayName, version) AS dn, argMax(role, version) AS rl,
               argMax(regions, version) AS rg, argMax(allRegions, version) AS ar,
               argMax(passwordHash, version) AS ph, argMax(disabled, version) AS dis,
               argMax(deleted, version) AS del, argMax(sessionsNotBefore, version) AS snb,
               argMax(toUInt32(createdAt), version) AS ca, argMax(createdBy, version) AS cb,
               argMax(toUInt32(updatedAt), version) AS ua, argMax(updatedBy, version) AS ub
        FROM ${this.store.table('users')}
        ${where}
        GROUP BY username
      )
      WHERE del = 0
      ORDER BY username`;
  }

  /** One user (not deleted), through the cache. */
  async get(username: string): Promise<UserRecord | undefined> {
    const at = this.now().getTime();
    const cached = this.cache.get(username);
    if (cached && at - cached.loadedAt < this.cacheMs && at >= cached.loadedAt) return cached.user;
    const rows = await this.store.query<UserRow>(this.select(username));
    const user = rows[0] ? fromRow(rows[0]) : undefined;
    if (this.cache.size >= 10_000) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(username, { user, loadedAt: at });
    return user;
  }

  /** Every user, straight from the store. */
  async list(): Promise<UserRecord[]> {
    return (await this.store.query<UserRow>(this.select())).map(fromRow);
  }

  /** How many users exist (not deleted): set-up is possible only while this is 0. */
  async count(): Promise<number> {
    const rows = await this.store.query<{ n: number }>(sql`
      SELECT count() AS n FROM (
        SELECT username, argMax(deleted, version) AS del FROM ${this.store.table('users')} GROUP BY username
      ) WHERE del = 0`);
    return Number(rows[0]?.n ?? 0);
  }

  /** Append a new version of a user (create or change). */
  async save(user: UserRecord): Promise<void> {
    await this.append(user, 0);
    this.cache.set(user.username, { user, loadedAt: this.now().getTime() });
  }

  /** Append a deletion marker; every session of the user ends with it. */
  async delete(user: UserRecord, by: string): Promise<void> {
    const now = this.now();
    await this.append({ ...user, updatedAt: now.toISOString(), updatedBy: by, sessionsNotBefore: now.getTime() }, 1);
    this.cache.set(user.username, { user: undefined, loadedAt: now.getTime() });
  }

  private async append(user: UserRecord, deleted: number): Promise<void> {
    await this.store.insert('users', [{
      username: user.username,
      displayName: user.displayName,
      role: user.role,
      ...regionsToRow(user.regions),
      passwordHash: user.passwordHash,
      disabled: user.disabled ? 1 : 0,
      deleted,
      sessionsNotBefore: user.sessionsNotBefore,
      createdAt: epochSeconds(Date.parse(user.createdAt)),
      createdBy: user.createdBy,
      updatedAt: epochSeconds(Date.parse(user.updatedAt)),
      updatedBy: user.updatedBy,
      version: nextVersion(),
    }]);
  }
}
