/**
 * CSV import: a file (or an upload) of one record kind with a header row →
 * records in the RECORDS.md shape → a sink, in batches, streaming.
 *
 * Cells are coerced from text by field type (record-fields.ts); validation is
 * the collector's. Every record carries its file line number (header = line 1)
 * as its index, so the collector's rejections come back as line numbers.
 */
import type { IncomingRecord, RecordKind } from '../index.js';
import { MappingError, resolvePlan, type CsvMapping, type CsvPlan } from './csv-mapping.js';
import { CsvRowReader, type RowEvent } from './csv-rows.js';
import { RECORD_FIELDS, type FieldType } from './record-fields.js';
import { MAX_BATCH_RECORDS, type RecordSink } from './sink.js';
import { localToIso } from './time-zone.js';

/** How many rejected rows a summary lists (the counts cover all of them). */
export const SUMMARY_REJECTED_ROWS = 20;

export interface RejectedRow {
  line: number;
  errors: string[];
}

export interface CsvImportSummary {
  kind: RecordKind;
  /** Data rows read (blank lines and the header excluded), readable or not. */
  rowsRead: number;
  accepted: number;
  rejected: number;
  /** The first rejected rows, by line. */
  rejectedRows: RejectedRow[];
  /** Header columns that fill no field. */
  ignoredColumns: string[];
}

export interface CsvProgress {
  bytesRead: number;
  rowsRead: number;
  accepted: number;
  rejected: number;
}

export interface CsvImportOptions {
  kind: RecordKind;
  /** The CSV bytes, in order (a file stream, a request body). */
  input: AsyncIterable<Buffer | string>;
  mapping: CsvMapping;
  /** Zone for times without an offset, unless the mapping names one. */
  timezone: string;
  sink: RecordSink;
  /** Named in the dead-letter store and logs, e.g. `csv:calls.csv`. */
  source: string;
  batchSize?: number;
  maxRecordBytes?: number;
  onProgress?: (progress: CsvProgress) => void;
}

/** The file cannot be imported at all (no header, a mapping that does not fit it). */
export class CsvImportError extends Error {
  override name = 'CsvImportError';
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;
const EPOCH = /^\d+$/;
const TRUE = new Set(['true', '1', 'y', 'yes']);
const FALSE = new Set(['false', '0', 'n', 'no']);

/** Text → the field's JSON type where the text plainly is one; anything else stays text for the collector to judge. */
export function coerceCell(type: FieldType, text: string, timeZone: string): unknown {
  switch (type) {
    case 'number':
      return NUMBER.test(text) ? Number(text) : text;
    case 'boolean': {
      const lower = text.toLowerCase();
      if (TRUE.has(lower)) return true;
      if (FALSE.has(lower)) return false;
      return text;
    }
    case 'time':
      if (EPOCH.test(text)) return Number(text);
      return localToIso(text, timeZone) ?? text;
    default:
      return text;
  }
}

/** One data row → a record, or an unreadable-row entry when its shape is wrong. */
export function rowToRecord(
  kind: RecordKind, plan: CsvPlan, headerLength: number, line: number, cells: string[], timeZone: string, delimiter: string,
): IncomingRecord | null {
  if (cells.every((c) => c === '')) return null; // a row of empty cells is a blank line in a spreadsheet export
  if (cells.length !== headerLength) {
    return { index: line, raw: cells.join(delimiter), parseError: `${cells.length} fields, the header has ${headerLength}` };
  }
  const types = RECORD_FIELDS[kind];
  const value: Record<string, unknown> = {};
  plan.columns.forEach((column, i) => {
    if (!column) return;
    let text = cells[i]!;
    if (column.values) text = column.values.get(text) ?? text;
    if (text === '') return; // empty cell = absent field
    value[column.field] = coerceCell(types[column.field]!, text, timeZone);
  });
  for (const [field, text] of plan.fixed) {
    if (text !== '') value[field] = coerceCell(types[field]!, text, timeZone);
  }
  return { index: line, value };
}

export async function importCsv(options: CsvImportOptions): Promise<CsvImportSummary> {
  const { kind, mapping, sink, source } = options;
  const timeZone = mapping.timezone ?? options.timezone;
  const delimiter = mapping.delimiter ?? ',';
  const batchSize = Math.min(options.batchSize ?? MAX_BATCH_RECORDS, MAX_BATCH_RECORDS);
  const summary: CsvImportSummary = { kind, rowsRead: 0, accepted: 0, rejected: 0, rejectedRows: [], ignoredColumns: [] };
  let bytesRead = 0;

  const events: RowEvent[] = [];
  const reader = new CsvRowReader((e) => events.push(e), {
    delimiter,
    ...(options.maxRecordBytes ? { maxRecordBytes: options.maxRecordBytes } : {}),
  });
  let header: string[] | undefined;
  let plan: CsvPlan | undefined;
  let batch: IncomingRecord[] = [];

  const send = async (): Promise<void> => {
    if (batch.length === 0) return;
    const records = batch;
    batch = [];
    const outcome = await sink.send(kind, records, source);
    summary.accepted += outcome.accepted;
    summary.rejected += outcome.rejected.length;
    const sorted = [...outcome.rejected].sort((a, b) => a.index - b.index);
    for (const r of sorted) {
      if (summary.rejectedRows.length >= SUMMARY_REJECTED_ROWS) break;
      summary.rejectedRows.push({ line: r.index, errors: r.errors });
    }
  };

  const drain = async (): Promise<void> => {
    for (const event of events.splice(0)) {
      if (!header) {
        if (event.type === 'bad') throw new CsvImportError(`line ${event.line}: the header row cannot be read: ${event.reason}`);
        header = event.cells;
        try {
          plan = resolvePlan(kind, header, mapping);
        } catch (error) {
          if (error instanceof MappingError) throw new CsvImportError(error.message);
          throw error;
        }
        summary.ignoredColumns = plan.ignoredColumns;
        continue;
      }
      summary.rowsRead++;
      if (event.type === 'bad') {
        batch.push({ index: event.line, raw: event.raw, parseError: event.reason });
      } else {
        const record = rowToRecord(kind, plan!, header.length, event.line, event.cells, timeZone, delimiter);
        if (record) batch.push(record);
        else summary.rowsRead--;
      }
      if (batch.length >= batchSize) await send();
    }
  };

  for await (const chunk of options.input) {
    bytesRead += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    reader.write(chunk);
    await drain();
    options.onProgress?.({ bytesRead, rowsRead: summary.rowsRead, accepted: summary.accepted, rejected: summary.rejected });
  }
  reader.end();
  await drain();
  if (!header) throw new CsvImportError('the file is empty: no header row');
  await send();
  options.onProgress?.({ bytesRead, rowsRead: summary.rowsRead, accepted: summary.accepted, rejected: summary.rejected });
  return summary;
}
