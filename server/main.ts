/**
 * Start SQM: read settings and configuration, open the store, migrate, build
 * the app and listen. A bad configuration stops here with a message naming the
 * field.
 */
import { ConfigError, loadConfig, readServiceSettings } from '../config/index.js';
import { applyRetention, migrate, openStore } from '../store/index.js';
import { buildServer } from './app.js';
import { createLogger } from './logger.js';
import { loadOrCreateSecret } from './secret.js';

const DAY_MS = 24 * 60 * 60 * 1000;

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
  const store = await openStore({ clickhouseUrl: settings.clickhouseUrl, dataDir: settings.dataDir, database: config.clickhouse.database });
  const migrated = await migrate(store);
  logger.info({ module: 'store', backend: store.backend, version: await store.serverVersion(), applied: migrated.applied }, 'store ready');

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
  const app = await buildServer({ config, store, secret, bootstrapAdminToken: settings.bootstrapAdminToken, logger });
  if (!settings.bootstrapAdminToken && config.tokens.length === 0) {
    logger.warn({ module: 'auth' }, 'no API tokens configured: set SQM_BOOTSTRAP_ADMIN_TOKEN to use the API');
  }

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    clearInterval(retentionTimer);
    await app.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  await app.listen({ port: settings.port, host: settings.host });
}

main().catch((error: unknown) => {
  process.stderr.write(`sqm: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
