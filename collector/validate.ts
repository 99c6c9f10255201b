/**
 * Record validation: the kind's compiled JSON Schema (ajv, all errors at once),
 * then its times (offset required, not too far in the future), then its
 * cross-field rules, giving either the table row or errors that each name the
 * field: `enteredAt: not a date-time`, `region: unknown region "XX"`.
 *
 * This runs once per record on the ingest hot path, so validators are compiled
 * once per collector and nothing here queries the store.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { SqmConfig } from '../config/index.js';
import type { RecordKind } from './kinds.js';
import { RECORD_SPECS, type NormaliseContext, type RecordSpec, type SchemaLimits, type Times } from './records/index.js';
import { parseTime } from './time.js';

export interface RecordValidator {
  /**
   * The row for the kind's table, or the record's errors (an array). The
   * context (ingest time, customer hasher) is made once per batch, not per record.
   */
  validate(value: unknown, context: NormaliseContext): object | string[];
}

export function schemaLimits(config: SqmConfig): SchemaLimits {
  return { regions: config.regions.map((r) => r.code), maxStringLength: config.ingest.maxStringLength };
}

function fieldOf(error: ErrorObject): string {
  if (error.instancePath === '') return '(record)';
  return error.instancePath.slice(1).replace(/\//g, '.');
}

function typeName(type: unknown): string {
  const first = (Array.isArray(type) ? type.filter((t) => t !== 'null') : [type])[0];
  switch (first) {
    case 'object': return 'an object';
    case 'integer': return 'an integer';
    case 'array': return 'an array';
    default: return `a ${String(first)}`;
  }
}

/**
 * ajv's errors as `field: reason`. One reason per field: when a value has the
 * wrong type, its enum or length errors say nothing more. Any error on a time
 * field is "not a date-time", whatever keyword caught it.
 */
export function formatSchemaErrors(errors: readonly ErrorObject[], record: Record<string, unknown>, timeFields: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const typed = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  for (const error of errors) {
    let field = fieldOf(error);
    let reason: string;
    switch (error.keyword) {
      case 'required':
        field = String((error.params as { missingProperty: string }).missingProperty);
        reason = 'is required';
        break;
      case 'additionalProperties':
        field = String((error.params as { additionalProperty: string }).additionalProperty);
        reason = 'is not a field of this record kind';
        break;
      case 'type':
        reason = field === '(record)' ? 'must be an object' : `must be ${typeName((error.params as { type: unknown }).type)}`;
        break;
      case 'enum': {
        if (typed.has(error.instancePath)) continue;
        const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
        reason = field === 'region'
          ? `unknown region ${JSON.stringify(record.region)}`
          : `must be one of ${allowed.join(', ')}`;
        break;
      }
      case 'minLength':
        reason = 'must not be empty';
        break;
      case 'maxLength':
        reason = `longer than ${(error.params as { limit: number }).limit} characters`;
        break;
      case 'minimum':
        reason = `must be at least ${(error.params as { limit: number }).limit}`;
        break;
      case 'maximum':
        reason = `must be at most ${(error.params as { limit: number }).limit}`;
        break;
      default:
        reason = error.message ?? 'is not valid';
    }
    if (timeFields.has(field) && error.keyword !== 'required' && error.keyword !== 'additionalProperties') reason = 'not a date-time';
    const message = `${field}: ${reason}`;
    // A field gets one reason; the first (its type, when that is wrong) is the useful one.
    const key = error.keyword === 'required' || error.keyword === 'additionalProperties' ? message : field;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(message);
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class KindValidator implements RecordValidator {
  private readonly timeFieldSet: ReadonlySet<string>;

  constructor(
    private readonly spec: RecordSpec,
    private readonly schema: ValidateFunction,
    private readonly maxFutureSeconds: number,
  ) {
    this.timeFieldSet = new Set(spec.timeFields);
  }

  validate(value: unknown, context: NormaliseContext): object | string[] {
    if (!isPlainObject(value)) return ['(record): must be an object'];
    const errors = this.schema(value) ? [] : formatSchemaErrors(this.schema.errors ?? [], value, this.timeFieldSet);
    const times: Times = {};
    const latest = context.nowSec + this.maxFutureSeconds;
    for (const field of this.spec.timeFields) {
      const raw = value[field];
      if (raw === undefined || raw === null) continue;
      // Values of the wrong type were already reported by the schema.
      if (typeof raw !== 'string' && typeof raw !== 'number') continue;
      const t = parseTime(raw);
      if (t === undefined) {
        if (!errors.includes(`${field}: not a date-time`)) errors.push(`${field}: not a date-time`);
      } else if (t > latest) {
        errors.push(`${field}: more than ${this.maxFutureSeconds} s in the future`);
      } else {
        times[field] = t;
      }
    }
    // JSON's \ud800 escapes can carry half a surrogate pair, which no store accepts as
    // UTF-8: refusing the record here keeps it from failing the whole batch's insert.
    for (const [field, v] of Object.entries(value)) {
      if (typeof v === 'string' && !v.isWellFormed()) errors.push(`${field}: not valid Unicode (half of a surrogate pair)`);
    }
    if (errors.length > 0) return errors;
    const row = this.spec.normalise(value, times, context, errors);
    return row ?? errors;
  }
}

/** One compiled validator per record kind, for one configuration. */
export function createValidators(config: SqmConfig): Readonly<Record<RecordKind, RecordValidator>> {
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
  const limits = schemaLimits(config);
  const entries = Object.entries(RECORD_SPECS).map(([kind, spec]) => [
    kind,
    new KindValidator(spec, ajv.compile(spec.schema(limits)), config.ingest.maxFutureSeconds),
  ]);
  return Object.fromEntries(entries) as Record<RecordKind, RecordValidator>;
}
