/**
 * The OpenAPI document, generated from the route schemas by @fastify/swagger,
 * and Swagger UI at /docs. The JSON is at /docs/json (Swagger UI's own) and at
 * /documentation/json (where @fastify/swagger's tooling looks by default).
 *
 * Registered before the routes, because @fastify/swagger collects them as they
 * are added. Shared schema pieces (the error body, the security scheme) live
 * here so every route describes them the same way.
 */
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { RouteAccess } from './auth.js';
import { ERRORS } from './errors.js';

export const BEARER_SCHEME = 'bearerAuth';

/** The package version, shown as the API's version. */
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** `security` for routes anyone may call (health checks, docs). */
export const NO_SECURITY: FastifySchema['security'] = [];

/**
 * Route options that make a route's schema documentation only: Fastify neither
 * validates requests against it nor serialises responses through it.
 *
 * Why: the existing routes validate their own input and answer with messages
 * that list the valid values (kpi/engine.ts, routes/ingest.ts), and ingest
 * bodies are raw buffers split by line before any JSON parsing. Fastify's Ajv
 * would answer differently (and a response schema would drop fields it does not
 * list), so adding schemas for the docs must not change what the routes do.
 */
export const DOCUMENTATION_ONLY = {
  validatorCompiler: () => () => true,
  serializerCompiler: () => (data: unknown) => JSON.stringify(data),
};

/** The one error body every route answers with (server/errors.ts). */
export const errorBodySchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERRORS) },
        message: { type: 'string' },
        details: { description: 'Field-specific detail, such as the valid values' },
      },
    },
  },
} as const;

/** Response entries for the given HTTP error statuses, each described by the catalogue's codes for it. */
export function errorResponses(...statuses: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const status of statuses) {
    const codes = Object.entries(ERRORS).filter(([, e]) => e.status === status).map(([code]) => code);
    out[status] = { description: codes.length > 0 ? codes.join(', ') : `HTTP ${status}`, ...errorBodySchema };
  }
  return out;
}

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'SQM: service-quality monitor',
        description:
          'KPIs, records, alerts and the live stream of SQM. Every /api route needs `Authorization: Bearer <token>` ' +
          '(or a session); errors have the shape `{ "error": { "code", "message", "details"? } }` and never carry a stack trace. ' +
          'The live stream is a WebSocket at /api/v1/live; its JSON protocol is described on that route.',
        version: VERSION,
      },
      components: {
        securitySchemes: { [BEARER_SCHEME]: { type: 'http', scheme: 'bearer', description: 'An API token' } },
      },
      security: [{ [BEARER_SCHEME]: [] }],
      tags: [
        { name: 'kpis', description: 'KPI queries' },
        { name: 'records', description: 'Ingest and import of records' },
        { name: 'live', description: 'The live WebSocket stream' },
        { name: 'operations', description: 'Health and metrics' },
      ],
    },
    // Routes that need no credentials (health, docs, the dashboard, public /api routes such as login) say so in the
    // document, instead of inheriting the global bearer requirement. /metrics describes its own.
    transform: ({ schema, url, route }) => {
      const access = (route.config as { sqmAccess?: RouteAccess } | undefined)?.sqmAccess;
      const open = (access !== undefined && 'public' in access) || (!url.startsWith('/api') && url !== '/metrics');
      if (!open || schema?.security) return { schema, url };
      return { schema: { ...schema, security: NO_SECURITY }, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/documentation/json', { schema: { hide: true } }, async () => app.swagger());
}
