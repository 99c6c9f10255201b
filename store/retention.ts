/**
 * Retention: whole monthly partitions older than `retentionMonths` are dropped.
 * Dropping a partition is cheap on every ClickHouse version, where row-level
 * TTL is not available on 18.16.
 */
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
  for (const table of PARTITIONED_TABLES) {
    const parts = await store.query<{ partition: string }>(sql`
      SELECT DISTINCT partition FROM system.parts
      WHERE database = ${dbName} AND table = ${table} AND active`);
    for (const { partition } of parts) {
      const month = Number(partition.replace(/'/g, ''));
      if (!Number.isInteger(month) || month >= cutoff) continue;
      await store.command(sql`ALTER TABLE ${store.table(table)} DROP PARTITION ${month}`);
      report.dropped.push({ table, partition: month });
    }
  }
  return report;
}
