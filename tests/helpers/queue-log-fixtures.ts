/** The queue mapping and the calls expected from tests/fixtures/queue_log/basic.queue_log, worked out by hand. */
import type { QueueMap } from '../../collector/sources/queue-log.js';

export const QUEUES: QueueMap = {
  support: { region: 'GD', queue: 'Support' },
  sales: { region: 'BJ' },
  'chat-q': { region: 'SH', queue: 'chat', channel: 'chat' },
};

/** basic.queue_log's calls, from each event's documented fields; index = the line that finished the call. */
export const BASIC_CALLS = [
  { index: 6, value: { id: 'support:1764466001.1', region: 'GD', queue: 'Support', channel: 'voice', enteredAt: 1764466001, answeredAt: 1764466012, endedAt: 1764466100, outcome: 'answered', talkSeconds: 88, agent: 'SIP/1002', customer: '13800138000' } },
  // caller id "anonymous" is no customer
  { index: 8, value: { id: 'support:1764466020.3', region: 'GD', queue: 'Support', channel: 'voice', enteredAt: 1764466020, endedAt: 1764466025, outcome: 'abandoned' } },
  { index: 10, value: { id: 'sales:1764466030.4', region: 'BJ', queue: 'sales', channel: 'voice', enteredAt: 1764466030, endedAt: 1764466090, outcome: 'overflow', customer: '13900000001' } },
  { index: 12, value: { id: 'sales:1764466031.5', region: 'BJ', queue: 'sales', channel: 'voice', enteredAt: 1764466031, endedAt: 1764466040, outcome: 'overflow', customer: '13900000002' } },
  { index: 14, value: { id: 'sales:1764466041.6', region: 'BJ', queue: 'sales', channel: 'voice', enteredAt: 1764466041, endedAt: 1764466050, outcome: 'callback', customer: '13900000003' } },
  { index: 17, value: { id: 'support:1764466060.7', region: 'GD', queue: 'Support', channel: 'voice', enteredAt: 1764466060, answeredAt: 1764466062, endedAt: 1764466200, outcome: 'answered', talkSeconds: 138, agent: 'SIP/1001', customer: '13800138001' } },
  { index: 20, value: { id: 'chat-q:1764466070.9', region: 'SH', queue: 'chat', channel: 'chat', enteredAt: 1764466070, answeredAt: 1764466075, endedAt: 1764466175, outcome: 'answered', talkSeconds: 100, agent: 'Agent/7', customer: 'user-42' } },
  { index: 23, value: { id: 'support:1764466080.11', region: 'GD', queue: 'Support', channel: 'voice', enteredAt: 1764466080, answeredAt: 1764466090, endedAt: 1764466150, outcome: 'answered', talkSeconds: 60, agent: 'SIP/1003', customer: '13800138002' } },
  { index: 26, value: { id: 'support:1764466081.13', region: 'GD', queue: 'Support', channel: 'voice', enteredAt: 1764466081, answeredAt: 1764466095, endedAt: 1764466300, outcome: 'answered', talkSeconds: 205, agent: 'SIP/1004', customer: '13800138003' } },
];
