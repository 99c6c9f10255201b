/** queue: a real-time sample of one queue (RECORDS.md), stored in `queue_states`. */
import {
  MAX_DURATION_SECONDS, count, objectSchema, optionalCount, orNull, region, text, time,
  type RecordSpec, type SchemaLimits,
} from './spec.js';

export interface QueueStateRow {
  region: string;
  queue: string;
  at: number;
  waiting: number;
  longestWaitSeconds: number;
  agentsReady: number | null;
  agentsBusy: number | null;
  agentsPaused: number | null;
  ingestedAt: number;
}

/** Far above any real queue or team, far below UInt32. */
const MAX_PEOPLE = 1_000_000;

export function queueStateSchema(limits: SchemaLimits): object {
  return objectSchema(['region', 'queue', 'at', 'waiting', 'longestWaitSeconds'], {
    region: region(limits),
    queue: text(limits),
    at: time,
    waiting: count(MAX_PEOPLE),
    longestWaitSeconds: count(MAX_DURATION_SECONDS),
    agentsReady: optionalCount(MAX_PEOPLE),
    agentsBusy: optionalCount(MAX_PEOPLE),
    agentsPaused: optionalCount(MAX_PEOPLE),
  });
}

interface QueueStateInput {
  region: string;
  queue: string;
  waiting: number;
  longestWaitSeconds: number;
  agentsReady?: number | null;
  agentsBusy?: number | null;
  agentsPaused?: number | null;
}

export const queueState: RecordSpec<QueueStateRow> = {
  kind: 'queues',
  table: 'queue_states',
  timeFields: ['at'],
  schema: queueStateSchema,
  normalise(record, times, ctx) {
    const r = record as unknown as QueueStateInput;
    return {
      region: r.region,
      queue: r.queue,
      at: times.at as number,
      waiting: r.waiting,
      longestWaitSeconds: r.longestWaitSeconds,
      agentsReady: orNull(r.agentsReady),
      agentsBusy: orNull(r.agentsBusy),
      agentsPaused: orNull(r.agentsPaused),
      ingestedAt: ctx.nowSec,
    };
  },
};
