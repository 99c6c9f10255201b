/**
 * subscribers: a region's subscriber count on a date (RECORDS.md), the
 * denominator of the complaint rate. `asOf` is a calendar date, not an instant.
 * The table keeps the latest ingest per (region, asOf).
 */
import { parseDate } from '../time.js';
import { count, objectSchema, region, type RecordSpec, type SchemaLimits } from './spec.js';

export interface SubscriberRow {
  region: string;
  asOf: string;
  subscribers: number;
  ingestedAt: number;
}

/** More people than live in China: a unit error, not a count. */
const MAX_SUBSCRIBERS = 2_000_000_000;

export function subscriberSchema(limits: SchemaLimits): object {
  return objectSchema(['region', 'asOf', 'subscribers'], {
    region: region(limits),
    asOf: { type: 'string', maxLength: 10 },
    subscribers: count(MAX_SUBSCRIBERS),
  });
}

interface SubscriberInput {
  region: string;
  asOf: string;
  subscribers: number;
}

export const subscriber: RecordSpec<SubscriberRow> = {
  kind: 'subscribers',
  table: 'subscribers',
  timeFields: [],
  schema: subscriberSchema,
  normalise(record, _times, ctx, errors) {
    const r = record as unknown as SubscriberInput;
    const asOf = parseDate(r.asOf);
    if (asOf === undefined) {
      errors.push('asOf: not a date (YYYY-MM-DD)');
      return undefined;
    }
    return { region: r.region, asOf, subscribers: r.subscribers, ingestedAt: ctx.nowSec };
  },
};
