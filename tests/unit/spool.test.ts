/**
 * The ingest spool on its own (collector/spool.ts): what append() acknowledges is
 * on disk and handed to the drain in order, exactly what a crash leaves behind
 * is replayed, and the quota refuses whole entries. The drain here is a plain
 * function, so failures and restarts are under the test's control.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectorBusyError, openSpool, type Spool, type SpoolOptions, type SpoolPayload } from '../../collector/spool.js';
import { createLogger } from '../../server/logger.js';

const dirs: string[] = [];
const spools: Spool[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sqm-spool-test-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const spool of spools.splice(0)) await spool.close(0);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A drain that records what it is given and fails while `down` is set. */
function recordingDrain() {
  const state = { down: false, calls: [] as SpoolPayload[][] };
  const drain: SpoolOptions['drain'] = async (payloads) => {
    if (state.down) throw new Error('store down');
    // What the store gets: rows and dead letters, and the rows' own JSON text.
    for (const p of payloads) expect(JSON.parse(p.rowsText as string)).toEqual(p.rows);
    state.calls.push(payloads.map(({ kind, rows, deadLetters }) => structuredClone({ kind, rows, deadLetters })));
  };
  return { state, drain, stored: () => state.calls.flat() };
}

async function open(dir: string, drain: SpoolOptions['drain'], overrides: Partial<SpoolOptions> = {}): Promise<Spool> {
  const spool = await openSpool({
    dir, drain, logger: createLogger('silent'),
    maxBytes: 1024 * 1024, segmentBytes: 1024 * 1024, memoryBytes: 1024 * 1024,
    batchMaxRecords: 1000, batchMaxWaitMs: 0, retryMinMs: 10, retryMaxMs: 20,
    ...overrides,
  });
  spools.push(spool);
  return spool;
}

const payload = (kind: string, ...ids: string[]): SpoolPayload => ({ kind, rows: ids.map((id) => ({ id })), deadLetters: [] });

