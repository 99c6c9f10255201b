/**
 * `GET /api/v1/audit?actor=&action=&from=&to=&limit=&before=`, for admins:
 * the audit log, newest first. `action` takes a comma-separated list of
 * actions, or prefixes written `login.*`; `from`/`to` are ISO times with an
 * offset; `before` is the `next` of the previous page.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../app.js';
import type { StoreAuditLog } from '../audit.js';
import { ADMIN_ROLES, requireRole } from '../auth.js';
import { ApiError } from '../errors.js';
import { useStrictValidation } from '../validation.js';

const ISO_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:?\\d{2})$';
const ACTION = /^[a-z_]+(\.[a-z_]+)*(\.\*)?$/;

interface AuditQuerystring {
  actor?: string;
  action?: string;
  from?: string;
  to?: string;
  limit: number;
  before?: string;
}

export default async function auditRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  useStrictValidation(app);

  app.get<{ Querystring: AuditQuerystring }>('/audit', {
    onRequest: requireRole(ADMIN_ROLES),
    schema: {
      summary: 'The audit log, newest first, filtered by actor, action and time',
      tags: ['audit'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          actor: { type: 'string', minLength: 1, maxLength: 128 },
          action: { type: 'string', minLength: 1, maxLength: 512 },
          from: { type: 'string', pattern: ISO_TIME },
          to: { type: 'string', pattern: ISO_TIME },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          before: { type: 'string', pattern: '^[0-9]{1,20}$' },
        },
      },
    },
  }, async (request) => {
    const log = ctx.audit as Partial<StoreAuditLog>;
    if (typeof log.query !== 'function') throw new ApiError('SQM_UNAVAILABLE', 'This server keeps its audit log in its logs only');
    const q = request.query;
    const actions = q.action === undefined ? undefined : q.action.split(',').map((a) => a.trim()).filter((a) => a.length > 0);
    const bad = (actions ?? []).filter((a) => !ACTION.test(a));
    if (bad.length > 0) throw new ApiError('SQM_BAD_REQUEST', `querystring/action: not an action or a prefix like login.*: ${bad.join(', ')}`);
    const from = q.from === undefined ? undefined : new Date(q.from);
    const to = q.to === undefined ? undefined : new Date(q.to);
    for (const [name, date] of [['from', from], ['to', to]] as const) {
      if (date && !Number.isFinite(date.getTime())) throw new ApiError('SQM_BAD_REQUEST', `querystring/${name}: not a valid time`);
    }
    if (from && to && from >= to) throw new ApiError('SQM_BAD_REQUEST', 'querystring/to: must be after from');
    const entries = await log.query({
      ...(q.actor === undefined ? {} : { actor: q.actor }),
      ...(actions === undefined ? {} : { actions }),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(q.before === undefined ? {} : { before: q.before }),
      limit: q.limit,
    });
    return { entries, next: entries.length === q.limit ? entries[entries.length - 1]!.seq : null };
  });
}
