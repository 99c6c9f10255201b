/** fault: a snapshot of a network fault (RECORDS.md); newest updatedAt wins, like tickets. */
import { FAULT_SEVERITIES } from '../../config/index.js';
import {
  notBefore, objectSchema, oneOf, optionalCount, optionalText, optionalTime, orNull, region, text, time,
  type RecordSpec, type SchemaLimits,
} from './spec.js';

export const FAULT_DOMAINS = ['wireless', 'transmission', 'core', 'broadband', 'power'] as const;
export { FAULT_SEVERITIES };

export interface FaultRow {
  id: string;
  region: string;
  site: string;
  domain: string;
  severity: string;
  detectedAt: number;
  acknowledgedAt: number | null;
  restoredAt: number | null;
  customersAffected: number;
  cause: string;
  updatedAt: number;
  ingestedAt: number;
}

/** More than every subscriber of the largest operator: a typo, not a fault. */
const MAX_CUSTOMERS_AFFECTED = 2_000_000_000;

export function faultSchema(limits: SchemaLimits): object {
  return objectSchema(['id', 'region', 'domain', 'severity', 'detectedAt', 'updatedAt'], {
    id: text(limits),
    region: region(limits),
    site: optionalText(limits),
    domain: oneOf(FAULT_DOMAINS),
    severity: oneOf(FAULT_SEVERITIES),
    detectedAt: time,
    acknowledgedAt: optionalTime,
    restoredAt: optionalTime,
    customersAffected: optionalCount(MAX_CUSTOMERS_AFFECTED),
    cause: optionalText(limits),
    updatedAt: time,
  });
}

interface FaultInput {
  id: string;
  region: string;
  site?: string | null;
  domain: string;
  severity: string;
  customersAffected?: number | null;
  cause?: string | null;
}

export const fault: RecordSpec<FaultRow> = {
  kind: 'faults',
  table: 'faults',
  timeFields: ['detectedAt', 'acknowledgedAt', 'restoredAt', 'updatedAt'],
  schema: faultSchema,
  normalise(record, times, ctx, errors) {
    const r = record as unknown as FaultInput;
    const detectedAt = times.detectedAt as number;
    notBefore(errors, 'acknowledgedAt', times.acknowledgedAt, 'detectedAt', detectedAt);
    notBefore(errors, 'restoredAt', times.restoredAt, 'detectedAt', detectedAt);
    notBefore(errors, 'updatedAt', times.updatedAt, 'detectedAt', detectedAt);
    if (errors.length > 0) return undefined;
    return {
      id: r.id,
      region: r.region,
      site: r.site ?? '',
      domain: r.domain,
      severity: r.severity,
      detectedAt,
      acknowledgedAt: orNull(times.acknowledgedAt),
      restoredAt: orNull(times.restoredAt),
      customersAffected: r.customersAffected ?? 0,
      cause: r.cause ?? '',
      updatedAt: times.updatedAt as number,
      ingestedAt: ctx.nowSec,
    };
  },
};