describe('ingest spool', () => {
  it('acknowledges after the entry is on disk, and hands entries to the drain in append order', async () => {
    const dir = tempDir();
    const { drain, stored } = recordingDrain();
    const spool = await open(dir, drain, { batchMaxWaitMs: 50 });
    // Concurrent appends share one write and one sync; each resolves once its bytes are in the file.
    const results = await Promise.all([spool.append(payload('calls', 'a'), 0), spool.append(payload('tickets', 't1'), 0), spool.append(payload('calls', 'b', 'c'), 0)]);
    expect(results.every((r) => r.stored === false)).toBe(true); // nobody waited for the store
    const segment = readdirSync(dir).filter((n) => n.startsWith('segment-'));
    expect(segment).toEqual(['segment-0000000000000001.log']);
    // Each entry: a header line (seq, kind, rows, bytes, CRC), then its rows and its dead letters, a JSON array each.
    const lines = readFileSync(join(dir, segment[0] as string), 'utf8').trim().split('\n');
    expect(lines.map((l) => (l.startsWith('S\t') ? l.split('\t').slice(1, 4) : JSON.parse(l)))).toEqual([
      ['1', 'calls', '1'], [{ id: 'a' }], [], ['2', 'tickets', '1'], [{ id: 't1' }], [], ['3', 'calls', '2'], [{ id: 'b' }, { id: 'c' }], [],
    ]);
    await spool.flush(5_000);
    expect(stored()).toEqual([payload('calls', 'a'), payload('tickets', 't1'), payload('calls', 'b', 'c')]);
    expect(spool.stats()).toMatchObject({ entries: 0, records: 0, bytes: 0 });
    // Fully stored, closed segments are removed; the checkpoint names the last stored entry.
    expect(readFileSync(join(dir, 'checkpoint'), 'utf8').trim()).toBe('3');
  });

  it('waits for the store when asked and says whether the entry was stored', async () => {
    const { state, drain } = recordingDrain();
    const spool = await open(tempDir(), drain);
    expect(await spool.append(payload('calls', 'x'), 5_000)).toEqual({ stored: true });
    state.down = true;
    expect(await spool.append(payload('calls', 'y'), 5_000)).toEqual({ stored: false });
    expect(spool.stats()).toMatchObject({ records: 1, storeFailing: true });
    // A failing store is not waited for: the next append answers at once, durable but not stored.
    expect(await spool.append(payload('calls', 'z'), 60_000)).toEqual({ stored: false });
    state.down = false;
    await spool.flush(5_000);
    expect(state.calls.flat().flatMap((p) => p.rows)).toEqual([{ id: 'x' }, { id: 'y' }, { id: 'z' }]);
    expect(spool.stats()).toMatchObject({ records: 0, storeFailing: false });
    expect(spool.stats().drainFailures).toBeGreaterThanOrEqual(1);
  });

  it('coalesces pending entries into batches of at most batchMaxRecords rows (a larger entry goes alone)', async () => {
    const { state, drain } = recordingDrain();
    state.down = true;
    const spool = await open(tempDir(), drain, { batchMaxRecords: 3, retryMinMs: 60_000, retryMaxMs: 60_000 });
    await spool.append(payload('calls', 'a'), 0);
    await new Promise((r) => setTimeout(r, 20)); // the first drain fails; the retry is a minute away
    await spool.append(payload('calls', 'b', 'c'), 0);
    await spool.append(payload('calls', 'd', 'e', 'f', 'g'), 0);
    await spool.append(payload('calls', 'h'), 0);
    state.down = false;
    await spool.close(5_000); // close drains what it can, without waiting for the back-off
    expect(state.calls.map((batch) => batch.map((p) => p.rows.length))).toEqual([[1, 2], [4], [1]]);
  });

  it('replays after a crash exactly the entries not yet stored, reading them back from disk', async () => {
    const dir = tempDir();
    const first = recordingDrain();
    const a = await open(dir, first.drain);
    await a.append(payload('calls', 'stored-1'), 5_000);
    first.state.down = true;
    await a.append(payload('calls', 'pending-1'), 0);
    await a.append({ kind: 'surveys', rows: [{ id: 's1', note: '客户满意 ✓' }], deadLetters: [{ batchId: 'b1', raw: 'x' }] }, 0);
    // A damaged entry (its CRC does not match) and one a crash cut short: neither was acknowledged.
    const segment = join(dir, readdirSync(dir).find((n) => n.startsWith('segment-')) as string);
    const damaged = '[{"id":"damaged"}]\n';
    appendFileSync(segment, `S\t4\tcalls\t1\t${Buffer.byteLength(damaged)}\t3\t12345\n${damaged}[]\n`);
    appendFileSync(segment, 'S\t5\tcalls\t1\t15\t3\t12345\n[{"id":"cu');
    spools.splice(spools.indexOf(a), 1); // abandoned, as a killed process would leave it

    const second = recordingDrain();
    const b = await open(dir, second.drain, { memoryBytes: 0 });
    expect(b.stats()).toMatchObject({ entries: 2, records: 2 });
    await b.flush(5_000);
    expect(second.stored()).toEqual([
      payload('calls', 'pending-1'),
      { kind: 'surveys', rows: [{ id: 's1', note: '客户满意 ✓' }], deadLetters: [{ batchId: 'b1', raw: 'x' }] },
    ]);
    // New entries continue the sequence in a new segment; the old one is gone once stored.
    await b.append(payload('calls', 'after'), 5_000);
    expect(readdirSync(dir).filter((n) => n.startsWith('segment-'))).toEqual(['segment-0000000000000004.log']);
    // a's timers are still running in this process; stop them without letting a drain touch the dir again.
    first.state.down = true;
    await a.close(0);
  });

  it('replays every segment when the checkpoint is lost (the drain de-duplicates)', async () => {
    const dir = tempDir();
    const first = recordingDrain();
    first.state.down = true;
    const a = await open(dir, first.drain);
    await a.append(payload('calls', 'one'), 0);
    await a.append(payload('calls', 'two'), 0);
    await a.close(0);
    spools.splice(spools.indexOf(a), 1);
    writeFileSync(join(dir, 'checkpoint'), 'garbage\n');
    const second = recordingDrain();
    const b = await open(dir, second.drain);
    await b.flush(5_000);
    expect(second.stored().flatMap((p) => p.rows)).toEqual([{ id: 'one' }, { id: 'two' }]);
  });

  it('refuses a whole entry over the quota with CollectorBusyError, and takes entries again once drained', async () => {
    const { state, drain } = recordingDrain();
    state.down = true;
    const spool = await open(tempDir(), drain, { maxBytes: 200 });
    const big = payload('calls', 'x'.repeat(300));
    // An empty spool takes any single entry, so a request larger than the quota is not refused for ever.
    expect(await spool.append(big, 0)).toEqual({ stored: false });
    await expect(spool.append(payload('calls', 'y'), 0)).rejects.toBeInstanceOf(CollectorBusyError);
    expect(spool.stats()).toMatchObject({ records: 1, refusing: true, refusedAppends: 1 });
    state.down = false;
    await spool.flush(5_000);
    expect(spool.stats()).toMatchObject({ records: 0, refusing: false });
    expect(await spool.append(payload('calls', 'y'), 5_000)).toEqual({ stored: true });
    expect(state.calls.flat().flatMap((p) => p.rows)).toEqual([{ id: 'x'.repeat(300) }, { id: 'y' }]);
  });

  it('starts a new segment past segmentBytes and removes segments once everything in them is stored', async () => {
    const dir = tempDir();
    const { state, drain } = recordingDrain();
    state.down = true;
    const spool = await open(dir, drain, { segmentBytes: 100, retryMinMs: 60_000, retryMaxMs: 60_000 });
    for (const id of ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'b', 'c']) {
      await spool.append(payload('calls', id), 0);
    }
    expect(readdirSync(dir).filter((n) => n.startsWith('segment-')).sort()).toEqual(['segment-0000000000000001.log', 'segment-0000000000000002.log']);
    state.down = false;
    await spool.close(5_000);
    // The current segment stays (a new process starts its own); the full one is removed.
    expect(readdirSync(dir).filter((n) => n.startsWith('segment-'))).toEqual(['segment-0000000000000002.log']);
    const reopened = recordingDrain();
    await open(dir, reopened.drain);
    expect(readdirSync(dir).filter((n) => n.startsWith('segment-'))).toEqual([]);
    expect(reopened.stored()).toEqual([]);
  });
});

