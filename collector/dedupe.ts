/**
 * De-duplication before insert (RECORDS.md: the same record twice is stored
 * once). It cannot be left to ReplacingMergeTree alone: the per-minute rollups
 * are materialized views that count every inserted row, so a call or survey
 * inserted twice would be counted twice for ever, merge or not.
 *
 * Each batch is deduped within itself and then against the store, never with
 * a query per record. Calls and surveys first ask for the ids stored in the
 * batch's regions and time range (one query, on the primary key); only when
 * that range holds too many rows do they ask by id, in chunks that stay under
 * ClickHouse's default max_query_size of 256 KiB.
 * The writer runs one batch at a time per kind, so two requests carrying the
 * same record cannot both pass the check.
 */
import { sql, type Sql, type Store, type TableName } from '../store/index.js';

/** Rows in, the rows still to insert out (order kept). */
export type Deduper = (rows: readonly object[]) => Promise<readonly object[]>;

/** Bytes of SQL text the id list of one query may take. */
const MAX_ID_LIST_BYTES = 200_000;
/** Printable ASCII without `'` and `\`: rendered as is, one byte per character. */
const PLAIN_ASCII = /^[\x20-\x26\x28-\x5b\x5d-\x7e]*$/;

function renderedCost(id: string): number {
  // Quotes and ", " cost 4; anything else may triple (UTF-8) or double (escapes).
  return (PLAIN_ASCII.test(id) ? id.length : id.length * 3) + 4;
}

