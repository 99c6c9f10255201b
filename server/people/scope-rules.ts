/**
 * Which roles may carry which region scopes, checked wherever a user or token
 * is made or changed: an admin sees every region (a scope would be a false
 * comfort), a manager always has regions (an unscoped manager would be an
 * executive who can act), and every region named must exist.
 */
import type { Role, SqmConfig } from '../../config/index.js';
import { ApiError } from '../errors.js';

export function checkScope(field: string, role: Role, regions: readonly string[] | null | undefined, config: SqmConfig): string[] | null {
  if (regions === undefined || regions === null) {
    if (role === 'manager') throw new ApiError('SQM_BAD_REQUEST', `${field}: a manager needs the regions they manage`);
    return null;
  }
  if (role === 'admin') throw new ApiError('SQM_BAD_REQUEST', `${field}: an admin sees every region; leave regions out`);
  if (regions.length === 0) throw new ApiError('SQM_BAD_REQUEST', `${field}: give at least one region, or leave regions out for all`);
  const known = new Set(config.regions.map((r) => r.code));
  const unknown = regions.filter((r) => !known.has(r));
  if (unknown.length > 0) throw new ApiError('SQM_BAD_REQUEST', `${field}: unknown region ${unknown.join(', ')}`, { unknown });
  return [...new Set(regions)].sort();
}
