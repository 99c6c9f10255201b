/**
 * The composite quality index (KPIS.md "Composite quality index"): a weighted
 * mean of per-KPI scores, each 100 at or beyond its target and falling
 * linearly to 0 at its floor (config.targets[k].floor, on the bad side of the
 * target). A KPI without a floor, or without a value, is left out and the
 * weights of the rest are renormalised, so the index is always explainable
 * from the scores it returns.
 */
import type { SqmConfig } from '../config/index.js';

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

/** 100 at the target (or better), 0 at the floor (or worse), linear between. Works for either direction. */
export function kpiScore(value: number, target: number, floor: number): number {
  if (target === floor) return value === target ? 100 : 0;
  const fraction = (value - floor) / (target - floor);
  return Math.min(1, Math.max(0, fraction)) * 100;
}

export function qualityIndex(values: Readonly<Record<string, number | null | undefined>>, targets: SqmConfig['targets']): QualityIndex {
  const scores: QualityScore[] = [];
  for (const [kpi, target] of Object.entries(targets)) {
    const value = values[kpi];
    const weight = target.weight ?? 1;
    if (value === null || value === undefined || target.floor === undefined || weight <= 0) continue;
    scores.push({ kpi, value, target: target.value, floor: target.floor, weight, score: kpiScore(value, target.value, target.floor) });
  }
  const totalWeight = scores.reduce((sum, s) => sum + s.weight, 0);
  const index = totalWeight === 0 ? null : scores.reduce((sum, s) => sum + s.score * s.weight, 0) / totalWeight;
  return { index, scores };
}
