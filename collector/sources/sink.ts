/**
 * Where sources hand their records: a sink. Two of them, with one shape:
 *
 * - in process: the collector itself (`collector.ingest`), used by the upload
 *   route, which runs inside the service;
 * - over HTTP: `POST {url}/api/v1/ingest/{kind}` as NDJSON, used by the CLIs.
 *   The embedded store (chDB) binds one data directory per process, so a CLI
 *   cannot open the running service's store; it talks to the service instead.
 *
 * A sink answers with the indexes the records were given (file line numbers),
 * whatever the transport numbered them.
 */
import type { Collector, IncomingRecord, IngestOutcome, RecordKind } from '../index.js';

export interface RecordSink {
  send(kind: RecordKind, records: IncomingRecord[], source: string): Promise<IngestOutcome>;
}

/** Largest batch a source sends at once (also well under the ingest route's record limit). */
export const MAX_BATCH_RECORDS = 5000;

/** A failure no retry will fix (server down, token refused): the import stops. */
export class SinkFatalError extends Error {
  override name = 'SinkFatalError';
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export function createCollectorSink(collector: Collector): RecordSink {
  return {
    send: (kind, records, source) => collector.ingest(kind, records, source),
  };
}

export interface HttpSinkOptions {
  /** The service's base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  token: string;
  /** Attempts for a 503 (the collector is busy), honouring Retry-After. */
  maxAttempts?: number;
  /** Longest wait between attempts, ms. */
  maxRetryWaitMs?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

function isOutcome(value: unknown): value is IngestOutcome {
  if (!value || typeof value !== 'object') return false;
  const v = value as { accepted?: unknown; rejected?: unknown };
  return typeof v.accepted === 'number' && Array.isArray(v.rejected)
    && v.rejected.every((r) => r && typeof r === 'object' && Number.isInteger((r as { index?: unknown }).index)
      && Array.isArray((r as { errors?: unknown }).errors));
}

async function errorMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // not the API's JSON error shape; the status says enough
  }
  return response.statusText || 'no message';
}

export function createHttpSink(options: HttpSinkOptions): RecordSink {
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new SinkFatalError(`not a URL: "${options.url}"`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new SinkFatalError(`not an http(s) URL: "${options.url}"`);
  const root = options.url.replace(/\/+$/, '');
  const maxAttempts = options.maxAttempts ?? 5;
  const maxWait = options.maxRetryWaitMs ?? 30_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  return {
    async send(kind, records) {
      // Rows the source could not read never leave the machine; they are reported here.
      const rejected: IngestOutcome['rejected'] = [];
      const sendable: IncomingRecord[] = [];
      for (const r of records) {
        if (r.parseError !== undefined) rejected.push({ index: r.index, errors: [`(record): ${r.parseError}`] }); // worded as the collector words it
        else sendable.push(r);
      }
      if (sendable.length === 0) return { accepted: 0, rejected };
      const body = sendable.map((r) => JSON.stringify(r.value)).join('\n') + '\n';
      const endpoint = `${root}/api/v1/ingest/${kind}`;

      for (let attempt = 1; ; attempt++) {
        let response: Response;
        try {
          response = await fetch(endpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${options.token}` },
            body,
            signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
          });
        } catch (error) {
          const cause = (error as { cause?: { code?: string; message?: string } }).cause;
          const why = cause?.code ?? cause?.message ?? (error as Error).message;
          throw new SinkFatalError(`cannot reach SQM at ${root}: ${why}`);
        }
        if (response.status === 200) {
          let outcome: unknown;
          try {
            outcome = await response.json();
          } catch {
            throw new SinkFatalError(`${endpoint} answered 200 with a body that is not JSON`);
          }
          if (!isOutcome(outcome)) throw new SinkFatalError(`${endpoint} answered 200 without {accepted, rejected}`);
          for (const r of outcome.rejected) {
            // The server numbers NDJSON lines from 0; give back the source's own index (the file line).
            const original = sendable[r.index];
            rejected.push({ index: original ? original.index : r.index, errors: r.errors.map(String) });
          }
          return { accepted: outcome.accepted, rejected };
        }
        const message = await errorMessage(response);
        if (response.status === 503 && attempt < maxAttempts) {
          const retryAfter = Number(response.headers.get('retry-after'));
          const waitMs = Math.min(maxWait, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1000 * attempt);
          await sleep(waitMs);
          continue;
        }
        if (response.status === 401 || response.status === 403) {
          throw new SinkFatalError(`SQM refused the token (HTTP ${response.status}): ${message}`, response.status);
        }
        throw new SinkFatalError(`SQM answered HTTP ${response.status} for ${kind}: ${message}`, response.status);
      }
    },
  };
}
