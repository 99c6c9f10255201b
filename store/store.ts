/**
 * The store contract: one small interface over the embedded engine (chDB) and a
 * ClickHouse server (@clickhouse/client). Everything above the store speaks
 * only this interface and the `sql` builder.
 */
import { Identifier, Sql, identifier, qualified } from './sql.js';

/** Every table and view SQM owns. Identifiers outside this list cannot reach SQL. */
export const TABLES = [
  'schema_migrations',
  'calls',
  'calls_1m',
  'calls_1m_mv',
  'tickets',
  'faults',
  'surveys',
  'surveys_1m',
  'surveys_1m_mv',
  'queue_states',
  'subscribers',
  'dead_letters',
  // Alert engine (migration 003): API-made rules, instances, history, acknowledgements, silences.
  'alert_rules',
  'alert_instances',
  'alert_history',
  'alert_acks',
  'alert_silences',
  // People (migration 004): users, sessions, API tokens, audit log.
  'users',
  'sessions',
  'api_tokens',
  'audit_log',
  // Notifications (migration 005): attempt log, API-made receivers and policies, dispatcher state.
  'notification_log',
  'notification_receivers',
  'notification_policies',
  'notification_state',
] as const;
export type TableName = (typeof TABLES)[number];

/** Tables partitioned by month, and the column the retention job drops by. */
export const PARTITIONED_TABLES: readonly TableName[] = [
  'calls', 'calls_1m', 'tickets', 'faults', 'surveys', 'surveys_1m', 'queue_states', 'dead_letters',
  'alert_history', 'alert_acks',
  'sessions', 'audit_log',
  'notification_log',
];

export type Backend = 'embedded' | 'server';

export interface Store {
  readonly backend: Backend;
  /** The database every SQM table lives in. */
  readonly database: Identifier;
  /**
   * Cluster mode (server backend, SQM_CLICKHOUSE_CLUSTER): the cluster every table is spread over.
   * `table(name)` is then the Distributed table; store/cluster.ts has the local ones.
   */
  readonly cluster?: Identifier | undefined;
  /** `db`.`table` for a known table. */
  table(name: TableName): Sql;
  /** Run a SELECT; rows come back as objects (JSONEachRow, 64-bit integers as numbers). */
  query<T = Record<string, unknown>>(statement: Sql): Promise<T[]>;
  /** Run a statement that returns nothing (DDL, ALTER, INSERT … SELECT). */
  command(statement: Sql): Promise<void>;
  /**
   * Insert rows (objects keyed by column) as JSONEachRow. `jsonText`, when given, is the same rows
   * already serialised — newline-separated objects or one JSON array, both of which ClickHouse's
   * JSONEachRow input reads (the ingest spool keeps it): a backend that loads text may use it rather
   * than serialising the rows again.
   */
  insert(table: TableName, rows: readonly object[], jsonText?: string): Promise<void>;
  /** The engine's version string, e.g. `18.16.1` or `26.7.2.1`. */
  serverVersion(): Promise<string>;
  close(): Promise<void>;
}

/** A failure reported by the engine, with its ClickHouse error code when it gave one. */
export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    message: string,
    readonly code: number | undefined,
    readonly statement?: string,
  ) {
    super(message);
  }
}

export function clickhouseCodeOf(message: string): number | undefined {
  const match = /Code:\s*(\d+)/.exec(message);
  return match ? Number(match[1]) : undefined;
}

export function tableOf(database: Identifier, name: TableName): Sql {
  return qualified(database, identifier(name, TABLES));
}

/** JSONEachRow text for a batch of rows (one line each, newline-terminated). */
export function toJsonEachRow(rows: readonly object[]): string {
  let out = '';
  for (const row of rows) out += JSON.stringify(row) + '\n';
  return out;
}
