import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import { createCustomerHasher } from '../../collector/customer.js';
import { createValidators } from '../../collector/validate.js';
import type { NormaliseContext } from '../../collector/records/index.js';

const config = loadConfig();
const validators = createValidators(config);
const hashCustomer = createCustomerHasher('test-secret-0123456789abcdef0123456789abcdef');
// "Now" is 2026-11-30T01:20:02Z; 09:15:02+08:00 is five minutes earlier.
const NOW = 1796001602;
const ctx: NormaliseContext = { nowSec: NOW, hashCustomer };
const T = 1796001302; // 2026-11-30T09:15:02+08:00

const call = {
  id: 'c-1', region: 'GD', queue: 'q1', channel: 'voice',
  enteredAt: '2026-11-30T09:15:02+08:00', answeredAt: '2026-11-30T09:15:22+08:00', endedAt: T + 200,
  outcome: 'answered', talkSeconds: 150, holdSeconds: 10, wrapSeconds: 20, agent: 'a7', customer: '+86 138-0013-8000', resolved: true,
};

const errorsOf = (kind: keyof typeof validators, value: unknown): string[] => {
  const result = validators[kind].validate(value, ctx);
  if (!Array.isArray(result)) throw new Error(`expected errors, got a row: ${JSON.stringify(result)}`);
  return result;
};
const rowOf = (kind: keyof typeof validators, value: unknown): Record<string, unknown> => {
  const result = validators[kind].validate(value, ctx);
  if (Array.isArray(result)) throw new Error(`expected a row, got ${result.join('; ')}`);
  return result as Record<string, unknown>;
};

describe('call records', () => {
  it('normalise to the calls row: UTC epoch seconds, wait from answer, hashed customer', () => {
    expect(rowOf('calls', call)).toEqual({
      id: 'c-1', region: 'GD', queue: 'q1', channel: 'voice',
      enteredAt: T, answeredAt: T + 20, endedAt: T + 200, outcome: 'answered', waitSeconds: 20,
      talkSeconds: 150, holdSeconds: 10, wrapSeconds: 20, agent: 'a7',
      customer: hashCustomer('13800138000'), resolved: 1, ingestedAt: NOW,
    });
  });

  it('take the wait of an unanswered call up to its end, and store absent optionals as null or empty', () => {
    const row = rowOf('calls', {
      id: 'c-2', region: 'BJ', queue: 'q', channel: 'chat', enteredAt: T, endedAt: T + 4, outcome: 'abandoned', agent: null,
    });
    expect(row).toMatchObject({ answeredAt: null, waitSeconds: 4, talkSeconds: null, agent: '', customer: '', resolved: null });
  });

  it('name the field in every schema error', () => {
    expect(errorsOf('calls', 'nope')).toEqual(['(record): must be an object']);
    expect(errorsOf('calls', [call])).toEqual(['(record): must be an object']);
    expect(errorsOf('calls', { ...call, enteredAt: '2026-11-30 09:15' })).toEqual(['enteredAt: not a date-time']);
    expect(errorsOf('calls', { ...call, enteredAt: true })).toEqual(['enteredAt: not a date-time']);
    expect(errorsOf('calls', { ...call, region: 'XX' })).toEqual(['region: unknown region "XX"']);
    expect(errorsOf('calls', { ...call, outcome: 'hung-up' })).toEqual(['outcome: must be one of answered, abandoned, callback, overflow']);
    expect(errorsOf('calls', { ...call, talkSeconds: '150' })).toEqual(['talkSeconds: must be an integer']);
    expect(errorsOf('calls', { ...call, talkSeconds: -1 })).toEqual(['talkSeconds: must be at least 0']);
    expect(errorsOf('calls', { ...call, queue: 'q'.repeat(257) })).toEqual(['queue: longer than 256 characters']);
    expect(errorsOf('calls', { ...call, id: '' })).toEqual(['id: must not be empty']);
    expect(errorsOf('calls', { ...call, colour: 'blue' })).toEqual(['colour: is not a field of this record kind']);
    const { queue: _q, ...noQueue } = call;
    expect(errorsOf('calls', noQueue)).toEqual(['queue: is required']);
  });

  it('report every problem of a record at once', () => {
    const { id: _id, ...noId } = call;
    expect(errorsOf('calls', { ...noId, region: 7, channel: 'fax', endedAt: 'later' })).toEqual([
      'id: is required', 'region: must be a string', 'channel: must be one of voice, chat, video', 'endedAt: not a date-time',
    ]);
  });

  it('refuse a time more than maxFutureSeconds ahead, and accept one exactly at the limit', () => {
    const limit = NOW + config.ingest.maxFutureSeconds;
    const ok = { ...call, answeredAt: undefined, outcome: 'abandoned', enteredAt: limit - 10, endedAt: limit };
    expect(rowOf('calls', ok).endedAt).toBe(limit);
    expect(errorsOf('calls', { ...ok, endedAt: limit + 1 })).toEqual(['endedAt: more than 600 s in the future']);
  });

  it('apply the cross-field rules', () => {
    expect(errorsOf('calls', { ...call, endedAt: T - 1, answeredAt: undefined, outcome: 'overflow' })).toEqual(['endedAt: before enteredAt']);
    const { answeredAt: _a, ...unanswered } = call;
    expect(errorsOf('calls', unanswered)).toEqual(['answeredAt: required when outcome is answered']);
    expect(errorsOf('calls', { ...call, outcome: 'callback' })).toEqual(['answeredAt: must be absent when outcome is callback']);
    expect(errorsOf('calls', { ...call, answeredAt: T - 1 })).toEqual(['answeredAt: before enteredAt']);
    expect(errorsOf('calls', { ...call, answeredAt: T + 201 })).toEqual(['answeredAt: after endedAt']);
  });
});