describe('ingest spool: an entry the store refuses for its data', () => {
  it('is found by taking the batch apart, moved to quarantine.log, and the rest is stored in order', async () => {
    const dir = tempDir();
    const stored: string[] = [];
    const drain: SpoolOptions['drain'] = async (payloads) => {
      const ids = payloads.flatMap((p) => p.rows.map((r) => (r as { id: string }).id));
      if (ids.includes('poison')) throw new TypeError('cannot store "poison"');
      stored.push(...ids);
    };
    const spool = await openSpool({
      dir, drain, logger: createLogger('silent'), isPermanent: (error) => error instanceof TypeError,
      maxBytes: 1 << 20, segmentBytes: 1 << 20, memoryBytes: 1 << 20, batchMaxRecords: 100, batchMaxWaitMs: 30, retryMinMs: 5, retryMaxMs: 10,
    });
    spools.push(spool);
    await Promise.all([spool.append(payload('calls', 'a'), 0), spool.append(payload('calls', 'poison', 'b'), 0), spool.append(payload('calls', 'c'), 0)]);
    await spool.flush(5_000);
    expect(stored).toEqual(['a', 'c']);
    expect(spool.stats()).toMatchObject({ records: 0, quarantined: 1 });
    const quarantined = readFileSync(join(dir, 'quarantine.log'), 'utf8').trim().split('\n');
    // The entry as it was in the spool: its header, its rows, its dead letters.
    expect(quarantined).toHaveLength(3);
    expect(quarantined[0]?.split('\t').slice(2, 4)).toEqual(['calls', '2']);
    expect(quarantined.slice(1).map((l) => JSON.parse(l))).toEqual([[{ id: 'poison' }, { id: 'b' }], []]);
  });

  it('is retried for as long as it takes when the error is about the store, not the data', async () => {
    let failures = 0;
    const stored: string[] = [];
    const drain: SpoolOptions['drain'] = async (payloads) => {
      if (failures++ < 8) throw new Error('connection refused');
      stored.push(...payloads.flatMap((p) => p.rows.map((r) => (r as { id: string }).id)));
    };
    const dir = tempDir();
    const spool = await openSpool({
      dir, drain, logger: createLogger('silent'), isPermanent: (error) => error instanceof TypeError,
      maxBytes: 1 << 20, segmentBytes: 1 << 20, memoryBytes: 1 << 20, batchMaxRecords: 100, batchMaxWaitMs: 0, retryMinMs: 1, retryMaxMs: 2,
    });
    spools.push(spool);
    await spool.append(payload('calls', 'a', 'b'), 0);
    await spool.flush(5_000);
    expect(stored).toEqual(['a', 'b']);
    expect(spool.stats()).toMatchObject({ quarantined: 0, drainFailures: 8 });
    expect(readdirSync(dir)).not.toContain('quarantine.log');
  });
});

describe('ingest spool: one process per directory', () => {
  it('refuses a directory locked by another live process, and takes over the lock of a dead one', async () => {
    const dir = tempDir();
    const { drain } = recordingDrain();
    // PID 1 is always alive (and never this test).
    writeFileSync(join(dir, 'lock'), '1\n');
    await expect(open(dir, drain)).rejects.toThrow(/in use by process 1; give each SQM process its own SQM_DATA_DIR/);
    // A pid far above pid_max belongs to no process: a crashed owner.
    writeFileSync(join(dir, 'lock'), '99999999\n');
    const spool = await open(dir, drain);
    expect(readFileSync(join(dir, 'lock'), 'utf8').trim()).toBe(String(process.pid));
    await spool.close(0);
    expect(readdirSync(dir)).not.toContain('lock');
  });
});
