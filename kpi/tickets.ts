/**
 * Ticket (work-order) KPIs (KPIS.md "Tickets"): response_sla, resolution_sla,
 * mean_response_hours, complaints, complaint_rate, repeat_complaint_rate,
 * backlog, at_risk.
 *
 * Tickets are snapshots: each is read as its newest snapshot, by
 * `argMax(col, updatedAt) … GROUP BY id`, and filtered only outside that
 * subquery (a filter inside would pick the newest snapshot *among the matching
 * ones*). Optional times are read as UInt32 epochs with NEVER for "absent",
 * because argMax skips NULL arguments and would resurrect an older value.
 *
 * A ticket is resolved at `resolvedAt`, else `closedAt`, else (status resolved
 * or closed without either time) at its `updatedAt`. Its response target is met
 * by the first response, or by the resolution when no response was recorded.
 */
import { sql, type Sql } from '../store/index.js';
import { bucketOf } from './buckets.js';
import type { KpiId } from './catalogue.js';
import { latestTickets, num, partSelect, point, regionIn, secondsBy, type FamilyContext, type FamilyPoint, type KpiFamily } from './family.js';

const DAY = 86400;
/** A complaint is a repeat when the same customer opened another in this many seconds before it. */
export const REPEAT_WINDOW_SECONDS = 30 * DAY;
/** A ticket is at risk once this fraction of a deadline has passed. */
export const AT_RISK_FRACTION = 0.75;

/** The newest snapshots in scope, with their SLA targets worked out. */
function targets(ctx: FamilyContext): Sql {
  const d = ctx.config.ticketDeadlines;
  const hours = (k: 'responseHours' | 'resolutionHours') =>
    Object.fromEntries(Object.entries(d).map(([p, v]) => [p, v[k]]));
  const now = ctx.now;
  return sql`(SELECT region, channel, category, priority, opened, responded, resolved,
      least(responded, resolved) AS answered,
      (opened + ${secondsBy(sql`priority`, hours('responseHours'))}) AS respDeadline,
      (answered <= respDeadline) AS respMet,
      if(respMet, answered, respDeadline) AS respEnd,
      (respMet OR respDeadline <= ${now}) AS respEnded,
      (opened + ${secondsBy(sql`priority`, hours('resolutionHours'))}) AS resDeadline,
      (resolved <= resDeadline) AS resMet,
      if(resMet, resolved, resDeadline) AS resEnd,
      (resMet OR resDeadline <= ${now}) AS resEnded,
      (opened + ${secondsBy(sql`priority`, hours('responseHours'), AT_RISK_FRACTION)}) AS respRiskAt,
      (opened + ${secondsBy(sql`priority`, hours('resolutionHours'), AT_RISK_FRACTION)}) AS resRiskAt
    FROM ${latestTickets(ctx.store)} WHERE ${regionIn(ctx)})`;
}

function inWindow(ctx: FamilyContext, column: Sql): Sql {
  return sql`${column} >= ${ctx.grid.from} AND ${column} < ${ctx.grid.to}`;
}

function slaPart(ctx: FamilyContext, part: string, met: Sql, end: Sql, ended: Sql): Sql {
  return partSelect({
    part, by: ctx.by, t: bucketOf(end, ctx.grid),
    values: [sql`countIf(${met})`, sql`count()`],
    from: targets(ctx),
    where: sql`${inWindow(ctx, end)} AND ${ended}`,
  });
}

function repeatPart(ctx: FamilyContext): Sql {
  const { from, to } = ctx.grid;
  // History is read across every region: a repeat is about the customer, not the scope of the query.
  const perCustomer = sql`SELECT if(customer = '', concat('#', id), customer) AS ckey, groupArray(opened) AS times,
      groupArray(tuple(region, channel, category, priority, opened)) AS items
    FROM ${latestTickets(ctx.store)}
    WHERE category = 'complaint' AND opened >= ${Math.max(0, from - REPEAT_WINDOW_SECONDS)} AND opened < ${to}
    GROUP BY ckey`;
  const complaints = sql`SELECT tupleElement(item, 1) AS region, tupleElement(item, 2) AS channel,
      tupleElement(item, 3) AS category, tupleElement(item, 4) AS priority, tupleElement(item, 5) AS opened, times
    FROM (${perCustomer}) ARRAY JOIN items AS item`;
  const flagged = sql`(SELECT region, channel, category, priority, opened,
      arrayExists(x -> x < opened AND x >= opened - ${REPEAT_WINDOW_SECONDS}, times) AS isRepeat
    FROM (${complaints}))`;
  return partSelect({
    part: 'repeat', by: ctx.by, t: bucketOf(sql`opened`, ctx.grid),
    values: [sql`countIf(isRepeat)`, sql`count()`],
    from: flagged,
    where: sql`${inWindow(ctx, sql`opened`)} AND ${regionIn(ctx)}`,
  });
}

