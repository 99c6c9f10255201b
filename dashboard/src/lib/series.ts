/**
 * Reading KPI responses: find a series by KPI and labels, and merge
 * per-region points into one total the way the engine would compute it, so
 * the wallboard gets both the regions and the total from one request.
 */
import type { KpiPoint, KpiResponse, KpiSeries, ValueKind } from './types.js';

/** The series of `kpi` whose labels include every given label (all series of the KPI when none are given). */
export function findSeries(response: KpiResponse | null | undefined, kpi: string, labels: Record<string, string> = {}): KpiSeries[] {
  if (!response) return [];
  return response.series.filter((s) => s.kpi === kpi && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The single point of a request without `step` (RECORDS.md: exactly one point per series). */
export function singlePoint(response: KpiResponse | null | undefined, kpi: string, labels: Record<string, string> = {}): KpiPoint | null {
  const series = findSeries(response, kpi, labels);
  return series[0]?.points[0] ?? null;
}

/** Points of `kpi` keyed by one label's value (e.g. region code → point). */
export function pointsByLabel(response: KpiResponse | null | undefined, kpi: string, label: string): Map<string, KpiPoint> {
  const out = new Map<string, KpiPoint>();
  for (const series of findSeries(response, kpi)) {
    const key = series.labels[label];
    const point = series.points[0];
    if (key !== undefined && point) out.set(key, point);
  }
  return out;
}

/** Same as kpi/catalogue.ts `valueOf`: a point's value from numerator and denominator. */
export function valueOf(kind: ValueKind, numerator: number, denominator: number): number | null {
  switch (kind) {
    case 'count':
      return numerator;
    case 'gauge_sum':
      return denominator === 0 ? null : numerator;
    case 'per_million':
      return denominator === 0 ? null : (numerator / denominator) * 1_000_000;
    case 'percent_points':
      return denominator === 0 ? null : (numerator / denominator) * 100;
    case 'ratio':
    case 'mean':
      return denominator === 0 ? null : numerator / denominator;
  }
}

/** Gauges whose numerator is a maximum over queues (kpi/catalogue.ts: longest_wait), merged by max rather than sum. */
const MAX_GAUGES = new Set(['longest_wait']);

/**
 * Several points of one KPI (e.g. one per region) as one total: numerators
 * and denominators add up for every kind, except max-gauges, whose numerator
 * is the largest. Equal to the engine's own total over the same records.
 */
export function mergePoints(kpi: string, kind: ValueKind, points: readonly KpiPoint[], t = points[0]?.t ?? ''): KpiPoint {
  let numerator = 0;
  let denominator = 0;
  for (const p of points) {
    numerator = MAX_GAUGES.has(kpi) ? Math.max(numerator, p.numerator) : numerator + p.numerator;
    denominator += p.denominator;
  }
  if (kind === 'count') denominator = 1;
  return { t, value: valueOf(kind, numerator, denominator), numerator, denominator };
}

/** The total over every series of `kpi` in a response without step (label sets are disjoint cuts, e.g. by region). */
export function totalOf(response: KpiResponse | null | undefined, kpi: string, kind: ValueKind, labels: Record<string, string> = {}): KpiPoint | null {
  const points = findSeries(response, kpi, labels).map((s) => s.points[0]).filter((p): p is KpiPoint => p !== undefined);
  if (points.length === 0) return null;
  return mergePoints(kpi, kind, points);
}
