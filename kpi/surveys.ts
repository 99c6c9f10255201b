/**
 * Survey KPIs (KPIS.md "Surveys"): csat, nps, ces, from surveys or the
 * surveys_1m rollup. Both paths produce the same seven sums per (labels, bucket):
 *   0 responses with a csat, 1 csat 4 or 5, 2 responses with an nps,
 *   3 promoters (9–10), 4 detractors (0–6), 5 responses with a ces, 6 ces sum.
 */
import { sql, type Sql } from '../store/index.js';
import { bucketOf } from './buckets.js';
import type { Dimension, KpiId } from './catalogue.js';
import { num, partSelect, point, regionIn, type FamilyContext, type FamilyPoint, type KpiFamily } from './family.js';

const ROLLUP_DIMENSIONS: readonly Dimension[] = ['region', 'channel', 'touchpoint'];

export function canUseSurveyRollup(ctx: FamilyContext): boolean {
  return ctx.rollups && ctx.grid.from % 60 === 0 && ctx.grid.to % 60 === 0 && ctx.by.every((d) => ROLLUP_DIMENSIONS.includes(d));
}

function raw(ctx: FamilyContext): Sql {
  const g = ctx.grid;
  return partSelect({
    part: 'surveys', by: ctx.by, t: bucketOf(sql`toUInt32(answeredAt)`, g),
    values: [
      sql`countIf(isNotNull(csat))`,
      sql`countIf(ifNull(csat, 0) >= 4)`,
      sql`countIf(isNotNull(nps))`,
      sql`countIf(ifNull(nps, 0) >= 9)`,
      sql`countIf(ifNull(nps, 10) <= 6)`,
      sql`countIf(isNotNull(ces))`,
      sql`sumIf(toUInt64(ifNull(ces, 0)), isNotNull(ces))`,
    ],
    from: ctx.store.table('surveys'),
    // Key columns only (region, answeredAt); ids are de-duplicated by the collector.
    where: sql`${regionIn(ctx)} AND answeredAt >= ${new Date(g.from * 1000)} AND answeredAt < ${new Date(g.to * 1000)}`,
  });
}

function rollup(ctx: FamilyContext): Sql {
  const g = ctx.grid;
  return partSelect({
    part: 'surveys', by: ctx.by, t: bucketOf(sql`toUInt32(minute)`, g),
    values: [
      sql`countIfMerge(csatCount)`,
      sql`countIfMerge(csatGood)`,
      sql`countIfMerge(npsCount)`,
      sql`countIfMerge(npsPromoters)`,
      sql`countIfMerge(npsDetractors)`,
      sql`countIfMerge(cesCount)`,
      sql`sumIfMerge(cesSum)`,
    ],
    from: ctx.store.table('surveys_1m'),
    where: sql`${regionIn(ctx)} AND minute >= ${new Date(g.from * 1000)} AND minute < ${new Date(g.to * 1000)}`,
  });
}

export const surveys: KpiFamily = {
  id: 'surveys',
  parts(ctx) {
    return [canUseSurveyRollup(ctx) ? rollup(ctx) : raw(ctx)];
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
      add('csat', at(1), at(0));
      add('nps', at(3) - at(4), at(2));
      add('ces', at(6), at(5));
    }
    return { points };
  },
};
