/**
 * `buildServer(options)` assembles the Fastify app without listening, so tests
 * drive it with `app.inject()` (Fastify's testing guide). `main.ts` listens.
 *
 * Plugins are registered in one visible order: error handling, security
 * (headers, cookies, rate limits), the WebSocket plugin, authentication,
 * health, then the /api/v1 routes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyError } from 'fastify';
import { SERVICE_ROLES, type ServiceRole, type SqmConfig } from '../config/index.js';
import type { Store } from '../store/index.js';
import { createCollector, type Collector } from '../collector/index.js';
import { createKpiEngine, type KpiEngine } from '../kpi/index.js';
import { AlertEventBus } from '../alerts/bus.js';
import { createNotificationDispatcher, type NotificationDispatcher } from '../alerts/notify/index.js';
import { createAlertEngine, createLoggingNotifier, type AlertEngine, type AlertInstanceView, type AlertNotifier } from '../alerts/index.js';
import { ApiError, errorBody, fromFastifyError } from './errors.js';
import { createStoreAuditLog, type AuditLog } from './audit.js';
import { buildTokenRegistry, createAuthHook, declareRouteAccess, sha256, type Principal, type RouteAccess, type TokenRegistry } from './auth.js';
import { createPeople, type People } from './people/index.js';
import { registerSecurity, securitySettings, type SecuritySettings } from './security.js';
import auditRoutes from './routes/audit.js';
import authRoutes from './routes/auth.js';
import tokenRoutes from './routes/tokens.js';
import userRoutes from './routes/users.js';
import { createLogger, type Logger } from './logger.js';
import healthRoutes from './routes/health.js';
import importRoutes from './routes/import.js';
import ingestRoutes from './routes/ingest.js';
import kpiRoutes from './routes/kpis.js';
import metaRoutes from './routes/meta.js';
import alertRoutes from './routes/alerts.js';
import notificationRoutes from './routes/notifications.js';
import dashboardRoutes from './routes/dashboard.js';
import websocket from '@fastify/websocket';
import { observeStore } from '../store/index.js';
import { LiveHub } from './live/hub.js';
import { MAX_CLIENT_MESSAGE_BYTES } from './live/protocol.js';
import { createKpiGaugeRefresher, createSqmMetrics, metricsSettings, type SqmMetrics } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import liveRoutes from './routes/live.js';
import metricsRoutes from './routes/metrics.js';

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
  /** The built dashboard to serve at / (default dashboard/dist). */
  dashboardDir?: string;
  /**
   * The ingest spool's directory (main.ts: `<SQM_DATA_DIR>/spool`). Without one, a throw-away
   * directory is made and removed on close — for tests and benches only, since what it holds
   * at close would be lost.
   */
  spoolDir?: string;
  /** SQM_ROLES of this process (default all); /readyz of a collector-only process asks only whether ingest works. */
  roles?: readonly ServiceRole[];
  /**
   * Where the alert engine sends firing/update/resolved events (default: a log line each). A function gets
   * the engine's instance view, which the notification pipeline asks whether an instance is acknowledged.
   * The engine is built here but never started: main.ts starts its timers after listen; tests call evaluate(at).
   */
  alertNotifier?: AlertNotifier | ((view: AlertInstanceView) => AlertNotifier);
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
  /** Users, sessions, API tokens, login lock-out (server/people/). */
  people: People;
  /** The config's `security:` section with defaults filled in. */
  security: SecuritySettings;
  /** The alert engine: rules, instances, silences (alerts/engine.ts). */
  alerts: AlertEngine;
  /** Prometheus metrics (server/metrics.ts): the alert engine and notifiers report here too. */
  metrics: SqmMetrics;
  /** SQM_ROLES of this process. */
  roles: readonly ServiceRole[];
  now: () => Date;
}

export interface RouteEntry {
  method: string;
  url: string;
  /** What the route declares (requireRole or config.access); undefined when it declares nothing. */
  access: RouteAccess | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    sqmRoutes: RouteEntry[];
    /** The alert engine, for main.ts to start after listen and tests to evaluate with their clock. */
    alertEngine: AlertEngine;
    /** The notification pipeline, for main.ts to start (it restores its state and ticks every second). */
    notifications: NotificationDispatcher;
    /** The collector, for its spool's backlog and flush (tests wait for the store with it). */
    collector: Collector;
  }
}

