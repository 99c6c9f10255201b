import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RecordKind } from '../../collector/index.js';
import { emptyMapping, type CsvMapping } from '../../collector/sources/csv-mapping.js';
import { CsvRowReader, type RowEvent } from '../../collector/sources/csv-rows.js';
import { coerceCell, CsvImportError, importCsv } from '../../collector/sources/csv.js';
import { localToIso } from '../../collector/sources/time-zone.js';
import { captureSink } from '../helpers/capture-sink.js';

function rows(text: string | string[], maxRecordBytes?: number): RowEvent[] {
  const out: RowEvent[] = [];
  const reader = new CsvRowReader((e) => out.push(e), maxRecordBytes ? { maxRecordBytes } : {});
  for (const chunk of Array.isArray(text) ? text : [text]) reader.write(Buffer.from(chunk));
  reader.end();
  return out;
}

async function run(kind: RecordKind, text: string | string[], mapping: Partial<CsvMapping> = {}, reject?: Parameters<typeof captureSink>[0]) {
  const sink = captureSink(reject);
  const summary = await importCsv({
    kind,
    input: Readable.from((Array.isArray(text) ? text : [text]).map((t) => Buffer.from(t))),
    mapping: { ...emptyMapping(), ...mapping },
    timezone: 'Asia/Shanghai',
    sink,
    source: 'csv:test.csv',
  });
  return { summary, sink, values: sink.records.map((r) => r.value) };
}

describe('CsvRowReader', () => {
  it('gives each row its file line, the header being line 1, across blank lines and multi-line fields', () => {
    expect(rows('a,b\n1,2\n\n3,"x\ny"\r\n5,6')).toEqual([
      { type: 'row', line: 1, cells: ['a', 'b'] },
      { type: 'row', line: 2, cells: ['1', '2'] },
      { type: 'row', line: 4, cells: ['3', 'x\ny'] },
      { type: 'row', line: 6, cells: ['5', '6'] },
    ]);
  });

  it('is the same whatever the chunking, including a multi-byte character split between chunks', () => {
    const text = 'a,b\n"广东",2\n3,"x\n""q"""\n';
    const whole = rows(text);
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const out: RowEvent[] = [];
      const reader = new CsvRowReader((e) => out.push(e));
      reader.write(bytes.subarray(0, cut));
      reader.write(bytes.subarray(cut));
      reader.end();
      expect(out).toEqual(whole);
    }
    expect(whole[1]).toEqual({ type: 'row', line: 2, cells: ['广东', '2'] });
    expect(whole[2]).toEqual({ type: 'row', line: 3, cells: ['3', 'x\n"q"'] });
  });

  it('reports quote abuse by line and reads on from the next line', () => {
    const out = rows([
      'a,b\n',
      '1,"b"c\n', //   line 2: text after a closing quote
      '3,4\n',
      '5,b"c\n', //    line 4: a quote inside an unquoted field (odd count: it would swallow what follows)
      '7,8\n',
      '9,"never closed\n', // line 6
      '11,12\n',
    ]);
    expect(out.map((e) => (e.type === 'row' ? [e.line, ...e.cells] : [e.line, e.type]))).toEqual([
      [1, 'a', 'b'], [2, 'bad'], [3, '3', '4'], [4, 'bad'], [5, '7', '8'], [6, 'bad'], [7, '11', '12'],
    ]);
    const bad = out.filter((e) => e.type === 'bad');
    expect(bad[0]).toMatchObject({ raw: '1,"b"c', reason: expect.stringMatching(/^Invalid Closing Quote/) });
    expect(bad[1]).toMatchObject({ raw: '5,b"c', reason: expect.stringMatching(/^Invalid Opening Quote/) });
    expect(bad[2]).toMatchObject({ raw: '9,"never closed', reason: 'Quote Not Closed: a quoted field is still open at the end of the file' });
  });

  it('gives up on a quote still open after maxRecordBytes instead of reading the whole file into one field', () => {
    const text = `a,b\n1,"open\n${'2,3\n'.repeat(100)}`;
    const out = rows(text, 64);
    expect(out[1]).toMatchObject({ type: 'bad', line: 2, reason: 'Quote Not Closed: a quoted field is still open after 64 bytes' });
    expect(out.slice(2).map((e) => e.line)).toEqual(Array.from({ length: 100 }, (_, i) => i + 3));
  });

  it('never throws on random bytes', () => {
    let seed = 7;
    const bytes = Buffer.from(Array.from({ length: 20_000 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return [34, 44, 10, 13, 97, 0xe5][seed % 6]!;
    }));
    expect(() => rows(bytes.toString('latin1'))).not.toThrow();
  });
});

