/**
 * KPI engine contract (being implemented). See kpi/README.md.
 */
import type { SqmConfig } from '../config/index.js';
import type { Store } from '../store/index.js';

export const STEPS = ['1m', '5m', '15m', '1h', '1d'] as const;
export type Step = (typeof STEPS)[number];

export interface KpiRequest {
  kpis: string[];
  from: Date;
  to: Date;
  /** null: every region. */
  regions: readonly string[] | null;
  /** Dimensions to cut by (empty: one total). */
  by: string[];
  step?: Step | undefined;
}

export interface KpiPoint {
  t: string;
  value: number | null;
  numerator: number;
  denominator: number;
}

export interface KpiSeries {
  kpi: string;
  labels: Record<string, string>;
  points: KpiPoint[];
}

export interface KpiResponse {
  from: string;
  to: string;
  step?: Step;
  series: KpiSeries[];
}

export interface KpiEngine {
  query(request: KpiRequest): Promise<KpiResponse>;
}

export function createKpiEngine(_deps: { store: Store; config: SqmConfig }): KpiEngine {
  return {
    async query() {
      throw new Error('kpi: not implemented yet');
    },
  };
}
