/**
 * CSV text → rows with their file line numbers, streaming, never stopping at a
 * bad row.
 *
 * csv-parse alone cannot resume after quote abuse: an unclosed quote swallows
 * the rest of the file into one field and the stream ends in an error. So the
 * text is first cut into candidate records here (a record ends at a newline
 * where the count of quote characters is even, which is what RFC 4180 quoting
 * means), and csv-parse then parses batches of those records. A candidate
 * csv-parse refuses, or one whose quote never closes within `maxRecordBytes`,
 * is reported by its first line, and reading resumes on the line after it.
 */
import { StringDecoder } from 'node:string_decoder';
import { parse as parseSync } from 'csv-parse/sync';

export type RowEvent =
  | { type: 'row'; line: number; cells: string[] }
  | { type: 'bad'; line: number; reason: string; raw: string };

export interface CsvRowOptions {
  delimiter?: string;
  /** Longest record (bytes of text) before an open quote is declared unclosed. */
  maxRecordBytes?: number;
}

interface Candidate {
  line: number;
  lines: string[];
}

const BATCH = 500;
const RAW_LIMIT = 2000;

/** Feed text chunks in order; rows and bad rows come out through `emit`, in file order. */
export class CsvRowReader {
  private readonly decoder = new StringDecoder('utf8');
  private readonly delimiter: string;
  private readonly maxRecordBytes: number;
  private carry = '';
  private lineNo = 0;
  private pending: Candidate | null = null;
  private pendingBytes = 0;
  private pendingQuotes = 0;
  private batch: Candidate[] = [];
  private first = true;
  /** After a bad record, the re-read lines are parsed one by one (a batch would likely fail again). */
  private oneByOne = false;

  constructor(private readonly emit: (event: RowEvent) => void, options: CsvRowOptions = {}) {
    this.delimiter = options.delimiter ?? ',';
    this.maxRecordBytes = options.maxRecordBytes ?? 64 * 1024;
  }

  write(chunk: Buffer | string): void {
    let text = this.carry + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // UTF-8 byte-order mark from spreadsheet exports
    }
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.physicalLine(++this.lineNo, text.slice(start, text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl));
      start = nl + 1;
    }
    this.carry = text.slice(start);
  }

  end(): void {
    const rest = this.carry + this.decoder.end();
    this.carry = '';
    if (rest.length > 0) this.physicalLine(++this.lineNo, rest.endsWith('\r') ? rest.slice(0, -1) : rest);
    // A bad record re-feeds its later lines, which may leave a new batch or open quote behind: repeat until both are empty.
    for (;;) {
      if (this.pending) this.giveUp(this.pending, 'Quote Not Closed: a quoted field is still open at the end of the file');
      else if (this.batch.length > 0) this.flush();
      else break;
    }
  }

  private physicalLine(line: number, text: string): void {
    const quotes = countQuotes(text);
    if (!this.pending) {
      if (text.length === 0) return; // blank line
      if (quotes % 2 === 0) {
        this.push({ line, lines: [text] });
        return;
      }
      this.pending = { line, lines: [text] };
      this.pendingBytes = text.length;
      this.pendingQuotes = quotes;
      return;
    }
    this.pending.lines.push(text);
    this.pendingBytes += text.length + 1;
    this.pendingQuotes += quotes;
    if (this.pendingQuotes % 2 === 0) {
      const done = this.pending;
      this.pending = null;
      this.push(done);
    } else if (this.pendingBytes > this.maxRecordBytes) {
      this.giveUp(this.pending, `Quote Not Closed: a quoted field is still open after ${this.maxRecordBytes} bytes`);
    }
  }

  /** Report a candidate's first line and read its other lines again as new input. */
  private giveUp(candidate: Candidate, reason: string): void {
    if (this.pending === candidate) this.pending = null;
    this.flush();
    this.emit({ type: 'bad', line: candidate.line, reason, raw: clip(candidate.lines[0] ?? '') });
    candidate.lines.slice(1).forEach((text, i) => this.physicalLine(candidate.line + 1 + i, text));
  }

  private push(candidate: Candidate): void {
    this.batch.push(candidate);
    if (this.batch.length >= BATCH) this.flush();
  }

  private parse(text: string): string[][] {
    return parseSync(text, {
      delimiter: this.delimiter,
      record_delimiter: '\n',
      relax_column_count: true,
      trim: true,
      skip_empty_lines: false,
    }) as string[][];
  }

  private flush(): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    let rows: string[][] | undefined;
    if (!this.oneByOne) {
      try {
        rows = this.parse(batch.map((c) => c.lines.join('\n')).join('\n'));
      } catch {
        rows = undefined; // find the culprit record by record below
      }
    }
    if (rows && rows.length === batch.length) {
      batch.forEach((c, i) => this.emit({ type: 'row', line: c.line, cells: rows![i]! }));
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const c = batch[i]!;
      let one: string[][] | undefined;
      let reason = 'not one CSV record';
      try {
        one = this.parse(c.lines.join('\n'));
      } catch (error) {
        // csv-parse counts lines within this one record; the file's line is reported separately.
        reason = (error as Error).message.replace(/ at line \d+/g, '');
      }
      if (one && one.length === 1) {
        this.emit({ type: 'row', line: c.line, cells: one[0]! });
        continue;
      }
      this.emit({ type: 'bad', line: c.line, reason, raw: clip(c.lines[0] ?? '') });
      if (c.lines.length === 1) continue;
      // Read the candidate's other lines again. Later candidates stay as they
      // are unless those lines leave a quote open, which would absorb them.
      const rest = batch.slice(i + 1);
      c.lines.slice(1).forEach((text, k) => this.physicalLine(c.line + 1 + k, text));
      for (const r of rest) {
        if (this.pending) r.lines.forEach((text, k) => this.physicalLine(r.line + k, text));
        else this.push(r);
      }
      this.oneByOne = true;
      return;
    }
    this.oneByOne = false;
  }
}

function countQuotes(text: string): number {
  let n = 0;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) n++;
  return n;
}

function clip(text: string): string {
  return text.length > RAW_LIMIT ? `${text.slice(0, RAW_LIMIT)}…` : text;
}
