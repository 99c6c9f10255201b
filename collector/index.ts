/**
 * The collector: validates, normalises, de-duplicates and stores records of
 * every kind (RECORDS.md). The HTTP ingest route, CSV import and the queue_log
 * reader all go through `createCollector(…).ingest()`. See collector/README.md.
 */
import { randomUUID } from 'node:crypto';
import type { SqmConfig } from '../config/index.js';
import { StoreError, type Store } from '../store/index.js';
import type { Logger } from '../server/logger.js';
import { createCustomerHasher } from './customer.js';
import { rawText, wellFormed, type DeadLetterRow } from './dead-letters.js';
import { dedupeById, dedupeDeadLetters, dedupeExactRows, dedupeSnapshots, type Deduper } from './dedupe.js';
import { RECORD_KINDS, type RecordKind } from './kinds.js';
import { RECORD_SPECS, type NormaliseContext } from './records/index.js';
import { createValidators } from './validate.js';
import { openSpool, type Spool, type SpooledPayload, type SpoolStats } from './spool.js';

export { RECORD_KINDS, isRecordKind, type RecordKind } from './kinds.js';
export { CollectorBusyError, type SpoolStats } from './spool.js';

/** One record as it arrived: a parsed value, or the raw text that could not be parsed. */
export interface IncomingRecord {
  /** 0-based position in the request (array index or NDJSON line), or the file's line number for CSV/queue_log. */
  index: number;
  value?: unknown;
  /** The record's text as received, kept in dead_letters if it is rejected. */
  raw?: string;
  /** Why the text could not be parsed; the record is rejected with `(record): <parseError>`. */
  parseError?: string;
}

export interface IngestOutcome {
  accepted: number;
  rejected: { index: number; errors: string[] }[];
}

/** What the collector itself answers: the outcome, and whether the store has the records yet. */
export interface CollectorOutcome extends IngestOutcome {
  /**
   * Whether the accepted records are already in the store (queryable). Either way they are
   * durable: on disk in the spool, stored as soon as the store takes them.
   */
  stored: boolean;
}

