/**
 * `POST /api/v1/import/:kind`: a CSV upload (`Content-Type: text/csv`), mapped
 * with the same syntax as the CLI through the query parameters `map`, `fixed`,
 * `values` (each may repeat), `timezone` and `delimiter`. Records go to the
 * collector in this process; the answer is the import summary (rows read,
 * accepted, rejected, the first rejected rows' line numbers and reasons).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CollectorBusyError, RECORD_KINDS, isRecordKind, type RecordKind } from '../../collector/index.js';
import {
  MappingError, parseFixedSpec, parseMapSpec, parseValuesSpec, type CsvMapping,
} from '../../collector/sources/csv-mapping.js';
import { CsvImportError, importCsv } from '../../collector/sources/csv.js';
import { createCollectorSink } from '../../collector/sources/sink.js';
import { StoreError } from '../../store/index.js';
import type { ServerContext } from '../app.js';
import { INGEST_ROLES, requireRole } from '../auth.js';
import { ApiError } from '../errors.js';
import { DOCUMENTATION_ONLY, errorResponses } from '../openapi.js';

type QueryValue = string | string[] | undefined;

function list(value: QueryValue): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function single(value: QueryValue, name: string): string | undefined {
  if (Array.isArray(value)) throw new ApiError('SQM_BAD_REQUEST', `${name}: give it once`);
  return value;
}

const repeatable = (description: string) => ({
  type: 'array', items: { type: 'string' }, description: `${description} (may repeat)`,
});

/** The route's contract for the OpenAPI document; the body is a raw CSV buffer, described and not validated (DOCUMENTATION_ONLY). */
const IMPORT_SCHEMA = {
  tags: ['records'],
  summary: 'Import a CSV file of records of one kind',
  description: 'The header row first; columns are mapped as with the import CLI (collector/sources/README.md). ' +
    'The answer counts rows read, accepted and rejected, and lists the first rejected rows with their reasons.',
  params: {
    type: 'object',
    required: ['kind'],
    properties: { kind: { type: 'string', enum: [...RECORD_KINDS], description: 'Record kind' } },
  },
  querystring: {
    type: 'object',
    properties: {
      map: repeatable('"Header=field,…": read a field from a differently named column'),
      fixed: repeatable('"field=value,…": the same value for every row'),
      values: repeatable('"Header:from=to,from=to;…": translate a column\'s values'),
      timezone: { type: 'string', description: 'Zone for times without an offset (default: the configured zone)' },
      delimiter: { type: 'string', description: 'Field delimiter (default ,)' },
    },
  },
  body: { content: { 'text/csv': { schema: { type: 'string' } }, 'application/csv': { schema: { type: 'string' } } } },
  response: {
    200: {
      description: 'The import summary',
      type: 'object',
      properties: {
        kind: { type: 'string', enum: [...RECORD_KINDS] },
        rowsRead: { type: 'integer' },
        accepted: { type: 'integer' },
        rejected: { type: 'integer' },
        rejectedRows: {
          type: 'array',
          items: { type: 'object', properties: { line: { type: 'integer' }, errors: { type: 'array', items: { type: 'string' } } } },
        },
        ignoredColumns: { type: 'array', items: { type: 'string' } },
      },
    },
    ...errorResponses(400, 401, 403, 404, 413, 415, 503),
  },
};

export function mappingFromQuery(query: Record<string, QueryValue>): CsvMapping {
  const allowed = ['map', 'fixed', 'values', 'timezone', 'delimiter'];
  for (const key of Object.keys(query)) {
    if (!allowed.includes(key)) throw new ApiError('SQM_BAD_REQUEST', `unknown query parameter "${key}" (allowed: ${allowed.join(', ')})`);
  }
  const mapping: CsvMapping = { columns: {}, fixed: {}, values: {} };
  try {
    for (const spec of list(query.map)) parseMapSpec(spec, mapping.columns);
    for (const spec of list(query.fixed)) parseFixedSpec(spec, mapping.fixed);
    for (const spec of list(query.values)) parseValuesSpec(spec, mapping.values);
  } catch (error) {
    if (error instanceof MappingError) throw new ApiError('SQM_BAD_REQUEST', error.message.replace(/^--/, ''));
    throw error;
  }
  const timezone = single(query.timezone, 'timezone');
  const delimiter = single(query.delimiter, 'delimiter');
  if (timezone !== undefined) mapping.timezone = timezone;
  if (delimiter !== undefined) mapping.delimiter = delimiter;
  return mapping;
}

export default async function importRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const sink = createCollectorSink(ctx.collector);
  const log = ctx.logger.child({ module: 'import' });

  // Registered in this plugin only: elsewhere text/csv stays an unsupported media type.
  app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'buffer', bodyLimit: ctx.config.ingest.maxBodyBytes }, (_request, body, done) => {
    done(null, body);
  });

  const checkKind = async (request: FastifyRequest<{ Params: { kind: string } }>): Promise<void> => {
    if (!isRecordKind(request.params.kind)) {
      throw new ApiError('SQM_NOT_FOUND', `Unknown record kind "${request.params.kind}"; valid kinds: ${RECORD_KINDS.join(', ')}`, { validKinds: RECORD_KINDS });
    }
  };

  app.post<{ Params: { kind: string }; Querystring: Record<string, QueryValue> }>(
    '/import/:kind',
    // Role and kind are checked before the body (up to maxBodyBytes) is read, as on /ingest.
    { onRequest: [requireRole(INGEST_ROLES), checkKind], bodyLimit: ctx.config.ingest.maxBodyBytes, ...DOCUMENTATION_ONLY, schema: IMPORT_SCHEMA },
    async (request) => {
      const kind = request.params.kind as RecordKind;
      const mapping = mappingFromQuery(request.query ?? {});
      const body = request.body;
      if (!Buffer.isBuffer(body) || body.length === 0) throw new ApiError('SQM_BAD_REQUEST', 'The body is empty: send the CSV file (header row first) with Content-Type: text/csv');
      try {
        const summary = await importCsv({
          kind: kind as RecordKind,
          input: Readable.from([body]),
          mapping,
          timezone: ctx.config.timezone,
          sink,
          source: `csv-upload:${request.principal?.name ?? 'unknown'}`,
        });
        log.info({ kind, rowsRead: summary.rowsRead, accepted: summary.accepted, rejected: summary.rejected }, 'csv import');
        return summary;
      } catch (error) {
        if (error instanceof CsvImportError) throw new ApiError('SQM_BAD_REQUEST', error.message);
        if (error instanceof CollectorBusyError) throw new ApiError('SQM_UNAVAILABLE', undefined, undefined, { 'Retry-After': '5' });
        if (error instanceof StoreError) {
          log.error({ kind, code: error.code, err: error.message }, 'csv import failed: store error');
          throw new ApiError('SQM_STORE_ERROR', undefined, undefined, { 'Retry-After': '5' });
        }
        throw error;
      }
    },
  );
}
