import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { importQueueLog } from '../../collector/sources/queue-log.js';
import { QueueLogTailer, type TailReport } from '../../collector/sources/queue-log-tail.js';
import { captureSink, type CaptureSink } from '../helpers/capture-sink.js';
import { BASIC_CALLS, QUEUES } from '../helpers/queue-log-fixtures.js';

const BASIC = readFileSync(new URL('../fixtures/queue_log/basic.queue_log', import.meta.url), 'utf8').trimEnd().split('\n');
/** Lines a..b of basic.queue_log (1-based, inclusive), each with its newline. */
const lines = (a: number, b: number): string => BASIC.slice(a - 1, b).map((l) => `${l}\n`).join('');
const values = (sink: CaptureSink) => sink.records.map((r) => r.value);
const byId = (a: unknown, b: unknown) => String((a as { id: string }).id).localeCompare((b as { id: string }).id);

let dir: string;
let path: string;
let statePath: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sqm-tail-'));
  path = join(dir, 'queue_log');
  statePath = join(dir, 'state.json');
});

function tailer(sink: CaptureSink, reports: TailReport[] = [], errors: Error[] = [], extra: { readChunkBytes?: number } = {}) {
  return new QueueLogTailer({
    path, statePath, queues: QUEUES, sink, pollIntervalMs: 10, ...extra,
    onReport: (r) => reports.push(r),
    onError: (e) => errors.push(e),
  });
}

