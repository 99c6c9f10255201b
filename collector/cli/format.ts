/** Human-readable summaries for the CLIs (the upload route answers the same data as JSON). */
import type { CsvImportSummary } from '../sources/csv.js';
import type { QueueLogStats, QueueLogSummary } from '../sources/queue-log.js';

function rejectedLines(rows: { line: number; errors: string[] }[], total: number, what: string): string[] {
  if (total === 0) return [];
  const out = [`first rejected ${what} (of ${total}):`];
  for (const r of rows) out.push(`  line ${r.line}: ${r.errors.join('; ')}`);
  return out;
}

export function formatCsvSummary(file: string, s: CsvImportSummary): string {
  const lines = [
    `${file} (${s.kind}): ${s.rowsRead} rows read, ${s.accepted} accepted, ${s.rejected} rejected`,
  ];
  if (s.ignoredColumns.length > 0) lines.push(`ignored columns: ${s.ignoredColumns.join(', ')}`);
  lines.push(...rejectedLines(s.rejectedRows, s.rejected, 'rows'));
  return lines.join('\n') + '\n';
}

export function formatQueueLogProblems(s: QueueLogStats): string[] {
  const lines: string[] = [];
  for (const q of s.unmappedQueues) {
    lines.push(`unmapped queue "${q.queue}": ${q.lines} lines skipped (first at lines ${q.firstLines.join(', ')}); map it under queueLog.queues in the configuration`);
  }
  if (s.problems.length > 0) {
    lines.push(`problems (${s.malformed} malformed, ${s.inconsistent} inconsistent, ${s.expired} expired):`);
    for (const p of s.problems) lines.push(`  line ${p.line}: ${p.reason}`);
  }
  return lines;
}

export function formatQueueLogSummary(file: string, s: QueueLogSummary): string {
  const lines = [
    `${file} (queue_log): ${s.linesRead} lines read, ${s.calls} calls, ${s.accepted} accepted, ${s.rejected} rejected, `
      + `${s.unfinished} unfinished, ${s.ignored} lines not needed`,
    ...formatQueueLogProblems(s),
    ...rejectedLines(s.rejectedRows, s.rejected, 'calls'),
  ];
  return lines.join('\n') + '\n';
}
