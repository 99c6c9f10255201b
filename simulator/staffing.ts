/**
 * Staffing plans. A planner sizes each hour the way contact centres do: Erlang C
 * for the hour's expected load, aiming a little above the 80 % / 20 s service
 * level, so on a normal day the KPIs sit just above target and any extra load
 * with the same staff pushes them below (the emergence the demo relies on).
 */

/** Erlang C: probability that a caller waits, for `agents` servers and `load` Erlangs. */
export function erlangC(agents: number, load: number): number {
  if (load <= 0) return 0;
  if (agents <= load) return 1;
  // Erlang B by its stable recursion, then C from B.
  let b = 1;
  for (let n = 1; n <= agents; n++) b = (load * b) / (n + load * b);
  return (agents * b) / (agents - load * (1 - b));
}

/** Share of callers answered within `thresholdSeconds` (Erlang C, no abandonment). */
export function serviceLevel(agents: number, ratePerSecond: number, ahtSeconds: number, thresholdSeconds: number): number {
  const load = ratePerSecond * ahtSeconds;
  if (load <= 0) return 1;
  if (agents <= load) return 0;
  return 1 - erlangC(agents, load) * Math.exp((-(agents - load) * thresholdSeconds) / ahtSeconds);
}

export interface SizingTarget {
  serviceLevel: number;
  thresholdSeconds: number;
}

export const DEFAULT_SIZING: SizingTarget = { serviceLevel: 0.85, thresholdSeconds: 20 };

/** Fewest agents (at least 1) that meet the target for this load. */
export function agentsNeeded(ratePerSecond: number, ahtSeconds: number, target: SizingTarget = DEFAULT_SIZING): number {
  const load = ratePerSecond * ahtSeconds;
  let n = Math.max(1, Math.floor(load) + 1);
  while (serviceLevel(n, ratePerSecond, ahtSeconds, target.thresholdSeconds) < target.serviceLevel) n++;
  return n;
}

/** Back-office workers for an hour: expected work divided by a sustainable utilisation. */
export function workersNeeded(ticketsPerHour: number, workHoursPerTicket: number, utilisation = 0.8): number {
  return Math.max(1, Math.ceil((ticketsPerHour * workHoursPerTicket) / utilisation));
}
