/**
 * Authentication, roles and region scopes for every `/api` route.
 *
 * Who is calling: `Authorization: Bearer <token>` (a configured token, the
 * bootstrap admin token, or a token made through the API), or else the
 * session cookie (server/people/sessions.ts). One app-level onRequest hook
 * (`createAuthHook`) does it for every route, the WebSocket upgrade of
 * /api/v1/live included, before any body is read.
 *
 * What they may do: every route DECLARES its access, either with a
 * `requireRole(roles)` hook or with `config: { access: 'public' | roles }`.
 * `app.ts` records the declaration on the route (`config.sqmAccess`) and on
 * `app.sqmRoutes`; the hook enforces it centrally, so a denied role gets 403
 * before validation, and tests enumerate every route for every role. An /api
 * route that declares nothing is admin-only (and the role matrix test fails).
 *
 * Which regions: `scopeRegions` and friends, applied in each route's query.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { ROLES, type Role, type SqmConfig } from '../config/index.js';
import { ApiError } from './errors.js';
import type { Logger } from './logger.js';
import { sessionState, type People, type SessionRecord } from './people/index.js';
import { BadCredentialLimiter, isApiPath, SESSION_COOKIE, sessionCookieOptions, type SecuritySettings } from './security.js';

export interface Principal {
  name: string;
  role: Role;
  /** Regions this principal may see; `null` means every region. */
  regions: readonly string[] | null;
  /** How the caller proved who it is (absent on principals made in code, e.g. the demo's). */
  via?: 'token' | 'session';
  /** A wallboard display: read-only whatever its role. */
  display?: boolean;
}

interface TokenEntry {
  digest: Buffer;
  principal: Principal;
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Tokens from the configuration and SQM_BOOTSTRAP_ADMIN_TOKEN, compared as
 * SHA-256 digests in constant time, so timing does not leak how much of a
 * guess matched.
 */
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

