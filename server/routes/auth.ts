/**
 * Logging in and out, and the one-time set-up.
 *
 * - `POST /api/v1/auth/login {username, password}`: a session cookie (HttpOnly,
 *   SameSite=Strict, Secure over https). Rate-limited per address; repeated
 *   failures lock the name and the address (people/login-guard.ts).
 * - `POST /api/v1/auth/display {token}`: a wallboard exchanges its display
 *   token for a long session once, so the TV needs no keyboard afterwards.
 * - `POST /api/v1/auth/logout`: ends the caller's session.
 * - `GET /api/v1/auth/me`: who the caller is.
 * - `POST /api/v1/auth/password {currentPassword, newPassword}`: change one's
 *   own password; every other session of the user ends.
 * - `GET /api/v1/setup`: whether set-up is needed; `POST /api/v1/setup
 *   {username, password}` creates the first admin user, only while no user
 *   exists and only with an admin token (SQM_BOOTSTRAP_ADMIN_TOKEN).
 *
 * Browser requests that change something carry `X-SQM-Request: 1` (auth.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../app.js';
import { ADMIN_ROLES, ALL_ROLES, requireRole } from '../auth.js';
import { ApiError } from '../errors.js';
import { dummyHash, hashPassword, MAX_PASSWORD_LENGTH, needsRehash, publicUser, USERNAME_PATTERN, verifyPassword, type UserRecord } from '../people/index.js';
import { SESSION_COOKIE, sessionCookieOptions } from '../security.js';
import { useStrictValidation } from '../validation.js';

const SMALL_BODY = 16 * 1024;

export function passwordSchema(minLength: number) {
  return { type: 'string', minLength, maxLength: MAX_PASSWORD_LENGTH };
}

export default async function authRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  useStrictValidation(app);
  const { people, security, audit } = ctx;
  const minLength = security.passwords.minLength;
  const log = ctx.logger.child({ module: 'auth' });

  /** Login attempts per address, whatever the outcome, on top of the lock-out. */
  const loginRateLimit = {
    max: security.login.perIpPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request: FastifyRequest) => `login:${request.ip}`,
  };

  const startSession = async (request: FastifyRequest, reply: FastifyReply, kind: 'user' | 'display', subject: string) => {
    const lifetimeSeconds = kind === 'user' ? security.session.absoluteHours * 3600 : security.session.displayDays * 86400;
    const { id, session } = await people.sessions.create({
      kind,
      subject,
      lifetimeSeconds,
      idleSeconds: kind === 'user' ? security.session.idleMinutes * 60 : 0,
      ip: request.ip,
      userAgent: String(request.headers['user-agent'] ?? ''),
    });
    void reply.setCookie(SESSION_COOKIE, id, sessionCookieOptions(request, security, lifetimeSeconds));
    return session;
  };

  const me = (request: FastifyRequest, user?: UserRecord) => {
    const principal = request.principal!;
    const session = request.sqmSession;
    return {
      name: principal.name,
      role: principal.role,
      regions: principal.regions === null ? null : [...principal.regions],
      via: principal.via ?? 'token',
      display: principal.display === true,
      ...(user ? { displayName: user.displayName } : {}),
      session: session
        ? {
          expiresAt: new Date(session.expiresAtMs).toISOString(),
          idleExpiresAt: session.idleSeconds > 0 ? new Date(session.lastSeenAtMs + session.idleSeconds * 1000).toISOString() : null,
        }
        : null,
      csrfHeader: 'X-SQM-Request',
    };
  };

  app.post<{ Body: { username: string; password: string } }>('/auth/login', {
    config: { access: 'public', rateLimit: loginRateLimit },
    bodyLimit: SMALL_BODY,
    schema: {
      summary: 'Log in with a user name and password; sets the session cookie',
      tags: ['auth'],
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['username', 'password'],
        properties: { username: { type: 'string', minLength: 1, maxLength: 128 }, password: { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH } },
      },
    },
  }, async (request, reply) => {
    const username = request.body.username.trim().toLowerCase();
    const ip = request.ip;
    const lock = people.guard.check(username, ip);
    if (lock) {
      await audit.record({ actor: 'anonymous', action: 'login.refused', target: username, ip, details: { lockedScope: lock.scope, until: lock.until.toISOString() } });
      const wait = Math.max(1, Math.ceil((lock.until.getTime() - ctx.now().getTime()) / 1000));
      throw new ApiError('SQM_LOCKED_OUT', `Too many failed logins ${lock.scope === 'user' ? 'for this user' : 'from this address'}; try again in ${Math.ceil(wait / 60)} min`, { scope: lock.scope, until: lock.until.toISOString() }, { 'Retry-After': String(wait) });
    }
    const user = await people.users.get(username);
    let ok = false;
    if (user && !user.disabled) {
      ok = await verifyPassword(request.body.password, user.passwordHash);
    } else {
      // Same work for an unknown or disabled name, so timing does not say which names exist.
      await verifyPassword(request.body.password, await dummyHash(security.passwords.scryptLog2N));
    }
    if (!ok || !user) {
      const started = people.guard.recordFailure(username, ip);
      await audit.record({
        actor: 'anonymous', action: 'login.failure', target: username, ip,
        details: { reason: !user ? 'unknown user' : user.disabled ? 'disabled' : 'wrong password' },
      });
      for (const l of started) {
        await audit.record({
          actor: 'anonymous', action: 'login.lockout', target: l.scope === 'user' ? username : ip, ip,
          details: { scope: l.scope, until: l.until.toISOString() },
        });
      }
      throw new ApiError('SQM_LOGIN_FAILED');
    }
    people.guard.recordSuccess(username);
    if (needsRehash(user.passwordHash, security.passwords.scryptLog2N)) {
      try {
        const rehashed = await hashPassword(request.body.password, security.passwords.scryptLog2N);
        await people.users.save({ ...user, passwordHash: rehashed });
      } catch (error) {
        log.warn({ err: error, username }, 'could not store a stronger password hash');
      }
    }
    const session = await startSession(request, reply, 'user', user.username);
    await audit.record({ actor: user.username, action: 'login.success', target: user.username, ip });
    return {
      user: publicUser(user),
      expiresAt: new Date(session.expiresAtMs).toISOString(),
      csrfHeader: 'X-SQM-Request',
    };
  });

  app.post<{ Body: { token: string } }>('/auth/display', {
    config: { access: 'public', rateLimit: loginRateLimit },
    bodyLimit: SMALL_BODY,
    schema: {
      summary: 'A wallboard signs in once with its display token; sets a long session cookie',
      tags: ['auth'],
      body: {
        type: 'object', additionalProperties: false, required: ['token'],
        properties: { token: { type: 'string', minLength: 1, maxLength: 512 } },
      },
    },
  }, async (request, reply) => {
    const token = await people.tokens.lookup(request.body.token);
    if (!token || !token.display) {
      await audit.record({ actor: 'anonymous', action: 'display.failure', ip: request.ip });
      throw new ApiError('SQM_UNAUTHORIZED', 'Unknown, expired or revoked display token');
    }
    const session = await startSession(request, reply, 'display', token.id);
    await audit.record({ actor: `token:${token.name}`, action: 'display.login', target: token.id, ip: request.ip });
    return {
      display: { name: token.name, role: token.role, regions: token.regions },
      expiresAt: new Date(session.expiresAtMs).toISOString(),
    };
  });

  app.post('/auth/logout', {
    // Public: it ends the caller's own session if there is one, and always clears the cookie.
    config: { access: 'public' },
    bodyLimit: SMALL_BODY,
    schema: { summary: 'End this browser\'s session', tags: ['auth'] },
  }, async (request, reply) => {
    const session = request.sqmSession;
    if (session) {
      await people.sessions.revoke(session);
      await audit.record({ actor: request.principal?.name ?? 'anonymous', action: 'logout', ip: request.ip });
    }
    void reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(request, security));
    return reply.status(204).send();
  });

  app.get('/auth/me', {
    onRequest: requireRole(ALL_ROLES),
    schema: { summary: 'Who is calling: name, role, regions, session expiry', tags: ['auth'] },
  }, async (request) => {
    const principal = request.principal!;
    const user = request.sqmSession?.kind === 'user' ? await people.users.get(principal.name) : undefined;
    return me(request, user);
  });

  app.post<{ Body: { currentPassword: string; newPassword: string } }>('/auth/password', {
    onRequest: requireRole(ALL_ROLES),
    bodyLimit: SMALL_BODY,
    schema: {
      summary: 'Change your own password (logged-in users); your other sessions end',
      tags: ['auth'],
      body: {
        type: 'object', additionalProperties: false, required: ['currentPassword', 'newPassword'],
        properties: { currentPassword: { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH }, newPassword: passwordSchema(minLength) },
      },
    },
  }, async (request, reply) => {
    const session = request.sqmSession;
    if (!session || session.kind !== 'user') {
      throw new ApiError('SQM_BAD_REQUEST', 'Only a logged-in user changes a password here; an admin resets one with PATCH /api/v1/users/{username}');
    }
    const user = await people.users.get(session.subject);
    if (!user) throw new ApiError('SQM_UNAUTHORIZED');
    if (!(await verifyPassword(request.body.currentPassword, user.passwordHash))) {
      await audit.record({ actor: user.username, action: 'user.password_change_failure', target: user.username, ip: request.ip });
      throw new ApiError('SQM_BAD_REQUEST', 'body/currentPassword: is not your current password');
    }
    const now = ctx.now();
    await people.users.save({
      ...user,
      passwordHash: await hashPassword(request.body.newPassword, security.passwords.scryptLog2N),
      sessionsNotBefore: now.getTime(),
      updatedAt: now.toISOString(),
      updatedBy: user.username,
    });
    await people.sessions.revoke(session);
    await startSession(request, reply, 'user', user.username);
    await audit.record({ actor: user.username, action: 'user.password_change', target: user.username, ip: request.ip });
    return reply.status(204).send();
  });

  app.get('/setup', {
    config: { access: 'public' },
    schema: { summary: 'Whether the first admin user still has to be created', tags: ['auth'] },
  }, async () => ({ needed: (await people.users.count()) === 0 }));

  // One set-up at a time in this process, so two quick requests cannot both find no users.
  let settingUp: Promise<unknown> = Promise.resolve();
  app.post<{ Body: { username: string; password: string; displayName?: string } }>('/setup', {
    onRequest: requireRole(ADMIN_ROLES),
    bodyLimit: SMALL_BODY,
    schema: {
      summary: 'Create the first admin user (only while there are no users; needs an admin token)',
      tags: ['auth'],
      body: {
        type: 'object', additionalProperties: false, required: ['username', 'password'],
        properties: {
          username: { type: 'string', pattern: USERNAME_PATTERN },
          password: passwordSchema(minLength),
          displayName: { type: 'string', maxLength: 128 },
        },
      },
    },
  }, async (request, reply) => {
    const run = settingUp.then(async () => {
      if ((await people.users.count()) > 0) {
        throw new ApiError('SQM_CONFLICT', 'Set-up is done: users exist. An admin adds users with POST /api/v1/users');
      }
      const now = ctx.now().toISOString();
      const actor = request.principal!.name;
      const user: UserRecord = {
        username: request.body.username,
        displayName: request.body.displayName ?? request.body.username,
        role: 'admin',
        regions: null,
        disabled: false,
        passwordHash: await hashPassword(request.body.password, security.passwords.scryptLog2N),
        sessionsNotBefore: 0,
        createdAt: now,
        createdBy: actor,
        updatedAt: now,
        updatedBy: actor,
      };
      await people.users.save(user);
      await audit.record({ actor, action: 'user.create', target: user.username, ip: request.ip, details: { role: 'admin', setup: true } });
      return user;
    });
    settingUp = run.catch(() => undefined);
    const user = await run;
    return reply.status(201).send(publicUser(user));
  });
}
