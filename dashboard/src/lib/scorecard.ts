/**
 * The executive scorecard's maths: the quality index (the same formula as
 * kpi/quality-index.ts: 100 at the target, linear to 0 at the floor, a
 * weighted mean), regions ranked by it, every KPI against its target with the
 * change from the previous period, and the CSV export.
 *
 * The index is computed here from the KPI API's values and /api/v1/meta's
 * targets, floors and weights, so every number on the scorecard can be traced
 * to a KPI value the API returns.
 */
import { pointsByLabel, singlePoint } from './series.js';
import { kpiStatus, type Status } from './status.js';
import type { Direction, KpiMeta, KpiResponse, Lang, RegionMeta } from './types.js';

export interface QualityScore {
  kpi: string;
  value: number;
  target: number;
  floor: number;
  weight: number;
  score: number;
}

export interface QualityIndex {
  /** 0–100, or null when no KPI could be scored. */
  index: number | null;
  scores: QualityScore[];
}

/** 100 at the target (or better), 0 at the floor (or worse), linear between; either direction. */
export function kpiScore(value: number, target: number, floor: number): number {
  if (target === floor) return value === target ? 100 : 0;
  const fraction = (value - floor) / (target - floor);
  return Math.min(1, Math.max(0, fraction)) * 100;
}

/**
 * The weighted mean of the scores of every KPI that has a target, a floor, a
 * positive weight (default 1) and a value; the weights of the rest are
 * renormalised, exactly as the server's qualityIndex does.
 */
export function qualityIndex(values: Readonly<Record<string, number | null | undefined>>, kpis: readonly KpiMeta[]): QualityIndex {
  const scores: QualityScore[] = [];
  for (const kpi of kpis) {
    const value = values[kpi.id];
    const weight = kpi.weight ?? 1;
    if (kpi.target === null || kpi.floor === null || value === null || value === undefined || weight <= 0) continue;
    scores.push({ kpi: kpi.id, value, target: kpi.target, floor: kpi.floor, weight, score: kpiScore(value, kpi.target, kpi.floor) });
  }
  const totalWeight = scores.reduce((sum, s) => sum + s.weight, 0);
  const index = totalWeight === 0 ? null : scores.reduce((sum, s) => sum + s.score * s.weight, 0) / totalWeight;
  return { index, scores };
}

/** A score's share of the index, in index points (they add up to the index). */
export function contribution(score: QualityScore, scores: readonly QualityScore[]): number {
  const totalWeight = scores.reduce((sum, s) => sum + s.weight, 0);
  return totalWeight === 0 ? 0 : (score.score * score.weight) / totalWeight;
}

export type Trend = 'better' | 'worse' | 'same' | 'unknown';

/** Whether a change is an improvement, given the KPI's direction. */
export function trend(current: number | null | undefined, previous: number | null | undefined, direction: Direction): Trend {
  if (current === null || current === undefined || previous === null || previous === undefined) return 'unknown';
  if (current === previous) return 'same';
  return (current > previous) === (direction === 'higher') ? 'better' : 'worse';
}

/** The KPIs a scorecard shows: every KPI with a configured target, in catalogue order. */
export function scorecardKpis(kpis: readonly KpiMeta[]): KpiMeta[] {
  return kpis.filter((k) => k.target !== null);
}

export interface ScorecardCell {
  kpi: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  previous: number | null;
  target: number | null;
  status: Status;
  trend: Trend;
  /** The KPI's score in the index (null when it is not scored). */
  score: number | null;
}

export interface ScorecardRow {
  /** Region code, or null for the total over every region shown. */
  region: string | null;
  rank: number | null;
  index: number | null;
  previousIndex: number | null;
  cells: ScorecardCell[];
  scores: QualityScore[];
}

export interface Scorecard {
  kpis: KpiMeta[];
  rows: ScorecardRow[];
  total: ScorecardRow;
}

export interface ScorecardInput {
  kpis: readonly KpiMeta[];
  regions: readonly string[];
  /** KPI responses without step: by region, and the total without `by`. */
  current: KpiResponse;
  previous: KpiResponse;
  currentTotal: KpiResponse;
  previousTotal: KpiResponse;
  amberBand: number;
}

