/**
 * Network-fault KPIs (KPIS.md "Network faults"): mttr_hours, mtta_minutes,
 * restore_sla, open_faults, customers_affected. Faults are snapshots, read
 * like tickets (tickets.ts): newest snapshot per id by argMax, optional times
 * as UInt32 epochs with NEVER for "absent", filters outside the subquery.
 */
import { sql, type Sql } from '../store/index.js';
import { bucketOf } from './buckets.js';
import type { KpiId } from './catalogue.js';
import { latestFaults, num, partSelect, point, regionIn, secondsBy, type FamilyContext, type FamilyPoint, type KpiFamily } from './family.js';

function faultsInScope(ctx: FamilyContext): Sql {
  const restoreHours = Object.fromEntries(Object.entries(ctx.config.faultDeadlines).map(([s, v]) => [s, v.restoreHours]));
  return sql`(SELECT region, domain, severity, detected, acked, restored, affected,
      (detected + ${secondsBy(sql`severity`, restoreHours)}) AS deadline,
      (restored <= deadline) AS met,
      if(met, restored, deadline) AS restoreEnd,
      (met OR deadline <= ${ctx.now}) AS ended
    FROM ${latestFaults(ctx.store)} WHERE ${regionIn(ctx)})`;
}

function inWindow(ctx: FamilyContext, column: Sql): Sql {
  return sql`${column} >= ${ctx.grid.from} AND ${column} < ${ctx.grid.to}`;
}

export const faults: KpiFamily = {
  id: 'faults',
  parts(ctx) {
    const want = (...ids: KpiId[]) => ids.some((id) => ctx.kpis.includes(id));
    const parts: Sql[] = [];
    const g = ctx.grid;
    if (want('mttr_hours')) {
      parts.push(partSelect({
        part: 'mttr', by: ctx.by, t: bucketOf(sql`restored`, g),
        values: [sql`sum(toInt64(restored) - toInt64(detected))`, sql`count()`],
        from: faultsInScope(ctx), where: inWindow(ctx, sql`restored`),
      }));
    }
    if (want('mtta_minutes')) {
      parts.push(partSelect({
        part: 'mtta', by: ctx.by, t: bucketOf(sql`acked`, g),
        values: [sql`sum(toInt64(acked) - toInt64(detected))`, sql`count()`],
        from: faultsInScope(ctx), where: inWindow(ctx, sql`acked`),
      }));
    }
    if (want('restore_sla')) {
      parts.push(partSelect({
        part: 'restore', by: ctx.by, t: bucketOf(sql`restoreEnd`, g),
        values: [sql`countIf(met)`, sql`count()`],
        from: faultsInScope(ctx), where: sql`${inWindow(ctx, sql`restoreEnd`)} AND ended`,
      }));
    }
    if (want('open_faults', 'customers_affected')) {
      parts.push(partSelect({
        part: 'open', by: ctx.by, t: sql`b`,
        values: [sql`count()`, sql`sum(affected)`],
        from: sql`(SELECT * FROM ${faultsInScope(ctx)} WHERE detected < ${g.to} AND restored >= ${g.ends[0] ?? g.to})
          ARRAY JOIN ${g.starts} AS b, ${g.ends} AS e`,
        where: sql`detected < e AND restored >= e`,
      }));
    }
    return parts;
  },
  evaluate(rows, ctx) {
    const points: FamilyPoint[] = [];
    const want = new Set(ctx.kpis);
    for (const row of rows) {
      const v = row.v.map(num);
      const at = (i: number) => v[i] ?? 0;
      const add = (kpi: KpiId, n: number, d: number) => {
        if (want.has(kpi)) points.push(point(kpi, row, n, d));
      };
      switch (row.part) {
        case 'mttr': add('mttr_hours', at(0) / 3600, at(1)); break;
        case 'mtta': add('mtta_minutes', at(0) / 60, at(1)); break;
        case 'restore': add('restore_sla', at(0), at(1)); break;
        case 'open':
          add('open_faults', at(0), 1);
          add('customers_affected', at(1), 1);
          break;
        default: break;
      }
    }
    return { points };
  },
};
