/**
 * The ingest spool: a write-ahead log on local disk between "accepted" and
 * "stored" (RECORDS.md: a 200 means every accepted record survives a crash of
 * the process and an outage of ClickHouse).
 *
 * - `append()` writes a request's rows (and its dead letters) as one entry to
 *   the current segment file and resolves only after `fdatasync`, so the
 *   caller may answer 200. Concurrent appends share one write and one sync
 *   (group commit): many small requests cost one disk flush, not one each.
 * - A drainer hands pending entries to the store in large batches (several
 *   requests coalesced, up to `batchMaxRecords` rows), one batch at a time,
 *   and records how far it got in a checkpoint file. The store may be down for
 *   hours: the drainer backs off and retries, and the backlog stays on disk,
 *   bounded by `maxBytes` — over it, `append()` refuses with
 *   `CollectorBusyError` and the caller answers 503 with Retry-After.
 * - After a crash the spool is read back from the checkpoint on: entries
 *   that were stored but not yet checkpointed are handed to the store again,
 *   which is why the drain function must be idempotent (collector/dedupe.ts).
 *
 * An entry the store refuses again and again for its data (a poison record,
 * `isPermanent`) is moved to `quarantine.log` rather than block the spool.
 *
 * On disk: `<dir>/segment-<first seq>.log`, entries one after another: a header
 * line `S\t<seq>\t<kind>\t<rows>\t<rows bytes>\t<dead-letter bytes>\t<crc32>\n`,
 * then the rows and the dead letters, a JSON array on a line each. An entry cut short or
 * whose CRC does not match is the tail a crash left mid-write: never
 * acknowledged (the sync had not returned), so it is skipped. A new process never
 * appends to an old segment. `<dir>/checkpoint` holds the last stored seq.
 */
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '../server/logger.js';

/** The spool is over its disk quota (or closed): retry later. */
export class CollectorBusyError extends Error {
  override name = 'CollectorBusyError';
}

/** What one entry carries: one ingest call's accepted rows and its dead letters. */
export interface SpoolPayload {
  kind: string;
  rows: readonly object[];
  deadLetters: readonly object[];
}

/** An entry as the drain gets it: with its rows as the JSON array the spool wrote, for the store to load. */
export interface SpooledPayload extends SpoolPayload {
  rowsText: string;
}

/** What the drainer hands the store: several entries' payloads, in append order. */
export type SpoolDrain = (payloads: readonly SpooledPayload[]) => Promise<void>;

export interface SpoolOptions {
  dir: string;
  /** Bytes of entries not yet stored that the spool may hold; beyond it, append() refuses. */
  maxBytes: number;
  /** A segment file is closed and a new one started past this size. */
  segmentBytes: number;
  /** Pending entries keep their rows in memory up to this many bytes; the rest are read back from disk. */
  memoryBytes: number;
  /** Rows per drain batch (a single larger entry still goes alone). */
  batchMaxRecords: number;
  /** How long the drainer waits for more rows, while fewer than 1,000 wait, after the oldest pending entry arrived. */
  batchMaxWaitMs: number;
  drain: SpoolDrain;
  logger: Logger;
  /**
   * Is this drain error about the data (the same entries will always fail) rather than the store
   * being unavailable? Such a batch, after POISON_ATTEMPTS failures, is taken apart and the entry
   * that fails alone is quarantined; any other error is retried for as long as it takes.
   */
  isPermanent?: (error: unknown) => boolean;
  /** Back-off after a failed drain: first and longest delay. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

export interface SpoolStats {
  /** Entries and rows appended but not yet stored. */
  entries: number;
  records: number;
  bytes: number;
  maxBytes: number;
  /** Age of the oldest entry not yet stored, seconds (0 when none). */
  oldestSeconds: number;
  /** The last drain attempt failed; the drainer is backing off. */
  storeFailing: boolean;
  /** An append was refused for the quota and nothing has drained since. */
  refusing: boolean;
  /** Totals since start. */
  drainFailures: number;
  refusedAppends: number;
  /** Entries the store refused while answering, moved to `quarantine.log`. */
  quarantined: number;
}

