/**
 * `buildServer(options)` assembles the Fastify app without listening, so tests
 * drive it with `app.inject()` (Fastify's testing guide). `main.ts` listens.
 *
 * Plugins are registered in one visible order: error handling, authentication,
 * health, then the /api/v1 routes.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyError } from 'fastify';
import type { SqmConfig } from '../config/index.js';
import type { Store } from '../store/index.js';
import { createCollector, type Collector } from '../collector/index.js';
import { createKpiEngine, type KpiEngine } from '../kpi/index.js';
import { AlertEventBus } from '../alerts/bus.js';
import { ApiError, errorBody, fromFastifyError } from './errors.js';
import { createLogOnlyAuditLog, type AuditLog } from './audit.js';
import { authenticate, buildTokenRegistry, sha256, type Principal, type TokenRegistry } from './auth.js';
import { createLogger, type Logger } from './logger.js';
import healthRoutes from './routes/health.js';
import importRoutes from './routes/import.js';
import ingestRoutes from './routes/ingest.js';
import kpiRoutes from './routes/kpis.js';

export interface BuildServerOptions {
  config: SqmConfig;
  store: Store;
  /** Key for customer-id hashing. */
  secret: string;
  bootstrapAdminToken?: string | undefined;
  /** Environment for `tokenEnv` tokens (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Clock, for tests. */
  now?: () => Date;
  /** Tokens made at start-up (the demo's own ingest token), besides the configured ones. */
  extraTokens?: { token: string; principal: Principal }[];
}

/** What route plugins get: the app's parts, built once. */
export interface ServerContext {
  config: SqmConfig;
  store: Store;
  logger: Logger;
  tokens: TokenRegistry;
  collector: Collector;
  kpis: KpiEngine;
  /** Live alert events: the dashboard channel publishes, the live hub subscribes. */
  alertBus: AlertEventBus;
  /** Who did what, when: routes record logins, changes, acknowledgements and exports here. */
  audit: AuditLog;
  now: () => Date;
}

export interface RouteEntry {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    sqmRoutes: RouteEntry[];
  }
}

export async function buildServer(options: BuildServerOptions): Promise<FastifyInstance> {
  const logger = options.logger ?? createLogger('silent');
  const now = options.now ?? (() => new Date());
  const app = Fastify({
    loggerInstance: logger.child({ module: 'http' }) as FastifyBaseLogger,
    // The ingest route raises its own limit; everything else stays small.
    bodyLimit: 1024 * 1024,
    // Long path parameters are someone probing, not a route of ours.
    routerOptions: { maxParamLength: 200 },
    // One line per request is too much at ingest rates; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
  });

  // Every route, so tests can prove that each /api route is authenticated.
  const routes: RouteEntry[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method: String(method), url: route.url });
  });
  app.decorate('sqmRoutes', routes);

  const tokens = buildTokenRegistry(options.config, options.bootstrapAdminToken, options.env ?? process.env);
  for (const extra of options.extraTokens ?? []) tokens.add(sha256(extra.token), extra.principal);
  const collector = createCollector({
    store: options.store,
    config: options.config,
    secret: options.secret,
    logger: logger.child({ module: 'collector' }),
    now,
  });
  const kpis = createKpiEngine({ store: options.store, config: options.config, now });
  const alertBus = new AlertEventBus();
  const audit = createLogOnlyAuditLog(logger);
  const context: ServerContext = { config: options.config, store: options.store, logger, tokens, collector, kpis, alertBus, audit, now };

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    const apiError = error instanceof ApiError ? error : fromFastifyError(error);
    if (apiError) {
      if (apiError.headers) void reply.headers(apiError.headers);
      return reply.status(apiError.statusCode).send(errorBody(apiError));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send(errorBody(new ApiError('SQM_INTERNAL')));
  });
  app.setNotFoundHandler((request, reply) => {
    // Unknown /api paths still need a token, so probing reveals nothing.
    if (request.url.startsWith('/api') && !request.principal) {
      return reply.status(401).send(errorBody(new ApiError('SQM_UNAUTHORIZED')));
    }
    return reply.status(404).send(errorBody(new ApiError('SQM_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`)));
  });

  // Every /api route is authenticated before anything else runs (even body parsing).
  app.addHook('onRequest', async (request) => {
    if (request.url === '/api' || request.url.startsWith('/api/')) {
      request.principal = authenticate(tokens, request);
    }
  });

  await app.register(healthRoutes, context);
  await app.register(ingestRoutes, { ...context, prefix: '/api/v1' });
  await app.register(importRoutes, { ...context, prefix: '/api/v1' });
  await app.register(kpiRoutes, { ...context, prefix: '/api/v1' });

  app.addHook('onClose', async () => {
    await collector.close();
  });
  return app;
}
