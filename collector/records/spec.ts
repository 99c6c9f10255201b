/**
 * What every record kind provides (one file per kind in this folder): its JSON
 * Schema, the fields that hold times, and a normaliser that applies the
 * cross-field rules and builds the table row. Plus the small schema builders
 * they share, so limits (string length, regions) come from one place.
 */
import type { TableName } from '../../store/index.js';
import type { CustomerHasher } from '../customer.js';
import type { RecordKind } from '../kinds.js';

export interface SchemaLimits {
  /** Configured region codes: any other region is a rejected record. */
  regions: readonly string[];
  maxStringLength: number;
}

export interface NormaliseContext {
  /** Ingest time, epoch seconds (the `ingestedAt` column). */
  nowSec: number;
  hashCustomer: CustomerHasher;
}

/** Epoch seconds of each time field that is present (absent or null: undefined). */
export type Times = Record<string, number | undefined>;

export interface RecordSpec<Row extends object = object> {
  kind: RecordKind;
  table: TableName;
  /** Fields holding a date-time; the validator parses them and refuses far-future ones. */
  timeFields: readonly string[];
  schema(limits: SchemaLimits): object;
  /**
   * Cross-field checks and the row for the table. Called only for a record that
   * passed its schema and whose times all parsed, so fields have their schema types.
   * Pushes `field: reason` strings onto `errors` and returns undefined on failure.
   */
  normalise(record: Record<string, unknown>, times: Times, ctx: NormaliseContext, errors: string[]): Row | undefined;
}

/** A time: ISO-8601 text with an offset, or epoch seconds. Parsing happens in the validator. */
export const time = { type: ['string', 'number'], maxLength: 40 } as const;
export const optionalTime = { type: ['string', 'number', 'null'], maxLength: 40 } as const;

export function text(limits: SchemaLimits): object {
  return { type: 'string', minLength: 1, maxLength: limits.maxStringLength };
}

/** Optional text; null is the same as absent (exports often write null for empty cells). */
export function optionalText(limits: SchemaLimits): object {
  return { type: ['string', 'null'], maxLength: limits.maxStringLength };
}

export function oneOf(values: readonly string[]): object {
  return { type: 'string', enum: [...values] };
}

export function region(limits: SchemaLimits): object {
  return { type: 'string', enum: [...limits.regions] };
}

/** A whole count between 0 and max; bounded so nonsense never reaches a UInt column. */
export function count(max: number): object {
  return { type: 'integer', minimum: 0, maximum: max };
}

export function optionalCount(max: number): object {
  return { type: ['integer', 'null'], minimum: 0, maximum: max };
}

/** Durations are at most a week: a longer "talk time" is a broken source, not a call. */
export const MAX_DURATION_SECONDS = 7 * 24 * 3600;

export function objectSchema(required: readonly string[], properties: Record<string, object>): object {
  return { type: 'object', additionalProperties: false, required: [...required], properties };
}

/** `later` must not be before `earlier`; both may be absent. */
export function notBefore(errors: string[], field: string, later: number | undefined, anchorField: string, anchor: number | undefined): void {
  if (later !== undefined && anchor !== undefined && later < anchor) errors.push(`${field}: before ${anchorField}`);
}

/** null and undefined both mean "not given". */
export function orNull<T>(value: T | null | undefined): T | null {
  return value === undefined ? null : value;
}
