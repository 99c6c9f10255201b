import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { importQueueLog, parseQueueLogLine, QueueLogAssembler } from '../../collector/sources/queue-log.js';
import { captureSink } from '../helpers/capture-sink.js';
import { BASIC_CALLS, QUEUES } from '../helpers/queue-log-fixtures.js';

const FIXTURES = new URL('../fixtures/queue_log/', import.meta.url);

describe('parseQueueLogLine', () => {
  it('splits the documented layout and keeps every data field', () => {
    expect(parseQueueLogLine('1366720340|1366720340.303267|MYQUEUE|SIP/8007|RINGNOANSWER|1000')).toEqual({
      event: { time: 1366720340, callid: '1366720340.303267', queue: 'MYQUEUE', agent: 'SIP/8007', event: 'RINGNOANSWER', data: ['1000'] },
    });
  });
  it('says what is wrong with a line', () => {
    expect(parseQueueLogLine('a|b')).toEqual({ error: '2 fields; a queue_log line has at least 5 (time|callid|queue|agent|event)' });
    expect(parseQueueLogLine('x|1|q|NONE|ABANDON')).toEqual({ error: 'time "x" is not a Unix time' });
    expect(parseQueueLogLine('')).toBeNull();
  });
});

describe('importQueueLog: basic.queue_log', () => {
  it('assembles one call per queue visit from every event', async () => {
    const sink = captureSink();
    const summary = await importQueueLog({
      input: createReadStream(new URL('basic.queue_log', FIXTURES)), queues: QUEUES, sink, source: 'queue_log:basic.queue_log',
    });
    expect(sink.records).toEqual(BASIC_CALLS);
    expect(sink.batches.map((b) => [b.kind, b.source])).toEqual([['calls', 'queue_log:basic.queue_log']]);
    expect(summary).toMatchObject({
      linesRead: 32, calls: 9, accepted: 9, rejected: 0, rejectedRows: [],
      // QUEUESTART, ADDMEMBER, RINGNOANSWER, the COMPLETEAGENT after the ATTENDEDTRANSFER, PAUSE, AGENTDUMP
      ignored: 6,
      malformed: 0, inconsistent: 0, problems: [],
      unmappedQueues: [{ queue: 'mystery', lines: 2, firstLines: [28, 29] }],
      unfinished: 1,
    });
  });

  it('never reads RINGNOANSWER milliseconds or CONNECT ringtime as seconds of anything', async () => {
    const sink = captureSink();
    await importQueueLog({ input: createReadStream(new URL('basic.queue_log', FIXTURES)), queues: QUEUES, sink, source: 't' });
    const first = sink.records[0]!.value as Record<string, unknown>;
    // holdtime is the queue wait, not an agent hold: holdSeconds stays absent
    expect(first).not.toHaveProperty('holdSeconds');
    expect(first.answeredAt as number - (first.enteredAt as number)).toBe(11);
  });

  it('maps the rejected calls back to the lines that finished them', async () => {
    const sink = captureSink((r) => ((r.value as { outcome: string }).outcome === 'overflow' ? ['queue: no'] : undefined));
    const summary = await importQueueLog({ input: createReadStream(new URL('basic.queue_log', FIXTURES)), queues: QUEUES, sink, source: 't' });
    expect(summary.accepted).toBe(7);
    expect(summary.rejectedRows).toEqual([{ line: 10, errors: ['queue: no'] }, { line: 12, errors: ['queue: no'] }]);
  });

  it('reports every call as unmapped when no queue is configured, never guessing a region', async () => {
    // counted: lines of the events a call is built from (support: lines 3 5 6 7 8 15 16 17 21-27 30)
    const sink = captureSink();
    const summary = await importQueueLog({ input: createReadStream(new URL('basic.queue_log', FIXTURES)), queues: {}, sink, source: 't' });
    expect(sink.records).toEqual([]);
    expect(summary.unmappedQueues.map((q) => [q.queue, q.lines])).toEqual([['support', 16], ['sales', 6], ['chat-q', 3], ['mystery', 2]]);
  });

  it('sends batches of at most 5,000 calls', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 12_001; i++) {
      lines.push(`${1764466000 + i}|c${i}|sales|NONE|ENTERQUEUE||1390000|1`, `${1764466003 + i}|c${i}|sales|NONE|ABANDON|1|1|3`);
    }
    const sink = captureSink();
    const summary = await importQueueLog({ input: Readable.from([lines.join('\n')]), queues: QUEUES, sink, source: 't' });
    expect(sink.batches.map((b) => b.records.length)).toEqual([5000, 5000, 2001]);
    expect(summary.accepted).toBe(12_001);
  });
});

