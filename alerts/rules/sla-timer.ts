/**
 * SLA timers (ALERTING.md): per open ticket or fault, "at risk" once
 * `warningAt` (75 %) of its deadline has passed and "breached" at 100 %
 * (deadlines from config.ticketDeadlines / faultDeadlines, KPIS.md), rolled up
 * into ONE instance per rule and region that lists the items, so a bad day is
 * one page, not four hundred. ONE query per evaluation, grouped by region.
 *
 * A ticket counts the target it is closest to missing: its response target
 * while it has neither a response nor a resolution, else its resolution
 * target. Snapshots are read as in kpi/tickets.ts: the newest per id by
 * argMax, optional times as epochs with NEVER for "absent", filters outside.
 */
import { latestFaults, latestTickets, num, secondsBy } from '../../kpi/family.js';
import { sql, type Sql } from '../../store/index.js';
import type { SlaItem } from '../types.js';
import type { EvaluationContext, Observation, RuleKindImpl, SlaRule } from './types.js';

interface SlaRow {
  region: string;
  atRisk: number | string;
  breached: number | string;
  items: [string, string, number, number][];
}

function ticketItems(rule: SlaRule, ctx: EvaluationContext, now: number): Sql {
  const d = ctx.config.ticketDeadlines;
  const hours = (k: 'responseHours' | 'resolutionHours') => Object.fromEntries(Object.entries(d).map(([p, v]) => [p, v[k]]));
  const filters: Sql[] = [sql`resolved > ${now}`, sql`opened <= ${now}`];
  if (rule.categories) filters.push(sql`category IN ${sql.list(rule.categories)}`);
  if (rule.priorities) filters.push(sql`priority IN ${sql.list(rule.priorities)}`);
  const snapshot = latestTickets(ctx.store);
  const respSec = secondsBy(sql`priority`, hours('responseHours'));
  const resSec = secondsBy(sql`priority`, hours('resolutionHours'));
  return sql`(SELECT id, region,
        if(respElapsed >= resElapsed, 'response', 'resolution') AS target,
        toUInt32(if(respElapsed >= resElapsed, respDeadline, resDeadline)) AS deadline,
        greatest(respElapsed, resElapsed) AS elapsed
      FROM (SELECT id, region,
          opened + ${respSec} AS respDeadline,
          opened + ${resSec} AS resDeadline,
          if(least(responded, resolved) > ${now}, (${now} - toInt64(opened)) / ${respSec}, 0) AS respElapsed,
          (${now} - toInt64(opened)) / ${resSec} AS resElapsed
        FROM ${snapshot} WHERE ${sql.join(filters, ' AND ')})
      WHERE elapsed >= ${rule.warningAt})`;
}

function faultItems(rule: SlaRule, ctx: EvaluationContext, now: number): Sql {
  const restoreHours = Object.fromEntries(Object.entries(ctx.config.faultDeadlines).map(([s, v]) => [s, v.restoreHours]));
  const filters: Sql[] = [sql`restored > ${now}`, sql`detected <= ${now}`];
  if (rule.severities) filters.push(sql`severity IN ${sql.list(rule.severities)}`);
  const snapshot = latestFaults(ctx.store);
  const sec = secondsBy(sql`severity`, restoreHours);
  return sql`(SELECT id, region, 'restore' AS target, toUInt32(detected + ${sec}) AS deadline,
        (${now} - toInt64(detected)) / ${sec} AS elapsed
      FROM ${snapshot} WHERE ${sql.join(filters, ' AND ')} AND elapsed >= ${rule.warningAt})`;
}

/** The rollup per region from the item rows' aggregate, judged against the (per-region) item thresholds. */
export function observeSla(rule: SlaRule, region: string, atRisk: number, breached: number, items: SlaItem[]): Observation {
  const thresholds = rule.overrides[region] ?? rule.thresholds;
  const crossed = breached >= thresholds.critical ? 'critical' : atRisk >= thresholds.warning ? 'warning' : null;
  return {
    labels: { rule: rule.id, region },
    status: 'value',
    value: atRisk,
    volume: atRisk,
    // Counts have no hysteresis: an item resolved is resolved.
    crossed,
    uncleared: crossed,
    thresholds: { warning: thresholds.warning, critical: thresholds.critical },
    items,
  };
}

export const slaTimerKind: RuleKindImpl<SlaRule> = {
  kind: 'sla',
  async evaluate(rule, ctx) {
    const now = Math.floor(ctx.at.getTime() / 1000);
    const items = rule.source === 'tickets' ? ticketItems(rule, ctx, now) : faultItems(rule, ctx, now);
    const rows = await ctx.store.query<SlaRow>(sql`
      SELECT region, count() AS atRisk, countIf(elapsed >= 1) AS breached,
        arraySlice(arraySort(x -> (-tupleElement(x, 4), tupleElement(x, 1)),
          groupArray((id, target, deadline, toFloat64(elapsed)))), 1, ${rule.maxItems}) AS items
      FROM ${items} GROUP BY region`);
    const byRegion = new Map(rows.map((r) => [r.region, r]));
    const kind = rule.source === 'tickets' ? 'ticket' : 'fault';
    // Every configured region gets an observation, so a region whose items were all handled resolves.
    return ctx.config.regions.map(({ code }) => {
      const row = byRegion.get(code);
      const list: SlaItem[] = (row?.items ?? []).map(([id, target, deadline, elapsed]) => ({
        kind, id, target: target as SlaItem['target'], deadline: new Date(num(deadline) * 1000).toISOString(),
        elapsed: Math.round(num(elapsed) * 10_000) / 10_000,
      }));
      return observeSla(rule, code, row ? num(row.atRisk) : 0, row ? num(row.breached) : 0, list);
    });
  },
};
