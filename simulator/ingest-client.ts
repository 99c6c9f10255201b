/**
 * Sends records through the real ingest API: `POST {baseUrl}/api/v1/ingest/{kind}`
 * with NDJSON and a bearer token (RECORDS.md). A 503 (or 429) is waited out
 * as its Retry-After says; a 413 splits the batch; 401/403 and other 4xx are
 * fatal (a wrong token or a simulator bug, not something a retry fixes);
 * rejected records are logged, since each one is a simulator bug.
 */
import type { Logger } from '../server/logger.js';
import type { BatchKind } from './records.js';

export class IngestError extends Error {
  override name = 'IngestError';
  constructor(
    message: string,
    /** A fatal error stops the simulator; others have been retried until the deadline. */
    readonly fatal: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface IngestResult {
  accepted: number;
  rejected: { index: number; errors: string[] }[];
}

export interface IngestClientOptions {
  baseUrl: string;
  token: string;
  logger: Logger;
  /** Give up retrying one batch after this long (default 5 minutes). */
  maxRetryMs?: number;
  /** Aborts waits between retries (stop()). */
  signal?: AbortSignal;
}

export interface IngestClientStats {
  requests: number;
  retries: number;
  accepted: number;
  rejected: number;
}

export interface IngestClient {
  send(kind: BatchKind, records: readonly object[]): Promise<IngestResult>;
  readonly stats: IngestClientStats;
}

const MAX_RETRY_AFTER_MS = 60_000;

/** Retry-After as seconds or an HTTP date; 1 s when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null || header.trim() === '') return 1000;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  if (!Number.isFinite(ms)) return 1000;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new IngestError('stopped', false));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new IngestError('stopped', false));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function errorText(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error) return `${body.error.code ?? ''}: ${body.error.message ?? ''}`.trim();
  } catch {
    // not JSON: use the text itself
  }
  return text.slice(0, 200) || response.statusText;
}

export function createIngestClient(options: IngestClientOptions): IngestClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const maxRetryMs = options.maxRetryMs ?? 300_000;
  const log = options.logger;
  const stats: IngestClientStats = { requests: 0, retries: 0, accepted: 0, rejected: 0 };
  let everReached = false;

  async function post(kind: BatchKind, records: readonly object[]): Promise<IngestResult> {
    const url = `${base}/api/v1/ingest/${kind}`;
    const body = `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
    const started = Date.now();
    let backoff = 500;
    for (;;) {
      let response: Response;
      try {
        stats.requests++;
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${options.token}` },
          body,
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const reason = cause?.code ?? cause?.message ?? (error as Error).message;
        // Down from the start means a wrong URL or a server not running: say so at once.
        if (!everReached) throw new IngestError(`cannot reach SQM at ${base} (${reason})`, true);
        if (Date.now() - started > maxRetryMs) throw new IngestError(`SQM at ${base} unreachable for ${Math.round(maxRetryMs / 1000)} s (${reason})`, true);
        log.warn({ kind, reason, retryInMs: backoff }, 'ingest request failed; retrying');
        stats.retries++;
        await sleep(backoff, options.signal);
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      everReached = true;
      if (response.ok) {
        const result = (await response.json()) as IngestResult;
        return { accepted: Number(result.accepted) || 0, rejected: Array.isArray(result.rejected) ? result.rejected : [] };
      }
      const status = response.status;
      if (status === 503 || status === 429 || status === 500 || status === 502 || status === 504) {
        const wait = status === 503 || status === 429 ? retryAfterMs(response.headers.get('retry-after')) : backoff;
        await response.body?.cancel().catch(() => undefined);
        if (Date.now() - started + wait > maxRetryMs) {
          throw new IngestError(`SQM kept answering ${status} to ${kind} for ${Math.round(maxRetryMs / 1000)} s`, true, status);
        }
        log.warn({ kind, status, retryInMs: wait }, 'ingest busy; retrying');
        stats.retries++;
        await sleep(wait, options.signal);
        if (status >= 500 && status !== 503) backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      if (status === 413 && records.length > 1) {
        // Too big for the server's limit: send it in halves.
        const half = Math.ceil(records.length / 2);
        const a = await post(kind, records.slice(0, half));
        const b = await post(kind, records.slice(half));
        return { accepted: a.accepted + b.accepted, rejected: [...a.rejected, ...b.rejected.map((r) => ({ ...r, index: r.index + half }))] };
      }
      const text = await errorText(response);
      if (status === 401 || status === 403) throw new IngestError(`SQM refused the token (${status} ${text})`, true, status);
      throw new IngestError(`SQM answered ${status} to POST ${url} (${text})`, true, status);
    }
  }

  return {
    stats,
    async send(kind, records) {
      if (records.length === 0) return { accepted: 0, rejected: [] };
      const result = await post(kind, records);
      stats.accepted += result.accepted;
      stats.rejected += result.rejected.length;
      for (const r of result.rejected.slice(0, 5)) {
        // A rejection means the simulator produced a record the contract does not allow.
        log.error({ kind, index: r.index, errors: r.errors, record: records[r.index] }, 'ingest rejected a simulated record');
      }
      if (result.rejected.length > 5) log.error({ kind, more: result.rejected.length - 5 }, 'ingest rejected more simulated records');
      return result;
    },
  };
}
