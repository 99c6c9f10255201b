/**
 * Receivers, policies and the notification log (ALERTING.md "Notifications").
 *
 * - `GET|POST /receivers`, `GET|PUT|DELETE /receivers/:id`, and the same for
 *   `/policies`: admins only. Those from the configuration file and the
 *   built-in `dashboard` are listed (`source`) but read-only; API-made ones
 *   live in the store. Secrets are never stored nor returned: receivers name
 *   environment variables (`passwordEnv`, `keyEnv`…).
 * - `GET /notifications?status=&channel=&receiver=&instance=&region=&from=&to=&limit=`:
 *   the attempt log, newest first. Admins and executives see every region; a
 *   manager only theirs, filtered in the query.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CHANNELS } from '../../config/notifications.js';
import {
  DefinitionError,
  LOG_STATUSES,
  NotificationDefinitions,
  publicPolicy,
  publicReceiver,
  StoreNotificationLog,
} from '../../alerts/notify/index.js';
import { StoreError } from '../../store/index.js';
import type { ServerContext } from '../app.js';
import { requireRole, scopeRegions, type Principal } from '../auth.js';
import { ApiError } from '../errors.js';

const ADMIN = requireRole(['admin']);
const TAGS = ['notifications'];
const LOG_READERS = requireRole(['admin', 'executive', 'manager']);

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const DEFAULT_WINDOW_MS = 24 * 3600 * 1000;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

function listParam(value: unknown): string[] {
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
}

function timeParam(name: string, value: unknown): Date | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  const date = new Date(String(text));
  if (typeof text !== 'string' || !ISO_TIME.test(text) || !Number.isFinite(date.getTime())) {
    throw new ApiError('SQM_BAD_REQUEST', `${name} is not an ISO-8601 time with an offset: "${String(text)}"`, { [name]: 'ISO-8601 time' });
  }
  return date;
}

function oneOf(name: string, values: string[], valid: readonly string[]): string[] {
  const unknown = values.filter((v) => !valid.includes(v));
  if (unknown.length > 0) throw new ApiError('SQM_BAD_REQUEST', `unknown ${name}: ${unknown.join(', ')}; valid: ${valid.join(', ')}`, { [name]: unknown, valid });
  return values;
}

function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError('SQM_UNAUTHORIZED');
  return request.principal;
}

/** Map the repository's refusals and the store's failures onto the error catalogue. */
function apiError(error: unknown, log: ServerContext['logger']): unknown {
  if (error instanceof DefinitionError) {
    const details = { problems: error.problems };
    switch (error.kind) {
      case 'invalid': return new ApiError('SQM_BAD_REQUEST', error.problems.join('; '), details);
      case 'not_found': return new ApiError('SQM_NOT_FOUND', error.problems.join('; '));
      default: return new ApiError('SQM_CONFLICT', error.problems.join('; '), details);
    }
  }
  if (error instanceof StoreError) {
    log.error({ err: error, code: error.code }, 'notification definitions or log: the store failed');
    return new ApiError('SQM_STORE_ERROR');
  }
  return error;
}