function buildRow(region: string | null, kpis: readonly KpiMeta[], pick: (response: 'current' | 'previous', kpi: string) => { value: number | null; numerator: number; denominator: number } | null, amberBand: number): ScorecardRow {
  const currentValues: Record<string, number | null> = {};
  const previousValues: Record<string, number | null> = {};
  const cells: ScorecardCell[] = kpis.map((kpi) => {
    const now = pick('current', kpi.id);
    const before = pick('previous', kpi.id);
    currentValues[kpi.id] = now?.value ?? null;
    previousValues[kpi.id] = before?.value ?? null;
    return {
      kpi: kpi.id,
      value: now?.value ?? null,
      numerator: now?.numerator ?? null,
      denominator: now?.denominator ?? null,
      previous: before?.value ?? null,
      target: kpi.target,
      status: kpiStatus(now?.value, kpi.target, kpi.direction, amberBand),
      trend: trend(now?.value, before?.value, kpi.direction),
      score: null,
    };
  });
  const current = qualityIndex(currentValues, kpis);
  const previous = qualityIndex(previousValues, kpis);
  for (const cell of cells) cell.score = current.scores.find((s) => s.kpi === cell.kpi)?.score ?? null;
  return { region, rank: null, index: current.index, previousIndex: previous.index, cells, scores: current.scores };
}

/** Regions ranked by index, best first; regions without an index last (by code); ranks 1, 2, 3… with ties sharing a rank. */
export function rankRows(rows: readonly ScorecardRow[]): ScorecardRow[] {
  const sorted = [...rows].sort((a, b) => {
    if (a.index === null && b.index === null) return (a.region ?? '').localeCompare(b.region ?? '');
    if (a.index === null) return 1;
    if (b.index === null) return -1;
    return b.index - a.index || (a.region ?? '').localeCompare(b.region ?? '');
  });
  let rank = 0;
  let previousIndex: number | null = null;
  return sorted.map((row, i) => {
    if (row.index === null) return { ...row, rank: null };
    if (row.index !== previousIndex) rank = i + 1;
    previousIndex = row.index;
    return { ...row, rank };
  });
}

export function buildScorecard(input: ScorecardInput): Scorecard {
  const kpis = scorecardKpis(input.kpis);
  const byRegion = {
    current: new Map(kpis.map((k) => [k.id, pointsByLabel(input.current, k.id, 'region')])),
    previous: new Map(kpis.map((k) => [k.id, pointsByLabel(input.previous, k.id, 'region')])),
  };
  const rows = input.regions.map((region) =>
    buildRow(region, kpis, (which, kpi) => byRegion[which].get(kpi)?.get(region) ?? null, input.amberBand));
  const total = buildRow(null, kpis, (which, kpi) => singlePoint(which === 'current' ? input.currentTotal : input.previousTotal, kpi), input.amberBand);
  return { kpis, rows: rankRows(rows), total };
}

// ---- CSV ----

/** RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const CSV_COLUMNS = [
  'period_from', 'period_to', 'region', 'region_name', 'rank', 'quality_index', 'kpi', 'kpi_name',
  'value', 'numerator', 'denominator', 'target', 'status', 'previous_value', 'change', 'score',
] as const;

/**
 * The scorecard as CSV: one line per region and KPI, then the total (region
 * `ALL`). Values are the KPI API's own numbers, unrounded, so a spreadsheet
 * reproduces the API exactly; names follow the language. Starts with a BOM so
 * spreadsheet programs read the Chinese names as UTF-8.
 */
export function scorecardCsv(scorecard: Scorecard, regions: readonly RegionMeta[], lang: Lang, period: { from: Date; to: Date }): string {
  const regionName = new Map(regions.map((r) => [r.code, r[lang]]));
  const kpiName = new Map(scorecard.kpis.map((k) => [k.id, k[lang]]));
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of [...scorecard.rows, scorecard.total]) {
    for (const cell of row.cells) {
      const change = cell.value !== null && cell.previous !== null ? cell.value - cell.previous : null;
      lines.push([
        period.from.toISOString(), period.to.toISOString(),
        row.region ?? 'ALL', row.region === null ? (lang === 'zh' ? '全部' : 'All regions') : (regionName.get(row.region) ?? row.region),
        row.rank, row.index, cell.kpi, kpiName.get(cell.kpi) ?? cell.kpi,
        cell.value, cell.numerator, cell.denominator, cell.target, cell.status, cell.previous, change, cell.score,
      ].map(csvField).join(','));
    }
  }
  return `\ufeff${lines.join('\r\n')}\r\n`;
}
