/**
 * The KPI engine's public contract (re-exported by kpi/index.ts). The alert
 * engine, the live hub, the scorecards and the REST route all speak it.
 */

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

/**
 * A request the engine refuses (unknown KPI, dimension, step or region, a bad
 * window). `details` lists the valid values, so the API can answer 400 with them.
 */
export class KpiRequestError extends Error {
  override name = 'KpiRequestError';
  constructor(message: string, readonly details: Record<string, unknown>) {
    super(message);
  }
}