describe('importQueueLog: malformed.queue_log', () => {
  it('reports each bad line with its number and goes on', async () => {
    const sink = captureSink();
    const summary = await importQueueLog({ input: createReadStream(new URL('malformed.queue_log', FIXTURES)), queues: QUEUES, sink, source: 't' });
    expect(summary.problems).toEqual([
      { line: 2, reason: '1 field; a queue_log line has at least 5 (time|callid|queue|agent|event)' },
      { line: 3, reason: 'time "abc" is not a Unix time' },
      { line: 4, reason: 'event "enterqueue" is not an event name' },
      { line: 6, reason: 'CONNECT holdtime "abc" is not a whole number of seconds' },
      { line: 8, reason: 'EXITEMPTY for support:y.2 without its ENTERQUEUE and without the durations to tell when it entered' },
      { line: 9, reason: 'ABANDON waittime "abc" is not a whole number of seconds' },
      { line: 10, reason: '3 fields; a queue_log line has at least 5 (time|callid|queue|agent|event)' },
    ]);
    expect(summary).toMatchObject({ linesRead: 11, malformed: 6, inconsistent: 1, calls: 2 });
    expect(sink.records).toEqual([
      // No ENTERQUEUE and its CONNECT was unreadable: entry and answer come from COMPLETECALLER's holdtime 5 and calltime 10.
      { index: 7, value: { id: 'support:x.1', region: 'GD', queue: 'Support', channel: 'voice', enteredAt: 1764466045, answeredAt: 1764466050, endedAt: 1764466060, outcome: 'answered', talkSeconds: 10, agent: 'SIP/1' } },
      { index: 11, value: { id: 'support:a.1', region: 'GD', queue: 'Support', channel: 'voice', enteredAt: 1764466000, endedAt: 1764466100, outcome: 'abandoned', customer: '13800000001' } },
    ]);
  });

  it('survives arbitrary bytes without throwing', async () => {
    const junk = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256));
    const summary = await importQueueLog({ input: Readable.from([junk]), queues: QUEUES, sink: captureSink(), source: 't' });
    expect(summary.calls).toBe(0);
    expect(summary.linesRead).toBeGreaterThan(0);
  });
});

describe('QueueLogAssembler', () => {
  it('drops calls that never finish after maxOpenSeconds and says so', () => {
    const a = new QueueLogAssembler(QUEUES, { maxOpenSeconds: 60 });
    a.push('1000|old|sales|NONE|ENTERQUEUE||1|1', 1);
    for (let i = 0; i < 1000; i++) a.push(`${2000 + i}|NONE|sales|SIP/1|PAUSE|`, 2 + i);
    expect(a.openCalls).toBe(0);
    expect(a.stats.expired).toBe(1);
    expect(a.stats.problems[0]).toEqual({ line: 1, reason: 'sales:old entered at line 1 never finished within 60 s; dropped' });
  });

  it('refuses a line stamped in the future instead of letting it expire every open call', () => {
    const now = 1764466100; // 2025-11-30T01:28:20Z
    const a = new QueueLogAssembler(QUEUES, { maxOpenSeconds: 60, now: () => now });
    a.push(`${now - 30}|k.2|support|NONE|ENTERQUEUE||13800138002|1`, 1);
    a.push(`${now + 10 * 86400}|junk|support|SIP/1|PAUSE|`, 2);
    for (let i = 0; i < 1000; i++) a.push(`${now - 20}|NONE|support|SIP/1|PAUSE|`, 3 + i);
    expect(a.openCalls).toBe(1);
    expect(a.stats.expired).toBe(0);
    expect(a.stats.malformed).toBe(1);
    expect(a.stats.problems[0]).toEqual({ line: 2, reason: `time ${now + 10 * 86400} is in the future` });
    expect(a.push(`${now}|k.2|support|NONE|ABANDON|1|1|30`, 1003)?.value).toMatchObject({ outcome: 'abandoned', enteredAt: now - 30 });
  });

  it('snapshot and restore carry a call in progress', () => {
    const a = new QueueLogAssembler(QUEUES);
    a.push('1764466060|k.1|support|NONE|ENTERQUEUE||13800138001|1', 1);
    a.push('1764466062|k.1|support|SIP/1001|CONNECT|2|u|1', 2);
    const b = new QueueLogAssembler(QUEUES);
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    expect(b.push('1764466200|k.1|support|SIP/1001|COMPLETEAGENT|2|138|1', 1)?.value).toMatchObject({
      enteredAt: 1764466060, answeredAt: 1764466062, endedAt: 1764466200, talkSeconds: 138, customer: '13800138001',
    });
  });

  it('basic.queue_log has the lines the test above counts', () => {
    expect(readFileSync(new URL('basic.queue_log', FIXTURES), 'utf8').trimEnd().split('\n')).toHaveLength(32);
  });
});
