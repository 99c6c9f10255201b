/**
 * Rule preview: "when would this rule have fired?" The rule is replayed at
 * every evaluation step of a past range (default the last 24 hours) with its
 * own window, through the real state machine (state-machine.ts) starting from
 * ok, so the answer is what the engine would have done at that cadence.
 *
 * Queries: a KPI rule whose window is a whole number of steps, on a KPI whose
 * window value is a sum of bucket numerators and denominators (ratios, means,
 * counts of events in the window), costs ONE KPI-engine query in total: the
 * buckets of the step are summed over each window. Anything else (gauges,
 * "at window end" counts, per-million rates, SLA and burn-rate rules, windows
 * that are not whole steps) runs the rule kind's own evaluation once per step,
 * which is exact for every kind and bounded by MAX_EVALUATION_QUERIES.
 *
 * Not replayed: silences and acknowledgements (they change who hears of an
 * alert, not when it fires).
 */
import type { SqmConfig } from '../config/index.js';
import { KPIS, valueOf, type KpiEngine, type KpiPoint, type KpiId } from '../kpi/index.js';
import type { Store } from '../store/index.js';
import { inCalendar } from './calendar.js';
import { evaluateRule, type KpiRule, type Observation, type Rule, type Tiers } from './rules/index.js';
import { observeKpi } from './rules/kpi-rule.js';
import { newRecord, outsideActiveHours, step as advance, type InstanceRecord } from './state-machine.js';
import type { InstanceState, Severity } from './types.js';

export const PREVIEW_STEPS: Readonly<Record<'1m' | '5m' | '15m', number>> = { '1m': 60_000, '5m': 300_000, '15m': 900_000 };
export type PreviewStep = keyof typeof PREVIEW_STEPS;
export const MAX_PREVIEW_RANGE_MS = 7 * 86_400_000;
/** Per-step evaluation of 24 hours at 5 minutes is 288 queries; more asks for a larger step. */
export const MAX_EVALUATION_QUERIES = 300;
/** Steps replayed at most (7 days at 5 minutes); 1-minute steps are for short ranges. */
export const MAX_EVALUATIONS = 2016;

/** KPIs summed from buckets are only those counted over the window; these are read at its end. */
const AT_WINDOW_END: ReadonlySet<KpiId> = new Set<KpiId>(['backlog', 'at_risk', 'open_faults', 'customers_affected']);

export class PreviewError extends Error {
  override name = 'PreviewError';
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

export interface PreviewPoint {
  t: string;
  value: number | null;
  volume: number | null;
  status: Observation['status'];
  state: InstanceState;
  severity: Severity | null;
}

export interface PreviewSeries {
  labels: Record<string, string>;
  thresholds: Tiers;
  points: PreviewPoint[];
}

export interface PreviewInterval {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
  severity: Severity | null;
  from: string;
  /** The first evaluation no longer in this state and severity; null when it lasted to the end. */
  to: string | null;
  /** The value at the interval's first evaluation. */
  value: number | null;
}

export interface RulePreview {
  rule: string;
  kind: Rule['kind'];
  from: string;
  to: string;
  step: PreviewStep;
  /** `buckets`: one query, summed per window; `per-evaluation`: the rule's own query at each step. */
  method: 'buckets' | 'per-evaluation';
  evaluations: number;
  queries: number;
  series: PreviewSeries[];
  intervals: PreviewInterval[];
}

export interface PreviewDeps {
  store: Store;
  config: SqmConfig;
  kpis: KpiEngine;
}

export interface PreviewRange {
  from: Date;
  to: Date;
  step: PreviewStep;
  /** Tests compare both methods on the same data; the route always uses `auto`. */
  method?: 'auto' | 'per-evaluation';
}

/** Evaluation instants: multiples of the step in [from, to] (the KPI engine's minute buckets are on the same grid). */
export function evaluationInstants(from: Date, to: Date, stepMs: number): Date[] {
  const out: Date[] = [];
  for (let t = Math.ceil(from.getTime() / stepMs) * stepMs; t <= to.getTime(); t += stepMs) out.push(new Date(t));
  return out;
}

/** Whether a KPI rule's window value is the sum of its steps' buckets. */
export function summable(rule: Rule, stepMs: number): rule is KpiRule {
  if (rule.kind !== 'kpi' || rule.windowMs % stepMs !== 0 || AT_WINDOW_END.has(rule.kpi)) return false;
  const kind = KPIS[rule.kpi].kind;
  return kind === 'ratio' || kind === 'mean' || kind === 'count' || kind === 'percent_points';
}

const labelKey = (labels: Record<string, string>) => JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));

/** Observations at every instant from one bucketed query. */
async function bucketObservations(rule: KpiRule, deps: PreviewDeps, instants: Date[], stepMs: number, step: PreviewStep): Promise<Observation[][]> {
  const first = instants[0] as Date;
  const last = instants[instants.length - 1] as Date;
  const response = await deps.kpis.query({
    kpis: [rule.kpi], from: new Date(first.getTime() - rule.windowMs), to: last, regions: null, by: rule.by, step,
  });
  const kind = KPIS[rule.kpi].kind;
  // Only region-only series are padded by the engine; a finer label set exists in a window that had data.
  const padded = rule.by.every((d) => d === 'region');
  const series = response.series
    .filter((s) => rule.by.every((d) => s.labels[d] !== undefined))
    .map((s) => ({ labels: s.labels, byT: new Map(s.points.map((p) => [Date.parse(p.t), p])) }));
  return instants.map((at) => {
    const out: Observation[] = [];
    for (const s of series) {
      let numerator = 0;
      let denominator = 0;
      let data = false;
      for (let t = at.getTime() - rule.windowMs; t < at.getTime(); t += stepMs) {
        const p = s.byT.get(t);
        if (!p) continue;
        numerator += p.numerator;
        denominator += p.denominator;
        if (p.numerator !== 0 || (kind !== 'count' && p.denominator !== 0)) data = true;
      }
      if (!padded && !data) continue;
      // A window query gives a count denominator 1, whatever the number of buckets summed.
      if (kind === 'count') denominator = 1;
      const point: KpiPoint = { t: at.toISOString(), value: valueOf(kind, numerator, denominator), numerator, denominator };
      out.push(observeKpi(rule, s.labels, point));
    }
    return out;
  });
}

