/**
 * The alerting API (ALERTING.md, issue 4), under /api/v1:
 *
 * - `GET /alerts` active instances (`state`, `severity`, `rule`, `region` filters),
 *   `GET /alerts/{id}`, `GET /alerts/{id}/history`, `POST /alerts/{id}/ack`;
 * - `GET|POST /silences`, `DELETE /silences/{id}` (maintenance windows are
 *   silences with a weekly `schedule`);
 * - `GET|POST /rules`, `GET|PUT|DELETE /rules/{id}`, `POST /rules/validate`,
 *   `GET /rules/export` and `POST /rules/import` (YAML);
 * - `POST /rules/preview`: a rule replayed over a past range (alerts/preview.ts).
 *
 * Reads come from the store with the caller's regions in the query's WHERE, so
 * a GD manager never sees BJ (an instance outside the scope is a 404, as if it
 * did not exist). Changes go through the engine (one process evaluates) and
 * are recorded in the audit log.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { AlertRequestError, createAlertStore, silenceState, type Silence } from '../../alerts/index.js';
import { silenceRegion } from '../../alerts/silences.js';
import { PREVIEW_STEPS, PreviewError, previewRule, type PreviewStep } from '../../alerts/preview.js';
import { validateRule } from '../../alerts/rules/index.js';
import { KpiRequestError } from '../../kpi/index.js';
import type { InstanceState, Severity } from '../../alerts/types.js';
import { StoreError } from '../../store/index.js';
import type { ServerContext } from '../app.js';
import { ACK_ROLES, ADMIN_ROLES, MANAGE_ROLES, READ_ROLES, requireRole, scopeRegions, type Principal } from '../auth.js';
import { ApiError } from '../errors.js';

const STATES: readonly InstanceState[] = ['ok', 'pending', 'firing', 'resolved'];
const SEVERITIES: readonly Severity[] = ['warning', 'critical'];
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];
const MAX_COMMENT = 1000;

function listParam(value: unknown): string[] {
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
}

function enumParam<T extends string>(name: string, value: unknown, allowed: readonly T[]): T[] {
  const values = listParam(value);
  const bad = values.filter((v) => !(allowed as readonly string[]).includes(v));
  if (bad.length > 0) throw new ApiError('SQM_BAD_REQUEST', `${name}: unknown ${bad.join(', ')}; valid: ${allowed.join(', ')}`, { [name]: { unknown: bad, valid: allowed } });
  return values as T[];
}

function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError('SQM_UNAUTHORIZED');
  return request.principal;
}

/** The engine's refusals and the store's failures, as API errors. */
function mapError(error: unknown, log: ServerContext['logger']): never {
  if (error instanceof AlertRequestError) {
    const details = error.problems.length > 0 ? { problems: error.problems } : undefined;
    if (error.kind === 'not_found') throw new ApiError('SQM_NOT_FOUND', error.message);
    if (error.kind === 'conflict') throw new ApiError('SQM_CONFLICT', error.message, details);
    throw new ApiError('SQM_BAD_REQUEST', error.message, details);
  }
  if (error instanceof StoreError) {
    log.error({ err: error, code: error.code }, 'alerting store operation failed');
    throw new ApiError('SQM_STORE_ERROR');
  }
  throw error;
}

