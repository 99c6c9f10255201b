import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createBatchWriter, CollectorBusyError } from '../../collector/writer.js';
import { dedupeById, dedupeSnapshots } from '../../collector/dedupe.js';
import { truncateUtf8, rawText } from '../../collector/dead-letters.js';
import { databaseIdentifier, StoreError, tableOf, type Sql, type Store, type TableName } from '../../store/index.js';

const logger = pino({ level: 'silent' });

/** A store that records what it is asked; no engine needed for the writer's logic. */
function fakeStore(options: { failInsert?: boolean; queryRows?: (text: string) => object[]; insertDelayMs?: number } = {}) {
  const inserts: { table: TableName; rows: object[] }[] = [];
  const queries: string[] = [];
  const database = databaseIdentifier('fake');
  const store: Store = {
    backend: 'embedded',
    database,
    table: (name) => tableOf(database, name),
    async query<T>(statement: Sql): Promise<T[]> {
      queries.push(statement.text);
      return (options.queryRows?.(statement.text) ?? []) as T[];
    },
    async command() {},
    async insert(table, rows) {
      if (options.insertDelayMs) await new Promise((r) => setTimeout(r, options.insertDelayMs));
      if (options.failInsert) throw new StoreError('Code: 241. DB::Exception: Memory limit exceeded', 241);
      inserts.push({ table, rows: [...rows] });
    },
    async serverVersion() { return 'fake'; },
    async close() {},
  };
  return { store, inserts, queries };
}

