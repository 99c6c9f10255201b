/**
 * Contact-centre KPIs (KPIS.md "Contact centre"): offered, answer_rate,
 * service_level, abandon_rate, asa, aht, fcr from calls (or the calls_1m
 * rollup), and the gauges calls_waiting and longest_wait from queue_states.
 *
 * Both call paths produce the same ten sums per (labels, bucket), in this order:
 *   0 entered, 1 short abandons (abandoned, wait < shortAbandonSeconds),
 *   2 answered, 3 answered with wait ≤ serviceLevelSeconds, 4 abandoned (not short),
 *   5 wait sum of answered, 6 answered with a talk time, 7 their talk+hold+wrap sum,
 *   8 answered with `resolved` known, 9 answered with resolved = true.
 */
import { sql, type Sql } from '../store/index.js';
import { bucketOf, nextStartOf } from './buckets.js';
import type { Dimension, KpiId } from './catalogue.js';
import { dimColumn, num, partSelect, point, regionIn, type FamilyContext, type FamilyPoint, type FamilyRow, type KpiFamily } from './family.js';

const CALL_KPIS: readonly KpiId[] = ['offered', 'answer_rate', 'service_level', 'abandon_rate', 'asa', 'aht', 'fcr'];
const GAUGE_KPIS: readonly KpiId[] = ['calls_waiting', 'longest_wait'];
/** Dimensions the calls_1m rollup keeps. */
const ROLLUP_DIMENSIONS: readonly Dimension[] = ['region', 'queue', 'channel'];
/** A queue's latest sample counts for a window end when it is at most this old. */
export const GAUGE_FRESH_SECONDS = 120;

/** The rollup answers when the window is whole minutes and every dimension is in it. */
export function canUseCallRollup(ctx: FamilyContext): boolean {
  return ctx.rollups && ctx.grid.from % 60 === 0 && ctx.grid.to % 60 === 0 && ctx.by.every((d) => ROLLUP_DIMENSIONS.includes(d));
}

function rawCalls(ctx: FamilyContext): Sql {
  const { shortAbandonSeconds: shortS, serviceLevelSeconds: slS } = ctx.config.contactCentre;
  const calls = ctx.store.table('calls');
  // Only key columns (region, enteredAt) are filtered: the collector de-duplicates ids before insert.
  return partSelect({
    part: 'calls',
    by: ctx.by,
    t: bucketOf(sql`toUInt32(enteredAt)`, ctx.grid),
    values: [
      sql`count()`,
      sql`countIf(outcome = 'abandoned' AND waitSeconds < ${shortS})`,
      sql`countIf(outcome = 'answered')`,
      sql`countIf(outcome = 'answered' AND waitSeconds <= ${slS})`,
      sql`countIf(outcome = 'abandoned' AND waitSeconds >= ${shortS})`,
      sql`sumIf(toUInt64(waitSeconds), outcome = 'answered')`,
      sql`countIf(outcome = 'answered' AND isNotNull(talkSeconds))`,
      sql`sumIf(toUInt64(ifNull(talkSeconds, 0) + ifNull(holdSeconds, 0) + ifNull(wrapSeconds, 0)), outcome = 'answered' AND isNotNull(talkSeconds))`,
      sql`countIf(outcome = 'answered' AND isNotNull(resolved))`,
      sql`countIf(outcome = 'answered' AND ifNull(resolved, 0) = 1)`,
    ],
    from: calls,
    where: sql`${regionIn(ctx)} AND enteredAt >= ${new Date(ctx.grid.from * 1000)} AND enteredAt < ${new Date(ctx.grid.to * 1000)}`,
  });
}

/** Sum of a wait histogram's counts whose wait satisfies `cond` (k: the wait second). */
function histogramCount(histogram: Sql, cond: (k: Sql) => Sql): Sql {
  return sql`arraySum(arrayMap((k, c) -> if(${cond(sql`k`)}, c, 0), tupleElement(${histogram}, 1), tupleElement(${histogram}, 2)))`;
}

