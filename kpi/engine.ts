/**
 * The KPI engine: validates a request, builds the bucket grid, runs ONE query
 * per KPI family (all regions, labels and buckets at once) and assembles
 * series with a point for every bucket.
 */
import type { SqmConfig } from '../config/index.js';
import { sql, type Store } from '../store/index.js';
import { bucketGrid, estimateBuckets, type BucketGrid } from './buckets.js';
import {
  DIMENSIONS, FAMILIES, KPI_IDS, KPIS, isDimension, isKpiId, valueOf,
  type Dimension, type FamilyId, type KpiId,
} from './catalogue.js';
import { contactCentre } from './contact-centre.js';
import { faults } from './faults.js';
import { num, type FamilyContext, type FamilyPoint, type FamilyResult, type FamilyRow, type KpiFamily } from './family.js';
import { surveys } from './surveys.js';
import { tickets } from './tickets.js';
import { KpiRequestError, STEPS, type KpiEngine, type KpiRequest, type KpiResponse, type KpiSeries, type Step } from './types.js';

export const MAX_RANGE_DAYS = 400;
export const MAX_BUCKETS = 10_000;

const FAMILY_IMPLEMENTATIONS: Record<FamilyId, KpiFamily> = {
  'contact-centre': contactCentre,
  tickets,
  faults,
  surveys,
};

export interface KpiEngineDeps {
  store: Store;
  config: SqmConfig;
  /** Clock: SLA breaches count only once their deadline is ≤ now. */
  now?: () => Date;
  /** Read the per-minute rollups when a request allows it (default true; tests turn it off to compare). */
  rollups?: boolean;
}

export interface ValidatedRequest {
  kpis: KpiId[];
  by: Dimension[];
  regions: string[];
  /** Epoch seconds. */
  from: number;
  to: number;
  step: Step | undefined;
}

/** Check a request against the catalogue and the configuration; every refusal names the valid values. */
export function validateKpiRequest(request: KpiRequest, config: SqmConfig): ValidatedRequest {
  if (request.kpis.length === 0) throw new KpiRequestError(`kpi is required; valid: ${KPI_IDS.join(', ')}`, { valid: KPI_IDS });
  const unknownKpis = request.kpis.filter((k) => !isKpiId(k));
  if (unknownKpis.length > 0) {
    throw new KpiRequestError(`unknown kpi: ${unknownKpis.join(', ')}; valid: ${KPI_IDS.join(', ')}`, { unknown: unknownKpis, valid: KPI_IDS });
  }
  const kpis = [...new Set(request.kpis)] as KpiId[];
  const unknownBy = request.by.filter((d) => !isDimension(d));
  if (unknownBy.length > 0) {
    throw new KpiRequestError(`unknown by: ${unknownBy.join(', ')}; valid: ${DIMENSIONS.join(', ')}`, { unknown: unknownBy, valid: DIMENSIONS });
  }
  const by = [...new Set(request.by)] as Dimension[];
  for (const kpi of kpis) {
    const allowed = KPIS[kpi].dimensions;
    const bad = by.filter((d) => !allowed.includes(d));
    if (bad.length > 0) {
      throw new KpiRequestError(`${kpi} cannot be cut by ${bad.join(', ')}; valid for ${kpi}: ${allowed.join(', ')}`, { kpi, unknown: bad, valid: allowed });
    }
  }
  if (request.step !== undefined && !(STEPS as readonly string[]).includes(request.step)) {
    throw new KpiRequestError(`unknown step: ${String(request.step)}; valid: ${STEPS.join(', ')}`, { unknown: request.step, valid: STEPS });
  }
  const known = config.regions.map((r) => r.code);
  const regions = request.regions === null ? known : [...new Set(request.regions)];
  const unknownRegions = regions.filter((r) => !known.includes(r));
  if (unknownRegions.length > 0 || regions.length === 0) {
    throw new KpiRequestError(`unknown region: ${unknownRegions.join(', ')}; valid: ${known.join(', ')}`, { unknown: unknownRegions, valid: known });
  }
  const fromMs = request.from.getTime();
  const toMs = request.to.getTime();
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) {
    throw new KpiRequestError('from and to must be ISO-8601 times', { from: 'ISO-8601 time', to: 'ISO-8601 time' });
  }
  // Records are stored to the second; rounding both ends up keeps [from, to) exact for them.
  const from = Math.ceil(fromMs / 1000);
  const to = Math.ceil(toMs / 1000);
  if (from < 0 || to >= 2 ** 32) throw new KpiRequestError('from and to must be between 1970 and 2106', {});
  if (to <= from) throw new KpiRequestError('to must be later than from', { from: request.from.toISOString(), to: request.to.toISOString() });
  if (to - from > MAX_RANGE_DAYS * 86400) {
    throw new KpiRequestError(`the range is longer than ${MAX_RANGE_DAYS} days`, { maxRangeDays: MAX_RANGE_DAYS });
  }
  if (estimateBuckets(from, to, request.step) > MAX_BUCKETS) {
    throw new KpiRequestError(`more than ${MAX_BUCKETS} buckets: use a larger step or a shorter range`, { maxBuckets: MAX_BUCKETS, valid: STEPS });
  }
  return { kpis, by, regions, from, to, step: request.step };
}

