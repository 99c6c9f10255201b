/**
 * Rejected records are kept, never silently dropped (RECORDS.md): each goes to
 * `dead_letters` with its raw text, the reasons, and where it came from, so an
 * operator can see what a source sends wrong and replay it once fixed.
 */

/** Raw text kept per rejected record; a bigger record is cut (and says so by its length). */
export const MAX_RAW_BYTES = 64 * 1024;

export interface DeadLetterRow {
  receivedAt: number;
  kind: string;
  source: string;
  batchId: string;
  recordIndex: number;
  raw: string;
  errors: string[];
}

/** At most `maxBytes` of UTF-8, cut on a character boundary. */
export function truncateUtf8(text: string, maxBytes: number = MAX_RAW_BYTES): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes, so short text needs no measuring.
  if (text.length * 3 <= maxBytes) return text;
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  // Back up to the lead byte of the last character (continuation bytes are 10xxxxxx)
  // and keep that character only if all of its bytes fit.
  let lead = maxBytes - 1;
  while (lead > 0 && ((bytes[lead] as number) & 0xc0) === 0x80) lead--;
  const first = bytes[lead] as number;
  const width = first < 0x80 ? 1 : first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : 2;
  const cut = bytes.subarray(0, lead + width <= maxBytes ? lead + width : lead);
  return cut.toString('utf8');
}

/**
 * Text the store can take: half a UTF-16 surrogate pair (from a JSON `\ud800` escape, or an
 * error message cut mid-pair) becomes U+FFFD. The stores read JSONEachRow and refuse a lone
 * surrogate, which would fail the whole dead-letter insert (and the request) over one
 * character of a rejected record.
 */
export function wellFormed(text: string): string {
  return text.toWellFormed();
}

/** The raw text of a record: what arrived, or the parsed value written back as JSON. */
export function rawText(raw: string | undefined, value: unknown): string {
  if (raw !== undefined) return truncateUtf8(wellFormed(raw));
  try {
    return truncateUtf8(JSON.stringify(value) ?? String(value));
  } catch {
    // Nesting deeper than the stack (JSON.parse takes what JSON.stringify and
    // String() cannot recurse through): keep a note rather than fail the request.
    try {
      return truncateUtf8(wellFormed(String(value)));
    } catch {
      return '(not kept: nested too deeply to write back as text)';
    }
  }
}
