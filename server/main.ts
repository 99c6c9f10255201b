/**
 * Start SQM: read settings and configuration, open the store, migrate, build
 * the app and listen. A bad configuration stops here with a message naming the
 * field.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, readServiceSettings } from '../config/index.js';
import { applyRetention, migrate, openStore, StoreError } from '../store/index.js';
import { buildServer } from './app.js';
import { ensureDashboardBuilt } from './routes/dashboard.js';
import { startDemo, type DemoHandle } from './demo.js';
import { createLogger } from './logger.js';
import { loadOrCreateSecret } from './secret.js';

const DAY_MS = 24 * 60 * 60 * 1000;

const STORE_RETRY_MS = 2_000;

/** Run `attempt` until it succeeds, every STORE_RETRY_MS; SIGTERM/SIGINT still stop the process meanwhile. */
async function untilStoreAnswers<T>(logger: ReturnType<typeof createLogger>, attempt: () => Promise<T>): Promise<T> {
  const stop = () => process.exit(0);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        // An answer with a ClickHouse error code (a failing migration, say) is not an outage: stop.
        if (error instanceof StoreError && error.code !== undefined) throw error;
        logger.warn({ module: 'store', tries, err: error instanceof Error ? error.message : String(error) },
          `the store does not answer; retrying every ${STORE_RETRY_MS / 1000} s`);
        await new Promise((resolve) => setTimeout(resolve, STORE_RETRY_MS));
      }
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

async function main(): Promise<void> {
  let settings;
  let config;
  try {
    settings = readServiceSettings();
    config = loadConfig(settings.configPath);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sqm: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(settings.logLevel);
  const storeOptions = {
    clickhouseUrl: settings.clickhouseUrl, clickhouseCluster: settings.clickhouseCluster,
    dataDir: settings.dataDir, database: config.clickhouse.database,
  };
  // A ClickHouse server that is down (or still starting after a crash) is waited for, not a reason to
  // exit: the spool's records from before a crash are stored as soon as both are up again.
  const { store, migrated } = await untilStoreAnswers(logger, async () => {
    const opened = await openStore(storeOptions);
    try {
      return { store: opened, migrated: await migrate(opened) };
    } catch (error) {
      await opened.close().catch(() => undefined);
      throw error;
    }
  });
  logger.info({
    module: 'store', backend: store.backend, cluster: store.cluster?.name, version: await store.serverVersion(), applied: migrated.applied,
  }, 'store ready');

  const retention = async () => {
    try {
      const report = await applyRetention(store, config.retentionMonths);
      if (report.dropped.length > 0) logger.info({ module: 'retention', dropped: report.dropped }, 'dropped old partitions');
    } catch (error) {
      logger.error({ module: 'retention', err: error }, 'retention failed');
    }
  };
  await retention();
  const retentionTimer = setInterval(retention, DAY_MS);
  retentionTimer.unref();

  const secret = loadOrCreateSecret(settings.dataDir, settings.secret);
  // The demo needs an admin to show and an ingest token for its simulator; neither is a default password:
  // both are random, the admin one kept in the data directory so it survives restarts.
  const adminToken = settings.bootstrapAdminToken ?? (settings.demo ? loadOrCreateDemoAdminToken(settings.dataDir) : undefined);
  const simulatorToken = randomBytes(24).toString('hex');
  // Before buildServer: the static route lists dist/'s files when it is registered.
  // SQM_BUILD_DASHBOARD=0: never build at start (a collector-only process, or tests that start many).
  if (process.env.SQM_BUILD_DASHBOARD !== '0') await ensureDashboardBuilt(logger);
  const app = await buildServer({
    config, store, secret, bootstrapAdminToken: adminToken, logger,
    // Beside the embedded engine's files; with a ClickHouse server it is this process's only state.
    spoolDir: join(settings.dataDir, 'spool'),
    roles: settings.roles,
    extraTokens: settings.demo ? [{ token: simulatorToken, principal: { name: 'demo-simulator', role: 'ingest', regions: null } }] : [],
  });
  if (!adminToken && config.tokens.length === 0) {
    logger.warn({ module: 'auth' }, 'no API tokens configured: set SQM_BOOTSTRAP_ADMIN_TOKEN to use the API');
  }

  let demo: DemoHandle | undefined;
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    clearInterval(retentionTimer);
    await demo?.stop();
    await app.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  await app.listen({ port: settings.port, host: settings.host });
  // Exactly one process evaluates alerts (ALERTING.md); it starts once the API is up, and app.close() stops it.
  // Processes started without the `alerts` role (SQM_ROLES) leave that to the one that has it.
  if (settings.roles.includes('alerts')) {
    await app.notifications.start();
    await app.alertEngine.start();
  } else {
    logger.info({ module: 'alerts', roles: settings.roles }, 'alert evaluation and notifications are off in this process (SQM_ROLES)');
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  if (settings.demo) {
    demo = startDemo({
      baseUrl: `http://127.0.0.1:${port}`, token: simulatorToken, config, store, dataDir: settings.dataDir, logger,
    });
    const base = `http://localhost:${port}`;
    const from = new Date(Date.now() - 15 * 60_000).toISOString();
    process.stdout.write(
      `\nSQM demo is running at ${base}\n` +
      `  API token (admin): ${adminToken}\n` +
      `  dashboard: ${base}/#/manager?token=${adminToken}  (wallboard: ${base}/#/wallboard?kiosk=1&token=${adminToken})\n` +
      `  try: curl -s -G ${base}/api/v1/kpis -H "Authorization: Bearer ${adminToken}" \\\n` +
      `         --data-urlencode kpi=answer_rate,calls_waiting --data-urlencode by=region \\\n` +
      `         --data-urlencode from=${from} --data-urlencode to=${new Date(Date.now() + 3600_000).toISOString().slice(0, 14)}00:00Z\n` +
      `  a fibre cut hits GD three minutes from now; its answer rate falls below 0.90 and recovers.\n\n`,
    );
  }
}

function loadOrCreateDemoAdminToken(dataDir: string): string {
  const path = join(dataDir, 'demo-admin-token');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const token = `demo-${randomBytes(18).toString('hex')}`;
  writeFileSync(path, token + '\n', { mode: 0o600 });
  return token;
}

main().catch((error: unknown) => {
  process.stderr.write(`sqm: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
