/**
 * Bearer-token authentication and role checks for every `/api` route.
 *
 * Tokens are compared as SHA-256 digests with a constant-time comparison, so a
 * token's text is never kept in memory longer than the request and timing does
 * not leak how much of a guess matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role, SqmConfig } from '../config/index.js';
import { ApiError } from './errors.js';

export interface Principal {
  name: string;
  role: Role;
  /** Regions this principal may see; `null` means every region. */
  regions: readonly string[] | null;
}

interface TokenEntry {
  digest: Buffer;
  principal: Principal;
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export class TokenRegistry {
  private readonly entries: TokenEntry[] = [];

  add(tokenDigest: Buffer, principal: Principal): void {
    this.entries.push({ digest: tokenDigest, principal });
  }

  /** The principal for a presented token, or undefined. Checks every entry (no early exit). */
  lookup(token: string): Principal | undefined {
    const digest = sha256(token);
    let found: Principal | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, digest)) found = entry.principal;
    }
    return found;
  }

  get size(): number {
    return this.entries.length;
  }
}

export function buildTokenRegistry(config: SqmConfig, bootstrapAdminToken: string | undefined, env: NodeJS.ProcessEnv): TokenRegistry {
  const registry = new TokenRegistry();
  if (bootstrapAdminToken) registry.add(sha256(bootstrapAdminToken), { name: 'bootstrap-admin', role: 'admin', regions: null });
  for (const token of config.tokens) {
    let digest: Buffer | undefined;
    if (token.sha256) digest = Buffer.from(token.sha256.toLowerCase(), 'hex');
    else if (token.tokenEnv) {
      const value = env[token.tokenEnv];
      if (value) digest = sha256(value);
    }
    if (!digest) continue; // a tokenEnv that is unset simply grants nothing
    registry.add(digest, { name: token.name, role: token.role, regions: token.regions ? [...token.regions] : null });
  }
  return registry;
}

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

export function authenticate(registry: TokenRegistry, request: FastifyRequest): Principal {
  const header = request.headers.authorization;
  if (typeof header !== 'string') throw new ApiError('SQM_UNAUTHORIZED');
  const match = BEARER.exec(header);
  if (!match) throw new ApiError('SQM_UNAUTHORIZED', 'Malformed Authorization header: expected "Bearer <token>"');
  const principal = registry.lookup(match[1] as string);
  if (!principal) throw new ApiError('SQM_UNAUTHORIZED', 'Unknown or revoked token');
  return principal;
}

/** Roles that may read KPIs and other monitoring data. */
export const READ_ROLES: readonly Role[] = ['admin', 'executive', 'manager', 'supervisor', 'viewer'];
/** Roles that may write records. */
export const INGEST_ROLES: readonly Role[] = ['admin', 'ingest'];

/** A preHandler that lets only the given roles through. */
export function requireRole(roles: readonly Role[]) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const principal = request.principal;
    if (!principal) throw new ApiError('SQM_UNAUTHORIZED');
    if (!roles.includes(principal.role)) {
      throw new ApiError('SQM_FORBIDDEN', `The role "${principal.role}" may not use this route (allowed: ${roles.join(', ')})`);
    }
  };
}

/**
 * The regions a query may read: the ones asked for, limited to the principal's
 * scope. Asking for a region outside the scope is a 403, never a silent filter,
 * so a scoped user cannot mistake a partial answer for the whole.
 * Returns null for "all regions" (only for unscoped principals).
 */
export function scopeRegions(principal: Principal, requested: readonly string[] | undefined): readonly string[] | null {
  if (principal.regions === null) return requested && requested.length > 0 ? requested : null;
  if (!requested || requested.length === 0) return principal.regions;
  const outside = requested.filter((r) => !principal.regions!.includes(r));
  if (outside.length > 0) throw new ApiError('SQM_FORBIDDEN', `Outside this token's regions: ${outside.join(', ')}`);
  return requested;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}