export default async function notificationRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const log = ctx.logger.child({ module: 'notifications-api' });
  const definitions = new NotificationDefinitions(ctx.store, ctx.config, ctx.now);
  const notificationLog = new StoreNotificationLog(ctx.store);

  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw apiError(error, log);
    }
  };

  const audit = async (request: FastifyRequest, action: string, target: string, details?: Record<string, unknown>) => {
    await ctx.audit.record({ actor: principalOf(request).name, action, target, ip: request.ip, ...(details ? { details } : {}) });
  };

  // ---- receivers

  app.get('/receivers', { preHandler: ADMIN, schema: { summary: 'Receivers: built in, from the configuration file, and made through the API (secrets never included)', tags: TAGS } }, async () => guarded(async () => {
    const defs = await definitions.load();
    return { receivers: [...defs.receivers.values()].map(publicReceiver) };
  }));

  app.get<{ Params: { id: string } }>('/receivers/:id', { preHandler: ADMIN, schema: { summary: 'One receiver', tags: TAGS } }, async (request) => guarded(async () => {
    const entry = (await definitions.load()).receivers.get(request.params.id);
    if (!entry) throw new ApiError('SQM_NOT_FOUND', `no receiver "${request.params.id}"`);
    return publicReceiver(entry);
  }));

  app.post('/receivers', { preHandler: ADMIN, schema: { summary: 'Make a receiver (secrets as environment-variable names)', tags: TAGS } }, async (request, reply) => guarded(async () => {
    const receiver = await definitions.createReceiver(request.body, principalOf(request).name);
    await audit(request, 'receiver.create', receiver.id, { channel: receiver.channel });
    const entry = (await definitions.load()).receivers.get(receiver.id);
    return reply.status(201).send(entry ? publicReceiver(entry) : receiver);
  }));

  app.put<{ Params: { id: string } }>('/receivers/:id', { preHandler: ADMIN, schema: { summary: 'Replace a receiver made through the API', tags: TAGS } }, async (request) => guarded(async () => {
    const receiver = await definitions.updateReceiver(request.params.id, request.body, principalOf(request).name);
    await audit(request, 'receiver.update', receiver.id, { channel: receiver.channel });
    const entry = (await definitions.load()).receivers.get(receiver.id);
    return entry ? publicReceiver(entry) : receiver;
  }));

  app.delete<{ Params: { id: string } }>('/receivers/:id', { preHandler: ADMIN, schema: { summary: 'Delete a receiver made through the API (refused while a policy names it)', tags: TAGS } }, async (request, reply) => guarded(async () => {
    await definitions.deleteReceiver(request.params.id, principalOf(request).name);
    await audit(request, 'receiver.delete', request.params.id);
    return reply.status(204).send();
  }));

  // ---- policies

  app.get('/policies', { preHandler: ADMIN, schema: { summary: 'Notification policies: grouping and escalation steps', tags: TAGS } }, async () => guarded(async () => {
    const defs = await definitions.load();
    return { policies: [...defs.policies.values()].map(publicPolicy) };
  }));

  app.get<{ Params: { id: string } }>('/policies/:id', { preHandler: ADMIN, schema: { summary: 'One policy', tags: TAGS } }, async (request) => guarded(async () => {
    const entry = (await definitions.load()).policies.get(request.params.id);
    if (!entry) throw new ApiError('SQM_NOT_FOUND', `no policy "${request.params.id}"`);
    return publicPolicy(entry);
  }));

  app.post('/policies', { preHandler: ADMIN, schema: { summary: 'Make a policy', tags: TAGS } }, async (request, reply) => guarded(async () => {
    const policy = await definitions.createPolicy(request.body, principalOf(request).name);
    await audit(request, 'policy.create', policy.id);
    const entry = (await definitions.load()).policies.get(policy.id);
    return reply.status(201).send(entry ? publicPolicy(entry) : policy);
  }));

  app.put<{ Params: { id: string } }>('/policies/:id', { preHandler: ADMIN, schema: { summary: 'Replace a policy made through the API', tags: TAGS } }, async (request) => guarded(async () => {
    const policy = await definitions.updatePolicy(request.params.id, request.body, principalOf(request).name);
    await audit(request, 'policy.update', policy.id);
    const entry = (await definitions.load()).policies.get(policy.id);
    return entry ? publicPolicy(entry) : policy;
  }));

  app.delete<{ Params: { id: string } }>('/policies/:id', { preHandler: ADMIN, schema: { summary: 'Delete a policy made through the API', tags: TAGS } }, async (request, reply) => guarded(async () => {
    await definitions.deletePolicy(request.params.id, principalOf(request).name);
    await audit(request, 'policy.delete', request.params.id);
    return reply.status(204).send();
  }));

  // ---- the log

  app.get('/notifications', { preHandler: LOG_READERS, schema: { summary: 'The notification log, newest first: every attempt, filtered by status, channel, receiver, instance, region and time', tags: TAGS } }, async (request) => {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const statuses = oneOf('status', listParam(query.status), LOG_STATUSES);
    const channels = oneOf('channel', listParam(query.channel), CHANNELS);
    const receivers = listParam(query.receiver);
    const instanceId = listParam(query.instance)[0];
    const limitText = listParam(query.limit)[0];
    const limit = limitText === undefined ? DEFAULT_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new ApiError('SQM_BAD_REQUEST', `limit must be a whole number from 1 to ${MAX_LIMIT}, got "${limitText}"`, { limit: `1-${MAX_LIMIT}` });
    }
    const to = timeParam('to', query.to) ?? ctx.now();
    const from = timeParam('from', query.from) ?? new Date(to.getTime() - DEFAULT_WINDOW_MS);
    if (from.getTime() >= to.getTime()) throw new ApiError('SQM_BAD_REQUEST', 'from must be before to', { from: from.toISOString(), to: to.toISOString() });
    const requested = listParam(query.region);
    const known = new Set(ctx.config.regions.map((r) => r.code));
    oneOf('region', requested, [...known]);
    const regions = scopeRegions(principalOf(request), requested);
    const items = await guarded(() => notificationLog.query({
      from, to, statuses, channels, receivers, ...(instanceId ? { instanceId } : {}), regions, limit,
    }));
    return { from: from.toISOString(), to: to.toISOString(), limit, items };
  });
}
