/**
 * The KPI catalogue and engine. See kpi/README.md.
 */
export { STEPS, KpiRequestError } from './types.js';
export type { Step, KpiRequest, KpiPoint, KpiSeries, KpiResponse, KpiEngine } from './types.js';
export { createKpiEngine, validateKpiRequest, MAX_BUCKETS, MAX_RANGE_DAYS, type KpiEngineDeps, type ValidatedRequest } from './engine.js';
export {
  KPIS, KPI_IDS, DIMENSIONS, FAMILIES, FAMILY_DIMENSIONS, kpiCatalogue, isKpiId, isDimension, valueOf,
  type KpiId, type KpiDefinition, type CatalogueEntry, type Dimension, type FamilyId, type Unit, type Direction, type ValueKind,
} from './catalogue.js';
export { qualityIndex, kpiScore, type QualityIndex, type QualityScore } from './quality-index.js';
export { bucketGrid, startOfLocalDay, startOfLocalHour, offsetSeconds, type BucketGrid } from './buckets.js';