  /** Names, roles and regions of the configured tokens (never their digests), for GET /api/v1/tokens. */
  list(): Principal[] {
    return this.entries.map((e) => ({ ...e.principal }));
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

// ---------------------------------------------------------------------------
// Roles and declared access

/** Every role. */
export const ALL_ROLES: readonly Role[] = ROLES;
/** Roles that may read KPIs and other monitoring data. */
export const READ_ROLES: readonly Role[] = ['admin', 'executive', 'manager', 'supervisor', 'viewer'];
/** Roles that may write records. */
export const INGEST_ROLES: readonly Role[] = ['admin', 'ingest'];
/** People, tokens, the audit log. */
export const ADMIN_ROLES: readonly Role[] = ['admin'];
/** Acknowledge alerts (managers within their regions). */
export const ACK_ROLES: readonly Role[] = ['admin', 'manager', 'supervisor'];
/** Change rules and silences (managers within their regions). */
export const MANAGE_ROLES: readonly Role[] = ['admin', 'manager'];

/** What a route admits: anyone (no credentials needed), or these roles. */
export type RouteAccess = { public: true } | { roles: readonly Role[] };

const ACCESS: unique symbol = Symbol.for('sqm.access');
type AccessTagged = { [ACCESS]: RouteAccess };

/**
 * A hook that lets only the given roles through, and declares the route's
 * access: app.ts finds it on the route, records it, and the authentication
 * hook enforces it before the body is read. Use it as `onRequest` or
 * `preHandler`; either way the check happens first, in the central hook.
 */
export function requireRole(roles: readonly Role[]) {
  const hook = async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const principal = request.principal;
    if (!principal) throw new ApiError('SQM_UNAUTHORIZED');
    if (!roles.includes(principal.role)) throw roleDenied(principal, roles);
  };
  return Object.assign(hook, { [ACCESS]: { roles: [...roles] } as RouteAccess });
}

function roleDenied(principal: Principal, roles: readonly Role[]): ApiError {
  return new ApiError(
    'SQM_FORBIDDEN',
    `The role "${principal.role}" may not use this route (allowed: ${roles.join(', ')})`,
    { role: principal.role, allowed: roles },
  );
}

const HOOK_NAMES = ['onRequest', 'preParsing', 'preValidation', 'preHandler'] as const;

function isTagged(value: unknown): value is AccessTagged {
  return typeof value === 'function' && ACCESS in value;
}

/** The access a route declares, or undefined when it declares none. */
export function accessOf(route: Pick<RouteOptions, 'config' | (typeof HOOK_NAMES)[number]>): RouteAccess | undefined {
  const declared = (route.config as { access?: unknown } | undefined)?.access;
  if (declared === 'public') return { public: true };
  if (Array.isArray(declared)) return { roles: declared.filter((r): r is Role => (ROLES as readonly string[]).includes(r)) };
  if (declared && typeof declared === 'object') return declared as RouteAccess;
  for (const name of HOOK_NAMES) {
    for (const hook of [route[name] ?? []].flat()) {
      if (isTagged(hook)) return hook[ACCESS];
    }
  }
  return undefined;
}

/** Record a route's access where the authentication hook finds it (call from an onRoute hook). */
export function declareRouteAccess(route: RouteOptions): RouteAccess | undefined {
  const access = accessOf(route);
  route.config = { ...(route.config ?? {}), sqmAccess: access } as RouteOptions['config'];
  return access;
}

// ---------------------------------------------------------------------------
// Region scope

/**
 * The regions a query may read: the ones asked for, limited to the principal's
 * scope. Asking for a region outside the scope is a 403, never a silent filter,
 * so a scoped user cannot mistake a partial answer for the whole. Asking for
 * none gives the principal's own regions.
 * Returns null for "all regions" (only for unscoped principals).
 */
export function scopeRegions(principal: Principal, requested: readonly string[] | undefined | null): readonly string[] | null {
  if (principal.regions === null) return requested && requested.length > 0 ? requested : null;
  if (principal.regions.length === 0) throw new ApiError('SQM_FORBIDDEN', `"${principal.name}" may see no region`);
  if (!requested || requested.length === 0) return principal.regions;
  const outside = requested.filter((r) => !principal.regions!.includes(r));
  if (outside.length > 0) throw new ApiError('SQM_FORBIDDEN', `Outside your regions (${principal.regions.join(', ')}): ${outside.join(', ')}`, { outside });
  return requested;
}

/** True when the principal may see this region. */
export function inScope(principal: Principal, region: string): boolean {
  return principal.regions === null || principal.regions.includes(region);
}

/** 403 unless the principal may see (or act on) this region. */
export function assertInScope(principal: Principal, region: string): void {
  if (!inScope(principal, region)) {
    throw new ApiError('SQM_FORBIDDEN', `Outside your regions (${(principal.regions ?? []).join(', ')}): ${region}`, { outside: [region] });
  }
}

/**
 * Keep only the items the principal may see. For lists read from memory (alert
 * instances); a store query should put `scopeRegions` into its WHERE instead.
 * An item without a region (undefined) is visible only to unscoped principals.
 */
export function filterInScope<T>(principal: Principal, items: readonly T[], regionOf: (item: T) => string | undefined): T[] {
  if (principal.regions === null) return [...items];
  return items.filter((item) => {
    const region = regionOf(item);
    return region !== undefined && principal.regions!.includes(region);
  });
}

// ---------------------------------------------------------------------------
// The authentication hook

/** The header a browser must send on requests that change something (CSRF defence). */
export const CSRF_HEADER = 'x-sqm-request';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

interface Identity {
  principal?: Principal;
  session?: SessionRecord;
  /** The credential presented did not work (the message says why). */
  failure?: ApiError;
  /** The session cookie is dead: clear it. */
  clearCookie?: boolean;
}

export interface AuthDeps {
  registry: TokenRegistry;
  people: People;
  settings: SecuritySettings;
  now: () => Date;
  logger: Logger;
}

export function createAuthenticator(deps: AuthDeps) {
  const { registry, people, now } = deps;
  const log = deps.logger.child({ module: 'auth' });

  async function fromBearer(header: string): Promise<Identity> {
    const match = BEARER.exec(header);
    if (!match) return { failure: new ApiError('SQM_UNAUTHORIZED', 'Malformed Authorization header: expected "Bearer <token>"') };
    const token = match[1] as string;
    const configured = registry.lookup(token);
    if (configured) return { principal: { ...configured, via: 'token' } };
    const stored = await people.tokens.lookup(token);
    if (stored) {
      return {
        principal: { name: `token:${stored.name}`, role: stored.role, regions: stored.regions, via: 'token', ...(stored.display ? { display: true } : {}) },
      };
    }
    return { failure: new ApiError('SQM_UNAUTHORIZED', 'Unknown, expired or revoked token') };
  }

  async function fromCookie(value: string): Promise<Identity> {
    const ended = (why: string): Identity => ({ failure: new ApiError('SQM_UNAUTHORIZED', `${why}; log in again`), clearCookie: true });
    const session = await people.sessions.find(value);
    if (!session) return ended('Unknown session');
    const nowMs = now().getTime();
    const state = sessionState(session, nowMs);
    if (state === 'revoked') return ended('You logged out');
    if (state === 'expired') return ended('Your session expired');
    if (state === 'idle') return ended('Your session expired after a time unused');
    let principal: Principal;
    if (session.kind === 'user') {
      const user = await people.users.get(session.subject);
      if (!user || user.disabled) return ended('This user no longer exists or is disabled');
      if (session.createdAtMs < user.sessionsNotBefore) return ended('Your password or account changed');
      principal = { name: user.username, role: user.role, regions: user.regions, via: 'session' };
    } else {
      const token = await people.tokens.activeById(session.subject);
      if (!token) return ended('This display\'s token was revoked or expired');
      principal = { name: `token:${token.name}`, role: token.role, regions: token.regions, via: 'session', display: true };
    }
    try {
      await people.sessions.touch(session);
    } catch (error) {
      // A missed touch only shortens the idle time seen by other processes.
      log.warn({ err: error }, 'could not record session use');
    }
    return { principal, session };
  }

  /** Who the request is from: bearer first (a browser never adds one on its own), then the cookie. */
  async function identify(request: FastifyRequest): Promise<Identity> {
    const header = request.headers.authorization;
    if (header !== undefined) return fromBearer(header);
    const cookie = request.cookies?.[SESSION_COOKIE];
    if (cookie) return fromCookie(cookie);
    return {};
  }

  return { identify };
}

export function createAuthHook(deps: AuthDeps) {
  const authenticator = createAuthenticator(deps);
  const log = deps.logger.child({ module: 'auth' });
  const limits = deps.settings.rateLimit;
  const badCredentials = new BadCredentialLimiter(limits.badCredentialsPerIp, limits.windowSeconds * 1000, deps.now);
  const warned = new Set<string>();

  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const config = request.routeOptions.config as { sqmAccess?: RouteAccess } | undefined;
    const access = request.is404 ? undefined : config?.sqmAccess;
    if (!access && !isApiPath(request.url)) return; // not the API, and not a route that asked for a check
    const presented = request.headers.authorization !== undefined || Boolean(request.cookies?.[SESSION_COOKIE]);
    const isPublic = access !== undefined && 'public' in access;

    if (presented && !isPublic) {
      const wait = badCredentials.retryAfter(request.ip);
      if (wait > 0) throw new ApiError('SQM_RATE_LIMITED', `Too many requests with wrong credentials from this address; retry in ${wait} s`, undefined, { 'Retry-After': String(wait) });
    }
    const identity = await authenticator.identify(request);
    if (identity.clearCookie) void reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(request, deps.settings));
    if (identity.principal) request.principal = identity.principal;
    if (identity.session) request.sqmSession = identity.session;

