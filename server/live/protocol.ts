/**
 * The live stream's message protocol, version 1 (README.md in this folder is
 * its description for client authors). Messages are JSON text frames. This
 * file parses what clients send, with an error naming the field for anything
 * malformed, and defines what the server sends.
 */
import { STEPS, type Step } from '../../kpi/index.js';
import { startOfLocalDay } from '../../kpi/index.js';
import type { ErrorCode } from '../errors.js';

export const PROTOCOL_VERSION = 1;

/** WebSocket close codes the server uses (4000–4999 are the application's own). */
export const CLOSE_CODES = {
  /** The server is shutting down; reconnect later. */
  goingAway: 1001,
  /** A message larger than the limit (sent by `ws` itself). */
  messageTooBig: 1009,
  /** The server has as many clients as it takes; retry later. */
  tryAgainLater: 1013,
  /** The client fell behind: more unsent data than the bound. Reconnect and resubscribe. */
  fellBehind: 4008,
} as const;

/** The largest client message the server reads (a subscribe with every KPI and region fits in a few KiB). */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

const ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const MAX_LIST = 1000;
const MAX_WINDOW_SECONDS = 24 * 3600;

export type LiveWindow = { kind: 'today' } | { kind: 'last'; seconds: number };

export interface SubscribeMessage {
  type: 'subscribe';
  /** The client's name for this subscription; `default` when absent. */
  id: string;
  kpis: string[];
  /** Absent: every region the principal may see. */
  regions: string[] | undefined;
  by: string[];
  window: LiveWindow;
  step: Step | undefined;
}

export interface UnsubscribeMessage {
  type: 'unsubscribe';
  id: string;
}

export interface PingMessage {
  type: 'ping';
  /** Echoed in the pong, so a client can match them. */
  nonce: string | number | undefined;
}

export type ClientMessage = SubscribeMessage | UnsubscribeMessage | PingMessage;

export interface ProtocolError {
  code: ErrorCode;
  message: string;
  /** The subscription the error is about, when the message named one. */
  id?: string;
  details?: unknown;
}

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; error: ProtocolError };

const FIELDS: Record<ClientMessage['type'], readonly string[]> = {
  subscribe: ['type', 'id', 'kpis', 'regions', 'by', 'window', 'step', 'protocol'],
  unsubscribe: ['type', 'id'],
  ping: ['type', 'nonce'],
};

class FieldError extends Error {}

function stringList(value: unknown, field: string, what: string, max: number): string[] {
  if (!Array.isArray(value) || value.length > max || !value.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 64)) {
    throw new FieldError(`${field}: must be an array of at most ${max} ${what}`);
  }
  return value as string[];
}

/** `today`, or `last 15m` / `last 1h` (also `last 15 min`); at most 24 hours. */
export function parseWindow(value: unknown): LiveWindow {
  if (typeof value !== 'string' || value.length > 32) throw new FieldError('window: must be "today" or "last <n>m" / "last <n>h" (e.g. "last 15m")');
  const text = value.trim().toLowerCase();
  if (text === 'today') return { kind: 'today' };
  const match = /^last\s+(\d{1,5})\s*(m|min|mins|minutes?|h|hours?)$/.exec(text);
  if (!match) throw new FieldError(`window: "${value}" is not "today" or "last <n>m" / "last <n>h" (e.g. "last 15m")`);
  const seconds = Number(match[1]) * (match[2]!.startsWith('h') ? 3600 : 60);
  if (seconds < 60 || seconds > MAX_WINDOW_SECONDS) throw new FieldError(`window: "${value}" must be between 1 minute and 24 hours`);
  return { kind: 'last', seconds };
}

/** One spelling per window, for subscription keys and for messages. */
export function windowName(window: LiveWindow): string {
  if (window.kind === 'today') return 'today';
  return window.seconds % 3600 === 0 ? `last ${window.seconds / 3600}h` : `last ${window.seconds / 60}m`;
}

/**
 * The half-open window `[from, to)` at `now`: it ends after the current second,
 * so a record stamped this second counts; `today` starts at local midnight in `tz`.
 */
export function windowBounds(window: LiveWindow, now: Date, tz: string): { from: Date; to: Date } {
  const to = Math.floor(now.getTime() / 1000) + 1;
  const from = window.kind === 'today' ? startOfLocalDay(to - 1, tz) : to - window.seconds;
  return { from: new Date(from * 1000), to: new Date(to * 1000) };
}

