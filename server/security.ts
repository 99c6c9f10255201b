/**
 * The server's protective layer: security headers (@fastify/helmet), cookies
 * (@fastify/cookie), API rate limits (@fastify/rate-limit), and `no-store` on
 * every API answer. Settings come from the config's optional `security:`
 * section; `SECURITY_DEFAULTS` is the documented default of every field.
 */
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SqmConfig } from '../config/index.js';
import { ApiError } from './errors.js';

export interface SecuritySettings {
  trustProxy: boolean | number;
  cookieSecure: 'auto' | 'always' | 'never';
  session: { idleMinutes: number; absoluteHours: number; displayDays: number };
  passwords: { minLength: number; scryptLog2N: number };
  login: {
    maxFailuresPerUser: number;
    maxFailuresPerIp: number;
    failureWindowMinutes: number;
    lockoutMinutes: number;
    perIpPerMinute: number;
  };
  rateLimit: {
    enabled: boolean;
    windowSeconds: number;
    perPrincipal: number;
    ingestPerPrincipal: number;
    anonymousPerIp: number;
    badCredentialsPerIp: number;
  };
}

/** The defaults (config/default.yaml repeats them, with why). */
export const SECURITY_DEFAULTS: SecuritySettings = Object.freeze({
  trustProxy: false,
  cookieSecure: 'auto',
  session: { idleMinutes: 60, absoluteHours: 12, displayDays: 30 },
  passwords: { minLength: 12, scryptLog2N: 15 },
  login: { maxFailuresPerUser: 5, maxFailuresPerIp: 20, failureWindowMinutes: 15, lockoutMinutes: 15, perIpPerMinute: 10 },
  rateLimit: {
    enabled: true, windowSeconds: 60, perPrincipal: 1200, ingestPerPrincipal: 12000, anonymousPerIp: 120, badCredentialsPerIp: 30,
  },
}) as SecuritySettings;

/** The config's `security:` section with every missing field at its default. */
export function securitySettings(config: SqmConfig): SecuritySettings {
  const s = config.security ?? {};
  const d = SECURITY_DEFAULTS;
  return {
    trustProxy: s.trustProxy ?? d.trustProxy,
    cookieSecure: s.cookieSecure ?? d.cookieSecure,
    session: { ...d.session, ...s.session },
    passwords: { ...d.passwords, ...s.passwords },
    login: { ...d.login, ...s.login },
    rateLimit: { ...d.rateLimit, ...s.rateLimit },
  };
}

export function isApiPath(url: string): boolean {
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');
}

/** The session cookie's name. */
export const SESSION_COOKIE = 'sqm_session';

/** Options for setting (or clearing) the session cookie on this request's answer. */
export function sessionCookieOptions(request: FastifyRequest, settings: SecuritySettings, maxAgeSeconds?: number) {
  const secure = settings.cookieSecure === 'always' || (settings.cookieSecure === 'auto' && request.protocol === 'https');
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'strict' as const,
    secure,
    ...(maxAgeSeconds === undefined ? {} : { maxAge: maxAgeSeconds }),
  };
}

/**
 * Content-Security-Policy for the API and for the dashboard served from the
 * same origin: scripts only from our own files (no inline script, no eval);
 * inline styles allowed, because Svelte transitions and ECharts set style
 * attributes; images and fonts from us or data:/blob: URLs (chart exports);
 * fetch and WebSocket only to our own origin; never framed (clickjacking).
 * No `upgrade-insecure-requests`: plain-http intranet installs must keep working.
 */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  workerSrc: ["'self'", 'blob:'],
  objectSrc: ["'none'"],
  frameAncestors: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  upgradeInsecureRequests: null,
};

/**
 * Register helmet, cookies and rate limits. Must run before any route is
 * registered (rate limits attach to routes as they are added) and before the
 * authentication hook (which reads the parsed cookies).
 */
export async function registerSecurity(app: FastifyInstance, settings: SecuritySettings): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    // Only the SQM host: an operator's other sub-domains are not ours to pin to https.
    hsts: { maxAge: 180 * 24 * 3600, includeSubDomains: false },
  });
  await app.register(cookie, { hook: 'onRequest' });

  const limits = settings.rateLimit;
  await app.register(rateLimit, {
    // Route-level limits (the login route's) apply even when the general API limit is off.
    global: limits.enabled,
    timeWindow: limits.windowSeconds * 1000,
    // Runs after authentication (an app-level onRequest hook), so the key is who is calling.
    hook: 'onRequest',
    keyGenerator: (request) => {
      const principal = request.principal;
      return principal ? `principal:${principal.via ?? 'token'}:${principal.name}` : `ip:${request.ip}`;
    },
    max: (request) => {
      const principal = request.principal;
      if (!principal) return limits.anonymousPerIp;
      return principal.role === 'ingest' ? limits.ingestPerPrincipal : limits.perPrincipal;
    },
    // Health probes, static files and docs are not the API.
    allowList: (request) => !isApiPath(request.url),
    errorResponseBuilder: (_request, context) => new ApiError(
      'SQM_RATE_LIMITED',
      `Too many requests: at most ${context.max} in ${limits.windowSeconds} s; retry in ${context.after}`,
      { limit: context.max },
      { 'Retry-After': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
    ),
  });

  // Answers about people and monitoring data are not for shared caches or the back button.
  app.addHook('onSend', async (request, reply, payload) => {
    if (isApiPath(request.url) && !reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    return payload;
  });
}

/**
 * Requests with a credential that did not work, counted per client address in
 * fixed windows. Past `max` in a window the address is refused (429) before
 * any credential it sends is checked, so tokens cannot be guessed quickly and
 * random session ids cannot each cost a store query.
 */
export class BadCredentialLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => Date,
  ) {}

  /** Seconds until the address may try again, or 0 when it may now. */
  retryAfter(ip: string): number {
    const entry = this.windows.get(ip);
    const now = this.now().getTime();
    if (!entry || now - entry.start >= this.windowMs || now < entry.start) return 0;
    return entry.count >= this.max ? Math.max(1, Math.ceil((entry.start + this.windowMs - now) / 1000)) : 0;
  }

  fail(ip: string): void {
    const now = this.now().getTime();
    const entry = this.windows.get(ip);
    if (!entry || now - entry.start >= this.windowMs || now < entry.start) {
      if (!entry && this.windows.size >= 10_000) this.windows.delete(this.windows.keys().next().value as string);
      this.windows.set(ip, { start: now, count: 1 });
    } else {
      entry.count++;
    }
  }
}
