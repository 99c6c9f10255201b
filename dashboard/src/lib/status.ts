/**
 * Colour rules: a KPI value against its target.
 *
 * - `ok` (green): meets the target (at or beyond it in the KPI's direction).
 * - `warn` (amber): misses it by at most `amberBand` of the target (relative:
 *   0.05 with a 95 % target is amber down to 90.25 %).
 * - `bad` (red): misses it by more.
 * - `none` (grey): no value, no target, or too thin a sample to judge.
 *
 * Colour is never the only signal: every status has an icon and a word too.
 */
import type { Direction, Lang } from './types.js';

export type Status = 'ok' | 'warn' | 'bad' | 'none';

export function kpiStatus(value: number | null | undefined, target: number | null | undefined, direction: Direction, amberBand: number): Status {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'none';
  if (target === null || target === undefined) return 'none';
  const margin = Math.abs(target) * amberBand;
  if (direction === 'higher') {
    if (value >= target) return 'ok';
    return value >= target - margin ? 'warn' : 'bad';
  }
  if (value <= target) return 'ok';
  return value <= target + margin ? 'warn' : 'bad';
}

/**
 * Thin samples are not judged (ALERTING.md: "an answer rate over 4 calls at
 * 3 a.m. is noise"): a rate or mean over fewer than `minVolume` contacts is
 * shown but stays grey. Counts and gauges are always judged.
 */
export function judgedStatus(
  value: number | null | undefined, volume: number | null | undefined, kind: string,
  target: number | null | undefined, direction: Direction, amberBand: number, minVolume: number,
): Status {
  const sampled = kind === 'ratio' || kind === 'mean' || kind === 'per_million' || kind === 'percent_points';
  if (sampled && (volume ?? 0) < minVolume) return 'none';
  return kpiStatus(value, target, direction, amberBand);
}

const SEVERITY: Record<Status, number> = { none: 0, ok: 1, warn: 2, bad: 3 };

/** The worst of several statuses (red over amber over green over grey). */
export function worstStatus(statuses: Iterable<Status>): Status {
  let worst: Status = 'none';
  for (const status of statuses) if (SEVERITY[status] > SEVERITY[worst]) worst = status;
  return worst;
}

/** Icons that carry the status without colour (shape differs for each). */
export const STATUS_ICON: Record<Status, string> = { ok: '✔', warn: '▲', bad: '✖', none: '○' };

export const STATUS_WORD: Record<Lang, Record<Status, string>> = {
  zh: { ok: '达标', warn: '接近目标', bad: '未达标', none: '无判断' },
  en: { ok: 'On target', warn: 'Near target', bad: 'Off target', none: 'Not judged' },
};