function parseSubscribe(raw: Record<string, unknown>, id: string): SubscribeMessage {
  if (raw.protocol !== undefined && raw.protocol !== PROTOCOL_VERSION) {
    throw new FieldError(`protocol: this server speaks protocol ${PROTOCOL_VERSION}, not ${JSON.stringify(raw.protocol)}`);
  }
  if (raw.kpis === undefined) throw new FieldError('kpis: required (an array of KPI ids)');
  const kpis = stringList(raw.kpis, 'kpis', 'KPI ids', 100);
  if (kpis.length === 0) throw new FieldError('kpis: give at least one KPI id');
  const regions = raw.regions === undefined ? undefined : stringList(raw.regions, 'regions', 'region codes', MAX_LIST);
  const by = raw.by === undefined ? [] : stringList(raw.by, 'by', 'dimensions', 16);
  if (raw.window === undefined) throw new FieldError('window: required ("today", "last 15m", "last 1h" …)');
  const window = parseWindow(raw.window);
  let step: Step | undefined;
  if (raw.step !== undefined) {
    if (typeof raw.step !== 'string' || !(STEPS as readonly string[]).includes(raw.step)) {
      throw new FieldError(`step: must be one of ${STEPS.join(', ')}`);
    }
    step = raw.step as Step;
  }
  return { type: 'subscribe', id, kpis, regions, by, window, step };
}

/** Parse one text frame. Never throws: anything malformed is an error naming the field. */
export function parseClientMessage(text: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: { code: 'SQM_BAD_REQUEST', message: 'not valid JSON: send one JSON object per message' } };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, error: { code: 'SQM_BAD_REQUEST', message: 'a message must be a JSON object with a "type"' } };
  }
  const fields = raw as Record<string, unknown>;
  const type = fields.type;
  if (type !== 'subscribe' && type !== 'unsubscribe' && type !== 'ping') {
    return { ok: false, error: { code: 'SQM_BAD_REQUEST', message: 'type: must be "subscribe", "unsubscribe" or "ping"' } };
  }
  let id: string | undefined;
  try {
    if (type !== 'ping') {
      if (fields.id !== undefined && (typeof fields.id !== 'string' || !ID.test(fields.id))) {
        throw new FieldError('id: must be 1 to 64 letters, digits or _ . : -');
      }
      id = (fields.id as string | undefined) ?? 'default';
    }
    // Unknown fields are refused rather than ignored, so a typo ("region") is not a silent "all regions".
    const unknown = Object.keys(fields).filter((k) => !FIELDS[type].includes(k));
    if (unknown.length > 0) throw new FieldError(`${unknown[0]}: unknown field for "${type}" (allowed: ${FIELDS[type].join(', ')})`);
    if (type === 'subscribe') return { ok: true, message: parseSubscribe(fields, id!) };
    if (type === 'unsubscribe') return { ok: true, message: { type, id: id! } };
    const nonce = fields.nonce;
    if (nonce !== undefined && !(typeof nonce === 'number' && Number.isFinite(nonce)) && !(typeof nonce === 'string' && nonce.length <= 64)) {
      throw new FieldError('nonce: must be a number or a string of at most 64 characters');
    }
    return { ok: true, message: { type, nonce: nonce as string | number | undefined } };
  } catch (error) {
    if (error instanceof FieldError) {
      return { ok: false, error: { code: 'SQM_BAD_REQUEST', message: error.message, ...(id === undefined ? {} : { id }) } };
    }
    throw error;
  }
}

// What the server sends. Every message has a `type`; `id` names the client's subscription.

export interface LiveValue {
  kpi: string;
  labels: Record<string, string>;
  /** Bucket start (ISO), only when the subscription has a `step`. */
  t?: string;
  value: number | null;
  numerator: number;
  denominator: number;
}

/** A value that is no longer part of the answer (its bucket slid out of the window). */
export interface LiveValueKey {
  kpi: string;
  labels: Record<string, string>;
  t?: string;
}

export interface HelloMessage {
  type: 'hello';
  protocol: number;
  tickMs: number;
  heartbeatMs: number;
  principal: { name: string; role: string; regions: readonly string[] | null };
}

export interface SnapshotMessage {
  type: 'snapshot';
  id: string;
  seq: number;
  at: string;
  window: { name: string; from: string; to: string };
  /** The resolved subscription: regions after scope, KPIs and dimensions in canonical order. */
  subscription: { kpis: string[]; regions: string[]; by: string[]; window: string; step: Step | null };
  values: LiveValue[];
}

export interface UpdateMessage {
  type: 'update';
  id: string;
  seq: number;
  at: string;
  window: { name: string; from: string; to: string };
  changed: LiveValue[];
  removed: LiveValueKey[];
}

export interface ErrorMessage {
  type: 'error';
  id?: string;
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export type ServerMessage =
  | HelloMessage
  | SnapshotMessage
  | UpdateMessage
  | { type: 'alert'; event: unknown }
  | { type: 'heartbeat'; at: string }
  | { type: 'pong'; nonce?: string | number; at: string }
  | { type: 'unsubscribed'; id: string }
  | ErrorMessage;
