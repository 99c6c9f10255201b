/**
 * The server backend: a ClickHouse server (or a cluster's entry point) over
 * HTTP through the official client. Works with servers from 18.16 on.
 */
import { createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client';
import { databaseIdentifier, Sql, sql } from './sql.js';
import { StoreError, clickhouseCodeOf, tableOf, type Store, type TableName } from './store.js';

export interface ServerStoreOptions {
  url: string;
  database: string;
  /** Per-request timeout, ms. */
  requestTimeoutMs?: number;
}

function wrap(error: unknown, statement: string): StoreError {
  const message = error instanceof Error ? error.message : String(error);
  return new StoreError(message, clickhouseCodeOf(message), statement);
}

export async function openServerStore(options: ServerStoreOptions): Promise<Store> {
  const database = databaseIdentifier(options.database);
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
    table: (name: TableName) => tableOf(database, name),
    async query<T>(statement: Sql): Promise<T[]> {
      if (closed) throw new StoreError('the store is closed', undefined);
      try {
        const result = await client.query({ query: statement.text, format: 'JSONEachRow' });
        return await result.json<T>();
      } catch (error) {
        throw wrap(error, statement.text);
      }
    },
    async command(statement: Sql): Promise<void> {
      if (closed) throw new StoreError('the store is closed', undefined);
      try {
        await client.command({ query: statement.text });
      } catch (error) {
        throw wrap(error, statement.text);
      }
    },
    async insert(table: TableName, rows: readonly object[]): Promise<void> {
      if (rows.length === 0) return;
      if (closed) throw new StoreError('the store is closed', undefined);
      const target = tableOf(database, table).text;
      try {
        await client.insert({ table: target, values: rows as object[], format: 'JSONEachRow' });
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
  await store.command(sql`CREATE DATABASE IF NOT EXISTS ${database}`);
  return store;
}
