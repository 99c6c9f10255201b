/**
 * call: one contact through a queue (RECORDS.md). Stored in `calls`; the
 * `calls_1m` rollup is filled from it on insert, which is why the writer must
 * never insert the same call twice.
 */
import {
  MAX_DURATION_SECONDS, notBefore, objectSchema, oneOf, optionalCount, optionalText, optionalTime, orNull, region, text, time,
  type RecordSpec, type SchemaLimits,
} from './spec.js';

export const CALL_CHANNELS = ['voice', 'chat', 'video'] as const;
export const CALL_OUTCOMES = ['answered', 'abandoned', 'callback', 'overflow'] as const;

export interface CallRow {
  id: string;
  region: string;
  queue: string;
  channel: string;
  enteredAt: number;
  answeredAt: number | null;
  endedAt: number;
  outcome: string;
  /** (answeredAt ?? endedAt) − enteredAt: what every wait-based KPI reads. */
  waitSeconds: number;
  talkSeconds: number | null;
  holdSeconds: number | null;
  wrapSeconds: number | null;
  agent: string;
  customer: string;
  resolved: 0 | 1 | null;
  ingestedAt: number;
}

export function callSchema(limits: SchemaLimits): object {
  return objectSchema(['id', 'region', 'queue', 'channel', 'enteredAt', 'endedAt', 'outcome'], {
    id: text(limits),
    region: region(limits),
    queue: text(limits),
    channel: oneOf(CALL_CHANNELS),
    enteredAt: time,
    answeredAt: optionalTime,
    endedAt: time,
    outcome: oneOf(CALL_OUTCOMES),
    talkSeconds: optionalCount(MAX_DURATION_SECONDS),
    holdSeconds: optionalCount(MAX_DURATION_SECONDS),
    wrapSeconds: optionalCount(MAX_DURATION_SECONDS),
    agent: optionalText(limits),
    customer: optionalText(limits),
    resolved: { type: ['boolean', 'null'] },
  });
}

interface CallInput {
  id: string;
  region: string;
  queue: string;
  channel: string;
  outcome: string;
  talkSeconds?: number | null;
  holdSeconds?: number | null;
  wrapSeconds?: number | null;
  agent?: string | null;
  customer?: string | null;
  resolved?: boolean | null;
}

export const call: RecordSpec<CallRow> = {
  kind: 'calls',
  table: 'calls',
  timeFields: ['enteredAt', 'answeredAt', 'endedAt'],
  schema: callSchema,
  normalise(record, times, ctx, errors) {
    const r = record as unknown as CallInput;
    const enteredAt = times.enteredAt as number;
    const endedAt = times.endedAt as number;
    const answeredAt = times.answeredAt;
    notBefore(errors, 'endedAt', endedAt, 'enteredAt', enteredAt);
    if (r.outcome === 'answered') {
      if (answeredAt === undefined) errors.push('answeredAt: required when outcome is answered');
    } else if (answeredAt !== undefined) {
      errors.push(`answeredAt: must be absent when outcome is ${r.outcome}`);
    }
    if (answeredAt !== undefined) {
      notBefore(errors, 'answeredAt', answeredAt, 'enteredAt', enteredAt);
      if (answeredAt > endedAt) errors.push('answeredAt: after endedAt');
    }
    if (errors.length > 0) return undefined;
    return {
      id: r.id,
      region: r.region,
      queue: r.queue,
      channel: r.channel,
      enteredAt,
      answeredAt: orNull(answeredAt),
      endedAt,
      outcome: r.outcome,
      waitSeconds: (answeredAt ?? endedAt) - enteredAt,
      talkSeconds: orNull(r.talkSeconds),
      holdSeconds: orNull(r.holdSeconds),
      wrapSeconds: orNull(r.wrapSeconds),
      agent: r.agent ?? '',
      customer: ctx.hashCustomer(r.customer),
      resolved: r.resolved === undefined || r.resolved === null ? null : r.resolved ? 1 : 0,
      ingestedAt: ctx.nowSec,
    };
  },
};
