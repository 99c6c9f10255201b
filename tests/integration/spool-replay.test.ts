/**
 * Replay is idempotent (issue 7): a crash after the store took a batch but
 * before the spool's checkpoint moved means the batch is handed to the store
 * again at the next start. Here that is made to happen for certain: the spool
 * directory of a collector whose store was down is copied, the original is
 * replayed into the store, then the copy is replayed too — as if the first
 * replay's checkpoint had been lost. Every kind, the per-minute rollup and
 * the dead letters must be exactly as after one replay.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollector, type IncomingRecord } from '../../collector/index.js';
import { createLogger } from '../../server/logger.js';
import { sql, StoreError, type Store } from '../../store/index.js';
import { testConfig, TEST_SECRET } from '../helpers/app.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const NOW = new Date('2026-11-30T02:00:00Z');
const T = NOW.getTime() / 1000 - 3600;

const records = (values: unknown[]): IncomingRecord[] => values.map((value, index) => ({ index, value }));

describe.each(BACKENDS)('spool replay on %s', (backend) => {
  let store: Store;
  const dirs: string[] = [];

  beforeAll(async () => {
    store = await openTestStore(backend);
  });
  afterAll(async () => {
    await store?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const collectorOn = (spoolDir: string, target: Store) => createCollector({
    store: target, spoolDir, config: testConfig(), secret: TEST_SECRET, logger: createLogger('silent'), now: () => NOW,
  });

  /** What the store holds: counts per table and the rollup's totals. */
  const snapshot = async () => {
    const count = async (table: 'calls' | 'faults' | 'surveys' | 'queue_states' | 'subscribers' | 'dead_letters') =>
      Number((await store.query<{ n: number }>(sql`SELECT count() AS n FROM ${store.table(table)}`))[0]?.n);
    const rollup = await store.query<{ entered: number; answered: number }>(sql`
      SELECT countMerge(entered) AS entered, countIfMerge(answered) AS answered FROM ${store.table('calls_1m')}`);
    return {
      calls: await count('calls'),
      // Ticket snapshots of one id collapse on merge (whenever it happens): compare the state that is read.
      tickets: await store.query(sql`
        SELECT id, argMax(status, updatedAt) AS status, toUInt32(max(updatedAt)) AS latest FROM ${store.table('tickets')} GROUP BY id`),
      faults: await count('faults'), surveys: await count('surveys'),
      queues: await count('queue_states'), subscribers: await count('subscribers'), deadLetters: await count('dead_letters'),
      entered: Number(rollup[0]?.entered), answered: Number(rollup[0]?.answered),
    };
  };

  it('stores a spool replayed twice exactly once: every kind, the calls_1m rollup and the dead letters', async () => {
    const down: Store = {
      ...store, table: store.table, query: store.query, command: store.command,
      async insert() { throw new StoreError('Code: 210. DB::NetException: Connection refused', 210); },
    };
    const original = mkdtempSync(join(tmpdir(), 'sqm-replay-'));
    const copy = mkdtempSync(join(tmpdir(), 'sqm-replay-copy-'));
    dirs.push(original, copy);

    // 1. The store is down: everything is accepted into the spool and stays there.
    const offline = await collectorOn(original, down);
    const call = (id: string, outcome: 'answered' | 'abandoned') => ({
      id, region: 'GD', queue: 'q1', channel: 'voice', enteredAt: T, endedAt: T + 90, outcome,
      ...(outcome === 'answered' ? { answeredAt: T + 10, talkSeconds: 80 } : {}),
    });
    const outcomes = [
      await offline.ingest('calls', records([call('c1', 'answered'), call('c2', 'abandoned'), { id: 'bad' }, call('c1', 'answered')]), 'test'),
      await offline.ingest('calls', records([call('c3', 'answered')]), 'test'),
      await offline.ingest('tickets', records([
        { id: 'k1', region: 'GD', category: 'complaint', channel: 'hotline', priority: 'high', openedAt: T, updatedAt: T, status: 'open' },
        { id: 'k1', region: 'GD', category: 'complaint', channel: 'hotline', priority: 'high', openedAt: T, firstResponseAt: T + 60, updatedAt: T + 60, status: 'in_progress' },
      ]), 'test'),
      await offline.ingest('faults', records([{ id: 'f1', region: 'GD', domain: 'broadband', severity: 'major', detectedAt: T, updatedAt: T, customersAffected: 10 }]), 'test'),
      await offline.ingest('surveys', records([{ id: 's1', region: 'GD', channel: 'voice', touchpoint: 'call', refId: 'c1', answeredAt: T + 100, csat: 5 }]), 'test'),
      await offline.ingest('queues', records([{ region: 'GD', queue: 'q1', at: T, waiting: 3, longestWaitSeconds: 40 }]), 'test'),
      await offline.ingest('subscribers', records([{ region: 'GD', asOf: '2026-11-01', subscribers: 1000 }]), 'test'),
    ];
    expect(outcomes.map((o) => [o.accepted, o.rejected.length, o.stored]))
      .toEqual([[3, 1, false], [1, 0, false], [2, 0, false], [1, 0, false], [1, 0, false], [1, 0, false], [1, 0, false]]);
    expect(offline.spoolStats().records).toBe(10);
    await offline.close();
    cpSync(original, copy, { recursive: true });

    // 2. The store is back: the next start replays the spool into it.
    const first = await collectorOn(original, store);
    await first.flush(30_000);
    await first.close();
    const once = await snapshot();
    // By hand: calls c1 (answered, sent twice), c2 (abandoned), c3 (answered); two snapshots of ticket k1;
    // one fault, survey, queue sample and subscriber count; one dead letter ({ id: 'bad' }).
    expect(once).toEqual({ calls: 3, tickets: [{ id: 'k1', status: 'in_progress', latest: T + 60 }], faults: 1, surveys: 1, queues: 1, subscribers: 1, deadLetters: 1, entered: 3, answered: 2 });

    // 3. The same entries again, as after a crash before the checkpoint: nothing changes.
    const second = await collectorOn(copy, store);
    expect(second.spoolStats().records).toBe(10);
    await second.flush(30_000);
    await second.close();
    expect(await snapshot()).toEqual(once);
  });
});
