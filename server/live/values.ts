/**
 * A subscription's answer as a flat map of values, and the difference between
 * two answers: what a client needs to go from the last message to this one.
 *
 * A value is keyed by KPI, labels (in the subscription's dimension order) and,
 * with a step, the bucket start. Without a step a value has no time: the
 * window slides every tick, and a wallboard number is the same number whether
 * its window began a second earlier or not.
 */
import type { KpiResponse } from '../../kpi/index.js';
import type { LiveValue, LiveValueKey } from './protocol.js';

export type LiveValues = Map<string, LiveValue>;

export function valueKey(kpi: string, labels: Record<string, string>, by: readonly string[], t: string | undefined): string {
  return JSON.stringify([kpi, by.map((d) => labels[d] ?? null), t ?? null]);
}

export function flatten(response: KpiResponse, by: readonly string[], withTime: boolean): LiveValues {
  const values: LiveValues = new Map();
  for (const series of response.series) {
    for (const point of series.points) {
      const t = withTime ? point.t : undefined;
      const value: LiveValue = {
        kpi: series.kpi,
        labels: series.labels,
        ...(t === undefined ? {} : { t }),
        value: point.value,
        numerator: point.numerator,
        denominator: point.denominator,
      };
      values.set(valueKey(series.kpi, series.labels, by, t), value);
    }
  }
  return values;
}

export interface ValuesDiff {
  changed: LiveValue[];
  removed: LiveValueKey[];
}

function same(a: LiveValue, b: LiveValue): boolean {
  return a.value === b.value && a.numerator === b.numerator && a.denominator === b.denominator;
}

/** Values new or different in `next`, and keys of `previous` missing from `next`, in `next`'s order. */
export function diffValues(previous: LiveValues, next: LiveValues): ValuesDiff {
  const changed: LiveValue[] = [];
  const removed: LiveValueKey[] = [];
  for (const [key, value] of next) {
    const before = previous.get(key);
    if (!before || !same(before, value)) changed.push(value);
  }
  for (const [key, value] of previous) {
    if (!next.has(key)) removed.push({ kpi: value.kpi, labels: value.labels, ...(value.t === undefined ? {} : { t: value.t }) });
  }
  return { changed, removed };
}
