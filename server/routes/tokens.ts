/**
 * API tokens, for admins: `POST /api/v1/tokens` makes one and shows it once;
 * `GET /api/v1/tokens` lists them without secrets (and the configured ones,
 * which are changed in the config file, not here); `DELETE
 * /api/v1/tokens/{id}` revokes one. `display: true` makes a read-only
 * wallboard token (role viewer or supervisor), exchanged for a session with
 * `POST /api/v1/auth/display`; revoking it ends those sessions too.
 */
import type { FastifyInstance } from 'fastify';
import { ROLES, type Role } from '../../config/index.js';
import type { ServerContext } from '../app.js';
import { ADMIN_ROLES, requireRole } from '../auth.js';
import { ApiError } from '../errors.js';
import { publicToken, TOKEN_NAME_PATTERN } from '../people/index.js';
import { checkScope } from '../people/scope-rules.js';
import { useStrictValidation } from '../validation.js';

const SMALL_BODY = 16 * 1024;
const DISPLAY_ROLES: readonly Role[] = ['viewer', 'supervisor'];

interface CreateBody {
  name: string;
  role: Role;
  regions?: string[] | null;
  display?: boolean;
  expiresInDays?: number;
}

export default async function tokenRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  useStrictValidation(app);
  const { people, audit } = ctx;
  const admin = requireRole(ADMIN_ROLES);

  app.get('/tokens', {
    onRequest: admin,
    schema: { summary: 'API tokens made here (never their secrets) and the configured ones', tags: ['tokens'] },
  }, async () => ({
    tokens: (await people.tokens.list()).map(publicToken),
    configured: ctx.tokens.list().map((p) => ({ name: p.name, role: p.role, regions: p.regions })),
  }));

  app.post<{ Body: CreateBody }>('/tokens', {
    onRequest: admin,
    bodyLimit: SMALL_BODY,
    schema: {
      summary: 'Make an API token (or a read-only display token); the token is in this answer only',
      tags: ['tokens'],
      body: {
        type: 'object', additionalProperties: false, required: ['name', 'role'],
        properties: {
          name: { type: 'string', pattern: TOKEN_NAME_PATTERN },
          role: { enum: [...ROLES] },
          regions: { type: ['array', 'null'], maxItems: 1000, items: { type: 'string', pattern: '^[A-Z]{2,3}$' } },
          display: { type: 'boolean' },
          expiresInDays: { type: 'integer', minimum: 1, maximum: 3660 },
        },
      },
    },
  }, async (request, reply) => {
    const body = request.body;
    const display = body.display === true;
    if (display && !DISPLAY_ROLES.includes(body.role)) {
      throw new ApiError('SQM_BAD_REQUEST', `body/role: a display token is read-only: role must be one of ${DISPLAY_ROLES.join(', ')}`);
    }
    const regions = checkScope('body/regions', body.role, body.regions, ctx.config);
    const actor = request.principal!.name;
    const expiresAt = body.expiresInDays === undefined ? null : new Date(ctx.now().getTime() + body.expiresInDays * 86_400_000);
    const { token, record } = await people.tokens.create({ name: body.name, role: body.role, regions, display, expiresAt, createdBy: actor });
    await audit.record({
      actor, action: 'token.create', target: record.id, ip: request.ip,
      details: { name: record.name, role: record.role, regions: record.regions, display, expiresAt: record.expiresAt },
    });
    return reply.status(201).send({ ...publicToken(record), token });
  });

  app.delete<{ Params: { id: string } }>('/tokens/:id', {
    onRequest: admin,
    schema: {
      summary: 'Revoke an API token (its display sessions end too)',
      tags: ['tokens'],
      params: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{16}$' } } },
    },
  }, async (request, reply) => {
    const record = await people.tokens.get(request.params.id);
    if (!record) throw new ApiError('SQM_NOT_FOUND', `No API token "${request.params.id}"`);
    if (!record.revoked) {
      const actor = request.principal!.name;
      await people.tokens.revoke(record, actor);
      await audit.record({ actor, action: 'token.revoke', target: record.id, ip: request.ip, details: { name: record.name } });
    }
    return reply.status(204).send();
  });
}
