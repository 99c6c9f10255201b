/**
 * The collector: validates, normalises, de-duplicates and stores records of
 * every kind (RECORDS.md). The HTTP ingest route, CSV import and the queue_log
 * reader all go through `createCollector(…).ingest()`. See collector/README.md.
 */
import { randomUUID } from 'node:crypto';
import type { SqmConfig } from '../config/index.js';
import type { Store } from '../store/index.js';
import type { Logger } from '../server/logger.js';
import { createCustomerHasher } from './customer.js';
import { rawText, wellFormed, type DeadLetterRow } from './dead-letters.js';
import { dedupeById, dedupeSnapshots, type Deduper } from './dedupe.js';
import { RECORD_KINDS, type RecordKind } from './kinds.js';
import { RECORD_SPECS, type NormaliseContext } from './records/index.js';
import { createValidators } from './validate.js';
import { createBatchWriter, type BatchWriter } from './writer.js';

export { RECORD_KINDS, isRecordKind, type RecordKind } from './kinds.js';
export { CollectorBusyError } from './writer.js';

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

export interface Collector {
  /** Validate, normalise, dedupe and store; resolves once accepted records are stored. */
  ingest(kind: RecordKind, records: IncomingRecord[], source: string): Promise<IngestOutcome>;
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
  config: SqmConfig;
  secret: string;
  logger: Logger;
  now: () => Date;
  metrics?: CollectorMetrics | undefined;
}

/** How many rows may wait per kind, in batches: enough to absorb bursts, bounded so memory is. */
const PENDING_BATCHES = 10;

function deduperFor(kind: RecordKind, store: Store): Deduper | undefined {
  switch (kind) {
    case 'calls': return dedupeById(store, 'calls', 'enteredAt');
    case 'surveys': return dedupeById(store, 'surveys', 'answeredAt');
    case 'tickets': return dedupeSnapshots(store, 'tickets');
    case 'faults': return dedupeSnapshots(store, 'faults');
    // Queue samples and subscriber counts have no MV over them; their tables
    // collapse repeats of the same key on merge.
    default: return undefined;
  }
}

export function createCollector(deps: CollectorDeps): Collector {
  const { store, config, logger } = deps;
  const validators = createValidators(config);
  const hashCustomer = createCustomerHasher(deps.secret);
  const writers = new Map<RecordKind, BatchWriter>();
  let closed = false;

  function writerFor(kind: RecordKind): BatchWriter {
    let writer = writers.get(kind);
    if (!writer) {
      const maxRows = config.ingest.batchMaxRecords;
      writer = createBatchWriter({
        store,
        table: RECORD_SPECS[kind].table,
        maxRows,
        maxWaitMs: config.ingest.batchMaxWaitMs,
        maxPendingRows: Math.max(maxRows, config.ingest.maxRecordsPerRequest) * PENDING_BATCHES,
        dedupe: deduperFor(kind, store),
        logger,
      });
      writers.set(kind, writer);
    }
    return writer;
  }

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
    async close() {
      closed = true;
      await Promise.all([...writers.values()].map((w) => w.close()));
    },
  };

  async function ingestRecords(kind: RecordKind, records: IncomingRecord[], source: string): Promise<IngestOutcome> {
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
    if (rows.length > 0) await writerFor(kind).write(rows);
    // After the accepted rows, so a request that fails with a store error
    // (and will be retried) leaves no dead letters behind to be doubled.
    if (deadLetters.length > 0) await store.insert('dead_letters', deadLetters);
    if (rejected.length > 0) logger.debug({ kind, source, batchId, rejected: rejected.length }, 'records rejected');
    return { accepted: rows.length, rejected };
  }
}
