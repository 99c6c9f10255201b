/**
 * Follow a live Asterisk queue_log: read what is appended, survive rotation
 * and truncation, and remember where it stopped.
 *
 * - Rotation: the path now names another file (inode). The old file is read
 *   to its end first (Asterisk may still have written to it), then the new one
 *   from byte 0.
 * - Truncation: the file is shorter than what was read; read again from 0.
 *   (A truncation followed by more writes than were read before, between two
 *   polls, looks like an append; polls are frequent for that reason.)
 * - Restart: a state file holds the file's identity, the byte offset and line
 *   number after the last complete line, and the calls still in progress. It
 *   is written only after the sink has accepted every call finished before
 *   that offset, so a restart neither skips a line nor sends a call twice
 *   (after a crash between the two, the collector's de-duplication by id
 *   keeps the re-sent calls single). If the file was rotated while stopped,
 *   the old file is looked for beside it (`queue_log.1`, …) by inode.
 * - A line without its newline yet is not read until it is complete.
 */
import { open, readdir, rename, stat, writeFile, readFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { IncomingRecord } from '../index.js';
import type { Logger } from '../../server/logger.js';
import type { RejectedRow } from './csv.js';
import { addOutcome, QueueLogAssembler, type AssemblerState, type QueueLogStats, type QueueMap } from './queue-log.js';
import { MAX_BATCH_RECORDS, SinkFatalError, type RecordSink } from './sink.js';

export interface TailState {
  version: 1;
  dev: number;
  ino: number;
  /** Bytes of complete lines read from that file. */
  offset: number;
  /** Lines read from that file. */
  line: number;
  assembler: AssemblerState;
}

export interface TailReport extends QueueLogStats {
  accepted: number;
  rejected: number;
  rejectedRows: RejectedRow[];
  openCalls: number;
}

export interface TailOptions {
  path: string;
  /** Where to keep the offset and the calls in progress; none: start over on every run. */
  statePath?: string;
  queues: QueueMap;
  sink: RecordSink;
  source?: string;
  pollIntervalMs?: number;
  readChunkBytes?: number;
  batchSize?: number;
  /** With no state file: skip what the file holds now and read only new lines. */
  fromEnd?: boolean;
  logger?: Logger;
  /** After each poll that read lines or sent calls. */
  onReport?: (report: TailReport) => void;
  /** A poll failed (the sink is down, …); the tailer keeps its place and retries next poll. */
  onError?: (error: Error) => void;
}

interface Cursor {
  fd: FileHandle;
  dev: number;
  ino: number;
  offset: number;
  line: number;
  partial: Buffer;
}

const MAX_LINE_BYTES = 1024 * 1024;

async function statOrNull(path: string): Promise<{ dev: number; ino: number; size: number } | null> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export class QueueLogTailer {
  private readonly assembler: QueueLogAssembler;
  private readonly pollIntervalMs: number;
  private readonly chunkBytes: number;
  private readonly batchSize: number;
  private readonly source: string;
  private cursor: Cursor | undefined;
  private pending: IncomingRecord[] = [];
  private totals = { accepted: 0, rejected: 0, rejectedRows: [] as RejectedRow[] };
  private polling: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private initialised = false;
  private saved = '';

  constructor(private readonly options: TailOptions) {
    this.assembler = new QueueLogAssembler(options.queues);
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.chunkBytes = options.readChunkBytes ?? 64 * 1024;
    this.batchSize = Math.min(options.batchSize ?? MAX_BATCH_RECORDS, MAX_BATCH_RECORDS);
    this.source = options.source ?? `queue_log:${basename(options.path)}`;
  }

  /** Poll now and then every pollIntervalMs until stop(). */
  start(): void {
    this.stopped = false;
    const tick = async (): Promise<void> => {
      await this.pollOnce();
      if (!this.stopped) this.timer = setTimeout(() => void tick(), this.pollIntervalMs);
    };
    void tick();
  }

  /** Stop polling, send what is pending, save the state, close the file. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    try {
      await this.flush();
    } catch (error) {
      this.fail(error as Error);
    }
    await this.cursor?.fd.close();
    this.cursor = undefined;
  }

  /** One poll; never throws (failures go to onError and are retried next poll). */
  pollOnce(): Promise<void> {
    this.polling ??= this.poll()
      .catch((error: Error) => this.fail(error))
      .finally(() => {
        this.polling = undefined;
      });
    return this.polling;
  }

  private fail(error: Error): void {
    this.options.logger?.warn({ err: error.message }, 'queue_log tail: poll failed; will retry');
    this.options.onError?.(error);
  }

  private async poll(): Promise<void> {
    // Calls the sink did not take last time go first; until they do, nothing more is read.
    if (this.pending.length > 0) await this.flush();
    if (!this.initialised) {
      await this.openInitial();
      if (!this.initialised) return;
    }
    if (!this.cursor) {
      // The file was missing; it may exist now.
      this.cursor = await this.openAt(this.options.path, 0, 0);
      if (!this.cursor) return;
    }
    await this.readAvailable(this.cursor);
    const now = await statOrNull(this.options.path);
    const cur = this.cursor;
    if (now && (now.ino !== cur.ino || now.dev !== cur.dev)) {
      await this.readAvailable(cur); // the last lines written to the old file before the switch
      if (cur.partial.length > 0) this.takeLine(cur, cur.partial, cur.partial.length); // a rotated file ends where it ends
      await cur.fd.close();
      this.options.logger?.info({ path: this.options.path }, 'queue_log tail: file rotated; reading the new one from the start');
      this.cursor = await this.openAt(this.options.path, 0, 0);
      if (this.cursor) await this.readAvailable(this.cursor);
    } else if (now && now.size < cur.offset + cur.partial.length) {
      this.options.logger?.info({ path: this.options.path, size: now.size, offset: cur.offset }, 'queue_log tail: file truncated; reading from the start');
      cur.offset = 0;
      cur.line = 0;
      cur.partial = Buffer.alloc(0);
      await this.readAvailable(cur);
    }
    await this.flush();
  }

  private async openAt(path: string, offset: number, line: number): Promise<Cursor | undefined> {
    let fd: FileHandle;
    try {
      fd = await open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const st = await fd.stat();
    return { fd, dev: st.dev, ino: st.ino, offset, line, partial: Buffer.alloc(0) };
  }

  private async openInitial(): Promise<void> {
    const state = await this.loadState();
    const current = await statOrNull(this.options.path);
    if (state) this.assembler.restore(state.assembler);
    if (!state) {
      if (!current) return; // not there yet
      this.cursor = await this.openAt(this.options.path, 0, 0);
      if (this.cursor && this.options.fromEnd) {
        this.cursor.offset = (await this.cursor.fd.stat()).size;
        this.cursor.line = 0;
      }
    } else if (current && current.ino === state.ino && current.dev === state.dev) {
      this.cursor = current.size >= state.offset
        ? await this.openAt(this.options.path, state.offset, state.line)
        : await this.openAt(this.options.path, 0, 0);
    } else {
      const old = await this.findRotated(state.dev, state.ino);
      if (old) {
        // Finish the old file; the next poll's rotation check moves on to the new one.
        this.cursor = await this.openAt(old, state.offset, state.line);
        this.options.logger?.info({ old }, 'queue_log tail: rotated while stopped; finishing the old file first');
      } else {
        this.options.logger?.warn({ path: this.options.path }, 'queue_log tail: the file read before was replaced and is gone; its unread lines are lost');
        this.cursor = current ? await this.openAt(this.options.path, 0, 0) : undefined;
      }
    }
    this.initialised = true;
  }

  private async findRotated(dev: number, ino: number): Promise<string | undefined> {
    const dir = dirname(this.options.path);
    const base = basename(this.options.path);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return undefined;
    }
    for (const name of names.sort()) {
      if (name === base || !name.startsWith(base)) continue;
      const st = await statOrNull(join(dir, name));
      if (st && st.ino === ino && st.dev === dev) return join(dir, name);
    }
    return undefined;
  }

  private async readAvailable(cur: Cursor): Promise<void> {
    const buffer = Buffer.alloc(this.chunkBytes);
    for (;;) {
      const { bytesRead } = await cur.fd.read(buffer, 0, buffer.length, cur.offset + cur.partial.length);
      if (bytesRead === 0) return;
      let data = cur.partial.length > 0 ? Buffer.concat([cur.partial, buffer.subarray(0, bytesRead)]) : Buffer.from(buffer.subarray(0, bytesRead));
      cur.partial = Buffer.alloc(0);
      let start = 0;
      for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, start)) {
        this.takeLine(cur, data.subarray(start, nl), nl + 1 - start);
        start = nl + 1;
      }
      data = data.subarray(start);
      if (data.length > MAX_LINE_BYTES) this.takeLine(cur, data, data.length); // not a queue_log line; reported as malformed
      else cur.partial = Buffer.from(data);
      if (this.pending.length >= this.batchSize) await this.flush();
    }
  }

  /** One complete line of `consumed` bytes (newline included). */
  private takeLine(cur: Cursor, bytes: Buffer, consumed: number): void {
    let text = bytes.toString('utf8');
    if (text.endsWith('\n')) text = text.slice(0, -1);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    cur.line++;
    cur.offset += consumed;
    if (consumed === bytes.length && bytes === cur.partial) cur.partial = Buffer.alloc(0);
    const call = this.assembler.push(text, cur.line);
    if (call) this.pending.push({ index: call.line, value: call.value });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, this.batchSize);
      const outcome = await this.options.sink.send('calls', batch, this.source);
      this.pending.splice(0, batch.length);
      addOutcome(this.totals, outcome);
    }
    await this.saveState();
    const stats = this.assembler.takeStats();
    if (stats.linesRead > 0 || this.totals.accepted > 0 || this.totals.rejected > 0) {
      this.options.onReport?.({ ...stats, ...this.totals, openCalls: this.assembler.openCalls });
    }
    this.totals = { accepted: 0, rejected: 0, rejectedRows: [] };
  }

  private async loadState(): Promise<TailState | undefined> {
    if (!this.options.statePath) return undefined;
    let text: string;
    try {
      text = await readFile(this.options.statePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let state: TailState;
    try {
      state = JSON.parse(text) as TailState;
    } catch {
      throw new SinkFatalError(`state file ${this.options.statePath} is not JSON; move it away to start over`);
    }
    if (state.version !== 1 || !Number.isInteger(state.offset) || !Number.isInteger(state.line) || !state.assembler || !Array.isArray(state.assembler.open)) {
      throw new SinkFatalError(`state file ${this.options.statePath} is not a queue_log tail state; move it away to start over`);
    }
    return state;
  }

  private async saveState(): Promise<void> {
    if (!this.options.statePath || !this.cursor) return;
    const state: TailState = {
      version: 1,
      dev: this.cursor.dev,
      ino: this.cursor.ino,
      offset: this.cursor.offset,
      line: this.cursor.line,
      assembler: this.assembler.snapshot(),
    };
    const text = JSON.stringify(state);
    if (text === this.saved) return;
    // Write then rename: a crash mid-write leaves the previous state, never half of one.
    const tmp = `${this.options.statePath}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, this.options.statePath);
    this.saved = text;
  }
}
