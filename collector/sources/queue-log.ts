/**
 * Asterisk queue_log → call records.
 *
 * Line layout (docs.asterisk.org, "Queue Logs"):
 *   UNIXTIME|callid|queuename|agent|EVENT|data1|data2|…
 * The events a call is assembled from, with their documented data fields:
 *   ENTERQUEUE(url|callerid)                         the caller joins the queue
 *   CONNECT(holdtime|bridgedchanneluniqueid|ringtime) an agent answers
 *   COMPLETECALLER / COMPLETEAGENT(holdtime|calltime|origposition)
 *   TRANSFER / BLINDTRANSFER(extension|context|holdtime|calltime|origposition)
 *   ATTENDEDTRANSFER(method|method-data|holdtime|calltime|origposition)
 *   ABANDON(position|origposition|waittime)
 *   EXITWITHTIMEOUT / EXITEMPTY(position|origposition|waittime)   → overflow
 *   EXITWITHKEY(key|position|origposition|waittime)               → callback
 * `holdtime` is the wait in the queue (not an agent's hold), so it never fills
 * `holdSeconds`. Every other event (agent log-ins, pauses, RINGNOANSWER whose
 * ringtime is in milliseconds, …) is counted as ignored and never read.
 *
 * One call per queue visit: the id is `<queue>:<callid>`, stable across
 * re-imports, so importing the same file twice stores each call once.
 */
import { StringDecoder } from 'node:string_decoder';
import type { IncomingRecord } from '../index.js';
import type { QueueLogQueueConfig } from '../../config/index.js';
import { SUMMARY_REJECTED_ROWS, type RejectedRow } from './csv.js';
import { MAX_BATCH_RECORDS, type RecordSink } from './sink.js';

export type QueueMap = Readonly<Record<string, QueueLogQueueConfig>>;

export interface QueueLogEvent {
  time: number;
  callid: string;
  queue: string;
  agent: string;
  event: string;
  data: string[];
}

export interface QueueLogProblem {
  line: number;
  reason: string;
}

/** A call still in the queue or talking, kept between lines (and in the tailer's state file). */
export interface OpenCall {
  queue: string;
  callid: string;
  line: number;
  last: number;
  enteredAt?: number;
  answeredAt?: number;
  agent?: string;
  customer?: string;
}

export interface AssemblerState {
  open: OpenCall[];
  /** Recently finished calls (key, log time), so a late COMPLETE after a TRANSFER is not a second call. */
  closed: [string, number][];
}

export interface UnmappedQueue {
  queue: string;
  lines: number;
  firstLines: number[];
}

export interface QueueLogStats {
  linesRead: number;
  calls: number;
  ignored: number;
  malformed: number;
  inconsistent: number;
  expired: number;
  problems: QueueLogProblem[];
  unmappedQueues: UnmappedQueue[];
}

const TIME = /^\d{1,12}(?:\.\d+)?$/;
const EVENT = /^[A-Z][A-Z0-9_]*$/;
const COUNT = /^\d{1,9}$/;
/** Caller ids that are not a customer: counting them as one would make every anonymous caller a repeat contact. */
const NOT_A_CUSTOMER = new Set(['', 'unknown', 'anonymous', 'restricted', 'private', 'none']);
const CLOSED_MEMORY_SECONDS = 3600;
const PROBLEM_LIMIT = 20;
const UNMAPPED_LINE_LIMIT = 10;