/** Split rows into runs whose id lists fit in one query. */
function chunksById<R extends { id: string }>(rows: readonly R[]): R[][] {
  const chunks: R[][] = [];
  let current: R[] = [];
  let cost = 0;
  for (const row of rows) {
    const c = renderedCost(row.id);
    if (current.length > 0 && cost + c > MAX_ID_LIST_BYTES) {
      chunks.push(current);
      current = [];
      cost = 0;
    }
    current.push(row);
    cost += c;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

interface EventRow {
  id: string;
  region: string;
  [time: string]: unknown;
}

/**
 * Calls and surveys: one row per id. The store query is restricted by region
 * and time range as well as id, so it reads only the granules the primary key
 * (region, time, id) points at. A record re-sent with a different region or
 * time is a different record as far as the check goes.
 */
export function dedupeById(store: Store, table: Extract<TableName, 'calls' | 'surveys'>, timeColumn: 'enteredAt' | 'answeredAt'): Deduper {
  const column: Sql = sql.raw(timeColumn);

  const bounds = (rows: readonly EventRow[]) => {
    const regions = new Set<string>();
    let min = Infinity;
    let max = -Infinity;
    for (const row of rows) {
      regions.add(row.region);
      const t = row[timeColumn] as number;
      if (t < min) min = t;
      if (t > max) max = t;
    }
    return sql`region IN ${sql.list([...regions])}
      AND ${column} >= ${new Date(min * 1000)} AND ${column} <= ${new Date(max * 1000)}`;
  };

  /**
   * Fast path: every id already stored in the batch's regions and time range,
   * without an id list (parsing a list of thousands of literals costs the
   * engine far more than reading the ids the key range points at). Undefined
   * when the range holds more than `cap` rows, e.g. a batch spanning weeks.
   */
  const storedInRange = async (rows: readonly EventRow[]): Promise<Set<string> | undefined> => {
    const cap = 2 * rows.length + 1000;
    const found = await store.query<{ id: string }>(sql`
      SELECT id FROM ${store.table(table)} WHERE ${bounds(rows)} LIMIT ${cap + 1}`);
    if (found.length > cap) return undefined;
    return new Set(found.map((r) => r.id));
  };

  /** Slow path: the ids of this chunk that are stored, asked by id. */
  const storedAmong = async (rows: readonly EventRow[]): Promise<string[]> => {
    const found = await store.query<{ id: string }>(sql`
      SELECT DISTINCT id FROM ${store.table(table)}
      WHERE ${bounds(rows)} AND id IN ${sql.list(rows.map((r) => r.id))}`);
    return found.map((r) => r.id);
  };

  return async (input) => {
    const rows = input as readonly EventRow[];
    const seen = new Set<string>();
    const unique: EventRow[] = [];
    for (const row of rows) {
      if (seen.has(row.id)) continue;
      seen.add(row.id);
      unique.push(row);
    }
    const stored = await storedInRange(unique);
    if (stored) return stored.size === 0 ? unique : unique.filter((row) => !stored.has(row.id));
    const found = new Set<string>();
    for (const chunk of chunksById(unique)) {
      for (const id of await storedAmong(chunk)) found.add(id);
    }
    return found.size === 0 ? unique : unique.filter((row) => !found.has(row.id));
  };
}

interface SnapshotRow {
  id: string;
  updatedAt: number;
}

/**
 * Tickets and faults: drop exact (id, updatedAt) repeats. Different snapshots
 * of one id are all kept; the newest updatedAt wins when read (argMax/FINAL),
 * whatever order they arrived in.
 */
export function dedupeSnapshots(store: Store, table: Extract<TableName, 'tickets' | 'faults'>): Deduper {
  return async (input) => {
    const rows = input as readonly SnapshotRow[];
    const seen = new Set<string>();
    const unique: SnapshotRow[] = [];
    for (const row of rows) {
      const key = `${row.updatedAt}|${row.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      unique.push(row);
    }
    const stored = new Set<string>();
    for (const chunk of chunksById(unique)) {
      let min = Infinity;
      let max = -Infinity;
      const ids = new Set<string>();
      for (const row of chunk) {
        if (row.updatedAt < min) min = row.updatedAt;
        if (row.updatedAt > max) max = row.updatedAt;
        ids.add(row.id);
      }
      const found = await store.query<{ id: string; u: number }>(sql`
        SELECT id, toUInt32(updatedAt) AS u FROM ${store.table(table)}
        WHERE id IN ${sql.list([...ids])}
          AND updatedAt >= ${new Date(min * 1000)} AND updatedAt <= ${new Date(max * 1000)}`);
      for (const { id, u } of found) stored.add(`${Number(u)}|${id}`);
    }
    return stored.size === 0 ? unique : unique.filter((row) => !stored.has(`${row.updatedAt}|${row.id}`));
  };
}

interface DeadLetterKey {
  receivedAt: number;
  batchId: string;
}

/**
 * Dead letters: a request's rejected records share one batchId, written in the
 * same spool entry as its accepted rows. A batch already in the table was
 * written before a crash and is being replayed: drop all of it.
 */
export async function dedupeDeadLetters<R extends DeadLetterKey>(store: Store, rows: readonly R[]): Promise<readonly R[]> {
  let min = Infinity;
  let max = -Infinity;
  const batches = new Set<string>();
  for (const row of rows) {
    if (row.receivedAt < min) min = row.receivedAt;
    if (row.receivedAt > max) max = row.receivedAt;
    batches.add(row.batchId);
  }
  const found = await store.query<{ batchId: string }>(sql`
    SELECT DISTINCT batchId FROM ${store.table('dead_letters')}
    WHERE receivedAt >= ${new Date(min * 1000)} AND receivedAt <= ${new Date(max * 1000)}
      AND batchId IN ${sql.list([...batches])}`);
  if (found.length === 0) return rows;
  const stored = new Set(found.map((r) => r.batchId));
  return rows.filter((row) => !stored.has(row.batchId));
}

/**
 * Queue samples and subscriber counts: drop a row identical (every column but
 * `ingestedAt`) to one stored or earlier in the batch. Their tables replace
 * rows of one key on merge, but until a merge a replayed batch would be read
 * twice. A different value for the same key is a correction and is kept.
 */
export function dedupeExactRows(store: Store, table: Extract<TableName, 'queue_states' | 'subscribers'>): Deduper {
  const columns = table === 'queue_states'
    ? ['region', 'queue', 'at', 'waiting', 'longestWaitSeconds', 'agentsReady', 'agentsBusy', 'agentsPaused']
    : ['region', 'asOf', 'subscribers'];
  const fingerprint = (row: Record<string, unknown>) => columns.map((c) => String(row[c] ?? null)).join('\u0000');
  return async (input) => {
    const rows = input as readonly Record<string, unknown>[];
    const seen = new Set<string>();
    const unique: Record<string, unknown>[] = [];
    for (const row of rows) {
      const key = fingerprint(row);
      if (seen.has(key)) continue;
      seen.add(key);
      unique.push(row);
    }
    const regions = sql.list([...new Set(unique.map((r) => String(r.region)))]);
    let stored: Record<string, unknown>[];
    if (table === 'queue_states') {
      let min = Infinity;
      let max = -Infinity;
      for (const row of unique) {
        const at = row.at as number;
        if (at < min) min = at;
        if (at > max) max = at;
      }
      stored = await store.query(sql`
        SELECT region, queue, toUInt32(at) AS at, waiting, longestWaitSeconds, agentsReady, agentsBusy, agentsPaused
        FROM ${store.table('queue_states')}
        WHERE region IN ${regions} AND queue IN ${sql.list([...new Set(unique.map((r) => String(r.queue)))])}
          AND at >= ${new Date(min * 1000)} AND at <= ${new Date(max * 1000)}`);
    } else {
      stored = await store.query(sql`
        SELECT region, toString(asOf) AS asOf, subscribers FROM ${store.table('subscribers')}
        WHERE region IN ${regions} AND toString(asOf) IN ${sql.list([...new Set(unique.map((r) => String(r.asOf)))])}`);
    }
    if (stored.length === 0) return unique;
    const present = new Set(stored.map(fingerprint));
    return unique.filter((row) => !present.has(fingerprint(row)));
  };
}
