/**
 * `POST /api/v1/ingest/{kind}` (RECORDS.md): a JSON array or NDJSON of records
 * of one kind. Each record is validated on its own; the answer lists what was
 * accepted and why each rejected record was refused. `200` is sent once the
 * accepted records are durable: appended to the collector's spool and synced to
 * disk (collector/spool.ts). While the store is healthy the answer also waits
 * for the insert, and `stored: true` says the records are queryable already.
 *
 * The body is read as a raw Buffer by a content-type parser that exists only
 * inside this plugin (Fastify encapsulation), with its own size limit: ingest
 * bodies are large, every other route keeps the app's small default, and NDJSON
 * must be split by line before any JSON parsing so one bad line is one rejected
 * record rather than a failed request.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CollectorBusyError, RECORD_KINDS, isRecordKind, type IncomingRecord, type RecordKind } from '../../collector/index.js';
import { StoreError } from '../../store/index.js';
import type { ServerContext } from '../app.js';
import { INGEST_ROLES, requireRole } from '../auth.js';
import { ApiError } from '../errors.js';
import { DOCUMENTATION_ONLY, errorResponses } from '../openapi.js';

const JSON_TYPE = 'application/json';
const NDJSON_TYPE = 'application/x-ndjson';

/**
 * The route's contract for the OpenAPI document. The body is read as a raw
 * buffer and split by line before any JSON parsing, so it is described here and
 * never validated by Fastify (DOCUMENTATION_ONLY).
 */
const INGEST_SCHEMA = {
  tags: ['records'],
  summary: 'Ingest records of one kind',
  description: 'RECORDS.md "Ingest": a JSON array or NDJSON, one record per line. Each record is validated on its own; ' +
    'rejected records are kept as dead letters. 200 means every accepted record is durable (synced to the ' +
    'spool on disk, stored even if the process or ClickHouse fails now); `stored` says whether it is in the store ' +
    'already. 503 with Retry-After: the spool is over its quota and nothing of the request was kept.',
  params: {
    type: 'object',
    required: ['kind'],
    properties: { kind: { type: 'string', enum: [...RECORD_KINDS], description: 'Record kind' } },
  },
  body: {
    content: {
      [JSON_TYPE]: { schema: { type: 'array', items: { type: 'object', additionalProperties: true }, description: 'Records (RECORDS.md "Record kinds")' } },
      [NDJSON_TYPE]: { schema: { type: 'string', description: 'One JSON record per line; blank lines are skipped' } },
    },
  },
  response: {
    200: {
      description: 'What was accepted, and why each rejected record was refused',
      type: 'object',
      properties: {
        accepted: { type: 'integer' },
        stored: { type: 'boolean', description: 'The accepted records are in the store (queryable) already; false: on disk, stored as soon as the store answers' },
        rejected: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              index: { type: 'integer', description: '0-based array position or NDJSON line' },
              errors: { type: 'array', items: { type: 'string' } },
            },
          },
        },
      },
    },
    ...errorResponses(400, 401, 403, 404, 413, 415, 503),
  },
};

/** How long a client should wait before retrying after a 503. */
const RETRY_AFTER_SECONDS = '5';

function mediaType(request: FastifyRequest): string {
  const header = request.headers['content-type'] ?? '';
  const semicolon = header.indexOf(';');
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

function tooMany(limit: number): ApiError {
  return new ApiError('SQM_TOO_MANY_RECORDS', `More than ${limit} records in one request; split it`, { maxRecordsPerRequest: limit });
}

function decode(body: Buffer): string {
  const text = body.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A JSON array: the whole body must parse; index = array position. */
export function parseJsonArray(body: Buffer, maxRecords: number): IncomingRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(decode(body));
  } catch (error) {
    throw new ApiError('SQM_UNPARSEABLE_BODY', `The body is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) {
    throw new ApiError('SQM_UNPARSEABLE_BODY', 'The body must be a JSON array of records (or NDJSON with Content-Type: application/x-ndjson)');
  }
  if (value.length > maxRecords) throw tooMany(maxRecords);
  const records: IncomingRecord[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) records[i] = { index: i, value: value[i] };
  return records;
}

function isBlank(line: string): boolean {
  if (line.length === 0) return true;
  const c = line.charCodeAt(0);
  // Anything not starting with whitespace has content; only then is trim() worth it.
  if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0b && c !== 0x0c && c !== 0xa0) return false;
  return line.trim().length === 0;
}

/**
 * NDJSON: one record per line, index = 0-based line number, blank lines
 * skipped. A line that is not JSON becomes a rejected record with its text.
 */
export function parseNdjson(body: Buffer, maxRecords: number): IncomingRecord[] {
  const text = decode(body);
  const records: IncomingRecord[] = [];
  let start = 0;
  let line = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const raw = text.charCodeAt(end - 1) === 0x0d && end - 1 >= start ? text.slice(start, end - 1) : text.slice(start, end);
    if (!isBlank(raw)) {
      if (records.length === maxRecords) throw tooMany(maxRecords);
      try {
        records.push({ index: line, value: JSON.parse(raw), raw });
      } catch (error) {
        records.push({ index: line, raw, parseError: `not valid JSON (${(error as Error).message})` });
      }
    }
    start = end + 1;
    line++;
  }
  return records;
}

export default async function ingestRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { maxBodyBytes, maxRecordsPerRequest } = ctx.config.ingest;
  const log = ctx.logger.child({ module: 'ingest' });

  // Only inside this plugin: replace the app's JSON parser with a raw one.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([JSON_TYPE, NDJSON_TYPE], { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_request, body, done) => {
    done(null, body);
  });

  const checkKind = async (request: FastifyRequest<{ Params: { kind: string } }>): Promise<void> => {
    if (!isRecordKind(request.params.kind)) {
      throw new ApiError('SQM_NOT_FOUND', `Unknown record kind "${request.params.kind}"; valid kinds: ${RECORD_KINDS.join(', ')}`, { validKinds: RECORD_KINDS });
    }
  };

  app.post<{ Params: { kind: string }; Body: Buffer | undefined }>('/ingest/:kind', {
    bodyLimit: maxBodyBytes,
    ...DOCUMENTATION_ONLY,
    schema: INGEST_SCHEMA,
    // Role and kind are checked on onRequest, before a body of up to
    // maxBodyBytes is read: a viewer or a typo never costs us 32 MiB.
    onRequest: [requireRole(INGEST_ROLES), checkKind],
  }, async (request) => {
    const kind = request.params.kind as RecordKind;
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) {
      throw new ApiError('SQM_UNPARSEABLE_BODY', 'The body is empty: send a JSON array or NDJSON of records');
    }
    const records = mediaType(request) === NDJSON_TYPE
      ? parseNdjson(body, maxRecordsPerRequest)
      : parseJsonArray(body, maxRecordsPerRequest);
    try {
      return await ctx.collector.ingest(kind, records, `http:${request.principal?.name ?? 'unknown'}`);
    } catch (error) {
      if (error instanceof CollectorBusyError) {
        log.warn({ kind, records: records.length, reason: error.message }, 'ingest refused: spool full');
        throw new ApiError('SQM_UNAVAILABLE', undefined, undefined, { 'Retry-After': RETRY_AFTER_SECONDS });
      }
      if (error instanceof StoreError) {
        log.error({ kind, records: records.length, code: error.code, err: error.message }, 'ingest failed: store error');
        throw new ApiError('SQM_STORE_ERROR', undefined, undefined, { 'Retry-After': RETRY_AFTER_SECONDS });
      }
      throw error;
    }
  });
}
