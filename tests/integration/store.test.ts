import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, sql, applyRetention, type Store } from '../../store/index.js';
import { BACKENDS, openTestStore } from '../helpers/store.js';

const INJECTIONS = [
  "O'Brien",
  'back\\slash',
  "'); DROP TABLE calls; --",
  "\\'; SELECT 1; --",
  '广东省 · 客服热线 😀',
  'tab\tnew\nline\r\0nul',
  '',
];

describe.each(BACKENDS)('store on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('applies migrations once: a second run is a no-op', async () => {
    const all = loadMigrations().map((m) => m.version);
    const tablesBefore = await store.query<{ name: string }>(
      sql`SELECT name FROM system.tables WHERE database = ${store.database.name} ORDER BY name`);
    const again = await migrate(store);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toEqual(all);
    const tablesAfter = await store.query<{ name: string }>(
      sql`SELECT name FROM system.tables WHERE database = ${store.database.name} ORDER BY name`);
    expect(tablesAfter).toEqual(tablesBefore);
    const recorded = await store.query<{ c: number }>(sql`SELECT count() AS c FROM ${store.table('schema_migrations')}`);
    expect(Number(recorded[0]?.c)).toBe(all.length);
    expect(tablesAfter.map((t) => t.name)).toEqual(expect.arrayContaining(['calls', 'calls_1m', 'tickets', 'faults', 'surveys', 'queue_states', 'subscribers', 'dead_letters']));
  });

  it('stores and reads back injection strings literally through the sql builder', async () => {
    for (const [i, text] of INJECTIONS.entries()) {
      await store.command(sql`INSERT INTO ${store.table('dead_letters')} (receivedAt, kind, source, batchId, recordIndex, raw, errors)
        VALUES (${new Date(Date.UTC(2026, 10, 30))}, ${'calls'}, ${'test'}, ${'inj'}, ${i}, ${text}, ${[text, 'x']})`);
    }
    for (const [i, text] of INJECTIONS.entries()) {
      const rows = await store.query<{ raw: string; errors: string[] }>(sql`
        SELECT raw, errors FROM ${store.table('dead_letters')} WHERE batchId = ${'inj'} AND raw = ${text} AND recordIndex = ${i}`);
      expect(rows).toEqual([{ raw: text, errors: [text, 'x'] }]);
    }
    const tables = await store.query(sql`SELECT name FROM system.tables WHERE database = ${store.database.name} AND name = ${'calls'}`);
    expect(tables).toHaveLength(1);
  });

  it('round-trips numbers, booleans, dates, null and arrays', async () => {
    const rows = await store.query<Record<string, unknown>>(sql`
      SELECT ${42} AS i, ${-7} AS neg, ${0.125} AS f, ${true} AS t, ${false} AS fl,
             toUInt32(${new Date('2026-11-30T01:02:03Z')}) AS d, ${null} AS n,
             ${[1, 2, 3]} AS arr, ${['a', "b'c"]} AS sarr, 5 - ${-1} AS minus,
             ${'x'} IN ${sql.list(['x', 'y'])} AS inlist`);
    expect(rows[0]).toEqual({
      i: 42, neg: -7, f: 0.125, t: 1, fl: 0, d: Date.UTC(2026, 10, 30, 1, 2, 3) / 1000, n: null,
      arr: [1, 2, 3], sarr: ['a', "b'c"], minus: 6, inlist: 1,
    });
  });

  it('drops monthly partitions older than the retention period', async () => {
    const month = (y: number, m: number) => Math.floor(Date.UTC(y, m - 1, 15) / 1000);
    await store.insert('dead_letters', [
      { receivedAt: month(2024, 9), kind: 'calls', source: 'old', batchId: 'r', recordIndex: 0, raw: 'old', errors: [] },
      { receivedAt: month(2024, 11), kind: 'calls', source: 'kept', batchId: 'r', recordIndex: 1, raw: 'kept', errors: [] },
      { receivedAt: month(2026, 11), kind: 'calls', source: 'new', batchId: 'r', recordIndex: 2, raw: 'new', errors: [] },
    ]);
    // 25 months ending November 2026 start at November 2024.
    const report = await applyRetention(store, 25, new Date('2026-11-30T12:00:00Z'));
    expect(report.dropped).toContainEqual({ table: 'dead_letters', partition: 202409 });
    const left = await store.query<{ source: string }>(sql`
      SELECT source FROM ${store.table('dead_letters')} WHERE batchId = ${'r'} ORDER BY source`);
    expect(left.map((r) => r.source)).toEqual(['kept', 'new']);
  });
});