/** One line → an event, an error naming what is wrong, or null for a blank line. */
export function parseQueueLogLine(text: string): { event: QueueLogEvent } | { error: string } | null {
  if (text.trim() === '') return null;
  const fields = text.split('|');
  if (fields.length < 5) return { error: `${fields.length} field${fields.length === 1 ? '' : 's'}; a queue_log line has at least 5 (time|callid|queue|agent|event)` };
  const [time, callid, queue, agent, event] = fields as [string, string, string, string, string];
  if (!TIME.test(time)) return { error: `time "${clip(time)}" is not a Unix time` };
  if (!EVENT.test(event)) return { error: `event "${clip(event)}" is not an event name` };
  return { event: { time: Math.floor(Number(time)), callid, queue, agent, event, data: fields.slice(5) } };
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

type Outcome = 'answered' | 'abandoned' | 'callback' | 'overflow';

/** Where each finishing event keeps the durations it carries (index into data). */
const FINISH: Record<string, { outcome: Outcome; hold?: number; call?: number; wait?: number }> = {
  COMPLETECALLER: { outcome: 'answered', hold: 0, call: 1 },
  COMPLETEAGENT: { outcome: 'answered', hold: 0, call: 1 },
  TRANSFER: { outcome: 'answered', hold: 2, call: 3 },
  BLINDTRANSFER: { outcome: 'answered', hold: 2, call: 3 },
  ATTENDEDTRANSFER: { outcome: 'answered', hold: 2, call: 3 },
  ABANDON: { outcome: 'abandoned', wait: 2 },
  EXITWITHTIMEOUT: { outcome: 'overflow', wait: 2 },
  EXITEMPTY: { outcome: 'overflow', wait: 2 },
  EXITWITHKEY: { outcome: 'callback', wait: 3 },
};
const FIELD_NAMES: Record<string, string[]> = {
  COMPLETECALLER: ['holdtime', 'calltime'],
  COMPLETEAGENT: ['holdtime', 'calltime'],
  TRANSFER: ['extension', 'context', 'holdtime', 'calltime'],
  BLINDTRANSFER: ['extension', 'context', 'holdtime', 'calltime'],
  ATTENDEDTRANSFER: ['method', 'method-data', 'holdtime', 'calltime'],
  ABANDON: ['position', 'origposition', 'waittime'],
  EXITWITHTIMEOUT: ['position', 'origposition', 'waittime'],
  EXITEMPTY: ['position', 'origposition', 'waittime'],
  EXITWITHKEY: ['key', 'position', 'origposition', 'waittime'],
  CONNECT: ['holdtime', 'bridgedchanneluniqueid', 'ringtime'],
};

export interface AssembledCall {
  /** The line whose event finished the call. */
  line: number;
  value: Record<string, unknown>;
}

export interface AssemblerOptions {
  /** A call with no event for this long (log time) is dropped as never finished. */
  maxOpenSeconds?: number;
  /** Wall clock (tests); a line stamped more than 10 minutes after it is refused. */
  now?: () => number;
}

/** Like the collector's rule for records: a queue_log line cannot come from the future. */
const MAX_FUTURE_SECONDS = 600;

export class QueueLogAssembler {
  private readonly open = new Map<string, OpenCall>();
  private readonly closed = new Map<string, number>();
  private readonly unmapped = new Map<string, UnmappedQueue>();
  private readonly maxOpenSeconds: number;
  private latest = 0;
  private sincePurge = 0;
  stats: QueueLogStats = QueueLogAssembler.emptyStats();

  private readonly nowSeconds: () => number;

  constructor(private readonly queues: QueueMap, options: AssemblerOptions = {}) {
    this.maxOpenSeconds = options.maxOpenSeconds ?? 24 * 3600;
    this.nowSeconds = options.now ?? (() => Date.now() / 1000);
  }

  static emptyStats(): QueueLogStats {
    return { linesRead: 0, calls: 0, ignored: 0, malformed: 0, inconsistent: 0, expired: 0, problems: [], unmappedQueues: [] };
  }

  /** Calls still waiting or talking. */
  get openCalls(): number {
    return this.open.size;
  }

  /** Process one line; returns the call it finished, if any. Never throws on bad input. */
  push(text: string, line: number): AssembledCall | undefined {
    this.stats.linesRead++;
    const parsed = parseQueueLogLine(text);
    if (parsed === null) return undefined;
    if ('error' in parsed) {
      this.stats.malformed++;
      this.problem(line, parsed.error);
      return undefined;
    }
    const e = parsed.event;
    // One garbage line stamped far ahead would otherwise move the log's clock and expire every open call.
    if (e.time > this.nowSeconds() + MAX_FUTURE_SECONDS) {
      this.stats.malformed++;
      this.problem(line, `time ${e.time} is in the future`);
      return undefined;
    }
    if (e.time > this.latest) this.latest = e.time;
    if (++this.sincePurge >= 1000) this.purge();
    if (e.callid === 'NONE' || e.queue === 'NONE' || e.callid === '' || e.queue === '') {
      this.stats.ignored++;
      return undefined;
    }
    const handled = e.event === 'ENTERQUEUE' || e.event === 'CONNECT' || FINISH[e.event] !== undefined;
    if (!handled) {
      this.stats.ignored++;
      return undefined;
    }
    const mapping = this.queues[e.queue];
    if (!mapping) {
      this.noteUnmapped(e.queue, line);
      return undefined;
    }
    // Durations this event carries, checked before anything changes.
    const names = FIELD_NAMES[e.event] ?? [];
    const numbers: (number | undefined)[] = [];
    for (const [i, name] of names.entries()) {
      const raw = e.data[i];
      if (!['holdtime', 'calltime', 'waittime'].includes(name) || raw === undefined || raw === '') continue;
      if (!COUNT.test(raw)) {
        this.stats.malformed++;
        this.problem(line, `${e.event} ${name} "${clip(raw)}" is not a whole number of seconds`);
        return undefined;
      }
      numbers[i] = Number(raw);
    }
    const key = `${e.queue}:${e.callid}`;

    if (e.event === 'ENTERQUEUE') {
      const existing = this.open.get(key);
      if (existing) {
        this.stats.inconsistent++;
        this.problem(line, `ENTERQUEUE for ${key}, which is already in the queue since line ${existing.line}`);
        return undefined;
      }
      this.closed.delete(key);
      const caller = (e.data[1] ?? '').trim();
      this.open.set(key, {
        queue: e.queue, callid: e.callid, line, last: e.time, enteredAt: e.time,
        ...(NOT_A_CUSTOMER.has(caller.toLowerCase()) ? {} : { customer: caller }),
      });
      return undefined;
    }

    if (this.closed.has(key)) {
      // e.g. a COMPLETEAGENT after the TRANSFER that already ended this call
      this.stats.ignored++;
      return undefined;
    }
    let call = this.open.get(key);
    if (!call) {
      call = { queue: e.queue, callid: e.callid, line, last: e.time };
      this.open.set(key, call);
    }
    call.last = e.time;
    const agent = e.agent && e.agent !== 'NONE' ? e.agent : undefined;

    if (e.event === 'CONNECT') {
      call.answeredAt = e.time;
      if (agent) call.agent = agent;
      if (call.enteredAt === undefined && numbers[0] !== undefined) call.enteredAt = e.time - numbers[0];
      return undefined;
    }

    const finish = FINISH[e.event]!;
    this.open.delete(key);
    this.closed.set(key, e.time);
    let { enteredAt, answeredAt } = call;
    let talkSeconds: number | undefined;
    if (finish.outcome === 'answered') {
      const hold = finish.hold === undefined ? undefined : numbers[finish.hold];
      const talk = finish.call === undefined ? undefined : numbers[finish.call];
      if (answeredAt === undefined && talk !== undefined) answeredAt = e.time - talk;
      if (enteredAt === undefined && answeredAt !== undefined && hold !== undefined) enteredAt = answeredAt - hold;
      talkSeconds = talk ?? (answeredAt === undefined ? undefined : e.time - answeredAt);
      if (agent && call.agent === undefined) call.agent = agent;
    } else {
      const wait = finish.wait === undefined ? undefined : numbers[finish.wait];
      if (enteredAt === undefined && wait !== undefined) enteredAt = e.time - wait;
      answeredAt = undefined;
    }
    if (enteredAt === undefined) {
      this.stats.inconsistent++;
      this.problem(line, `${e.event} for ${key} without its ENTERQUEUE and without the durations to tell when it entered`);
      return undefined;
    }
    this.stats.calls++;
    return {
      line,
      value: {
        id: key,
        region: mapping.region,
        queue: mapping.queue ?? e.queue,
        channel: mapping.channel ?? 'voice',
        enteredAt,
        ...(answeredAt === undefined ? {} : { answeredAt }),
        endedAt: e.time,
        outcome: finish.outcome,
        ...(talkSeconds === undefined ? {} : { talkSeconds }),
        ...(finish.outcome === 'answered' && call.agent ? { agent: call.agent } : {}),
        ...(call.customer === undefined ? {} : { customer: call.customer }),
      },
    };
  }

  snapshot(): AssemblerState {
    return { open: [...this.open.values()].map((c) => ({ ...c })), closed: [...this.closed.entries()] };
  }

  restore(state: AssemblerState): void {
    this.open.clear();
    this.closed.clear();
    for (const c of state.open) {
      this.open.set(`${c.queue}:${c.callid}`, { ...c });
      if (c.last > this.latest) this.latest = c.last;
    }
    for (const [k, t] of state.closed) this.closed.set(k, t);
  }

  /** Stats since the last call; counters restart (the tailer reports per interval). */
  takeStats(): QueueLogStats {
    const stats = { ...this.stats, unmappedQueues: [...this.unmapped.values()] };
    this.stats = QueueLogAssembler.emptyStats();
    this.unmapped.clear();
    return stats;
  }

  private purge(): void {
    this.sincePurge = 0;
    for (const [key, call] of this.open) {
      if (call.last < this.latest - this.maxOpenSeconds) {
        this.open.delete(key);
        this.stats.expired++;
        this.problem(call.line, `${key} entered at line ${call.line} never finished within ${this.maxOpenSeconds} s; dropped`);
      }
    }
    for (const [key, t] of this.closed) if (t < this.latest - CLOSED_MEMORY_SECONDS) this.closed.delete(key);
  }

  private problem(line: number, reason: string): void {
    if (this.stats.problems.length < PROBLEM_LIMIT) this.stats.problems.push({ line, reason });
  }

  private noteUnmapped(queue: string, line: number): void {
    let entry = this.unmapped.get(queue);
    if (!entry) {
      entry = { queue, lines: 0, firstLines: [] };
      this.unmapped.set(queue, entry);
    }
    entry.lines++;
    if (entry.firstLines.length < UNMAPPED_LINE_LIMIT) entry.firstLines.push(line);
  }
}

export interface QueueLogSummary extends QueueLogStats {
  accepted: number;
  rejected: number;
  /** First rejected calls, by the line that finished them. */
  rejectedRows: RejectedRow[];
  /** Calls still waiting or talking at the end of the file (not sent). */
  unfinished: number;
}

export interface QueueLogImportOptions {
  input: AsyncIterable<Buffer | string>;
  queues: QueueMap;
  sink: RecordSink;
  source: string;
  batchSize?: number;
  onProgress?: (progress: { bytesRead: number; linesRead: number; calls: number }) => void;
}

/** Tally a sink's answer into a summary (shared with the tailer). */
export function addOutcome(summary: { accepted: number; rejected: number; rejectedRows: RejectedRow[] }, outcome: { accepted: number; rejected: { index: number; errors: string[] }[] }): void {
  summary.accepted += outcome.accepted;
  summary.rejected += outcome.rejected.length;
  for (const r of [...outcome.rejected].sort((a, b) => a.index - b.index)) {
    if (summary.rejectedRows.length >= SUMMARY_REJECTED_ROWS) break;
    summary.rejectedRows.push({ line: r.index, errors: r.errors });
  }
}

/** Import a finished queue_log: every finished call goes to the sink; calls still open at the end are counted, not sent. */
export async function importQueueLog(options: QueueLogImportOptions): Promise<QueueLogSummary> {
  const assembler = new QueueLogAssembler(options.queues);
  const batchSize = Math.min(options.batchSize ?? MAX_BATCH_RECORDS, MAX_BATCH_RECORDS);
  const totals = { accepted: 0, rejected: 0, rejectedRows: [] as RejectedRow[] };
  const decoder = new StringDecoder('utf8');
  let batch: IncomingRecord[] = [];
  let carry = '';
  let line = 0;
  let bytesRead = 0;

  const send = async (): Promise<void> => {
    if (batch.length === 0) return;
    const records = batch;
    batch = [];
    addOutcome(totals, await options.sink.send('calls', records, options.source));
  };
  const take = async (text: string): Promise<void> => {
    const call = assembler.push(text.endsWith('\r') ? text.slice(0, -1) : text, ++line);
    if (call) batch.push({ index: call.line, value: call.value });
    if (batch.length >= batchSize) await send();
  };

  for await (const chunk of options.input) {
    bytesRead += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    const text = carry + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      await take(text.slice(start, nl));
      start = nl + 1;
    }
    carry = text.slice(start);
    options.onProgress?.({ bytesRead, linesRead: line, calls: assembler.stats.calls });
  }
  carry += decoder.end();
  if (carry.length > 0) await take(carry);
  await send();
  const unfinished = assembler.openCalls;
  return { ...assembler.takeStats(), ...totals, unfinished };
}
