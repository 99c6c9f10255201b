/**
 * Helpers shared by the people tables (store/migrations/004_people.sql): row
 * versions, region columns, and names.
 */
import type { Role } from '../../config/index.js';

let lastVersion = 0;

/**
 * The version of a new row: microseconds of the real clock, strictly
 * increasing within the process, so two changes in one millisecond never tie
 * in argMax. It is independent of the injectable clock on purpose: a test
 * that moves its clock back must not make a newer row lose to an older one.
 */
export function nextVersion(): number {
  lastVersion = Math.max(Date.now() * 1000, lastVersion + 1);
  return lastVersion;
}

/** `regions` and `allRegions` columns → the principal's shape (null = every region). */
export function regionsFromRow(allRegions: number | boolean, regions: readonly string[]): string[] | null {
  return Number(allRegions) === 1 ? null : [...regions];
}

/** The principal's shape → the two columns. */
export function regionsToRow(regions: readonly string[] | null): { regions: string[]; allRegions: number } {
  return regions === null ? { regions: [], allRegions: 1 } : { regions: [...regions], allRegions: 0 };
}

export const epochSeconds = (ms: number): number => Math.floor(ms / 1000);

export const isoFromSeconds = (seconds: number): string => new Date(seconds * 1000).toISOString();

/** User names: lower case, so `Alice` and `alice` are one account. */
export const USERNAME_PATTERN = '^[a-z0-9][a-z0-9._@-]{0,63}$';
/** Token names: what an admin types to recognise a token later. */
export const TOKEN_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9 ._:@/-]{0,63}$';

export type { Role };
