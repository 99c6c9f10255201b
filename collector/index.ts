/**
 * Collector contract (being implemented). See collector/README.md.
 */
import type { SqmConfig } from '../config/index.js';
import type { Store } from '../store/index.js';
import type { Logger } from '../server/logger.js';

export const RECORD_KINDS = ['calls', 'tickets', 'faults', 'surveys', 'queues', 'subscribers'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** One record as it arrived: a parsed value, or the raw text that could not be parsed. */
export interface IncomingRecord {
  /** 0-based position in the request (array index or NDJSON line), or the file's line number for CSV/queue_log. */
  index: number;
  value?: unknown;
  raw?: string;
  parseError?: string;
}

export interface IngestOutcome {
  accepted: number;
  rejected: { index: number; errors: string[] }[];
}

export interface Collector {
  /** Validate, normalise, dedupe and store; resolves once accepted records are stored. */
  ingest(kind: RecordKind, records: IncomingRecord[], source: string): Promise<IngestOutcome>;
  close(): Promise<void>;
}

export interface CollectorDeps {
  store: Store;
  config: SqmConfig;
  secret: string;
  logger: Logger;
  now: () => Date;
}

export function createCollector(_deps: CollectorDeps): Collector {
  return {
    async ingest() {
      throw new Error('collector: not implemented yet');
    },
    async close() {},
  };
}