export async function buildServer(options: BuildServerOptions): Promise<FastifyInstance> {
  const logger = options.logger ?? createLogger('silent');
  const now = options.now ?? (() => new Date());
  const security = securitySettings(options.config);
  const app = Fastify({
    // Behind a reverse proxy, client addresses (rate limits, lock-out) and https (Secure cookies) come from X-Forwarded-*.
    // A number of hops works too (fastify/lib/request.js); Fastify's types leave it out.
    trustProxy: security.trustProxy as boolean,
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
    // Each route's declared access is recorded on the route for the authentication hook (auth.ts).
    const access = declareRouteAccess(route);
    for (const method of [route.method].flat()) routes.push({ method: String(method), url: route.url, access });
  });
  app.decorate('sqmRoutes', routes);

  const tokens = buildTokenRegistry(options.config, options.bootstrapAdminToken, options.env ?? process.env);
  for (const extra of options.extraTokens ?? []) tokens.add(sha256(extra.token), extra.principal);
  const metrics = createSqmMetrics();
  // Every statement's latency goes to /metrics; the store otherwise behaves exactly as given.
  const store = observeStore(options.store, (operation, seconds, ok) => metrics.storeOperation(operation, seconds, ok));
  const ownSpoolDir = options.spoolDir ? undefined : await mkdtemp(join(tmpdir(), 'sqm-spool-'));
  const collector = await createCollector({
    store,
    spoolDir: options.spoolDir ?? (ownSpoolDir as string),
    metrics,
    config: options.config,
    secret: options.secret,
    logger: logger.child({ module: 'collector' }),
    now,
  });
  const kpis = createKpiEngine({ store, config: options.config, now });
  const alertBus = new AlertEventBus();
  const audit = createStoreAuditLog({ store, logger, now });
  const people = createPeople({ store, now, security });
  let alertNotifier: AlertNotifier = createLoggingNotifier(logger);
  const alerts = createAlertEngine({
    store, config: options.config, kpis, logger, now, metrics,
    notifier: { notify: (event) => alertNotifier.notify(event) },
  });
  // The notification pipeline (policies, grouping, escalation, channels); it asks the engine whether an
  // instance is acknowledged before each escalation step. Tests may put their own notifier in its place.
  const notifications = createNotificationDispatcher({
    store, config: options.config, alertBus, logger: logger.child({ module: 'notify' }), now,
    env: options.env ?? process.env, metrics, instances: alerts,
  });
  alertNotifier = options.alertNotifier
    ? typeof options.alertNotifier === 'function' ? options.alertNotifier(alerts) : options.alertNotifier
    : notifications;
  app.decorate('notifications', notifications);
  app.decorate('collector', collector);
  app.decorate('alertEngine', alerts);
  const context: ServerContext = {
    config: options.config, store, logger, tokens, collector, kpis, alertBus, audit, people, security, alerts, metrics, now,
    roles: options.roles ?? SERVICE_ROLES,
  };
  const hub = new LiveHub({ config: options.config, kpis, alertBus, logger, now, metrics });
  metrics.bindLive(() => hub.stats());
  metrics.bindSpool(() => collector.spoolStats());
  const metricsConfig = metricsSettings(options.config);
  const kpiGauges = createKpiGaugeRefresher({ kpis, config: options.config, metrics, logger, now, intervalSeconds: metricsConfig.kpiRefreshSeconds });
  app.decorate('liveHub', hub);
  app.decorate('sqmMetrics', metrics);
  app.decorate('kpiGauges', kpiGauges);

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

  // Helmet, cookies and rate limits: before the authentication hook (it reads cookies) and before any route.
  await registerSecurity(app, security);
  // Live clients are told "going away" (1001) before the WebSocket plugin closes whatever is left.
  app.addHook('preClose', async () => {
    await hub.close();
  });
  // Before the authentication hook: the plugin's own onRequest hook marks upgrade requests, and only a
  // marked request has its socket closed after a refusal (401/403) — otherwise a refused upgrade leaks it.
  await app.register(websocket, { options: { maxPayload: MAX_CLIENT_MESSAGE_BYTES } });
  // Every /api route is authenticated, and its declared access enforced, before anything else runs (even body parsing).
  app.addHook('onRequest', createAuthHook({ registry: tokens, people, settings: security, now, logger }));

  // The OpenAPI document (served at /docs) is built from the routes registered after this.
  await registerOpenApi(app);

  await app.register(healthRoutes, context);
  await app.register(ingestRoutes, { ...context, prefix: '/api/v1' });
  await app.register(importRoutes, { ...context, prefix: '/api/v1' });
  await app.register(kpiRoutes, { ...context, prefix: '/api/v1' });
  await app.register(liveRoutes, { ...context, hub, prefix: '/api/v1' });
  // Not under /api: Prometheus scrapes with its own token or from an allowed address.
  await app.register(metricsRoutes, { ...context, env: options.env ?? process.env });
  await app.register(authRoutes, { ...context, prefix: '/api/v1' });
  await app.register(userRoutes, { ...context, prefix: '/api/v1' });
  await app.register(tokenRoutes, { ...context, prefix: '/api/v1' });
  await app.register(auditRoutes, { ...context, prefix: '/api/v1' });
  await app.register(metaRoutes, { ...context, prefix: '/api/v1' });
  await app.register(alertRoutes, { ...context, prefix: '/api/v1' });
  await app.register(notificationRoutes, { ...context, prefix: '/api/v1' });
  // Last: the dashboard's static files and its SPA fallback for every other non-/api GET.
  await app.register(dashboardRoutes, options.dashboardDir ? { distDir: options.dashboardDir } : {});

  app.addHook('onReady', async () => {
    hub.start();
    if (metricsConfig.enabled) kpiGauges.start();
  });
  app.addHook('onClose', async () => {
    await hub.close();
    await kpiGauges.stop();
    await alerts.stop();
    await notifications.stop();
    await collector.close();
    if (ownSpoolDir) await rm(ownSpoolDir, { recursive: true, force: true });
  });
  return app;
}
