/**
 * The server backend: a ClickHouse server (or a cluster's entry point) over
 * HTTP through the official client. Works with servers from 18.16 on.
 */
import { createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client';
import { clusterIdentifier } from './cluster.js';
import { databaseIdentifier, Sql, sql } from './sql.js';
import { StoreError, clickhouseCodeOf, tableOf, type Store, type TableName } from './store.js';

export interface ServerStoreOptions {
  url: string;
  database: string;
  /** Per-request timeout, ms. */
  requestTimeoutMs?: number;
  /** SQM_CLICKHOUSE_CLUSTER: a cluster in the server's remote_servers (store/cluster.ts). */
  cluster?: string | undefined;
}

function wrap(error: unknown, statement: string): StoreError {
  const message = error instanceof Error ? error.message : String(error);
  return new StoreError(message, clickhouseCodeOf(message), statement);
}

export async function openServerStore(options: ServerStoreOptions): Promise<Store> {
  const database = databaseIdentifier(options.database);
  const cluster = options.cluster ? clusterIdentifier(options.cluster) : undefined;
  // Cluster mode: an INSERT into a Distributed table returns only once every shard has its rows
  // (the collector's de-duplication reads right after a write), and an IN/JOIN on a second
  // Distributed table is computed once on the node SQM talks to and shipped to the shards
  // (correct whatever the sharding) instead of being refused.
  const settings = cluster ? { insert_distributed_sync: 1 as const, distributed_product_mode: 'global' as const } : undefined;
  const client: ClickHouseClient = createClient({
    url: options.url,
    request_timeout: options.requestTimeoutMs ?? 60_000,
    // Errors are ours to log, with context; the client's own logging would duplicate them.
    log: { level: ClickHouseLogLevel.OFF },
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  let closed = false;

  const store: Store = {
    backend: 'server',
    database,
    cluster,
    table: (name: TableName) => tableOf(database, name),
    async query<T>(statement: Sql): Promise<T[]> {
      if (closed) throw new StoreError('the store is closed', undefined);
      try {
        const result = await client.query({ query: statement.text, format: 'JSONEachRow', clickhouse_settings: settings });
        return await result.json<T>();
      } catch (error) {
        throw wrap(error, statement.text);
      }
    },
    async command(statement: Sql): Promise<void> {
      if (closed) throw new StoreError('the store is closed', undefined);
      try {
        await client.command({ query: statement.text, clickhouse_settings: settings });
      } catch (error) {
        throw wrap(error, statement.text);
      }
    },
    async insert(table: TableName, rows: readonly object[]): Promise<void> {
      if (rows.length === 0) return;
      if (closed) throw new StoreError('the store is closed', undefined);
      const target = tableOf(database, table).text;
      try {
        await client.insert({ table: target, values: rows as object[], format: 'JSONEachRow', clickhouse_settings: settings });
      } catch (error) {
        throw wrap(error, `INSERT INTO ${target}`);
      }
    },
    async serverVersion(): Promise<string> {
      const rows = await store.query<{ v: string }>(sql`SELECT version() AS v`);
      return rows[0]?.v ?? 'unknown';
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
  await store.command(cluster
    ? sql`CREATE DATABASE IF NOT EXISTS ${database} ON CLUSTER ${cluster}`
    : sql`CREATE DATABASE IF NOT EXISTS ${database}`);
  return store;
}
