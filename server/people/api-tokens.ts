/**
 * API tokens made through the API (`POST /api/v1/tokens`), besides the ones in
 * the configuration. A token is `sqm_` + 32 random bytes (base64url), shown
 * once; the store keeps its SHA-256 and a four-character hint to recognise it.
 *
 * Authentication looks tokens up in an in-memory map of the active ones,
 * reloaded from the store when older than `cacheMs` (10 s): one query per
 * interval however many requests arrive, a token made or revoked here takes
 * effect at once, one made or revoked by another SQM process within 10 s. The
 * map is keyed by the SHA-256 of the token, so a lookup's timing depends on a
 * digest an attacker cannot steer, never on the token's own characters.
 *
 * A display token is a read-only token for a wallboard TV: role viewer or
 * supervisor, usually scoped to regions, exchanged once for a long session
 * (`POST /api/v1/auth/display`) so the TV holds no one's password.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Role } from '../../config/index.js';
import { sql, type Store } from '../../store/index.js';
import { epochSeconds, isoFromSeconds, nextVersion, regionsFromRow, regionsToRow } from './rows.js';

export const TOKEN_PREFIX = 'sqm_';

export interface ApiTokenRecord {
  id: string;
  name: string;
  role: Role;
  regions: string[] | null;
  display: boolean;
  /** SHA-256 (hex) of the token. */
  digest: string;
  /** The token's first characters after the prefix, to tell tokens apart in a list. */
  hint: string;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revoked: boolean;
  revokedAt: string | null;
  revokedBy: string | null;
}

/** What the API shows of a token: never the digest. */
export type PublicApiToken = Omit<ApiTokenRecord, 'digest'>;

export function publicToken(record: ApiTokenRecord): PublicApiToken {
  const { digest: _digest, ...shown } = record;
  return shown;
}

interface TokenRow {
  id: string;
  name: string;
  role: string;
  regions: string[];
  allRegions: number;
  display: number;
  digest: string;
  hint: string;
  createdAt: number;
  createdBy: string;
  expiresAt: number;
  revoked: number;
  revokedAt: number;
  revokedBy: string;
}

function fromRow(row: TokenRow): ApiTokenRecord {
  const revoked = Number(row.revoked) === 1;
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    regions: regionsFromRow(row.allRegions, row.regions),
    display: Number(row.display) === 1,
    digest: row.digest,
    hint: row.hint,
    createdAt: isoFromSeconds(Number(row.createdAt)),
    createdBy: row.createdBy,
    expiresAt: Number(row.expiresAt) === 0 ? null : isoFromSeconds(Number(row.expiresAt)),
    revoked,
    revokedAt: revoked ? isoFromSeconds(Number(row.revokedAt)) : null,
    revokedBy: revoked ? row.revokedBy : null,
  };
}

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface NewApiToken {
  name: string;
  role: Role;
  regions: string[] | null;
  display: boolean;
  expiresAt: Date | null;
  createdBy: string;
}

export interface ApiTokenStoreOptions {
  store: Store;
  now: () => Date;
  cacheMs?: number;
}

export class ApiTokenStore {
  private readonly store: Store;
  private readonly now: () => Date;
  private readonly cacheMs: number;
  private active = new Map<string, ApiTokenRecord>();
  private byId = new Map<string, ApiTokenRecord>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;

  constructor(options: ApiTokenStoreOptions) {
    this.store = options.store;
    this.now = options.now;
    this.cacheMs = options.cacheMs ?? 10_000;
  }

  private select(where: 'all' | 'active') {
    return sql`
      SELECT id, n AS name, rl AS role, rg AS regions, ar AS allRegions, d AS display, dg AS digest, h AS hint,
             ca AS createdAt, cb AS createdBy, ea AS expiresAt, rv AS revoked, ra AS revokedAt, rb AS revokedBy
      FROM (
        SELECT id, argMax(name, version) AS n, argMax(role, version) AS rl, argMax(regions, version) AS rg,
               argMax(allRegions, version) AS ar, argMax(display, version) AS d, argMax(digest, version) AS dg,
               argMax(hint, version) AS h, argMax(toUInt32(createdAt), version) AS ca, argMax(createdBy, version) AS cb,
               argMax(toUInt32(expiresAt), version) AS ea, argMax(revoked, version) AS rv,
               argMax(toUInt32(revokedAt), version) AS ra, argMax(revokedBy, version) AS rb
        FROM ${this.store.table('api_tokens')}
        GROUP BY id
      )
      ${where === 'active' ? sql`WHERE rv = 0` : sql``}
      ORDER BY ca DESC, id`;
  }