export interface Collector {
  /**
   * Validate and normalise; append accepted rows and dead letters to the spool (fsync), then wait
   * up to `ingest.spool.waitForStoreMs` for the store while it is healthy. Throws
   * CollectorBusyError, storing nothing, when the spool is over its quota.
   */
  ingest(kind: RecordKind, records: IncomingRecord[], source: string): Promise<CollectorOutcome>;
  /** The spool's backlog, for /metrics and /readyz. */
  spoolStats(): SpoolStats;
  /** Wait until everything accepted so far is stored (tests, shutdown). */
  flush(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** What the collector reports for /metrics (server/metrics.ts implements it). */
export interface CollectorMetrics {
  /** One ingest call stored: its accepted and rejected record counts and how long it took. */
  batchStored(kind: RecordKind, accepted: number, rejected: number, seconds: number): void;
  /** One ingest call ended in an error (store error, writer busy); the caller is told to retry. */
  batchFailed(kind: RecordKind, seconds: number): void;
}

export interface CollectorDeps {
  store: Store;
  /** The spool directory (`<SQM_DATA_DIR>/spool`); one collector process per directory. */
  spoolDir: string;
  config: SqmConfig;
  secret: string;
  logger: Logger;
  now: () => Date;
  metrics?: CollectorMetrics | undefined;
}

/** `ingest.spool` defaults: hours of a bad day's traffic fit in the quota. */
export const SPOOL_DEFAULTS = {
  maxBytes: 2 * 1024 ** 3,
  segmentBytes: 64 * 1024 ** 2,
  memoryBytes: 64 * 1024 ** 2,
  waitForStoreMs: 5_000,
} as const;

function deduperFor(kind: RecordKind, store: Store): Deduper | undefined {
  switch (kind) {
    case 'calls': return dedupeById(store, 'calls', 'enteredAt');
    case 'surveys': return dedupeById(store, 'surveys', 'answeredAt');
    case 'tickets': return dedupeSnapshots(store, 'tickets');
    case 'faults': return dedupeSnapshots(store, 'faults');
    case 'queues': return dedupeExactRows(store, 'queue_states');
    case 'subscribers': return dedupeExactRows(store, 'subscribers');
    default: return undefined;
  }
}

/** Several entries' rows, each a JSON array (`[…]\n`), as one array, in order. */
function joinJsonArrays(texts: readonly string[]): string {
  if (texts.length === 1) return texts[0] as string;
  const items = texts.map((t) => t.trimEnd().slice(1, -1)).filter((t) => t.length > 0);
  return `[${items.join(',')}]\n`;
}

/**
 * ClickHouse codes that mean "this data cannot be inserted" rather than "the server cannot take
 * it now": parse and conversion errors, too-long strings, NULL in a plain column.
 */
const DATA_ERROR_CODES = new Set([6, 26, 27, 38, 41, 53, 69, 70, 72, 117, 131, 349]);

/** A drain error that retrying will not fix: a data error from the engine, or our own code throwing. */
function isDataError(error: unknown): boolean {
  if (error instanceof StoreError) return error.code !== undefined && DATA_ERROR_CODES.has(error.code);
  // Not the store's error: thrown by de-duplication or the spool's own reading, deterministically.
  return !(error as NodeJS.ErrnoException)?.code;
}

export async function createCollector(deps: CollectorDeps): Promise<Collector> {
  const { store, config, logger } = deps;
  const validators = createValidators(config);
  const hashCustomer = createCustomerHasher(deps.secret);
  const dedupers = new Map<RecordKind, Deduper | undefined>();
  const spoolSettings = { ...SPOOL_DEFAULTS, ...config.ingest.spool };
  let closed = false;

  function deduper(kind: RecordKind): Deduper | undefined {
    if (!dedupers.has(kind)) dedupers.set(kind, deduperFor(kind, store));
    return dedupers.get(kind);
  }

  /**
   * The spool's drain: one insert per kind for the batch's rows, after de-duplication
   * (so a batch replayed after a crash is stored once), then the dead letters.
   */
  async function drain(payloads: readonly SpooledPayload[]): Promise<void> {
    const byKind = new Map<RecordKind, { rows: object[]; texts: string[] }>();
    const deadLetters: DeadLetterRow[] = [];
    for (const payload of payloads) {
      const kind = payload.kind as RecordKind;
      if (!RECORD_SPECS[kind]) throw new Error(`collector: the spool holds an unknown kind "${payload.kind}"`);
      let group = byKind.get(kind);
      if (!group) byKind.set(kind, (group = { rows: [], texts: [] }));
      for (const row of payload.rows) group.rows.push(row);
      group.texts.push(payload.rowsText);
      for (const letter of payload.deadLetters) deadLetters.push(letter as DeadLetterRow);
    }
    for (const [kind, { rows, texts }] of byKind) {
      if (rows.length === 0) continue; // an entry of dead letters only
      const dedupe = deduper(kind);
      const fresh = dedupe ? await dedupe(rows) : rows;
      if (fresh.length === 0) continue;
      // Nothing dropped: the spool's own JSON of these rows is what the store loads.
      await store.insert(RECORD_SPECS[kind].table, fresh, fresh.length === rows.length ? joinJsonArrays(texts) : undefined);
    }
    if (deadLetters.length > 0) {
      const fresh = await dedupeDeadLetters(store, deadLetters);
      if (fresh.length > 0) await store.insert('dead_letters', fresh);
    }
  }

  const spool: Spool = await openSpool({
    dir: deps.spoolDir,
    maxBytes: spoolSettings.maxBytes,
    segmentBytes: spoolSettings.segmentBytes,
    memoryBytes: spoolSettings.memoryBytes,
    batchMaxRecords: config.ingest.batchMaxRecords,
    batchMaxWaitMs: config.ingest.batchMaxWaitMs,
    drain,
    isPermanent: isDataError,
    logger: logger.child({ module: 'spool' }),
  });

  return {
    async ingest(kind, records, source) {
      if (!deps.metrics) return ingestRecords(kind, records, source);
      const start = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - start) / 1e9;
      try {
        const outcome = await ingestRecords(kind, records, source);
        deps.metrics.batchStored(kind, outcome.accepted, outcome.rejected.length, seconds());
        return outcome;
      } catch (error) {
        deps.metrics.batchFailed(kind, seconds());
        throw error;
      }
    },
    spoolStats: () => spool.stats(),
    flush: (timeoutMs) => spool.flush(timeoutMs),
    async close() {
      closed = true;
      await spool.close();
    },
  };

  async function ingestRecords(kind: RecordKind, records: IncomingRecord[], source: string): Promise<CollectorOutcome> {
    if (closed) throw new Error('collector: closed');
    const validator = validators[kind];
    if (!validator) throw new Error(`collector: unknown record kind "${String(kind)}" (valid: ${RECORD_KINDS.join(', ')})`);
    const nowSec = Math.floor(deps.now().getTime() / 1000);
    const context: NormaliseContext = { nowSec, hashCustomer };
    const rows: object[] = [];
    const rejected: IngestOutcome['rejected'] = [];
    const deadLetters: DeadLetterRow[] = [];
    let batchId: string | undefined;
    for (const record of records) {
      const result = record.parseError !== undefined
        ? [`(record): ${record.parseError}`]
        : validator.validate(record.value, context);
      if (!Array.isArray(result)) {
        rows.push(result);
        continue;
      }
      batchId ??= randomUUID();
      rejected.push({ index: record.index, errors: result });
      deadLetters.push({
        receivedAt: nowSec,
        kind,
        source,
        batchId,
        recordIndex: record.index,
        raw: rawText(record.raw, record.value),
        errors: result.map(wellFormed),
      });
    }
    let stored = true;
    if (rows.length > 0 || deadLetters.length > 0) {
      // Accepted rows and dead letters go in one spool entry: all of the request, or (over quota) none.
      ({ stored } = await spool.append({ kind, rows, deadLetters }, spoolSettings.waitForStoreMs));
    }
    if (rejected.length > 0) logger.debug({ kind, source, batchId, rejected: rejected.length }, 'records rejected');
    return { accepted: rows.length, rejected, stored };
  }
}