export default async function alertRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const log = ctx.logger.child({ module: 'alerts-api' });
  const db = createAlertStore(ctx.store);
  const engine = ctx.alerts;
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ApiError) throw error;
      return mapError(error, log);
    }
  };
  const audit = (request: FastifyRequest, action: string, target: string, extra: { region?: string; details?: Record<string, unknown> } = {}) =>
    ctx.audit.record({ actor: principalOf(request).name, action, target, ip: request.ip, ...extra });

  // YAML bodies for the rule import (this plugin only: Fastify scopes parsers to the plugin).
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseYaml(body as string, { maxAliasCount: 100 }));
    } catch (error) {
      done(new ApiError('SQM_UNPARSEABLE_BODY', `not valid YAML: ${(error as Error).message}`), undefined);
    }
  });

  /** The instance if the caller may see it (read with the scope in the query), else 404. */
  async function visibleInstance(request: FastifyRequest, id: string) {
    const regions = scopeRegions(principalOf(request), null);
    const [instance] = await db.queryInstances({ regions, states: STATES, ids: [id] });
    if (!instance) throw new ApiError('SQM_NOT_FOUND', `No alert "${id}"${regions ? ' in your regions' : ''}`);
    return instance;
  }

  // ----------------------------------------------------------------- instances

  app.get('/alerts', { preHandler: requireRole(READ_ROLES) }, async (request) => {
    const q = (request.query ?? {}) as Record<string, unknown>;
    const states = enumParam('state', q.state, STATES);
    const severities = enumParam('severity', q.severity, SEVERITIES);
    const ruleIds = listParam(q.rule);
    const regions = scopeRegions(principalOf(request), listParam(q.region));
    return guard(async () => ({
      alerts: await db.queryInstances({
        regions,
        states: states.length > 0 ? states : ['pending', 'firing'],
        ...(severities.length > 0 ? { severities } : {}),
        ...(ruleIds.length > 0 ? { ruleIds } : {}),
      }),
    }));
  });

  app.get('/alerts/:id', { preHandler: requireRole(READ_ROLES) }, async (request) => {
    const { id } = request.params as { id: string };
    return guard(async () => ({ alert: await visibleInstance(request, id) }));
  });

  app.get('/alerts/:id/history', { preHandler: requireRole(READ_ROLES) }, async (request) => {
    const { id } = request.params as { id: string };
    const q = (request.query ?? {}) as Record<string, unknown>;
    const limit = q.limit === undefined ? 200 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ApiError('SQM_BAD_REQUEST', 'limit: must be an integer from 1 to 1000');
    return guard(async () => {
      const instance = await visibleInstance(request, id);
      const regions = scopeRegions(principalOf(request), null);
      return { alert: instance, history: await db.queryHistory(id, regions, limit) };
    });
  });

  app.post('/alerts/:id/ack', { preHandler: requireRole(ACK_ROLES) }, async (request) => {
    const { id } = request.params as { id: string };
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body)) throw new ApiError('SQM_BAD_REQUEST', 'body: must be an object such as {"comment": "…"}');
    const unknown = Object.keys(body).filter((k) => k !== 'comment');
    if (unknown.length > 0) throw new ApiError('SQM_BAD_REQUEST', `body: unknown field "${unknown[0]}"`);
    const comment = body.comment;
    if (comment !== undefined && (typeof comment !== 'string' || comment.length > MAX_COMMENT)) {
      throw new ApiError('SQM_BAD_REQUEST', `comment: must be text of at most ${MAX_COMMENT} characters`);
    }
    return guard(async () => {
      const visible = await visibleInstance(request, id);
      const principal = principalOf(request);
      const instance = await engine.acknowledge(id, principal.name, comment as string | undefined);
      await audit(request, 'alert.acknowledge', id, { ...(visible.labels.region ? { region: visible.labels.region } : {}), details: { rule: visible.ruleId, ...(comment ? { comment } : {}) } });
      return { alert: instance };
    });
  });

  // ------------------------------------------------------------------ silences

  /** Silences the caller may see: pinned (region=…) to one of their regions, or any for an unscoped caller. */
  async function visibleSilences(principal: Principal, includeExpired: boolean): Promise<Silence[]> {
    const regions = principal.regions;
    const stored = await db.querySilences(regions);
    const configured = (await engine.silences()).filter((s) => s.source === 'config' && (regions === null || regions.includes(silenceRegion(s.matchers))));
    const at = ctx.now();
    return [...configured, ...stored].filter((s) => includeExpired || silenceState(s, at) !== 'expired');
  }

  const withState = (s: Silence) => ({ ...s, state: silenceState(s, ctx.now()) });

  app.get('/silences', { preHandler: requireRole(MANAGE_ROLES) }, async (request) => {
    const q = (request.query ?? {}) as Record<string, unknown>;
    const [which] = enumParam('state', q.state, ['current', 'all'] as const);
    return guard(async () => ({ silences: (await visibleSilences(principalOf(request), which === 'all')).map(withState) }));
  });

  app.post('/silences', { preHandler: requireRole(MANAGE_ROLES) }, async (request, reply) => {
    const principal = principalOf(request);
    const body = request.body as { matchers?: unknown } | undefined;
    if (principal.regions !== null) {
      // A scoped manager silences only their own regions: the silence must be pinned by region=<code>.
      const matchers = Array.isArray(body?.matchers) ? body.matchers.filter((m): m is string => typeof m === 'string') : [];
      const region = silenceRegion(matchers);
      if (!region || !principal.regions.includes(region)) {
        throw new ApiError('SQM_FORBIDDEN', `A silence you create must include the matcher region=<code> for one of your regions (${principal.regions.join(', ')})`);
      }
    }
    return guard(async () => {
      const silence = await engine.createSilence(request.body, principal.name);
      const region = silenceRegion(silence.matchers);
      await audit(request, 'silence.create', silence.id, { ...(region ? { region } : {}), details: { matchers: silence.matchers, startsAt: silence.startsAt, endsAt: silence.endsAt, reason: silence.reason } });
      return reply.status(201).send({ silence: withState(silence) });
    });
  });

  app.delete('/silences/:id', { preHandler: requireRole(MANAGE_ROLES) }, async (request) => {
    const { id } = request.params as { id: string };
    const principal = principalOf(request);
    return guard(async () => {
      const visible = (await visibleSilences(principal, true)).find((s) => s.id === id);
      if (!visible) throw new ApiError('SQM_NOT_FOUND', `No silence "${id}"${principal.regions ? ' in your regions' : ''}`);
      const silence = await engine.expireSilence(id, principal.name);
      const region = silenceRegion(silence.matchers);
      await audit(request, 'silence.expire', id, region ? { region } : {});
      return { silence: withState(silence) };
    });
  });

  // --------------------------------------------------------------------- rules

  app.get('/rules', { preHandler: requireRole(READ_ROLES) }, async () => guard(async () => ({ rules: await engine.listRules() })));

  app.get('/rules/export', { preHandler: requireRole(ADMIN_ROLES) }, async (request, reply) => {
    return guard(async () => {
      const rules = await engine.exportRules();
      await audit(request, 'rules.export', 'rules', { details: { count: rules.length } });
      return reply
        .type('application/yaml; charset=utf-8')
        .header('content-disposition', 'attachment; filename="sqm-rules.yaml"')
        .send(stringifyYaml({ rules }));
    });
  });

  app.get('/rules/:id', { preHandler: requireRole(READ_ROLES) }, async (request) => {
    const { id } = request.params as { id: string };
    return guard(async () => {
      const rule = await engine.getRule(id);
      if (!rule) throw new ApiError('SQM_NOT_FOUND', `No rule "${id}"`);
      return { rule };
    });
  });

  app.post('/rules/validate', { preHandler: requireRole(ADMIN_ROLES) }, async (request) => {
    const problems = engine.checkRule(request.body);
    return { valid: problems.length === 0, problems };
  });

  // Replays a rule (as POST /rules takes it, saved or not) over the last 24 hours or `from`/`to` (≤ 7 days).
  app.post('/rules/preview', { preHandler: requireRole(ADMIN_ROLES) }, async (request) => {
    const body = request.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError('SQM_BAD_REQUEST', 'body: must be an object such as {"rule": {…}, "from": "…", "to": "…"}');
    const unknown = Object.keys(body).filter((k) => !['rule', 'from', 'to', 'step'].includes(k));
    if (unknown.length > 0) throw new ApiError('SQM_BAD_REQUEST', `body: unknown field "${unknown[0]}"; valid: rule, from, to, step`);
    if (body.rule === undefined) throw new ApiError('SQM_BAD_REQUEST', 'rule: required (a rule definition, as POST /rules takes)');
    const checked = validateRule(body.rule, ctx.config, 'rule');
    if (!checked.rule) throw new ApiError('SQM_BAD_REQUEST', `invalid rule: ${checked.problems.join('; ')}`, { problems: checked.problems });
    const time = (field: 'from' | 'to', fallback: Date): Date => {
      const value = body[field];
      if (value === undefined) return fallback;
      const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
      if (!Number.isFinite(ms)) throw new ApiError('SQM_BAD_REQUEST', `${field}: must be an ISO 8601 date-time`);
      return new Date(ms);
    };
    const to = time('to', ctx.now());
    const from = time('from', new Date(to.getTime() - 86_400_000));
    const step = body.step ?? '5m';
    if (typeof step !== 'string' || !(step in PREVIEW_STEPS)) {
      throw new ApiError('SQM_BAD_REQUEST', `step: must be one of ${Object.keys(PREVIEW_STEPS).join(', ')}`, { step: { valid: Object.keys(PREVIEW_STEPS) } });
    }
    try {
      return { preview: await previewRule(checked.rule, { store: ctx.store, config: ctx.config, kpis: ctx.kpis }, { from, to, step: step as PreviewStep }) };
    } catch (error) {
      if (error instanceof PreviewError) throw new ApiError('SQM_BAD_REQUEST', error.message, { field: error.field });
      if (error instanceof KpiRequestError) throw new ApiError('SQM_BAD_REQUEST', error.message, error.details);
      return mapError(error, log);
    }
  });

  app.post('/rules', { preHandler: requireRole(ADMIN_ROLES) }, async (request, reply) => {
    return guard(async () => {
      const rule = await engine.createRule(request.body, principalOf(request).name);
      await audit(request, 'rule.create', rule.id, { details: { definition: rule.definition } });
      return reply.status(201).send({ rule });
    });
  });

  app.put('/rules/:id', { preHandler: requireRole(ADMIN_ROLES) }, async (request) => {
    const { id } = request.params as { id: string };
    return guard(async () => {
      const rule = await engine.updateRule(id, request.body, principalOf(request).name);
      await audit(request, 'rule.update', id, { details: { definition: rule.definition } });
      return { rule };
    });
  });

  app.delete('/rules/:id', { preHandler: requireRole(ADMIN_ROLES) }, async (request) => {
    const { id } = request.params as { id: string };
    return guard(async () => {
      const result = await engine.deleteRule(id, principalOf(request).name);
      await audit(request, 'rule.delete', id, { details: result });
      return { deleted: id, ...result };
    });
  });

  app.post('/rules/import', { preHandler: requireRole(ADMIN_ROLES) }, async (request) => {
    const q = (request.query ?? {}) as Record<string, unknown>;
    const [mode = 'merge'] = enumParam('mode', q.mode, ['merge', 'replace'] as const);
    const body = request.body as unknown;
    // Accept the export's shape ({rules: [...]}) or a bare list.
    const definitions = body && typeof body === 'object' && !Array.isArray(body) && 'rules' in body ? (body as { rules: unknown }).rules : body;
    return guard(async () => {
      const report = await engine.importRules(definitions, mode, principalOf(request).name);
      await audit(request, 'rules.import', 'rules', { details: { mode, ...report } });
      return report;
    });
  });
}