  /** Make a token. The returned `token` is the only copy of the secret there will ever be. */
  async create(spec: NewApiToken): Promise<{ token: string; record: ApiTokenRecord }> {
    const secret = randomBytes(32).toString('base64url');
    const token = TOKEN_PREFIX + secret;
    const now = this.now();
    const record: ApiTokenRecord = {
      id: randomBytes(8).toString('hex'),
      name: spec.name,
      role: spec.role,
      regions: spec.regions === null ? null : [...spec.regions],
      display: spec.display,
      digest: tokenDigest(token),
      hint: secret.slice(0, 4),
      createdAt: new Date(epochSeconds(now.getTime()) * 1000).toISOString(),
      createdBy: spec.createdBy,
      expiresAt: spec.expiresAt ? new Date(epochSeconds(spec.expiresAt.getTime()) * 1000).toISOString() : null,
      revoked: false,
      revokedAt: null,
      revokedBy: null,
    };
    await this.write(record);
    this.active.set(record.digest, record);
    this.byId.set(record.id, record);
    return { token, record };
  }

  /** Every token made through the API, revoked ones too, newest first. */
  async list(): Promise<ApiTokenRecord[]> {
    return (await this.store.query<TokenRow>(this.select('all'))).map(fromRow);
  }

  async get(id: string): Promise<ApiTokenRecord | undefined> {
    const all = await this.list();
    return all.find((t) => t.id === id);
  }

  async revoke(record: ApiTokenRecord, by: string): Promise<ApiTokenRecord> {
    const revoked: ApiTokenRecord = { ...record, revoked: true, revokedAt: this.now().toISOString(), revokedBy: by };
    await this.write(revoked);
    this.active.delete(record.digest);
    this.byId.delete(record.id);
    return revoked;
  }

  /** The active, unexpired token for a presented secret. */
  async lookup(token: string): Promise<ApiTokenRecord | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    await this.fresh();
    return this.usable(this.active.get(tokenDigest(token)));
  }

  /** The active, unexpired token with this id (a display session's token). */
  async activeById(id: string): Promise<ApiTokenRecord | undefined> {
    await this.fresh();
    return this.usable(this.byId.get(id));
  }

  private usable(record: ApiTokenRecord | undefined): ApiTokenRecord | undefined {
    if (!record || record.revoked) return undefined;
    if (record.expiresAt !== null && Date.parse(record.expiresAt) <= this.now().getTime()) return undefined;
    return record;
  }

  private async fresh(): Promise<void> {
    const nowMs = this.now().getTime();
    if (nowMs - this.loadedAt < this.cacheMs && nowMs >= this.loadedAt) return;
    // One reload at a time, shared by every request that finds the map stale.
    this.loading ??= (async () => {
      try {
        const rows = (await this.store.query<TokenRow>(this.select('active'))).map(fromRow);
        this.active = new Map(rows.map((r) => [r.digest, r]));
        this.byId = new Map(rows.map((r) => [r.id, r]));
        this.loadedAt = this.now().getTime();
      } finally {
        this.loading = undefined;
      }
    })();
    await this.loading;
  }

  private async write(record: ApiTokenRecord): Promise<void> {
    await this.store.insert('api_tokens', [{
      id: record.id,
      name: record.name,
      role: record.role,
      ...regionsToRow(record.regions),
      display: record.display ? 1 : 0,
      digest: record.digest,
      hint: record.hint,
      createdAt: epochSeconds(Date.parse(record.createdAt)),
      createdBy: record.createdBy,
      expiresAt: record.expiresAt === null ? 0 : epochSeconds(Date.parse(record.expiresAt)),
      revoked: record.revoked ? 1 : 0,
      revokedAt: record.revokedAt === null ? 0 : epochSeconds(Date.parse(record.revokedAt)),
      revokedBy: record.revokedBy ?? '',
      version: nextVersion(),
    }]);
  }
}