    if (isPublic) {
      // Public routes that change something (log in, log out) are reached from the browser: same CSRF rule.
      if (!SAFE_METHODS.has(request.method) && request.headers.authorization === undefined) requireCsrfHeader(request);
      return;
    }
    if (identity.failure) {
      badCredentials.fail(request.ip);
      throw identity.failure;
    }
    const principal = identity.principal;
    if (!principal) throw new ApiError('SQM_UNAUTHORIZED');
    if (principal.via === 'session') {
      if (!SAFE_METHODS.has(request.method)) requireCsrfHeader(request);
      if (isWebSocketUpgrade(request)) requireSameOrigin(request);
    }
    // Not found (or a catch-all outside /api, like the dashboard's, that will say so): the handler answers, now that we know who asked.
    const routeUrl = request.routeOptions.url;
    if (request.is404 || (!access && !(routeUrl !== undefined && isApiPath(routeUrl)))) return;

    let roles: readonly Role[];
    if (access && 'roles' in access) {
      roles = access.roles;
    } else {
      roles = ADMIN_ROLES;
      const key = `${request.method} ${request.routeOptions.url ?? request.url}`;
      if (!warned.has(key)) {
        warned.add(key);
        log.warn({ route: key }, 'route declares no access (requireRole or config.access): admins only');
      }
    }
    if (!roles.includes(principal.role)) throw roleDenied(principal, roles);
    if (principal.display && !SAFE_METHODS.has(request.method)) {
      throw new ApiError('SQM_FORBIDDEN', 'A display token is read-only', { role: principal.role, display: true });
    }
  };
}

function requireCsrfHeader(request: FastifyRequest): void {
  if (request.headers[CSRF_HEADER] !== '1') throw new ApiError('SQM_CSRF');
}

function isWebSocketUpgrade(request: FastifyRequest): boolean {
  const upgrade = request.headers.upgrade;
  return typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket';
}

/**
 * Browsers send cookies on a cross-site WebSocket handshake and do not apply
 * CORS to it, so a cookie-authenticated upgrade must come from our own origin.
 */
function requireSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  let host: string | undefined;
  try {
    host = typeof origin === 'string' ? new URL(origin).host : undefined;
  } catch {
    host = undefined;
  }
  if (!host || host !== request.headers.host) {
    throw new ApiError('SQM_CSRF', 'A WebSocket signed in by cookie must come from this server\'s own pages (Origin)');
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** The session behind a cookie-authenticated request. */
    sqmSession?: SessionRecord;
  }
  interface FastifyContextConfig {
    /** Declared access: 'public', or the roles allowed (or use a requireRole hook). */
    access?: 'public' | readonly Role[] | RouteAccess;
    /** Set by app.ts from the declaration; read by the authentication hook. */
    sqmAccess?: RouteAccess | undefined;
  }
}
