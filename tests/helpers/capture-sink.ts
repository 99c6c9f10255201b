/**
 * A sink for source tests: keeps every batch it is sent and answers like the
 * collector, accepting every record except those `reject` returns errors for.
 */
import type { IncomingRecord, IngestOutcome, RecordKind } from '../../collector/index.js';
import type { RecordSink } from '../../collector/sources/sink.js';

export interface CaptureSink extends RecordSink {
  batches: { kind: RecordKind; records: IncomingRecord[]; source: string }[];
  /** Every record sent, in order. */
  readonly records: IncomingRecord[];
  /** Make the next `n` sends fail (a server that is down). */
  failNext(n: number): void;
}

export function captureSink(reject: (record: IncomingRecord) => string[] | undefined = () => undefined): CaptureSink {
  const batches: CaptureSink['batches'] = [];
  let failures = 0;
  return {
    batches,
    get records() {
      return batches.flatMap((b) => b.records);
    },
    failNext(n: number) {
      failures = n;
    },
    async send(kind, records, source): Promise<IngestOutcome> {
      if (failures > 0) {
        failures--;
        throw new Error('sink down');
      }
      batches.push({ kind, records: records.map((r) => ({ ...r })), source });
      const rejected: IngestOutcome['rejected'] = [];
      for (const r of records) {
        const errors = r.parseError !== undefined ? [`(record): ${r.parseError}`] : reject(r);
        if (errors) rejected.push({ index: r.index, errors });
      }
      return { accepted: records.length - rejected.length, rejected };
    },
  };
}