export interface Spool {
  /**
   * Append one entry and wait until it is on disk. Then, when the drainer is
   * healthy, wait up to `waitStoredMs` for it to be stored; resolves whether it was.
   */
  append(payload: SpoolPayload, waitStoredMs: number): Promise<{ stored: boolean }>;
  stats(): SpoolStats;
  /** Resolves when everything appended so far is stored (or rejects after `timeoutMs`). */
  flush(timeoutMs?: number): Promise<void>;
  /** Refuse new entries, try one last drain for up to `timeoutMs`, close files. What is left stays on disk. */
  close(timeoutMs?: number): Promise<void>;
}

interface Entry {
  seq: number;
  kind: string;
  records: number;
  bytes: number;
  /** In memory while the memory budget allows; otherwise read back from `segment` at `offset`. */
  payload: SpooledPayload | undefined;
  segment: Segment;
  offset: number;
  appendedAt: number;
}

interface Segment {
  path: string;
  /** Highest seq written to it. */
  lastSeq: number;
  /** Still the file being appended to. */
  current: boolean;
}

interface Waiter {
  seq: number;
  resolve: (stored: boolean) => void;
  timer: NodeJS.Timeout | undefined;
}

const SEGMENT_PATTERN = /^segment-(\d{16})\.log$/;
const CHECKPOINT = 'checkpoint';
const QUARANTINE = 'quarantine.log';
/** Rows that make an insert worth doing without waiting for more. */
const WORTHWHILE_INSERT_ROWS = 1_000;
/** Failures in a row, each with a data error, before a batch is taken apart. */
const POISON_ATTEMPTS = 3;

function segmentName(firstSeq: number): string {
  return `segment-${String(firstSeq).padStart(16, '0')}.log`;
}

/**
 * One entry: a header line, then the rows and the dead letters, each a JSON
 * array on a line of its own. The rows' line is the very text the embedded
 * store loads (its JSONEachRow input reads an array of objects too), so a batch
 * is serialised once on its way from the request to ClickHouse — and one
 * JSON.stringify of an array is about twice as fast as one per row.
 */
function encode(seq: number, payload: SpoolPayload): { buffer: Buffer; rowsText: string } {
  const rowsText = `${JSON.stringify(payload.rows)}\n`;
  const rows = Buffer.from(rowsText, 'utf8');
  const dead = Buffer.from(`${JSON.stringify(payload.deadLetters)}\n`, 'utf8');
  const crc = crc32(dead, crc32(rows));
  const header = Buffer.from(`S\t${seq}\t${payload.kind}\t${payload.rows.length}\t${rows.length}\t${dead.length}\t${crc}\n`, 'latin1');
  return { buffer: Buffer.concat([header, rows, dead]), rowsText };
}

interface DecodedEntry {
  seq: number;
  kind: string;
  records: number;
  /** Bytes of the whole entry, header included. */
  bytes: number;
  rows: Buffer;
  dead: Buffer;
}

/** Longest header line: "S", a seq, a kind, three counts and a CRC. */
const MAX_HEADER_BYTES = 160;

/**
 * The entry at `start` of `data`; undefined when it is cut short (a crash mid-write: its sync never
 * returned, so nobody was told 200) or damaged (header or CRC wrong).
 */
function decodeEntry(data: Buffer, start: number): DecodedEntry | undefined {
  const end = data.indexOf(0x0a, start);
  if (end === -1 || end - start > MAX_HEADER_BYTES) return undefined;
  const fields = data.subarray(start, end).toString('latin1').split('\t');
  if (fields.length !== 7 || fields[0] !== 'S') return undefined;
  const [seq, records, rowsBytes, deadBytes, crc] = [fields[1], fields[3], fields[4], fields[5], fields[6]].map(Number) as [number, number, number, number, number];
  const kind = fields[2] as string;
  if (![seq, records, rowsBytes, deadBytes, crc].every(Number.isSafeInteger) || seq <= 0 || kind.length === 0) return undefined;
  const bodyStart = end + 1;
  const bodyEnd = bodyStart + rowsBytes + deadBytes;
  if (bodyEnd > data.length) return undefined;
  const rows = data.subarray(bodyStart, bodyStart + rowsBytes);
  const dead = data.subarray(bodyStart + rowsBytes, bodyEnd);
  if (crc32(dead, crc32(rows)) !== crc) return undefined;
  return { seq, kind, records, bytes: bodyEnd - start, rows, dead };
}

