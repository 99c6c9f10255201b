/**
 * survey: one satisfaction answer (RECORDS.md). Stored in `surveys`, rolled up
 * into `surveys_1m` on insert, so (like calls) it must be stored once per id.
 */
import { CALL_CHANNELS } from './call.js';
import { TICKET_CHANNELS } from './ticket.js';
import {
  objectSchema, oneOf, optionalText, orNull, region, text, time,
  type RecordSpec, type SchemaLimits,
} from './spec.js';

/** A survey follows any contact, so its channel is any call or ticket channel. */
export const SURVEY_CHANNELS = [...CALL_CHANNELS, ...TICKET_CHANNELS] as const;
export const SURVEY_TOUCHPOINTS = ['call', 'ticket', 'fault', 'store'] as const;

export interface SurveyRow {
  id: string;
  region: string;
  channel: string;
  touchpoint: string;
  refId: string;
  answeredAt: number;
  csat: number | null;
  nps: number | null;
  ces: number | null;
  customer: string;
  ingestedAt: number;
}

function score(min: number, max: number): object {
  return { type: ['integer', 'null'], minimum: min, maximum: max };
}

export function surveySchema(limits: SchemaLimits): object {
  return objectSchema(['id', 'region', 'channel', 'touchpoint', 'answeredAt'], {
    id: text(limits),
    region: region(limits),
    channel: oneOf(SURVEY_CHANNELS),
    touchpoint: oneOf(SURVEY_TOUCHPOINTS),
    refId: optionalText(limits),
    answeredAt: time,
    csat: score(1, 5),
    nps: score(0, 10),
    ces: score(1, 7),
    customer: optionalText(limits),
  });
}

interface SurveyInput {
  id: string;
  region: string;
  channel: string;
  touchpoint: string;
  refId?: string | null;
  csat?: number | null;
  nps?: number | null;
  ces?: number | null;
  customer?: string | null;
}

export const survey: RecordSpec<SurveyRow> = {
  kind: 'surveys',
  table: 'surveys',
  timeFields: ['answeredAt'],
  schema: surveySchema,
  normalise(record, times, ctx, errors) {
    const r = record as unknown as SurveyInput;
    const csat = orNull(r.csat);
    const nps = orNull(r.nps);
    const ces = orNull(r.ces);
    if (csat === null && nps === null && ces === null) {
      errors.push('(record): needs at least one of csat, nps, ces');
      return undefined;
    }
    return {
      id: r.id,
      region: r.region,
      channel: r.channel,
      touchpoint: r.touchpoint,
      refId: r.refId ?? '',
      answeredAt: times.answeredAt as number,
      csat,
      nps,
      ces,
      customer: ctx.hashCustomer(r.customer),
      ingestedAt: ctx.nowSec,
    };
  },
};
