/**
 * The batching writer: one per table. Concurrent ingest calls hand it their
 * rows; it coalesces them into one insert of up to `maxRows` rows, waiting at
 * most `maxWaitMs` after the oldest waiting rows arrived, and runs one batch at
 * a time, so de-duplication and inserts for a kind are serialised.
 *
 * A caller's rows always go into a single insert (a request larger than
 * `maxRows` gets one of its own), so a failed insert leaves none of that
 * caller's rows half-stored; its promise settles when the store has confirmed
 * the insert, or rejects with the store's error.
 */
import type { Logger } from '../server/logger.js';
import type { Store, TableName } from '../store/index.js';
import type { Deduper } from './dedupe.js';

export interface BatchWriterOptions {
  store: Store;
  table: TableName;
  maxRows: number;
  maxWaitMs: number;
  /** Rows allowed to wait; beyond this, write() refuses with CollectorBusyError (the caller answers 503). */
  maxPendingRows: number;
  dedupe?: Deduper | undefined;
  logger: Logger;
}

export interface BatchWriter {
  write(rows: readonly object[]): Promise<void>;
  /** Rows waiting for a batch (not counting the batch being written). */
  readonly pendingRows: number;
  /** Write everything still waiting, then refuse new rows. */
  close(): Promise<void>;
}

/** The writer has more rows waiting than it may hold: retry later. */
export class CollectorBusyError extends Error {
  override name = 'CollectorBusyError';
}

interface Entry {
  rows: readonly object[];
  arrivedAt: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export function createBatchWriter(options: BatchWriterOptions): BatchWriter {
  const { store, table, maxRows, maxWaitMs, maxPendingRows, dedupe, logger } = options;
  let queue: Entry[] = [];
  let queuedRows = 0;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let closing = false;
  let idle: (() => void)[] = [];

  function schedule(): void {
    if (running) return; // the running batch calls schedule() when it ends
    if (queue.length === 0) {
      for (const done of idle) done();
      idle = [];
      return;
    }
    if (closing || queuedRows >= maxRows) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      void flush();
      return;
    }
    if (timer) return;
    const oldest = (queue[0] as Entry).arrivedAt;
    const delay = Math.max(0, oldest + maxWaitMs - Date.now());
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, delay);
  }

  async function flush(): Promise<void> {
    if (running || queue.length === 0) return;
    running = true;
    let count = 0;
    let taken = 0;
    while (taken < queue.length) {
      const next = (queue[taken] as Entry).rows.length;
      if (taken > 0 && count + next > maxRows) break;
      count += next;
      taken++;
    }
    const batch = queue.slice(0, taken);
    queue = queue.slice(taken);
    queuedRows -= count;
    try {
      let rows: readonly object[] = batch.length === 1 ? (batch[0] as Entry).rows : batch.flatMap((e) => e.rows);
      if (dedupe) rows = await dedupe(rows);
      if (rows.length > 0) await store.insert(table, rows);
      logger.debug({ table, requests: batch.length, rows: count, inserted: rows.length }, 'batch stored');
      for (const entry of batch) entry.resolve();
    } catch (error) {
      logger.warn({ table, requests: batch.length, rows: count, err: error }, 'batch not stored');
      for (const entry of batch) entry.reject(error);
    } finally {
      running = false;
      schedule();
    }
  }

  return {
    write(rows) {
      if (closing) return Promise.reject(new Error(`collector: the ${table} writer is closed`));
      if (rows.length === 0) return Promise.resolve();
      // An idle writer takes any one request, however large; a busy one is bounded.
      if (queuedRows > 0 && queuedRows + rows.length > maxPendingRows) {
        return Promise.reject(new CollectorBusyError(`${queuedRows} ${table} rows are waiting to be written`));
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ rows, arrivedAt: Date.now(), resolve, reject });
        queuedRows += rows.length;
        schedule();
      });
    },
    get pendingRows() {
      return queuedRows;
    },
    close() {
      closing = true;
      if (!running && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        idle.push(resolve);
        schedule();
      });
    },
  };
}
