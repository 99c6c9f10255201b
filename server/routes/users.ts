/**
 * Users, for admins: `GET /api/v1/users`, `GET /api/v1/users/{username}`,
 * `POST /api/v1/users`, `PATCH /api/v1/users/{username}`,
 * `DELETE /api/v1/users/{username}`. Passwords go in, never out. Resetting a
 * password, disabling or deleting a user ends all of the user's sessions.
 * An admin cannot disable, demote or delete themselves (someone must be left
 * to undo a mistake). Every change is in the audit log.
 */
import type { FastifyInstance } from 'fastify';
import { ROLES, type Role } from '../../config/index.js';
import type { ServerContext } from '../app.js';
import { ADMIN_ROLES, requireRole } from '../auth.js';
import { ApiError } from '../errors.js';
import { hashPassword, publicUser, USERNAME_PATTERN, type UserRecord } from '../people/index.js';
import { checkScope } from '../people/scope-rules.js';
import { useStrictValidation } from '../validation.js';
import { passwordSchema } from './auth.js';

const SMALL_BODY = 16 * 1024;
const regionsSchema = { type: ['array', 'null'], maxItems: 1000, items: { type: 'string', pattern: '^[A-Z]{2,3}$' } };
const usernameParam = {
  type: 'object', additionalProperties: false, required: ['username'],
  properties: { username: { type: 'string', pattern: USERNAME_PATTERN } },
};

interface CreateBody {
  username: string;
  password: string;
  role: Role;
  regions?: string[] | null;
  displayName?: string;
}

interface PatchBody {
  displayName?: string;
  role?: Role;
  regions?: string[] | null;
  disabled?: boolean;
  password?: string;
}

export default async function userRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  useStrictValidation(app);
  const { people, security, audit } = ctx;
  const admin = requireRole(ADMIN_ROLES);

  const find = async (username: string): Promise<UserRecord> => {
    const user = await people.users.get(username);
    if (!user) throw new ApiError('SQM_NOT_FOUND', `No user "${username}"`);
    return user;
  };

  app.get('/users', {
    onRequest: admin,
    schema: { summary: 'Every user (no passwords)', tags: ['users'] },
  }, async () => ({ users: (await people.users.list()).map(publicUser) }));

  app.get<{ Params: { username: string } }>('/users/:username', {
    onRequest: admin,
    schema: { summary: 'One user', tags: ['users'], params: usernameParam },
  }, async (request) => publicUser(await find(request.params.username)));

  app.post<{ Body: CreateBody }>('/users', {
    onRequest: admin,
    bodyLimit: SMALL_BODY,
    schema: {
      summary: 'Create a user with a role and, for scoped roles, regions',
      tags: ['users'],
      body: {
        type: 'object', additionalProperties: false, required: ['username', 'password', 'role'],
        properties: {
          username: { type: 'string', pattern: USERNAME_PATTERN },
          password: passwordSchema(security.passwords.minLength),
          role: { enum: [...ROLES] },
          regions: regionsSchema,
          displayName: { type: 'string', maxLength: 128 },
        },
      },
    },
  }, async (request, reply) => {
    const body = request.body;
    const regions = checkScope('body/regions', body.role, body.regions, ctx.config);
    if (await people.users.get(body.username)) throw new ApiError('SQM_CONFLICT', `A user "${body.username}" exists already`);
    const now = ctx.now().toISOString();
    const actor = request.principal!.name;
    const user: UserRecord = {
      username: body.username,
      displayName: body.displayName ?? body.username,
      role: body.role,
      regions,
      disabled: false,
      passwordHash: await hashPassword(body.password, security.passwords.scryptLog2N),
      sessionsNotBefore: 0,
      createdAt: now,
      createdBy: actor,
      updatedAt: now,
      updatedBy: actor,
    };
    await people.users.save(user);
    await audit.record({ actor, action: 'user.create', target: user.username, ip: request.ip, details: { role: user.role, regions: user.regions } });
    return reply.status(201).send(publicUser(user));
  });

  app.patch<{ Params: { username: string }; Body: PatchBody }>('/users/:username', {
    onRequest: admin,
    bodyLimit: SMALL_BODY,
    schema: {
      summary: 'Change a user: display name, role, regions, disabled, or reset the password',
      tags: ['users'],
      params: usernameParam,
      body: {
        type: 'object', additionalProperties: false, minProperties: 1,
        properties: {
          displayName: { type: 'string', maxLength: 128 },
          role: { enum: [...ROLES] },
          regions: regionsSchema,
          disabled: { type: 'boolean' },
          password: passwordSchema(security.passwords.minLength),
        },
      },
    },
  }, async (request) => {
    const body = request.body;
    const user = await find(request.params.username);
    const actor = request.principal!.name;
    const self = request.principal!.via === 'session' && actor === user.username;
    if (self && (body.disabled === true || (body.role !== undefined && body.role !== 'admin'))) {
      throw new ApiError('SQM_CONFLICT', 'You cannot disable or demote yourself; ask another admin');
    }
    const role = body.role ?? user.role;
    // A role change re-checks the scope: the old regions may not suit the new role (an admin's are dropped).
    const regions = body.regions !== undefined || body.role !== undefined
      ? checkScope('body/regions', role, body.regions !== undefined ? body.regions : role === 'admin' ? null : user.regions, ctx.config)
      : user.regions;
    const now = ctx.now();
    const endSessions = body.password !== undefined || (body.disabled === true && !user.disabled);
    const changed: UserRecord = {
      ...user,
      displayName: body.displayName ?? user.displayName,
      role,
      regions,
      disabled: body.disabled ?? user.disabled,
      passwordHash: body.password !== undefined ? await hashPassword(body.password, security.passwords.scryptLog2N) : user.passwordHash,
      sessionsNotBefore: endSessions ? now.getTime() : user.sessionsNotBefore,
      updatedAt: now.toISOString(),
      updatedBy: actor,
    };
    await people.users.save(changed);
    const fields = Object.keys(body).filter((k) => k !== 'password');
    if (fields.length > 0) {
      await audit.record({
        actor, action: 'user.update', target: user.username, ip: request.ip,
        details: { changed: fields, role: changed.role, regions: changed.regions, disabled: changed.disabled },
      });
    }
    if (body.password !== undefined) await audit.record({ actor, action: 'user.password_reset', target: user.username, ip: request.ip });
    return publicUser(changed);
  });

  app.delete<{ Params: { username: string } }>('/users/:username', {
    onRequest: admin,
    schema: { summary: 'Delete a user; their sessions end', tags: ['users'], params: usernameParam },
  }, async (request, reply) => {
    const user = await find(request.params.username);
    const actor = request.principal!.name;
    if (request.principal!.via === 'session' && actor === user.username) {
      throw new ApiError('SQM_CONFLICT', 'You cannot delete yourself; ask another admin');
    }
    await people.users.delete(user, actor);
    await audit.record({ actor, action: 'user.delete', target: user.username, ip: request.ip });
    return reply.status(204).send();
  });
}
