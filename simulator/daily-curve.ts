/**
 * When customers get in touch: relative contact intensity by Beijing time.
 * Quiet at night, a morning peak around 10:00 and an evening peak around 20:00,
 * and quieter weekends. Normalised so a weekday averages 1.
 */
import { beijingHourOfDay, beijingWeekday } from './time.js';

/** Relative intensity at each full Beijing hour (00:00 … 23:00); linear in between. */
const HOURLY = [
  0.25, 0.15, 0.1, 0.08, 0.08, 0.12, 0.25, 0.5, 0.9, 1.35, 1.6, 1.45,
  1.1, 1.15, 1.3, 1.3, 1.25, 1.15, 1.2, 1.45, 1.6, 1.35, 0.9, 0.5,
] as const;

// Mean of the piecewise-linear curve over a day equals the mean of its knots.
const MEAN = HOURLY.reduce((a, b) => a + b, 0) / HOURLY.length;

export const WEEKEND_FACTOR = 0.85;

/** Relative intensity at a moment (weekday mean 1). */
export function dailyCurve(epochSeconds: number): number {
  const hour = beijingHourOfDay(epochSeconds);
  const i = Math.floor(hour);
  const f = hour - i;
  const a = HOURLY[i % 24] as number;
  const b = HOURLY[(i + 1) % 24] as number;
  const weekday = beijingWeekday(epochSeconds);
  const dayFactor = weekday === 0 || weekday === 6 ? WEEKEND_FACTOR : 1;
  return ((a + (b - a) * f) / MEAN) * dayFactor;
}

/** Mean intensity over [from, from + seconds), for staffing plans. */
export function meanCurve(from: number, seconds: number): number {
  const steps = 12;
  let sum = 0;
  for (let i = 0; i < steps; i++) sum += dailyCurve(from + ((i + 0.5) * seconds) / steps);
  return sum / steps;
}