function toRow(raw: Record<string, unknown>, by: readonly Dimension[]): FamilyRow {
  const labels: Record<string, string> = {};
  for (const d of by) labels[d] = String(raw[d] ?? '');
  return { part: String(raw.part), labels, t: num(raw.t), v: Array.isArray(raw.v) ? raw.v.map(num) : [] };
}

const labelKey = (labels: Record<string, string>, by: readonly Dimension[]) => JSON.stringify(by.map((d) => labels[d] ?? null));

function assemble(kpi: KpiId, points: FamilyPoint[], result: FamilyResult, grid: BucketGrid, request: ValidatedRequest): KpiSeries[] {
  const kind = KPIS[kpi].kind;
  const series = new Map<string, { labels: Record<string, string>; byT: Map<number, FamilyPoint> }>();
  const ensure = (labels: Record<string, string>) => {
    const key = labelKey(labels, request.by);
    let s = series.get(key);
    if (!s) series.set(key, (s = { labels, byT: new Map() }));
    return s;
  };
  for (const p of points) {
    if (p.kpi !== kpi) continue;
    const s = ensure(p.labels);
    const prior = s.byT.get(p.t);
    s.byT.set(p.t, prior ? { ...p, numerator: prior.numerator + p.numerator, denominator: prior.denominator + p.denominator } : p);
  }
  if (request.by.length === 0) ensure({});
  if (request.by.includes('region')) {
    // Every region in scope gets a series; one without any data is labelled by its region only.
    const seen = new Set([...series.values()].map((s) => s.labels.region));
    for (const region of request.regions) if (!seen.has(region)) ensure({ region });
  }
  const regionOrder = new Map(request.regions.map((r, i) => [r, i]));
  const ordered = [...series.entries()].sort(([ka, a], [kb, b]) => {
    const ra = regionOrder.get(a.labels.region ?? '') ?? -1;
    const rb = regionOrder.get(b.labels.region ?? '') ?? -1;
    return ra !== rb ? ra - rb : ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  return ordered.map(([, s]) => ({
    kpi,
    labels: s.labels,
    points: grid.starts.map((t) => {
      const p = s.byT.get(t);
      const { numerator, denominator } = p ?? result.empty?.(kpi, s.labels, t) ?? { numerator: 0, denominator: kind === 'count' ? 1 : 0 };
      return { t: new Date(t * 1000).toISOString(), value: valueOf(kind, numerator, denominator), numerator, denominator };
    }),
  }));
}

export function createKpiEngine(deps: KpiEngineDeps): KpiEngine {
  const now = deps.now ?? (() => new Date());
  const rollups = deps.rollups ?? true;
  const tz = deps.config.timezone;
  // Fail at start-up, not on the first day-step query, when the zone is unknown to this runtime.
  new Intl.DateTimeFormat('en-US', { timeZone: tz });

  return {
    async query(request: KpiRequest): Promise<KpiResponse> {
      const valid = validateKpiRequest(request, deps.config);
      const grid = bucketGrid(valid.from, valid.to, valid.step, tz);
      const nowSeconds = Math.floor(now().getTime() / 1000);
      const results = await Promise.all(FAMILIES.map(async (familyId) => {
        const kpis = valid.kpis.filter((k) => KPIS[k].family === familyId);
        if (kpis.length === 0) return undefined;
        const family = FAMILY_IMPLEMENTATIONS[familyId];
        const ctx: FamilyContext = {
          store: deps.store, config: deps.config, now: nowSeconds, grid,
          regions: valid.regions, by: valid.by, kpis, rollups,
        };
        const parts = family.parts(ctx);
        const raw = parts.length === 0 ? [] : await deps.store.query<Record<string, unknown>>(sql.join(parts, ' UNION ALL '));
        return { familyId, result: family.evaluate(raw.map((r) => toRow(r, valid.by)), ctx) };
      }));
      const series: KpiSeries[] = [];
      for (const kpi of valid.kpis) {
        const found = results.find((r) => r?.familyId === KPIS[kpi].family);
        if (found) series.push(...assemble(kpi, found.result.points, found.result, grid, valid));
      }
      return {
        from: new Date(valid.from * 1000).toISOString(),
        to: new Date(valid.to * 1000).toISOString(),
        ...(valid.step ? { step: valid.step } : {}),
        series,
      };
    },
  };
}
