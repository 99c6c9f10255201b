/**
 * What the source CLIs share: the HTTP sink from flags or SQM_URL / SQM_TOKEN,
 * the configuration, a progress line on stderr, and one way to fail: a
 * one-line message and exit code 1, never a stack trace.
 */
import { ConfigError, loadConfig, DEFAULT_CONFIG_PATH, type SqmConfig } from '../../config/index.js';
import { MappingError } from '../sources/csv-mapping.js';
import { CsvImportError } from '../sources/csv.js';
import { createHttpSink, SinkFatalError, type RecordSink } from '../sources/sink.js';

export class CliError extends Error {
  override name = 'CliError';
}

export function httpSinkFrom(flags: { url?: string | undefined; token?: string | undefined }, env: NodeJS.ProcessEnv): { sink: RecordSink; url: string } {
  const url = flags.url ?? env.SQM_URL ?? 'http://127.0.0.1:8080';
  const token = flags.token ?? env.SQM_TOKEN;
  if (!token) throw new CliError('no API token: pass --token or set SQM_TOKEN (a token with the ingest role)');
  return { sink: createHttpSink({ url, token }), url };
}

export function configFrom(env: NodeJS.ProcessEnv): SqmConfig {
  return loadConfig(env.SQM_CONFIG ?? DEFAULT_CONFIG_PATH);
}

/** Run a CLI's main; any failure becomes `<name>: <message>` on stderr and exit code 1. */
export function runCli(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      const known = error instanceof CliError || error instanceof SinkFatalError || error instanceof CsvImportError
        || error instanceof MappingError || error instanceof ConfigError;
      const oneLine = message.split('\n').map((s) => s.trim()).filter(Boolean).join(' ');
      process.stderr.write(`${name}: ${known ? oneLine : `unexpected failure: ${oneLine}`}\n`);
      process.exitCode = 1;
    },
  );
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

/**
 * Progress on stderr: a bar redrawn in place on a terminal, otherwise a plain
 * line at most every `plainEveryMs` (logs and CI keep readable output).
 */
export function progressReporter(totalBytes: number, stream: NodeJS.WriteStream = process.stderr, plainEveryMs = 5000) {
  const tty = Boolean(stream.isTTY);
  let lastPlain = Date.now(); // a quick import prints no progress lines at all
  let drawn = false;
  return {
    update(bytesRead: number, detail: string): void {
      const fraction = totalBytes > 0 ? Math.min(1, bytesRead / totalBytes) : 1;
      const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
      if (tty) {
        const width = 30;
        const filled = Math.round(fraction * width);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct} ${mib(bytesRead)}/${mib(totalBytes)} MiB ${detail}\x1b[K`);
        drawn = true;
      } else {
        const now = Date.now();
        if (now - lastPlain < plainEveryMs) return;
        lastPlain = now;
        stream.write(`progress: ${pct.trim()} (${mib(bytesRead)} of ${mib(totalBytes)} MiB) ${detail}\n`);
      }
    },
    done(): void {
      if (tty && drawn) stream.write('\n');
    },
  };
}