describe('batch writer', () => {
  it('coalesces concurrent writes into one insert and settles each caller after it', async () => {
    const { store, inserts } = fakeStore();
    const writer = createBatchWriter({ store, table: 'queue_states', maxRows: 100, maxWaitMs: 20, maxPendingRows: 1000, logger });
    await Promise.all([writer.write([{ n: 1 }, { n: 2 }]), writer.write([{ n: 3 }]), writer.write([{ n: 4 }])]);
    expect(inserts).toEqual([{ table: 'queue_states', rows: [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }] }]);
  });

  it('writes as soon as maxRows are waiting, without waiting for the timer', async () => {
    const { store, inserts } = fakeStore();
    const writer = createBatchWriter({ store, table: 'queue_states', maxRows: 3, maxWaitMs: 60_000, maxPendingRows: 1000, logger });
    const started = Date.now();
    await Promise.all([writer.write([{ n: 1 }, { n: 2 }]), writer.write([{ n: 3 }])]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(inserts.map((i) => i.rows.length)).toEqual([3]);
  });

  it('never splits one caller across inserts, and keeps batches at most maxRows otherwise', async () => {
    const { store, inserts } = fakeStore({ insertDelayMs: 5 });
    const writer = createBatchWriter({ store, table: 'queue_states', maxRows: 3, maxWaitMs: 10, maxPendingRows: 1000, logger });
    const big = Array.from({ length: 5 }, (_, n) => ({ n }));
    await Promise.all([writer.write(big), writer.write([{ n: 'a' }, { n: 'b' }]), writer.write([{ n: 'c' }]), writer.write([{ n: 'd' }])]);
    expect(inserts.map((i) => i.rows.length)).toEqual([5, 3, 1]);
  });

  it('rejects every caller of a failed insert with the store error', async () => {
    const { store } = fakeStore({ failInsert: true });
    const writer = createBatchWriter({ store, table: 'queue_states', maxRows: 100, maxWaitMs: 5, maxPendingRows: 1000, logger });
    const results = await Promise.allSettled([writer.write([{ n: 1 }]), writer.write([{ n: 2 }])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(StoreError);
  });

  it('refuses rows beyond maxPendingRows with CollectorBusyError, and close() writes what waits', async () => {
    const { store, inserts } = fakeStore();
    const writer = createBatchWriter({ store, table: 'queue_states', maxRows: 100, maxWaitMs: 60_000, maxPendingRows: 3, logger });
    const first = writer.write([{ n: 1 }, { n: 2 }]);
    await expect(writer.write([{ n: 3 }, { n: 4 }])).rejects.toBeInstanceOf(CollectorBusyError);
    expect(writer.pendingRows).toBe(2);
    await writer.close();
    await first;
    expect(inserts.map((i) => i.rows)).toEqual([[{ n: 1 }, { n: 2 }]]);
    await expect(writer.write([{ n: 5 }])).rejects.toThrow(/closed/);
  });
});

describe('dedupe', () => {
  it('by id: drops repeats inside the batch and ids stored in its regions and time range, with one query', async () => {
    const { store, queries } = fakeStore({ queryRows: () => [{ id: 'c2' }, { id: 'other' }] });
    const dedupe = dedupeById(store, 'calls', 'enteredAt');
    const rows = [
      { id: 'c1', region: 'GD', enteredAt: 1000 },
      { id: 'c2', region: 'BJ', enteredAt: 900 },
      { id: 'c1', region: 'GD', enteredAt: 1000 },
      { id: 'c3', region: 'GD', enteredAt: 1100 },
    ];
    expect(await dedupe(rows)).toEqual([rows[0], rows[3]]);
    expect(queries).toHaveLength(1);
    expect(queries[0]).toContain("region IN ('GD', 'BJ')");
    expect(queries[0]).toContain('enteredAt >= toDateTime(900) AND enteredAt <= toDateTime(1100)');
    // Three unique rows: the range may hold 2 * 3 + 1000 ids before asking by id instead.
    expect(queries[0]).toContain('LIMIT 1007');
    expect(queries[0]).not.toContain('id IN');
  });

  it('by id: asks by id, in chunks under max_query_size, when the range holds too many rows', async () => {
    const crowded = Array.from({ length: 50_000 }, (_, i) => ({ id: `old-${i}` }));
    const { store, queries } = fakeStore({
      queryRows: (text) => (text.includes('LIMIT') ? crowded : text.includes("'call-000000000007'") ? [{ id: 'call-000000000007' }] : []),
    });
    const dedupe = dedupeById(store, 'calls', 'enteredAt');
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ id: `call-${String(i).padStart(12, '0')}`, region: 'GD', enteredAt: 1000 + i }));
    const kept = await dedupe(rows);
    expect(kept).toHaveLength(19_999);
    expect(kept.some((r) => (r as { id: string }).id === 'call-000000000007')).toBe(false);
    // One range query, then the ids: 17-character ids cost 21 bytes each ('…', ) =
    // 420,000 bytes at 200,000 per query = 3 queries.
    expect(queries.length).toBe(4);
    for (const q of queries) expect(Buffer.byteLength(q)).toBeLessThan(256 * 1024);
  });

  it('snapshots: drops exact (id, updatedAt) repeats only', async () => {
    const { store, queries } = fakeStore({ queryRows: () => [{ id: 't1', u: 50 }] });
    const dedupe = dedupeSnapshots(store, 'tickets');
    const rows = [
      { id: 't1', updatedAt: 50 }, // stored already
      { id: 't1', updatedAt: 60 }, // a newer snapshot
      { id: 't1', updatedAt: 60 }, // repeat in batch
      { id: 't2', updatedAt: 50 },
    ];
    expect(await dedupe(rows)).toEqual([rows[1], rows[3]]);
    expect(queries[0]).toContain("id IN ('t1', 't2')");
  });
});

describe('dead-letter raw text', () => {
  it('is cut to 64 KiB on a character boundary', () => {
    const text = 'a' + '广'.repeat(30_000); // 1 + 90,000 bytes
    const cut = truncateUtf8(text);
    expect(Buffer.byteLength(cut)).toBe(1 + 3 * 21_845); // 65,536 bytes would split a character
    expect(cut.endsWith('广')).toBe(true);
    expect(truncateUtf8('short')).toBe('short');
  });

  it('is the raw line when there is one, else the value as JSON', () => {
    expect(rawText('{bad', undefined)).toBe('{bad');
    expect(rawText(undefined, { a: 1 })).toBe('{"a":1}');
    expect(rawText(undefined, 'x')).toBe('"x"');
  });
});
