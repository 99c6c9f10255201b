/** Open the store the configuration asks for: a ClickHouse server when a URL is given, else embedded chDB. */
import { join } from 'node:path';
import { openEmbeddedStore } from './embedded.js';
import { openServerStore } from './server.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** `SQM_CLICKHOUSE_URL`; unset means the embedded store. */
  clickhouseUrl?: string | undefined;
  /** `SQM_CLICKHOUSE_CLUSTER`: tables spread over this cluster of the server's (store/cluster.ts). */
  clickhouseCluster?: string | undefined;
  /** `SQM_DATA_DIR`; the embedded engine keeps its files in `<dataDir>/clickhouse`. */
  dataDir: string;
  database: string;
}

export function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.clickhouseUrl) {
    return openServerStore({ url: options.clickhouseUrl, database: options.database, cluster: options.clickhouseCluster });
  }
  // The embedded engine is one process on one machine: there is no cluster to spread tables over.
  if (options.clickhouseCluster) return Promise.reject(new Error('SQM_CLICKHOUSE_CLUSTER needs SQM_CLICKHOUSE_URL (a ClickHouse server)'));
  return openEmbeddedStore({ dataDir: join(options.dataDir, 'clickhouse'), database: options.database });
}
