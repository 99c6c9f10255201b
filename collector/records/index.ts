/** Every record kind's spec, by kind. */
import type { RecordKind } from '../kinds.js';
import { call } from './call.js';
import { fault } from './fault.js';
import { queueState } from './queue-state.js';
import type { RecordSpec } from './spec.js';
import { subscriber } from './subscriber.js';
import { survey } from './survey.js';
import { ticket } from './ticket.js';

export const RECORD_SPECS: Readonly<Record<RecordKind, RecordSpec>> = {
  calls: call,
  tickets: ticket,
  faults: fault,
  surveys: survey,
  queues: queueState,
  subscribers: subscriber,
};

export * from './spec.js';
export type { CallRow } from './call.js';
export type { TicketRow } from './ticket.js';
export type { FaultRow } from './fault.js';
export type { SurveyRow } from './survey.js';
export type { QueueStateRow } from './queue-state.js';
export type { SubscriberRow } from './subscriber.js';