describe('QueueLogTailer', () => {
  it('follows appends and waits for a line to be complete', async () => {
    const sink = captureSink();
    const reports: TailReport[] = [];
    const t = tailer(sink, reports);
    await t.pollOnce(); // no file yet: nothing, no error
    writeFileSync(path, lines(1, 5));
    await t.pollOnce();
    expect(sink.records).toEqual([]);
    const sixth = lines(6, 6);
    appendFileSync(path, sixth.slice(0, 20)); // half of COMPLETECALLER
    await t.pollOnce();
    expect(sink.records).toEqual([]);
    appendFileSync(path, sixth.slice(20));
    await t.pollOnce();
    expect(sink.records).toEqual([BASIC_CALLS[0]]);
    expect(reports.map((r) => r.linesRead)).toEqual([5, 1]);
    await t.stop();
  });

  it('assembles a call that spans a rotation, reading what was written to the old file after the rename', async () => {
    const sink = captureSink();
    const t = tailer(sink);
    writeFileSync(path, lines(1, 15)); // …ENTERQUEUE of support:1764466060.7
    await t.pollOnce();
    renameSync(path, `${path}.1`);
    appendFileSync(`${path}.1`, lines(16, 16)); // its CONNECT, still written to the old file
    writeFileSync(path, lines(17, 32)); // its COMPLETEAGENT, in the new file
    await t.pollOnce();
    await t.stop();
    expect(values(sink)).toEqual(BASIC_CALLS.map((c) => c.value));
    // Lines are numbered per file: COMPLETEAGENT is line 1 of the new file.
    expect(sink.records.find((r) => (r.value as { id: string }).id === 'support:1764466060.7')?.index).toBe(1);
  });

  it('starts again from 0 after a truncation', async () => {
    const sink = captureSink();
    const t = tailer(sink);
    writeFileSync(path, lines(1, 8));
    await t.pollOnce();
    expect(values(sink)).toEqual([BASIC_CALLS[0]!.value, BASIC_CALLS[1]!.value]);
    truncateSync(path, 0);
    writeFileSync(path, lines(9, 14));
    await t.pollOnce();
    await t.stop();
    expect(values(sink)).toEqual(BASIC_CALLS.slice(0, 5).map((c) => c.value));
    expect(sink.records.slice(2).map((r) => r.index)).toEqual([2, 4, 6]);
  });

  it('after a restart reads every line exactly once, carrying calls in progress in the state file', async () => {
    const sinkA = captureSink();
    const reportsA: TailReport[] = [];
    const a = tailer(sinkA, reportsA);
    writeFileSync(path, lines(1, 16) + BASIC[16]!.slice(0, 10)); // and a partial line 17
    await a.pollOnce();
    await a.stop();
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { offset: number; line: number; assembler: { open: unknown[] } };
    expect(state.line).toBe(16);
    expect(state.offset).toBe(Buffer.byteLength(lines(1, 16)));
    expect(state.assembler.open).toHaveLength(1); // support:1764466060.7, connected, not finished

    appendFileSync(path, `${BASIC[16]!.slice(10)}\n${lines(18, 32)}`);
    const sinkB = captureSink();
    const reportsB: TailReport[] = [];
    const b = tailer(sinkB, reportsB);
    await b.pollOnce();
    await b.stop();
    expect([...sinkA.records, ...sinkB.records]).toEqual(BASIC_CALLS);
    const read = (rs: TailReport[]) => rs.reduce((n, r) => n + r.linesRead, 0);
    expect([read(reportsA), read(reportsB)]).toEqual([16, 16]);
  });

  it('after a restart finishes a file rotated while it was stopped, found by inode', async () => {
    const sinkA = captureSink();
    const a = tailer(sinkA);
    writeFileSync(path, lines(1, 15));
    await a.pollOnce();
    await a.stop();
    renameSync(path, `${path}.1`);
    appendFileSync(`${path}.1`, lines(16, 20));
    writeFileSync(path, lines(21, 32));
    const sinkB = captureSink();
    const b = tailer(sinkB);
    await b.pollOnce(); // the old file
    await b.pollOnce(); // the switch to the new one
    await b.stop();
    expect([...values(sinkA), ...values(sinkB)]).toEqual(BASIC_CALLS.map((c) => c.value));
  });

  it('keeps its place while the sink is down: nothing is lost, in memory or after a crash', async () => {
    const sink = captureSink();
    const errors: Error[] = [];
    const t = tailer(sink, [], errors);
    writeFileSync(path, lines(1, 8));
    sink.failNext(1);
    await t.pollOnce();
    expect(errors.map((e) => e.message)).toEqual(['sink down']);
    expect(existsSync(statePath)).toBe(false); // nothing confirmed, nothing saved
    // A process that crashed now would start over from the saved state and send the same calls.
    const again = captureSink();
    const crashRestart = tailer(again);
    await crashRestart.pollOnce();
    expect(values(again)).toEqual([BASIC_CALLS[0]!.value, BASIC_CALLS[1]!.value]);
    // This one retries the calls it holds on its next poll.
    await t.pollOnce();
    expect(values(sink)).toEqual([BASIC_CALLS[0]!.value, BASIC_CALLS[1]!.value]);
  });

  it('runs on its own timer until stop()', async () => {
    const sink = captureSink();
    const t = tailer(sink);
    t.start();
    writeFileSync(path, lines(1, 14));
    for (let i = 0; i < 200 && sink.records.length < 5; i++) await new Promise((r) => setTimeout(r, 10));
    await t.stop();
    expect(values(sink)).toEqual(BASIC_CALLS.slice(0, 5).map((c) => c.value));
    appendFileSync(path, lines(15, 32));
    await new Promise((r) => setTimeout(r, 60));
    expect(sink.records).toHaveLength(5); // stopped means stopped
  });

  it('gives the same calls as importing the file, however the writes are cut and wherever the file rotates', async () => {
    const imported = captureSink();
    const whole = BASIC.map((l) => `${l}\n`).join('');
    await importQueueLog({ input: Readable.from([whole]), queues: QUEUES, sink: imported, source: 't' });
    let seed = 11;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 12; round++) {
      dir = mkdtempSync(join(tmpdir(), 'sqm-tail-eq-'));
      path = join(dir, 'queue_log');
      statePath = join(dir, 'state.json');
      const sink = captureSink();
      let t = tailer(sink, [], [], { readChunkBytes: 1 + rand(200) });
      // Rotate at a line boundary somewhere in the file, and restart the tailer once somewhere.
      const rotateAt = Buffer.byteLength(lines(1, 1 + rand(31)));
      const restartAt = rand(whole.length);
      let written = 0;
      let rotated = false;
      let restarted = false;
      while (written < whole.length) {
        const end = Math.min(whole.length, written + 1 + rand(120));
        let piece = whole.slice(written, end);
        if (!rotated && end >= rotateAt) {
          piece = whole.slice(written, rotateAt);
          appendFileSync(path, piece);
          written = rotateAt;
          if (rand(2) === 0) await t.pollOnce();
          renameSync(path, `${path}.1`);
          rotated = true;
          continue;
        }
        appendFileSync(path, piece);
        written = end;
        if (rand(3) > 0) await t.pollOnce();
        if (!restarted && written >= restartAt) {
          restarted = true;
          await t.stop();
          t = tailer(sink, [], [], { readChunkBytes: 1 + rand(200) });
        }
      }
      await t.pollOnce();
      await t.pollOnce();
      await t.stop();
      expect(values(sink).sort(byId), `round ${round}`).toEqual(values(imported).sort(byId));
    }
  });
});