describe('ticket and fault snapshots', () => {
  const ticket = {
    id: 't-1', region: 'SH', channel: 'wechat', category: 'complaint', priority: 'urgent',
    openedAt: T, firstResponseAt: T + 60, status: 'in_progress', updatedAt: T + 60, customer: '13800138000',
  };
  it('normalise tickets, defaulting reopenCount to 0', () => {
    expect(rowOf('tickets', ticket)).toEqual({
      id: 't-1', region: 'SH', channel: 'wechat', category: 'complaint', priority: 'urgent', openedAt: T,
      firstResponseAt: T + 60, resolvedAt: null, closedAt: null, status: 'in_progress', reopenCount: 0,
      customer: hashCustomer('13800138000'), updatedAt: T + 60, ingestedAt: NOW,
    });
  });
  it('refuse ticket times before openedAt and unknown enums', () => {
    expect(errorsOf('tickets', { ...ticket, firstResponseAt: T - 1, closedAt: T - 5 })).toEqual([
      'firstResponseAt: before openedAt', 'closedAt: before openedAt',
    ]);
    expect(errorsOf('tickets', { ...ticket, status: 'done', priority: 'p1' })).toEqual([
      'priority: must be one of urgent, high, normal, low', 'status: must be one of open, in_progress, pending, resolved, closed',
    ]);
  });
  it('normalise faults and refuse times before detectedAt', () => {
    const D = T - 3600;
    const fault = { id: 'f-1', region: 'GD', domain: 'transmission', severity: 'critical', detectedAt: D, restoredAt: T, updatedAt: T, customersAffected: 12000 };
    expect(rowOf('faults', fault)).toEqual({
      id: 'f-1', region: 'GD', site: '', domain: 'transmission', severity: 'critical', detectedAt: D, acknowledgedAt: null,
      restoredAt: T, customersAffected: 12000, cause: '', updatedAt: T, ingestedAt: NOW,
    });
    expect(errorsOf('faults', { ...fault, acknowledgedAt: D - 60 })).toEqual(['acknowledgedAt: before detectedAt']);
    expect(errorsOf('faults', { ...fault, updatedAt: D - 60 })).toEqual(['updatedAt: before detectedAt']);
    expect(errorsOf('faults', { ...fault, domain: 'cable' })).toEqual(['domain: must be one of wireless, transmission, core, broadband, power']);
  });
});

describe('surveys, queue states, subscribers', () => {
  const survey = { id: 's-1', region: 'GD', channel: 'app', touchpoint: 'ticket', answeredAt: T, csat: 4 };
  it('accept any call or ticket channel on a survey, with scores in range', () => {
    expect(rowOf('surveys', survey)).toEqual({
      id: 's-1', region: 'GD', channel: 'app', touchpoint: 'ticket', refId: '', answeredAt: T,
      csat: 4, nps: null, ces: null, customer: '', ingestedAt: NOW,
    });
    expect(rowOf('surveys', { ...survey, channel: 'voice', csat: null, nps: 0 }).nps).toBe(0);
    expect(errorsOf('surveys', { ...survey, channel: 'fax' })[0]).toBe(
      'channel: must be one of voice, chat, video, hotline, app, web, wechat, sms, store, social');
  });
  it('bound csat 1-5, nps 0-10, ces 1-7 and need at least one', () => {
    expect(errorsOf('surveys', { ...survey, csat: 6, nps: 11, ces: 0 })).toEqual([
      'csat: must be at most 5', 'nps: must be at most 10', 'ces: must be at least 1',
    ]);
    expect(errorsOf('surveys', { ...survey, csat: 4.5 })).toEqual(['csat: must be an integer']);
    const { csat: _c, ...noScore } = survey;
    expect(errorsOf('surveys', noScore)).toEqual(['(record): needs at least one of csat, nps, ces']);
  });
  it('normalise queue states', () => {
    expect(rowOf('queues', { region: 'GD', queue: 'q1', at: '2026-11-30T09:15:02+08:00', waiting: 3, longestWaitSeconds: 42, agentsReady: 5 })).toEqual({
      region: 'GD', queue: 'q1', at: T, waiting: 3, longestWaitSeconds: 42, agentsReady: 5, agentsBusy: null, agentsPaused: null, ingestedAt: NOW,
    });
    expect(errorsOf('queues', { region: 'GD', queue: 'q1', at: T, waiting: -2, longestWaitSeconds: 1 })).toEqual(['waiting: must be at least 0']);
  });
  it('take subscribers asOf as a calendar date', () => {
    expect(rowOf('subscribers', { region: 'GD', asOf: '2026-11-30', subscribers: 57100000 })).toEqual({
      region: 'GD', asOf: '2026-11-30', subscribers: 57100000, ingestedAt: NOW,
    });
    expect(errorsOf('subscribers', { region: 'GD', asOf: '2026-11-31', subscribers: 1 })).toEqual(['asOf: not a date (YYYY-MM-DD)']);
    expect(errorsOf('subscribers', { region: 'GD', asOf: '2026-11-30', subscribers: 1.5 })).toEqual(['subscribers: must be an integer']);
  });
});
