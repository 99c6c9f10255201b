/** The record kinds of RECORDS.md, as they appear in `POST /api/v1/ingest/{kind}`. */
export const RECORD_KINDS = ['calls', 'tickets', 'faults', 'surveys', 'queues', 'subscribers'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export function isRecordKind(value: string): value is RecordKind {
  return (RECORD_KINDS as readonly string[]).includes(value);
}
