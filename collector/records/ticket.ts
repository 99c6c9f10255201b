/**
 * ticket: a snapshot of a work order (RECORDS.md). The table is
 * ReplacingMergeTree(updatedAt) and readers take argMax(…, updatedAt), so a
 * snapshot older than one already stored never wins, whenever it arrives.
 */
import { TICKET_PRIORITIES } from '../../config/index.js';
import {
  notBefore, objectSchema, oneOf, optionalCount, optionalText, optionalTime, orNull, region, text, time,
  type RecordSpec, type SchemaLimits,
} from './spec.js';

export const TICKET_CHANNELS = ['hotline', 'app', 'web', 'wechat', 'sms', 'store', 'social'] as const;
export const TICKET_CATEGORIES = ['complaint', 'fault', 'inquiry', 'request'] as const;
export const TICKET_STATUSES = ['open', 'in_progress', 'pending', 'resolved', 'closed'] as const;
export { TICKET_PRIORITIES };

export interface TicketRow {
  id: string;
  region: string;
  channel: string;
  category: string;
  priority: string;
  openedAt: number;
  firstResponseAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
  status: string;
  reopenCount: number;
  customer: string;
  updatedAt: number;
  ingestedAt: number;
}

export function ticketSchema(limits: SchemaLimits): object {
  return objectSchema(['id', 'region', 'channel', 'category', 'priority', 'openedAt', 'status', 'updatedAt'], {
    id: text(limits),
    region: region(limits),
    channel: oneOf(TICKET_CHANNELS),
    category: oneOf(TICKET_CATEGORIES),
    priority: oneOf(TICKET_PRIORITIES),
    openedAt: time,
    firstResponseAt: optionalTime,
    resolvedAt: optionalTime,
    closedAt: optionalTime,
    status: oneOf(TICKET_STATUSES),
    reopenCount: optionalCount(10_000),
    customer: optionalText(limits),
    updatedAt: time,
  });
}

interface TicketInput {
  id: string;
  region: string;
  channel: string;
  category: string;
  priority: string;
  status: string;
  reopenCount?: number | null;
  customer?: string | null;
}

export const ticket: RecordSpec<TicketRow> = {
  kind: 'tickets',
  table: 'tickets',
  timeFields: ['openedAt', 'firstResponseAt', 'resolvedAt', 'closedAt', 'updatedAt'],
  schema: ticketSchema,
  normalise(record, times, ctx, errors) {
    const r = record as unknown as TicketInput;
    const openedAt = times.openedAt as number;
    notBefore(errors, 'firstResponseAt', times.firstResponseAt, 'openedAt', openedAt);
    notBefore(errors, 'resolvedAt', times.resolvedAt, 'openedAt', openedAt);
    notBefore(errors, 'closedAt', times.closedAt, 'openedAt', openedAt);
    notBefore(errors, 'updatedAt', times.updatedAt, 'openedAt', openedAt);
    if (errors.length > 0) return undefined;
    return {
      id: r.id,
      region: r.region,
      channel: r.channel,
      category: r.category,
      priority: r.priority,
      openedAt,
      firstResponseAt: orNull(times.firstResponseAt),
      resolvedAt: orNull(times.resolvedAt),
      closedAt: orNull(times.closedAt),
      status: r.status,
      reopenCount: r.reopenCount ?? 0,
      customer: ctx.hashCustomer(r.customer),
      updatedAt: times.updatedAt as number,
      ingestedAt: ctx.nowSec,
    };
  },
};
