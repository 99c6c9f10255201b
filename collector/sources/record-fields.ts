/**
 * The fields of each record kind (RECORDS.md) and the type a CSV cell is
 * coerced to. Sources only coerce text; the collector validates, so a cell
 * that cannot be coerced is passed through as text and rejected there with
 * the collector's own message naming the field.
 */
import type { RecordKind } from '../index.js';

export type FieldType = 'text' | 'number' | 'boolean' | 'time' | 'date';

export const RECORD_FIELDS: Record<RecordKind, Readonly<Record<string, FieldType>>> = {
  calls: {
    id: 'text', region: 'text', queue: 'text', channel: 'text',
    enteredAt: 'time', answeredAt: 'time', endedAt: 'time', outcome: 'text',
    talkSeconds: 'number', holdSeconds: 'number', wrapSeconds: 'number',
    agent: 'text', customer: 'text', resolved: 'boolean',
  },
  tickets: {
    id: 'text', region: 'text', channel: 'text', category: 'text', priority: 'text',
    openedAt: 'time', firstResponseAt: 'time', resolvedAt: 'time', closedAt: 'time',
    status: 'text', reopenCount: 'number', customer: 'text', updatedAt: 'time',
  },
  faults: {
    id: 'text', region: 'text', site: 'text', domain: 'text', severity: 'text',
    detectedAt: 'time', acknowledgedAt: 'time', restoredAt: 'time',
    customersAffected: 'number', cause: 'text', updatedAt: 'time',
  },
  surveys: {
    id: 'text', region: 'text', channel: 'text', touchpoint: 'text', refId: 'text',
    answeredAt: 'time', csat: 'number', nps: 'number', ces: 'number', customer: 'text',
  },
  queues: {
    region: 'text', queue: 'text', at: 'time', waiting: 'number', longestWaitSeconds: 'number',
    agentsReady: 'number', agentsBusy: 'number', agentsPaused: 'number',
  },
  subscribers: { region: 'text', asOf: 'date', subscribers: 'number' },
};

export function fieldNames(kind: RecordKind): string[] {
  return Object.keys(RECORD_FIELDS[kind]);
}
