/**
 * Retention: whole monthly partitions older than `retentionMonths` are dropped.
 * Dropping a partition is cheap on every ClickHouse version, where row-level
 * TTL is not available on 18.16. In cluster mode the partitions are those of
 * the local tables on every node, dropped ON CLUSTER (a Distributed table has
 * no partitions of its own).
 */
import { LOCAL_SUFFIX, localTable } from './cluster.js';
import { sql } from './sql.js';
import { PARTITIONED_TABLES, type Store } from './store.js';

/** YYYYMM of the oldest month kept, counting the current (UTC) month as one. */
export function oldestKeptMonth(now: Date, retentionMonths: number): number {
  const monthIndex = now.getUTCFullYear() * 12 + now.getUTCMonth() - (retentionMonths - 1);
  const year = Math.floor(monthIndex / 12);
  const month = (monthIndex % 12) + 1;
  return year * 100 + month;
}

export interface RetentionReport {
  dropped: { table: string; partition: number }[];
}

export async function applyRetention(store: Store, retentionMonths: number, now = new Date()): Promise<RetentionReport> {
  if (!Number.isInteger(retentionMonths) || retentionMonths < 1) {
    throw new Error(`retentionMonths must be a positive integer, got ${retentionMonths}`);
  }
  const cutoff = oldestKeptMonth(now, retentionMonths);
  const dbName = store.database.name;
  const report: RetentionReport = { dropped: [] };
  const cluster = store.cluster;
  // Every node's parts: a month may exist on one shard only.
  const parts = cluster ? sql`cluster(${cluster.name}, system, parts)` : sql`system.parts`;
  for (const table of PARTITIONED_TABLES) {
    const rows = await store.query<{ partition: string }>(sql`
      SELECT DISTINCT partition FROM ${parts}
      WHERE database = ${dbName} AND table = ${cluster ? `${table}${LOCAL_SUFFIX}` : table} AND active`);
    for (const { partition } of rows) {
      const month = Number(partition.replace(/'/g, ''));
      if (!Number.isInteger(month) || month >= cutoff) continue;
      await store.command(cluster
        ? sql`ALTER TABLE ${localTable(store, table)} ON CLUSTER ${cluster} DROP PARTITION ${month}`
        : sql`ALTER TABLE ${store.table(table)} DROP PARTITION ${month}`);
      report.dropped.push({ table, partition: month });
    }
  }
  return report;
}
