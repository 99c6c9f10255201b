/**
 * Satisfaction: a latent score per contact, lowered by long waits, unresolved
 * contacts, late tickets and long outages, then read out on the CSAT (1–5),
 * NPS (0–10) and CES (1–7) scales that customers actually answer.
 */
import type { Random } from './random.js';

export interface Scores {
  csat: number;
  nps?: number;
  ces?: number;
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** Read a latent satisfaction (about 1–5) out as survey answers; not everyone answers every question. */
export function scoresFrom(rng: Random, latent: number): Scores {
  const s = latent + rng.normal(0, 0.6);
  const scores: Scores = { csat: clamp(Math.round(s), 1, 5) };
  if (rng.chance(0.5)) scores.nps = clamp(Math.round((s - 1) * 2.6), 0, 10);
  if (rng.chance(0.3)) scores.ces = clamp(Math.round(s * 1.5 - 0.5), 1, 7);
  return scores;
}

/** After a call: a long wait and an unresolved problem both cost satisfaction. */
export function callLatent(waitSeconds: number, resolved: boolean): number {
  return 4.6 - clamp(waitSeconds / 180, 0, 1.5) - (resolved ? 0 : 1.3);
}

/** After a ticket: late first response, late resolution and a reopen each cost satisfaction. */
export function ticketLatent(respondedLate: boolean, resolvedLate: boolean, reopened: boolean): number {
  return 4.5 - (respondedLate ? 0.8 : 0) - (resolvedLate ? 1.0 : 0) - (reopened ? 0.8 : 0);
}

/** After an outage: satisfaction falls with every hour without service. */
export function faultLatent(outageHours: number): number {
  return 4.2 - clamp(outageHours * 0.35, 0, 3);
}
