/**
 * The wallboard's tiles and how each is computed from KPI responses: which
 * KPI, over which window, judged against which target; and each region's
 * worst status for the region grid. Pure functions of the data the feed
 * (wallboard-feed.ts) delivers, so the rules are unit-tested without a browser.
 */
import { findSeries, pointsByLabel, totalOf } from './series.js';
import { judgedStatus, worstStatus, type Status } from './status.js';
import type { KpiMeta, KpiPoint, KpiResponse, Meta } from './types.js';

/** The window a tile's value covers. `rolling`: the last 15 minutes; `today`: since local midnight; `now`: the state at this moment. */
export type TileWindow = 'rolling' | 'today' | 'now';

/** Which feed response a tile reads. */
export type TileSource = 'rolling' | 'today' | 'faults';

export interface TileDef {
  id: string;
  kpi: string;
  window: TileWindow;
  source: TileSource;
  /** Only the series with these labels (open_faults: severity critical). */
  labels?: Record<string, string>;
  /** A target when the configuration has none (an open critical fault is always red). */
  fallbackTarget?: number;
  /** Counts toward a region's worst status on the region grid. */
  regionStatus: boolean;
}

export const ROLLING_MINUTES = 15;
/** Rates and means over fewer contacts than this stay grey (not judged). */
export const MIN_VOLUME = 20;

export const TILES: readonly TileDef[] = [
  { id: 'answer_rate', kpi: 'answer_rate', window: 'rolling', source: 'rolling', regionStatus: true },
  { id: 'service_level', kpi: 'service_level', window: 'rolling', source: 'rolling', regionStatus: true },
  { id: 'asa', kpi: 'asa', window: 'rolling', source: 'rolling', regionStatus: true },
  { id: 'abandon_rate', kpi: 'abandon_rate', window: 'rolling', source: 'rolling', regionStatus: true },
  { id: 'calls_waiting', kpi: 'calls_waiting', window: 'now', source: 'rolling', regionStatus: false },
  { id: 'longest_wait', kpi: 'longest_wait', window: 'now', source: 'rolling', regionStatus: false },
  { id: 'response_sla', kpi: 'response_sla', window: 'today', source: 'today', regionStatus: true },
  { id: 'at_risk', kpi: 'at_risk', window: 'now', source: 'rolling', regionStatus: false },
  { id: 'critical_faults', kpi: 'open_faults', window: 'now', source: 'faults', labels: { severity: 'critical' }, fallbackTarget: 0, regionStatus: true },
  { id: 'csat', kpi: 'csat', window: 'today', source: 'today', regionStatus: true },
];

/** KPIs each feed request asks for. */
export function sourceKpis(source: TileSource): string[] {
  return [...new Set(TILES.filter((t) => t.source === source).map((t) => t.kpi))];
}

export interface WallboardData {
  /** Last 15 minutes by region (rates, gauges, at-risk). */
  rolling: KpiResponse | null;
  /** Today by region (response SLA, CSAT). */
  today: KpiResponse | null;
  /** Open faults now by region and severity. */
  faults: KpiResponse | null;
  /** Today in 15-minute steps, all regions together (sparklines). */
  day: KpiResponse | null;
  /** Open faults today in 15-minute steps by severity (sparkline). */
  dayFaults: KpiResponse | null;
}

export interface TileView {
  id: string;
  kpi: KpiMeta;
  window: TileWindow;
  value: number | null;
  /** The denominator behind the value (contacts, responses, targets ended). */
  volume: number | null;
  target: number | null;
  status: Status;
  /** The day in 15-minute buckets. */
  spark: (number | null)[];
  sparkTimes: string[];
}

export interface RegionView {
  code: string;
  status: Status;
  /** Tiles that are amber or red in this region, worst first. */
  failing: { id: string; status: Status }[];
}

function responseFor(def: TileDef, data: WallboardData): KpiResponse | null {
  return data[def.source];
}

/** A tile's point over every region shown, or one region's. */
export function tilePoint(def: TileDef, kpi: KpiMeta, data: WallboardData, region?: string): KpiPoint | null {
  const response = responseFor(def, data);
  if (!response) return null;
  const labels = { ...(def.labels ?? {}), ...(region ? { region } : {}) };
  if (!def.labels && region) return pointsByLabel(response, def.kpi, 'region').get(region) ?? null;
  const total = totalOf(response, def.kpi, kpi.kind, labels);
  // A count with no matching series (no critical fault anywhere) is zero, not unknown.
  if (!total && kpi.kind === 'count') return { t: response.from, value: 0, numerator: 0, denominator: 1 };
  return total;
}

function sparkline(def: TileDef, data: WallboardData): { values: (number | null)[]; times: string[] } {
  const response = def.source === 'faults' ? data.dayFaults : data.day;
  const series = findSeries(response, def.kpi, def.labels ?? {})[0];
  if (series) return { values: series.points.map((p) => p.value), times: series.points.map((p) => p.t) };
  // No critical fault all day: a flat zero line on the day's grid.
  const grid = data.day?.series[0]?.points.map((p) => p.t) ?? [];
  return def.source === 'faults' ? { values: grid.map(() => 0), times: grid } : { values: [], times: [] };
}

export function targetOf(def: TileDef, kpi: KpiMeta): number | null {
  return kpi.target ?? def.fallbackTarget ?? null;
}

function judge(def: TileDef, kpi: KpiMeta, point: KpiPoint | null, amberBand: number): Status {
  return judgedStatus(point?.value, point?.denominator, kpi.kind, targetOf(def, kpi), kpi.direction, amberBand, MIN_VOLUME);
}

/** Tiles that count things (judged even on no traffic): they can make a region red, not green. */
const COUNT_TILES = new Set(TILES.filter((t) => t.source === 'faults').map((t) => t.id));

export interface WallboardModel {
  tiles: TileView[];
  regions: RegionView[];
}

export function wallboardModel(data: WallboardData, meta: Pick<Meta, 'kpis' | 'dashboard'>, regions: readonly string[]): WallboardModel {
  const catalogue = new Map(meta.kpis.map((k) => [k.id, k]));
  const amberBand = meta.dashboard.amberBand;
  const defs = TILES.filter((def) => catalogue.has(def.kpi));
  const tiles = defs.map((def): TileView => {
    const kpi = catalogue.get(def.kpi)!;
    const point = tilePoint(def, kpi, data);
    const spark = sparkline(def, data);
    return {
      id: def.id, kpi, window: def.window,
      value: point?.value ?? null, volume: point?.denominator ?? null,
      target: targetOf(def, kpi), status: judge(def, kpi, point, amberBand),
      spark: spark.values, sparkTimes: spark.times,
    };
  });
  const rank: Record<Status, number> = { bad: 0, warn: 1, ok: 2, none: 3 };
  const regionViews = regions.map((code): RegionView => {
    const statuses = defs.filter((d) => d.regionStatus).map((def) => {
      const kpi = catalogue.get(def.kpi)!;
      return { id: def.id, status: judge(def, kpi, tilePoint(def, kpi, data, code), amberBand) };
    });
    const failing = statuses.filter((s) => s.status === 'bad' || s.status === 'warn').sort((a, b) => rank[a.status] - rank[b.status]);
    let status = worstStatus(statuses.map((s) => s.status));
    // "No critical fault" alone is no evidence of good service: a region with no judged rate or mean stays grey.
    const judgedSample = statuses.some((s) => s.status !== 'none' && !COUNT_TILES.has(s.id));
    if (status === 'ok' && !judgedSample) status = 'none';
    return { code, status, failing };
  });
  return { tiles, regions: regionViews };
}