/** Observations at every instant from the rule kind's own query, a few at a time. */
async function perEvaluationObservations(rule: Rule, deps: PreviewDeps, instants: Date[], active: boolean[]): Promise<Observation[][]> {
  const out: Observation[][] = instants.map(() => []);
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < instants.length) {
      const k = next++;
      if (active[k]) out[k] = await evaluateRule(rule, { ...deps, at: instants[k] as Date });
    }
  }));
  return out;
}

function noData(record: InstanceRecord): Observation {
  return { labels: record.instance.labels, status: 'no_data', value: null, volume: null, crossed: null, uncleared: null, thresholds: {} };
}

/** Maximal runs of the same pending/firing state and severity. */
export function intervalsOf(series: readonly PreviewSeries[]): PreviewInterval[] {
  const out: PreviewInterval[] = [];
  for (const s of series) {
    let open: PreviewInterval | null = null;
    for (const p of s.points) {
      const active = p.state === 'pending' || p.state === 'firing';
      if (open && (!active || open.state !== p.state || open.severity !== p.severity)) {
        open.to = p.t;
        out.push(open);
        open = null;
      }
      if (active && !open) open = { labels: s.labels, state: p.state as 'pending' | 'firing', severity: p.severity, from: p.t, to: null, value: p.value };
    }
    if (open) out.push(open);
  }
  return out.sort((a, b) => a.from.localeCompare(b.from) || labelKey(a.labels).localeCompare(labelKey(b.labels)));
}

export async function previewRule(rule: Rule, deps: PreviewDeps, range: PreviewRange): Promise<RulePreview> {
  const stepMs = PREVIEW_STEPS[range.step];
  if (range.to.getTime() <= range.from.getTime()) throw new PreviewError('from', 'must be before to');
  if (range.to.getTime() - range.from.getTime() > MAX_PREVIEW_RANGE_MS) throw new PreviewError('to', 'the range is longer than 7 days');
  const instants = evaluationInstants(range.from, range.to, stepMs);
  if (instants.length === 0) throw new PreviewError('from', `the range holds no ${range.step} step`);
  if (instants.length > MAX_EVALUATIONS) throw new PreviewError('step', `${instants.length} evaluations (at most ${MAX_EVALUATIONS}): use a larger step or a shorter range`);

  // Outside its active hours a rule is not queried (pending instances go back to ok), as in the engine.
  const calendar = rule.activeHours !== 'always' ? deps.config.alerts?.calendars?.[rule.activeHours] : undefined;
  const active = instants.map((at) => !calendar || inCalendar(calendar, at, deps.config.timezone));

  const buckets = range.method !== 'per-evaluation' && summable(rule, stepMs);
  let observations: Observation[][];
  let queries: number;
  if (buckets) {
    observations = await bucketObservations(rule, deps, instants, stepMs, range.step);
    queries = 1;
  } else {
    queries = active.filter(Boolean).length;
    if (queries > MAX_EVALUATION_QUERIES) {
      throw new PreviewError('step', `this rule is evaluated with one query per step, ${queries} here (at most ${MAX_EVALUATION_QUERIES}): use a larger step or a shorter range`);
    }
    observations = await perEvaluationObservations(rule, deps, instants, active);
  }

  const records = new Map<string, InstanceRecord>();
  const series = new Map<string, PreviewSeries>();
  instants.forEach((at, k) => {
    const seen = new Set<string>();
    const results: { key: string; record: InstanceRecord; obs: Observation | null }[] = [];
    if (!active[k]) {
      for (const [key, before] of records) results.push({ key, record: outsideActiveHours(before, at).record, obs: null });
    } else {
      for (const obs of observations[k] ?? []) {
        const key = labelKey(obs.labels);
        if (seen.has(key)) continue;
        seen.add(key);
        const before = records.get(key) ?? newRecord(key, rule, obs.labels, at);
        results.push({ key, record: advance(before, obs, rule, at).record, obs });
      }
      // A label set that saw data before and none now is "no data" for its own instance (engine.ts does the same).
      for (const [key, before] of records) {
        if (!seen.has(key)) results.push({ key, record: advance(before, noData(before), rule, at).record, obs: null });
      }
    }
    for (const { key, record, obs } of results) {
      records.set(key, record);
      let s = series.get(key);
      if (!s) {
        const { rule: _rule, ...labels } = record.instance.labels;
        series.set(key, (s = { labels, thresholds: obs?.thresholds ?? {}, points: [] }));
      }
      const i = record.instance;
      s.points.push({
        t: at.toISOString(), value: obs ? obs.value : null, volume: obs ? obs.volume : null,
        status: obs ? obs.status : 'no_data', state: i.state, severity: i.severity,
      });
    }
  });

  const list = [...series.values()].sort((a, b) => labelKey(a.labels).localeCompare(labelKey(b.labels)));
  return {
    rule: rule.id, kind: rule.kind,
    from: range.from.toISOString(), to: range.to.toISOString(), step: range.step,
    method: buckets ? 'buckets' : 'per-evaluation',
    evaluations: instants.length, queries,
    series: list, intervals: intervalsOf(list),
  };
}
