/**
 * Test stores. Each test gets its own database (a unique name), so tests never
 * share mutable data. chDB binds one data directory per process, and vitest
 * runs each test file in its own forked process, so every file gets its own
 * directory under the system temp dir.
 *
 * The server backend runs when SQM_TEST_CLICKHOUSE_URL is set (CI sets it to a
 * real ClickHouse 18.16 on loopback); otherwise those suites are skipped and
 * say so.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore, openServerStore, migrate, sql, type Store } from '../../store/index.js';

export const SERVER_URL = process.env.SQM_TEST_CLICKHOUSE_URL;

const processDataDir = join(tmpdir(), `sqm-test-${process.pid}`);
let cleanupRegistered = false;

export function uniqueDatabase(prefix = 'sqm_t'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export type BackendName = 'embedded' | 'server';

/** The backends to run an integration suite on: always chDB, plus the server when CI gives one. */
export const BACKENDS: BackendName[] = SERVER_URL ? ['embedded', 'server'] : ['embedded'];

export async function openTestStore(backend: BackendName, options: { migrate?: boolean } = {}): Promise<Store> {
  const database = uniqueDatabase();
  let store: Store;
  if (backend === 'server') {
    if (!SERVER_URL) throw new Error('no ClickHouse server for tests (SQM_TEST_CLICKHOUSE_URL)');
    store = await openServerStore({ url: SERVER_URL, database });
  } else {
    if (!cleanupRegistered) {
      cleanupRegistered = true;
      process.on('exit', () => rmSync(processDataDir, { recursive: true, force: true }));
    }
    store = await openEmbeddedStore({ dataDir: processDataDir, database });
  }
  if (options.migrate !== false) await migrate(store);
  const close = store.close.bind(store);
  // Dropping the database on close keeps the server clean between runs.
  return Object.assign(store, {
    async close() {
      try {
        await store.command(sql`DROP DATABASE IF EXISTS ${store.database}`);
      } finally {
        await close();
      }
    },
  });
}