function rollupCalls(ctx: FamilyContext): Sql {
  const { shortAbandonSeconds: shortS, serviceLevelSeconds: slS } = ctx.config.contactCentre;
  const dims = ctx.by.map(dimColumn);
  const inner = sql.join([
    sql`SELECT ${sql.join([...dims, sql`${bucketOf(sql`toUInt32(minute)`, ctx.grid)} AS bucket`])}`,
    sql`countMerge(entered) AS nEntered, countIfMerge(answered) AS nAnswered, countIfMerge(abandoned) AS nAbandoned,
      sumMapMerge(answerWaits) AS hAnswer, sumMapMerge(abandonWaits) AS hAbandon,
      sumIfMerge(answeredWaitSum) AS nWaitSum, countIfMerge(handled) AS nHandled, sumIfMerge(handleSum) AS nHandleSum,
      countIfMerge(resolvedKnown) AS nResolvedKnown, countIfMerge(resolvedYes) AS nResolvedYes
      FROM ${ctx.store.table('calls_1m')}
      WHERE ${regionIn(ctx)} AND minute >= ${new Date(ctx.grid.from * 1000)} AND minute < ${new Date(ctx.grid.to * 1000)}
      GROUP BY ${sql.join([...dims, sql`bucket`])}`,
  ]);
  const short = histogramCount(sql`hAbandon`, (k) => sql`${k} < ${shortS}`);
  return partSelect({
    part: 'calls',
    by: ctx.by,
    t: sql`bucket`,
    values: [
      sql`any(nEntered)`,
      sql`any(${short})`,
      sql`any(nAnswered)`,
      sql`any(${histogramCount(sql`hAnswer`, (k) => sql`${k} <= ${slS}`)})`,
      sql`any(nAbandoned) - any(${short})`,
      sql`any(nWaitSum)`,
      sql`any(nHandled)`,
      sql`any(nHandleSum)`,
      sql`any(nResolvedKnown)`,
      sql`any(nResolvedYes)`,
    ],
    from: sql`(${inner})`,
  });
}

/**
 * Gauges: per bucket, the latest sample of each (region, queue) with `at` in
 * [end − 120 s, end), where end is the bucket's effective end. A sample can
 * only serve the bucket holding it or the next two (a window is 120 s and the
 * smallest bucket 60 s), so each sample is matched against three candidate
 * buckets instead of every bucket of the request.
 */
function gauges(ctx: FamilyContext): Sql {
  const g = ctx.grid;
  const queues = ctx.store.table('queue_states');
  const since = (seconds: number) => new Date(seconds * 1000);
  let latest: Sql;
  if (g.step === undefined) {
    // One bucket: the samples of the last 120 s before `to`.
    latest = sql`SELECT region, queue, toUInt32(${g.from}) AS bucket, argMax(waiting, at) AS w, argMax(longestWaitSeconds, at) AS l
      FROM ${queues}
      WHERE ${regionIn(ctx)} AND at >= ${since(g.to - GAUGE_FRESH_SECONDS)} AND at < ${since(g.to)}
      GROUP BY region, queue`;
  } else {
    const end = (b: Sql) => sql`least(${nextStartOf(b, g)}, ${g.to})`;
    const b0 = bucketOf(sql`a`, g);
    const b1 = nextStartOf(b0, g);
    const b2 = nextStartOf(b1, g);
    const fits = sql`arrayFilter(x -> x >= ${g.starts[0] ?? g.from} AND x < ${g.to} AND ${end(sql`x`)} > a AND ${end(sql`x`)} <= a + ${GAUGE_FRESH_SECONDS}, [${b0}, ${b1}, ${b2}])`;
    latest = sql`SELECT region, queue, bucket, argMax(waiting, at) AS w, argMax(longestWaitSeconds, at) AS l
      FROM (SELECT region, queue, at, waiting, longestWaitSeconds, toUInt32(at) AS a
            FROM ${queues}
            WHERE ${regionIn(ctx)} AND at >= ${since(g.from - GAUGE_FRESH_SECONDS)} AND at < ${since(g.to)})
      ARRAY JOIN ${fits} AS bucket
      GROUP BY region, queue, bucket`;
  }
  return partSelect({
    part: 'queues',
    by: ctx.by,
    t: sql`bucket`,
    values: [sql`sum(w)`, sql`max(l)`, sql`count()`],
    from: sql`(${latest})`,
  });
}

export const contactCentre: KpiFamily = {
  id: 'contact-centre',
  parts(ctx) {
    const parts: Sql[] = [];
    if (ctx.kpis.some((k) => CALL_KPIS.includes(k))) parts.push(canUseCallRollup(ctx) ? rollupCalls(ctx) : rawCalls(ctx));
    if (ctx.kpis.some((k) => GAUGE_KPIS.includes(k))) parts.push(gauges(ctx));
    return parts;
  },
  evaluate(rows: FamilyRow[], ctx: FamilyContext) {
    const points: FamilyPoint[] = [];
    const want = new Set(ctx.kpis);
    for (const row of rows) {
      const v = row.v.map(num);
      const at = (i: number) => v[i] ?? 0;
      const add = (kpi: KpiId, n: number, d: number) => {
        if (want.has(kpi)) points.push(point(kpi, row, n, d));
      };
      if (row.part === 'calls') {
        const offered = at(0) - at(1);
        add('offered', offered, 1);
        add('answer_rate', at(2), offered);
        add('service_level', at(3), offered);
        add('abandon_rate', at(4), offered);
        add('asa', at(5), at(2));
        add('aht', at(7), at(6));
        add('fcr', at(9), at(8));
      } else if (row.part === 'queues') {
        add('calls_waiting', at(0), at(2));
        add('longest_wait', at(1), at(2));
      }
    }
    return { points };
  },
};