describe('coercion', () => {
  it('turns plain text into numbers, booleans and times, and leaves the rest for the collector to judge', () => {
    expect(coerceCell('number', '42', 'UTC')).toBe(42);
    expect(coerceCell('number', '-1.5', 'UTC')).toBe(-1.5);
    expect(coerceCell('number', '4 2', 'UTC')).toBe('4 2');
    for (const t of ['true', 'TRUE', '1', 'Y', 'y', 'yes']) expect(coerceCell('boolean', t, 'UTC')).toBe(true);
    for (const f of ['false', '0', 'N', 'no']) expect(coerceCell('boolean', f, 'UTC')).toBe(false);
    expect(coerceCell('boolean', 'maybe', 'UTC')).toBe('maybe');
    expect(coerceCell('time', '1764466000', 'UTC')).toBe(1764466000);
    expect(coerceCell('time', '2026-11-30T09:15:02+08:00', 'UTC')).toBe('2026-11-30T09:15:02+08:00');
    expect(coerceCell('time', '2026-11-30 09:15:02', 'Asia/Shanghai')).toBe('2026-11-30T09:15:02+08:00');
    expect(coerceCell('time', '30/11/2026', 'UTC')).toBe('30/11/2026');
    expect(coerceCell('date', '2026-11-30', 'UTC')).toBe('2026-11-30');
  });

  it('gives a bare local time the offset its zone had then, DST included', () => {
    expect(localToIso('2026-07-01 12:00', 'Europe/Berlin')).toBe('2026-07-01T12:00:00+02:00');
    expect(localToIso('2026-01-01 12:00:00', 'Europe/Berlin')).toBe('2026-01-01T12:00:00+01:00');
    expect(localToIso('2026-03-08 01:30:00', 'America/New_York')).toBe('2026-03-08T01:30:00-05:00');
    expect(localToIso('2026-11-30 23:59:59', 'UTC')).toBe('2026-11-30T23:59:59+00:00');
  });
});

