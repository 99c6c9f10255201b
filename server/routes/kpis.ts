/**
 * `GET /api/v1/kpis?kpi=a,b&from=ISO&to=ISO&region=GD,BJ&by=region&step=5m`
 * (RECORDS.md "KPI query"). Every refusal of the request itself is a 400 that
 * lists the valid values; asking for a region outside the token's scope is a
 * 403 (auth.ts `scopeRegions`); all 400 checks run before the scope check.
 */
import type { FastifyInstance } from 'fastify';
import { DIMENSIONS, KPI_IDS, KpiRequestError, STEPS, validateKpiRequest, type KpiRequest, type Step } from '../../kpi/index.js';
import { StoreError } from '../../store/index.js';
import type { ServerContext } from '../app.js';
import { READ_ROLES, requireRole, scopeRegions } from '../auth.js';
import { ApiError } from '../errors.js';
import { DOCUMENTATION_ONLY, errorResponses } from '../openapi.js';

const listOf = (description: string, values?: readonly string[]) => ({
  type: 'string',
  description: `${description}: comma-separated, or the parameter repeated`,
  ...(values ? { example: values.slice(0, 2).join(',') } : {}),
});

const pointSchema = {
  type: 'object',
  properties: {
    t: { type: 'string', format: 'date-time', description: 'Bucket start' },
    value: { type: 'number', nullable: true, description: 'null when the denominator is 0' },
    numerator: { type: 'number' },
    denominator: { type: 'number' },
  },
} as const;

/** The route's contract for the OpenAPI document; the handler does its own checking (see DOCUMENTATION_ONLY). */
const KPI_QUERY_SCHEMA = {
  tags: ['kpis'],
  summary: 'KPI values or series',
  description: 'RECORDS.md "KPI query". Without step, each series has one point whose t is from. A region outside the token\'s scope is a 403.',
  querystring: {
    type: 'object',
    required: ['kpi', 'from', 'to'],
    properties: {
      kpi: listOf('KPI ids (KPIS.md)', KPI_IDS),
      from: { type: 'string', format: 'date-time', description: 'Window start, ISO-8601 with an offset (inclusive)' },
      to: { type: 'string', format: 'date-time', description: 'Window end, ISO-8601 with an offset (exclusive)' },
      region: listOf('Region codes (default: every region in scope)'),
      by: listOf('Dimensions to cut by', DIMENSIONS),
      step: { type: 'string', enum: [...STEPS], description: 'Bucket size for a time series' },
    },
  },
  response: {
    200: {
      description: 'One series per KPI and label set',
      type: 'object',
      properties: {
        from: { type: 'string', format: 'date-time' },
        to: { type: 'string', format: 'date-time' },
        step: { type: 'string', enum: [...STEPS] },
        series: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              kpi: { type: 'string' },
              labels: { type: 'object', additionalProperties: { type: 'string' } },
              points: { type: 'array', items: pointSchema },
            },
          },
        },
      },
    },
    ...errorResponses(400, 401, 403, 503),
  },
};

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** `a,b` or repeated parameters, as one list. */
function listParam(value: unknown): string[] {
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
}

function timeParam(name: 'from' | 'to', value: unknown): Date {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string' || text.length === 0) {
    throw new ApiError('SQM_BAD_REQUEST', `${name} is required: an ISO-8601 time such as 2026-11-30T09:00:00+08:00`, { [name]: 'ISO-8601 time' });
  }
  const date = new Date(text);
  if (!ISO_TIME.test(text) || !Number.isFinite(date.getTime())) {
    throw new ApiError('SQM_BAD_REQUEST', `${name} is not an ISO-8601 time with an offset: "${text}"`, { [name]: 'ISO-8601 time' });
  }
  return date;
}

export default async function kpiRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const log = ctx.logger.child({ module: 'kpi-api' });

  app.get('/kpis', { preHandler: requireRole(READ_ROLES), ...DOCUMENTATION_ONLY, schema: KPI_QUERY_SCHEMA }, async (request) => {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const stepValues = listParam(query.step);
    if (stepValues.length > 1 || (stepValues[0] !== undefined && !(STEPS as readonly string[]).includes(stepValues[0]))) {
      throw new ApiError('SQM_BAD_REQUEST', `unknown step: ${stepValues.join(',')}; valid: ${STEPS.join(', ')}`, { unknown: stepValues, valid: STEPS });
    }
    const requestedRegions = listParam(query.region);
    const kpiRequest: KpiRequest = {
      kpis: listParam(query.kpi),
      from: timeParam('from', query.from),
      to: timeParam('to', query.to),
      regions: requestedRegions.length > 0 ? requestedRegions : null,
      by: listParam(query.by),
      step: stepValues[0] as Step | undefined,
    };
    try {
      validateKpiRequest(kpiRequest, ctx.config);
      const principal = request.principal;
      if (!principal) throw new ApiError('SQM_UNAUTHORIZED');
      const regions = scopeRegions(principal, requestedRegions);
      return await ctx.kpis.query({ ...kpiRequest, regions });
    } catch (error) {
      if (error instanceof KpiRequestError) throw new ApiError('SQM_BAD_REQUEST', error.message, error.details);
      if (error instanceof StoreError) {
        log.error({ err: error, code: error.code }, 'KPI query failed in the store');
        throw new ApiError('SQM_STORE_ERROR');
      }
      throw error;
    }
  });
}