/** Open tickets and those near a deadline at each bucket's end. */
function statePart(ctx: FamilyContext): Sql {
  const g = ctx.grid;
  const firstEnd = g.ends[0] ?? g.to;
  return partSelect({
    part: 'state', by: ctx.by, t: sql`b`,
    values: [
      sql`count()`,
      sql`countIf((responded >= e AND e >= respRiskAt AND e < respDeadline) OR (e >= resRiskAt AND e < resDeadline))`,
    ],
    from: sql`(SELECT * FROM ${targets(ctx)} WHERE opened < ${g.to} AND resolved >= ${firstEnd})
      ARRAY JOIN ${g.starts} AS b, ${g.ends} AS e`,
    where: sql`opened < e AND resolved >= e`,
  });
}

/**
 * Subscribers per region at each bucket end: the latest record with asOf on or
 * before the local date of the bucket's last second. The region travels as its
 * 1-based index in the scope list, inside `v`, so this part keeps the shared columns.
 */
function subscribersPart(ctx: FamilyContext): Sql {
  const g = ctx.grid;
  return partSelect({
    part: 'subscribers', by: ctx.by, t: sql`b`,
    dimExpressions: ctx.by.map(() => sql`''`),
    groupBy: [sql`sRegion`],
    values: [sql`indexOf(${ctx.regions}, sRegion)`, sql`argMax(n, asOf)`],
    from: sql`(SELECT region AS sRegion, asOf, argMax(subscribers, ingestedAt) AS n
        FROM ${ctx.store.table('subscribers')} WHERE ${regionIn(ctx)} GROUP BY region, asOf)
      ARRAY JOIN ${g.starts} AS b, ${g.ends} AS e`,
    where: sql`asOf <= toDate(toDateTime(e - 1), ${g.tz})`,
  });
}

export const tickets: KpiFamily = {
  id: 'tickets',
  parts(ctx) {
    const want = (...ids: KpiId[]) => ids.some((id) => ctx.kpis.includes(id));
    const parts: Sql[] = [];
    if (want('response_sla')) parts.push(slaPart(ctx, 'response', sql`respMet`, sql`respEnd`, sql`respEnded`));
    if (want('resolution_sla')) parts.push(slaPart(ctx, 'resolution', sql`resMet`, sql`resEnd`, sql`resEnded`));
    if (want('mean_response_hours')) {
      parts.push(partSelect({
        part: 'mean_response', by: ctx.by, t: bucketOf(sql`responded`, ctx.grid),
        values: [sql`sum(toInt64(responded) - toInt64(opened))`, sql`count()`],
        from: targets(ctx), where: inWindow(ctx, sql`responded`),
      }));
    }
    if (want('complaints', 'complaint_rate')) {
      parts.push(partSelect({
        part: 'complaints', by: ctx.by, t: bucketOf(sql`opened`, ctx.grid),
        values: [sql`count()`],
        from: targets(ctx), where: sql`category = 'complaint' AND ${inWindow(ctx, sql`opened`)}`,
      }));
    }
    if (want('complaint_rate')) parts.push(subscribersPart(ctx));
    if (want('repeat_complaint_rate')) parts.push(repeatPart(ctx));
    if (want('backlog', 'at_risk')) parts.push(statePart(ctx));
    return parts;
  },
  evaluate(rows, ctx) {
    const points: FamilyPoint[] = [];
    const want = new Set(ctx.kpis);
    // t → region → subscribers (from records; config fills the gaps).
    const subscribers = new Map<number, Map<string, number>>();
    for (const row of rows) {
      if (row.part !== 'subscribers') continue;
      const region = ctx.regions[num(row.v[0]) - 1];
      if (region === undefined) continue;
      let byRegion = subscribers.get(row.t);
      if (!byRegion) subscribers.set(row.t, (byRegion = new Map()));
      byRegion.set(region, num(row.v[1]));
    }
    const fallback = new Map(ctx.config.regions.map((r) => [r.code, r.subscribers ?? 0]));
    const subscribersFor = (labels: Record<string, string>, t: number) => {
      const regions = labels.region !== undefined ? [labels.region] : ctx.regions;
      return regions.reduce((sum, r) => sum + (subscribers.get(t)?.get(r) ?? fallback.get(r) ?? 0), 0);
    };
    for (const row of rows) {
      const v = row.v.map(num);
      const at = (i: number) => v[i] ?? 0;
      const add = (kpi: KpiId, n: number, d: number) => {
        if (want.has(kpi)) points.push(point(kpi, row, n, d));
      };
      switch (row.part) {
        case 'response': add('response_sla', at(0), at(1)); break;
        case 'resolution': add('resolution_sla', at(0), at(1)); break;
        case 'mean_response': add('mean_response_hours', at(0) / 3600, at(1)); break;
        case 'complaints':
          add('complaints', at(0), 1);
          add('complaint_rate', at(0), subscribersFor(row.labels, row.t));
          break;
        case 'repeat': add('repeat_complaint_rate', at(0), at(1)); break;
        case 'state':
          add('backlog', at(0), 1);
          add('at_risk', at(1), 1);
          break;
        default: break;
      }
    }
    return {
      points,
      empty: (kpi, labels, t) => (kpi === 'complaint_rate' ? { numerator: 0, denominator: subscribersFor(labels, t) } : undefined),
    };
  },
};
