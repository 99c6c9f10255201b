/**
 * The contract every KPI family file implements (contact-centre, tickets,
 * faults, surveys), and the SQL pieces they share.
 *
 * A family turns a request into "parts": SELECTs that all return the same
 * columns (`part`, the `by` dimensions in order, `t` = bucket start as a UInt32
 * epoch, `v` = Array(Float64) of sums or counts). The engine glues a family's
 * parts with UNION ALL, so a family costs ONE query per request whatever the
 * number of regions, labels or buckets. The family then turns the rows into
 * numerator/denominator points.
 */
import type { SqmConfig } from '../config/index.js';
import { identifier, sql, type Sql, type Store } from '../store/index.js';
import type { BucketGrid } from './buckets.js';
import { DIMENSIONS, type Dimension, type FamilyId, type KpiId } from './catalogue.js';

/** "Never happened" for optional times read as UInt32 epochs: later than any real time. */
export const NEVER = 4294967295;

export interface FamilyContext {
  store: Store;
  config: SqmConfig;
  /** deps.now() as epoch seconds: a breach is counted only once its deadline is ≤ now. */
  now: number;
  grid: BucketGrid;
  /** The regions in scope (never empty). */
  regions: readonly string[];
  by: readonly Dimension[];
  /** The requested KPIs of this family. */
  kpis: readonly KpiId[];
  /** Read the per-minute rollups where the request allows it. */
  rollups: boolean;
}

export interface FamilyRow {
  part: string;
  labels: Record<string, string>;
  t: number;
  v: number[];
}

export interface FamilyPoint {
  kpi: KpiId;
  labels: Record<string, string>;
  t: number;
  numerator: number;
  denominator: number;
}

export interface FamilyResult {
  points: FamilyPoint[];
  /** Numerator and denominator of a bucket without data, when not the default (0/1 for counts, 0/0 otherwise). */
  empty?: (kpi: KpiId, labels: Record<string, string>, t: number) => { numerator: number; denominator: number } | undefined;
}

export interface KpiFamily {
  id: FamilyId;
  parts(ctx: FamilyContext): Sql[];
  evaluate(rows: FamilyRow[], ctx: FamilyContext): FamilyResult;
}

/**
 * The newest snapshot of every ticket, as a subquery: `argMax(col, updatedAt) … GROUP BY id`,
 * to be filtered OUTSIDE (a filter inside would pick the newest among the matching rows).
 * Optional times are epochs with NEVER for "absent", because argMax skips NULL arguments and
 * would resurrect an older value. A ticket counts as resolved at resolvedAt, else closedAt,
 * else its updatedAt once its status says resolved or closed.
 * Columns: id, region, channel, category, priority, customer, lastStatus (not `status`: an alias
 * would shadow the column the `resolved` expression reads), reopens, opened,
 * responded, resolved. Shared by the KPI families, the SLA timers and the demo hand-over.
 */
export function latestTickets(store: Store): Sql {
  return sql`(SELECT id,
      argMax(region, updatedAt) AS region, argMax(channel, updatedAt) AS channel,
      argMax(category, updatedAt) AS category, argMax(priority, updatedAt) AS priority,
      argMax(customer, updatedAt) AS customer, argMax(status, updatedAt) AS lastStatus,
      argMax(reopenCount, updatedAt) AS reopens,
      argMax(toUInt32(openedAt), updatedAt) AS opened,
      argMax(ifNull(toUInt32(firstResponseAt), ${NEVER}), updatedAt) AS responded,
      argMax(ifNull(toUInt32(coalesce(resolvedAt, closedAt)),
                    if(status IN ('resolved', 'closed'), toUInt32(updatedAt), ${NEVER})), updatedAt) AS resolved
    FROM ${store.table('tickets')} GROUP BY id)`;
}

/**
 * The newest snapshot of every fault, read like latestTickets. Columns: id, region, domain,
 * severity, detected, acked, restored (NEVER when absent), affected.
 */
export function latestFaults(store: Store): Sql {
  return sql`(SELECT id,
      argMax(region, updatedAt) AS region, argMax(domain, updatedAt) AS domain, argMax(severity, updatedAt) AS severity,
      argMax(toUInt32(detectedAt), updatedAt) AS detected,
      argMax(ifNull(toUInt32(acknowledgedAt), ${NEVER}), updatedAt) AS acked,
      argMax(ifNull(toUInt32(restoredAt), ${NEVER}), updatedAt) AS restored,
      argMax(customersAffected, updatedAt) AS affected
    FROM ${store.table('faults')} GROUP BY id)`;
}

export function dimColumn(dimension: Dimension): Sql {
  return sql`${identifier(dimension, DIMENSIONS)}`;
}

export interface PartSpec {
  part: string;
  by: readonly Dimension[];
  /** Bucket-start expression (UInt32 epoch). */
  t: Sql;
  /** Aggregates, each cast to Float64 in `v`. */
  values: Sql[];
  from: Sql;
  where?: Sql;
  /** Instead of the `by` columns (e.g. constants), one expression per dimension, in order. */
  dimExpressions?: Sql[];
  /** Further GROUP BY keys (used with dimExpressions). */
  groupBy?: Sql[];
}

/** `SELECT part, <dims>, t, v FROM … WHERE … GROUP BY <dims>, t`. */
export function partSelect(spec: PartSpec): Sql {
  const dims = spec.dimExpressions
    ? spec.dimExpressions.map((e, i) => sql`${e} AS ${dimColumn(spec.by[i] as Dimension)}`)
    : spec.by.map(dimColumn);
  const groupBy = [...(spec.dimExpressions ? [] : spec.by.map(dimColumn)), ...(spec.groupBy ?? []), sql`t`];
  const values = sql.join(spec.values.map((v) => sql`toFloat64(${v})`));
  return sql.join([
    sql`SELECT ${spec.part} AS part`,
    ...dims,
    sql`toUInt32(${spec.t}) AS t`,
    sql`[${values}] AS v FROM ${spec.from}${spec.where ? sql` WHERE ${spec.where}` : sql``} GROUP BY ${sql.join(groupBy)}`,
  ]);
}

export function regionIn(ctx: FamilyContext, column: Sql = sql`region`): Sql {
  return sql`${column} IN ${sql.list(ctx.regions)}`;
}

/** `multiIf(col = 'a', secondsA, …, fallback)`: a per-enum deadline in seconds, from config. */
export function secondsBy(column: Sql, hoursByValue: Record<string, number>, fraction = 1): Sql {
  const entries = Object.entries(hoursByValue);
  const seconds = (hours: number) => Math.round(hours * 3600 * fraction);
  const last = entries[entries.length - 1];
  if (!last) throw new Error('secondsBy: no values');
  const branches = entries.slice(0, -1).map(([value, hours]) => sql`${column} = ${value}, ${seconds(hours)}`);
  // Enums are closed at ingest, so the last entry doubles as the fallback.
  return branches.length === 0 ? sql`${seconds(last[1])}` : sql`multiIf(${sql.join(branches)}, ${seconds(last[1])})`;
}

/** A number from a JSONEachRow cell (64-bit integers may arrive as strings on old servers). */
export function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

export function point(kpi: KpiId, row: FamilyRow, numerator: number, denominator: number): FamilyPoint {
  return { kpi, labels: row.labels, t: row.t, numerator, denominator };
}