function parsePayload(entry: DecodedEntry): SpooledPayload {
  const rowsText = entry.rows.toString('utf8');
  return { kind: entry.kind, rows: JSON.parse(rowsText) as object[], deadLetters: JSON.parse(entry.dead.toString('utf8')) as object[], rowsText };
}

const LOCK = 'lock';

/**
 * One process per spool directory: two would number their entries alike and
 * each replay the other's. The lock file holds the owner's pid; a lock whose
 * process is gone (killed, crashed) is taken over.
 */
async function takeLock(dir: string): Promise<void> {
  const path = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    // The same process may open it again (a test abandoning a spool, as a crash would).
    if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new Error(`collector: the spool directory ${dir} is in use by process ${owner}; give each SQM process its own SQM_DATA_DIR`);
    }
    await rm(path, { force: true });
  }
  throw new Error(`collector: could not lock the spool directory ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function syncDirectory(dir: string): Promise<void> {
  // A new file's directory entry is durable only once the directory itself is synced.
  const handle = await open(dir, fsConstants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function openSpool(options: SpoolOptions): Promise<Spool> {
  const { dir, logger } = options;
  const retryMinMs = options.retryMinMs ?? 250;
  const retryMaxMs = options.retryMaxMs ?? 30_000;
  await mkdir(dir, { recursive: true });
  await takeLock(dir);

  // ---- recovery: read back what was appended after the last checkpoint ----
  let storedSeq = 0;
  try {
    const text = (await readFile(join(dir, CHECKPOINT), 'utf8')).trim();
    const value = Number(text);
    if (Number.isSafeInteger(value) && value >= 0) storedSeq = value;
    else logger.warn({ dir, checkpoint: text }, 'spool checkpoint unreadable; replaying every segment (the store de-duplicates)');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const pending: Entry[] = [];
  const segments: Segment[] = [];
  let lastSeq = storedSeq;
  const names = (await readdir(dir)).filter((n) => SEGMENT_PATTERN.test(n)).sort();
  for (const name of names) {
    const path = join(dir, name);
    const data = await readFile(path);
    const segment: Segment = { path, lastSeq: 0, current: false };
    let start = 0;
    while (start < data.length) {
      const entry = decodeEntry(data, start);
      if (!entry) {
        // Appends only ever go at the end, so what cannot be read is the tail a crash (or a failed
        // write) left: never acknowledged. Anything after it in this file cannot be trusted either.
        logger.warn({ segment: name, offset: start, bytes: data.length - start }, 'spool: skipped an unfinished or damaged tail (never acknowledged)');
        break;
      }
      segment.lastSeq = Math.max(segment.lastSeq, entry.seq);
      lastSeq = Math.max(lastSeq, entry.seq);
      if (entry.seq > storedSeq) {
        pending.push({
          seq: entry.seq, kind: entry.kind, records: entry.records, bytes: entry.bytes, payload: undefined,
          segment, offset: start, appendedAt: Date.now(),
        });
      }
      start += entry.bytes;
    }
    if (segment.lastSeq <= storedSeq) {
      await rm(path, { force: true });
    } else {
      segments.push(segment);
    }
  }
  pending.sort((a, b) => a.seq - b.seq);
  if (pending.length > 0) {
    logger.info({ entries: pending.length, records: pending.reduce((n, e) => n + e.records, 0) }, 'spool: replaying entries not yet stored');
  }

  // ---- state ----
  let nextSeq = lastSeq + 1;
  let pendingBytes = pending.reduce((n, e) => n + e.bytes, 0);
  let pendingRecords = pending.reduce((n, e) => n + e.records, 0);
  let memoryBytes = 0;
  let current: { segment: Segment; handle: FileHandle; size: number } | undefined;
  let appendQueue: { entry: Entry; buffer: Buffer; resolve: () => void; reject: (e: unknown) => void }[] = [];
  let writing = false;
  let draining = false;
  let drainTimer: NodeJS.Timeout | undefined;
  let drainDue = 0;
  let retryDelay = 0;
  let storeFailing = false;
  let refusing = false;
  let closed = false;
  let drainFailures = 0;
  let consecutiveFailures = 0;
  /** Entries still to drain one at a time after a batch failed for its data. */
  let isolating = 0;
  let quarantined = 0;
  let refusedAppends = 0;
  /** Entries on disk (synced), in seq order, not yet stored. */
  const onDisk: Entry[] = pending;
  let onDiskRecords = pendingRecords;
  let waiters: Waiter[] = [];
  let flushers: { seq: number; resolve: () => void }[] = [];

  async function startSegment(firstSeq: number): Promise<void> {
    if (current) {
      current.segment.current = false;
      await current.handle.close();
    }
    const segment: Segment = { path: join(dir, segmentName(firstSeq)), lastSeq: 0, current: true };
    const handle = await open(segment.path, 'a');
    await syncDirectory(dir);
    segments.push(segment);
    current = { segment, handle, size: 0 };
  }

  /** Group commit: everything queued while the previous sync ran goes in one write and one sync. */
  async function pumpWrites(): Promise<void> {
    if (writing) return;
    writing = true;
    try {
      while (appendQueue.length > 0) {
        const batch = appendQueue;
        appendQueue = [];
        try {
          if (!current || current.size >= options.segmentBytes) await startSegment((batch[0] as (typeof batch)[number]).entry.seq);
          const target = current as NonNullable<typeof current>;
          let offset = target.size;
          for (const item of batch) {
            item.entry.segment = target.segment;
            item.entry.offset = offset;
            offset += item.buffer.length;
          }
          const buffer = batch.length === 1 ? (batch[0] as (typeof batch)[number]).buffer : Buffer.concat(batch.map((b) => b.buffer));
          await target.handle.write(buffer, 0, buffer.length, null);
          await target.handle.datasync();
          target.size = offset;
          target.segment.lastSeq = (batch[batch.length - 1] as (typeof batch)[number]).entry.seq;
          for (const item of batch) {
            onDisk.push(item.entry);
            onDiskRecords += item.entry.records;
            item.resolve();
          }
          scheduleDrain();
        } catch (error) {
          // The entries were not acknowledged; give their quota back. A later write starts a new segment,
          // so whatever part of this one reached the file is skipped (bad CRC or no newline) on recovery.
          logger.error({ err: error }, 'spool: append failed');
          const refusal = new CollectorBusyError(`the ingest spool could not write to disk (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
          for (const item of batch) {
            pendingBytes -= item.entry.bytes;
            pendingRecords -= item.entry.records;
            if (item.entry.payload) memoryBytes -= item.entry.bytes;
            item.reject(refusal);
          }
          if (current) {
            current.segment.current = false;
            await current.handle.close().catch(() => undefined);
            current = undefined;
          }
        }
      }
    } finally {
      writing = false;
    }
  }

  /**
   * Start a drain after `delayMs`, or, without one, at once when enough rows wait for a
   * worthwhile insert, else when the oldest entry has waited `batchMaxWaitMs` (a trickle of
   * small requests must not become a stream of tiny inserts: ClickHouse wants few, large
   * parts). Entries that arrive during a drain go together into the next one, so under load
   * batches grow towards `batchMaxRecords` by themselves. While the store fails, only the
   * back-off timer drains.
   */
  function scheduleDrain(delayMs?: number): void {
    if (draining || onDisk.length === 0) return; // a running drain reschedules when it ends
    if (delayMs === undefined && storeFailing) return;
    const full = onDiskRecords >= Math.min(options.batchMaxRecords, WORTHWHILE_INSERT_ROWS) || closed;
    const wanted = delayMs ?? (full ? 0 : Math.max(0, (onDisk[0] as Entry).appendedAt + options.batchMaxWaitMs - Date.now()));
    const due = Date.now() + wanted;
    if (drainTimer) {
      if (drainDue <= due) return;
      clearTimeout(drainTimer);
    }
    drainDue = due;
    drainTimer = setTimeout(() => {
      drainTimer = undefined;
      void drainOnce();
    }, wanted);
  }

  async function loadPayload(entry: Entry): Promise<SpooledPayload> {
    if (entry.payload) return entry.payload;
    const handle = await open(entry.segment.path, 'r');
    try {
      const buffer = Buffer.alloc(entry.bytes);
      await handle.read(buffer, 0, entry.bytes, entry.offset);
      const decoded = decodeEntry(buffer, 0);
      if (!decoded || decoded.seq !== entry.seq) throw new Error(`spool: entry ${entry.seq} in ${entry.segment.path} is damaged`);
      return parsePayload(decoded);
    } finally {
      await handle.close();
    }
  }

  async function drainOnce(): Promise<void> {
    if (draining || onDisk.length === 0) return;
    draining = true;
    let taken = 0;
    let rows = 0;
    // After repeated failures with the store reachable, entries go one at a time to find the one it refuses.
    const limit = isolating > 0 ? 1 : onDisk.length;
    while (taken < limit) {
      const next = (onDisk[taken] as Entry).records;
      if (taken > 0 && rows + next > options.batchMaxRecords) break;
      rows += next;
      taken++;
    }
    const batch = onDisk.slice(0, taken);
    try {
      const payloads: SpooledPayload[] = [];
      for (const entry of batch) payloads.push(await loadPayload(entry));
      await options.drain(payloads);
      await markStored(batch, rows);
      if (isolating > 0) isolating--;
      logger.debug({ entries: batch.length, records: rows }, 'spool: batch stored');
    } catch (error) {
      drainFailures++;
      consecutiveFailures++;
      const message = error instanceof Error ? error.message : String(error);
      const permanent = consecutiveFailures >= POISON_ATTEMPTS && (options.isPermanent?.(error) ?? false);
      if (permanent && batch.length > 1) {
        isolating = batch.length;
        consecutiveFailures = 0;
        logger.warn({ err: message, entries: batch.length }, 'spool: the store refuses this batch\'s data; trying its entries one by one');
      } else if (permanent) {
        await quarantine(batch[0] as Entry, message);
        isolating = 0;
      } else {
        storeFailing = true;
        retryDelay = Math.min(retryMaxMs, retryDelay === 0 ? retryMinMs : retryDelay * 2);
        logger.warn({ err: message, entries: batch.length, records: rows, retryInMs: retryDelay }, 'spool: batch not stored; will retry');
        // Nobody waits on a failing store: the records are safe on disk.
        for (const waiter of waiters) {
          if (waiter.timer) clearTimeout(waiter.timer);
          waiter.resolve(false);
        }
        waiters = [];
      }
    } finally {
      draining = false;
    }
    if (onDisk.length > 0) scheduleDrain(storeFailing ? retryDelay : undefined);
  }

  async function markStored(batch: Entry[], rows: number): Promise<void> {
    onDisk.splice(0, batch.length);
    onDiskRecords -= rows;
    const last = (batch[batch.length - 1] as Entry).seq;
    storedSeq = last;
    for (const entry of batch) {
      pendingBytes -= entry.bytes;
      pendingRecords -= entry.records;
      if (entry.payload) {
        memoryBytes -= entry.bytes;
        entry.payload = undefined;
      }
    }
    storeFailing = false;
    refusing = false;
    retryDelay = 0;
    consecutiveFailures = 0;
    await writeCheckpoint(last);
    await removeStoredSegments();
    settleWaiters();
  }

  /**
   * An entry the store keeps refusing while it answers otherwise would block every later
   * record for ever. It is moved, as it was written, to `quarantine.log` (synced) for an
   * operator to look at and re-send, and the spool goes on.
   */
  async function quarantine(entry: Entry, reason: string): Promise<void> {
    const handle = await open(entry.segment.path, 'r');
    const line = Buffer.alloc(entry.bytes);
    try {
      await handle.read(line, 0, entry.bytes, entry.offset);
    } finally {
      await handle.close();
    }
    const target = await open(join(dir, QUARANTINE), 'a');
    try {
      await target.write(line);
      await target.datasync();
    } finally {
      await target.close();
    }
    quarantined++;
    logger.error({ seq: entry.seq, kind: entry.kind, records: entry.records, reason, file: join(dir, QUARANTINE) },
      'spool: the store refuses this entry although it answers; moved to quarantine');
    await markStored([entry], entry.records);
  }

  async function writeCheckpoint(seq: number): Promise<void> {
    // Not synced: a lost checkpoint only means entries are replayed, and replay is idempotent.
    const tmp = join(dir, `${CHECKPOINT}.tmp`);
    await writeFile(tmp, `${seq}\n`);
    await rename(tmp, join(dir, CHECKPOINT));
  }

  async function removeStoredSegments(): Promise<void> {
    for (let i = segments.length - 1; i >= 0; i--) {
      const segment = segments[i] as Segment;
      if (segment.current || segment.lastSeq > storedSeq) continue;
      segments.splice(i, 1);
      await rm(segment.path, { force: true });
    }
  }

  function settleWaiters(): void {
    if (waiters.length > 0) {
      const still: Waiter[] = [];
      for (const waiter of waiters) {
        if (waiter.seq <= storedSeq) {
          if (waiter.timer) clearTimeout(waiter.timer);
          waiter.resolve(true);
        } else {
          still.push(waiter);
        }
      }
      waiters = still;
    }
    if (flushers.length > 0) {
      const still: typeof flushers = [];
      for (const f of flushers) (f.seq <= storedSeq ? f.resolve() : still.push(f));
      flushers = still;
    }
  }

  // Anything read back at start goes to the store right away.
  scheduleDrain(0);

  return {
    async append(payload, waitStoredMs) {
      if (closed) throw new CollectorBusyError('the collector is shutting down');
      const seq = nextSeq;
      const { buffer, rowsText } = encode(seq, payload);
      if (pendingBytes > 0 && pendingBytes + buffer.length > options.maxBytes) {
        refusing = true;
        refusedAppends++;
        throw new CollectorBusyError(`the ingest spool holds ${pendingBytes} bytes not yet stored (quota ${options.maxBytes})`);
      }
      nextSeq++;
      const keep = memoryBytes + buffer.length <= options.memoryBytes;
      const entry: Entry = {
        seq, kind: payload.kind, records: payload.rows.length, bytes: buffer.length,
        payload: keep ? { ...payload, rowsText } : undefined, segment: undefined as unknown as Segment, offset: 0, appendedAt: Date.now(),
      };
      pendingBytes += buffer.length;
      pendingRecords += entry.records;
      if (keep) memoryBytes += buffer.length;
      await new Promise<void>((resolve, reject) => {
        appendQueue.push({ entry, buffer, resolve, reject });
        void pumpWrites();
      });
      if (storedSeq >= seq) return { stored: true };
      if (storeFailing || waitStoredMs <= 0) return { stored: false };
      const stored = await new Promise<boolean>((resolve) => {
        const waiter: Waiter = { seq, resolve, timer: undefined };
        waiter.timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          resolve(false);
        }, waitStoredMs);
        waiters.push(waiter);
      });
      return { stored };
    },
    stats() {
      const oldest = onDisk[0];
      return {
        entries: onDisk.length + appendQueue.length,
        records: pendingRecords,
        bytes: pendingBytes,
        maxBytes: options.maxBytes,
        oldestSeconds: oldest ? Math.max(0, (Date.now() - oldest.appendedAt) / 1000) : 0,
        storeFailing,
        refusing,
        drainFailures,
        refusedAppends,
        quarantined,
      };
    },
    flush(timeoutMs = 30_000) {
      const target = nextSeq - 1;
      if (storedSeq >= target) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          flushers = flushers.filter((f) => f.resolve !== done);
          reject(new Error(`spool: not everything was stored within ${timeoutMs} ms (${pendingRecords} records pending)`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        flushers.push({ seq: target, resolve: done });
        if (!storeFailing) scheduleDrain(0);
      });
    },
    async close(timeoutMs = 5_000) {
      if (closed) return;
      closed = true;
      while (writing || appendQueue.length > 0) await new Promise((r) => setTimeout(r, 5));
      // One last try, even while backing off: a store that came back gets everything now.
      const deadline = Date.now() + timeoutMs;
      while (onDisk.length > 0 && Date.now() < deadline) {
        if (drainTimer) {
          clearTimeout(drainTimer);
          drainTimer = undefined;
        }
        while (draining) await new Promise((r) => setTimeout(r, 5));
        await drainOnce();
        if (storeFailing) break;
      }
      if (drainTimer) clearTimeout(drainTimer);
      drainTimer = undefined;
      while (draining) await new Promise((r) => setTimeout(r, 5));
      for (const waiter of waiters) {
        if (waiter.timer) clearTimeout(waiter.timer);
        waiter.resolve(false);
      }
      waiters = [];
      if (current) {
        await current.handle.close();
        current = undefined;
      }
      if (onDisk.length > 0) logger.warn({ entries: onDisk.length, records: pendingRecords }, 'spool: closed with records not yet stored; they are stored at the next start');
      await rm(join(dir, LOCK), { force: true });
    },
  };
}

/** Remove a spool directory (tests and benches use throw-away ones). */
export async function removeSpoolDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