describe('importCsv', () => {
  it('imports an export with foreign headers through a mapping', async () => {
    const csv = [
      'Call Id,Queue,Entered,Answered,Ended,Answered (Y/N),Talk (s),Notes',
      'C-1,hotline,2026-11-30 09:00:00,2026-11-30 09:00:12,2026-11-30 09:03:00,Y,168,vip',
      'C-2,hotline,2026-11-30 09:01:00,,2026-11-30 09:01:40,N,,',
    ].join('\n');
    const { summary, values, sink } = await run('calls', csv, {
      columns: { 'Call Id': 'id', Queue: 'queue', Entered: 'enteredAt', Answered: 'answeredAt', Ended: 'endedAt', 'Answered (Y/N)': 'outcome', 'Talk (s)': 'talkSeconds' },
      fixed: { region: 'GD', channel: 'voice' },
      values: { 'Answered (Y/N)': { Y: 'answered', N: 'abandoned' } },
    });
    expect(values).toEqual([
      { id: 'C-1', queue: 'hotline', enteredAt: '2026-11-30T09:00:00+08:00', answeredAt: '2026-11-30T09:00:12+08:00', endedAt: '2026-11-30T09:03:00+08:00', outcome: 'answered', talkSeconds: 168, region: 'GD', channel: 'voice' },
      // empty cells are absent fields
      { id: 'C-2', queue: 'hotline', enteredAt: '2026-11-30T09:01:00+08:00', endedAt: '2026-11-30T09:01:40+08:00', outcome: 'abandoned', region: 'GD', channel: 'voice' },
    ]);
    expect(sink.records.map((r) => r.index)).toEqual([2, 3]);
    expect(summary).toEqual({ kind: 'calls', rowsRead: 2, accepted: 2, rejected: 0, rejectedRows: [], ignoredColumns: ['Notes'] });
  });

  it('coerces every kind by its field types', async () => {
    const cases: [RecordKind, string, Record<string, unknown>][] = [
      ['tickets', 'id,region,channel,category,priority,openedAt,status,reopenCount,updatedAt\nT1,BJ,app,fault,high,1764466000,open,2,1764466100',
        { id: 'T1', region: 'BJ', channel: 'app', category: 'fault', priority: 'high', openedAt: 1764466000, status: 'open', reopenCount: 2, updatedAt: 1764466100 }],
      ['faults', 'id,region,domain,severity,detectedAt,customersAffected,updatedAt\nF1,SH,core,major,2026-11-30 08:00,1200,2026-11-30 08:05',
        { id: 'F1', region: 'SH', domain: 'core', severity: 'major', detectedAt: '2026-11-30T08:00:00+08:00', customersAffected: 1200, updatedAt: '2026-11-30T08:05:00+08:00' }],
      ['surveys', 'id,region,channel,touchpoint,answeredAt,csat,nps\nS1,GD,voice,call,1764466000,5,9',
        { id: 'S1', region: 'GD', channel: 'voice', touchpoint: 'call', answeredAt: 1764466000, csat: 5, nps: 9 }],
      ['queues', 'region,queue,at,waiting,longestWaitSeconds\nGD,hotline,1764466000,3,45',
        { region: 'GD', queue: 'hotline', at: 1764466000, waiting: 3, longestWaitSeconds: 45 }],
      ['subscribers', 'region,asOf,subscribers\nGD,2026-11-30,57100000', { region: 'GD', asOf: '2026-11-30', subscribers: 57100000 }],
      ['calls', 'id,resolved\nA,Y', { id: 'A', resolved: true }],
    ];
    for (const [kind, csv, expected] of cases) {
      const { values } = await run(kind, csv);
      expect(values, kind).toEqual([expected]);
    }
  });

  it('a mapping timezone overrides the default one', async () => {
    const { values } = await run('queues', 'region,queue,at,waiting,longestWaitSeconds\nGD,q,2026-11-30 09:00:00,1,1', { timezone: 'UTC' });
    expect(values[0]).toMatchObject({ at: '2026-11-30T09:00:00+00:00' });
  });

  it('reports bad rows with their file lines: unreadable ones, wrong field counts and the collector\'s rejections', async () => {
    const csv = [
      'id,region,queue,channel,enteredAt,endedAt,outcome', //      1
      'a,GD,q,voice,1764466000,1764466060,answered', //            2
      'b,XX,q,voice,1764466000,1764466060,answered', //            3 rejected by the sink (region)
      'c,GD,q,voice,1764466000', //                                4 too few fields
      '', //                                                       5 blank, not a row
      'd,GD,"q"x,voice,1764466000,1764466060,answered', //         6 quote abuse
      'e,GD,q,voice,1764466000,1764466060,answered', //            7
    ].join('\n');
    const { summary, sink } = await run('calls', csv, {}, (r) => ((r.value as { region?: string }).region === 'XX' ? ['region: unknown region "XX"'] : undefined));
    expect(summary.rowsRead).toBe(5);
    expect(summary.accepted).toBe(2);
    expect(summary.rejected).toBe(3);
    expect(summary.rejectedRows).toEqual([
      { line: 3, errors: ['region: unknown region "XX"'] },
      { line: 4, errors: ['(record): 5 fields, the header has 7'] },
      { line: 6, errors: [expect.stringMatching(/^\(record\): Invalid Closing Quote: got "x"/)] },
    ]);
    // the unreadable rows reach the sink with their text, for the dead-letter store
    expect(sink.records.filter((r) => r.parseError)).toEqual([
      { index: 4, raw: 'c,GD,q,voice,1764466000', parseError: '5 fields, the header has 7' },
      { index: 6, raw: 'd,GD,"q"x,voice,1764466000,1764466060,answered', parseError: expect.stringMatching(/^Invalid Closing Quote/) },
    ]);
  });

  it('lists the first 20 rejected rows and counts them all; sends batches of at most 5,000', async () => {
    const lines = ['id,region'];
    for (let i = 0; i < 12_000; i++) lines.push(`r${i},${i % 500 === 0 ? 'XX' : 'GD'}`);
    const { summary, sink } = await run('calls', lines.join('\n'), {}, (r) => ((r.value as { region: string }).region === 'XX' ? ['region: unknown'] : undefined));
    expect(sink.batches.map((b) => b.records.length)).toEqual([5000, 5000, 2000]);
    expect(summary.rejected).toBe(24);
    expect(summary.rejectedRows).toHaveLength(20);
    expect(summary.rejectedRows.slice(0, 3).map((r) => r.line)).toEqual([2, 502, 1002]);
    expect(summary.accepted).toBe(12_000 - 24);
  });

  it('fails the whole import, naming the cause, when the file cannot be imported at all', async () => {
    await expect(run('calls', '')).rejects.toThrow(new CsvImportError('the file is empty: no header row'));
    await expect(run('calls', 'Call Id,x\n1,2', { columns: { 'Call ID': 'id' } })).rejects.toThrow('map: the file has no column "Call ID" (its columns: Call Id, x)');
    await expect(run('calls', '"unclosed,header\n1,2\n')).rejects.toThrow(/^line 1: the header row cannot be read: Quote Not Closed/);
  });

  it('strips a byte-order mark and accepts another delimiter', async () => {
    const { values } = await run('subscribers', '\ufeffregion;asOf;subscribers\nGD;2026-11-30;5', { delimiter: ';' });
    expect(values).toEqual([{ region: 'GD', asOf: '2026-11-30', subscribers: 5 }]);
  });
});
