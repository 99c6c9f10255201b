/**
 * The real service (`server/main.ts`) in a child process, for benchmarks that
 * measure it from outside: its own data directory (embedded store) or a
 * ClickHouse URL, a bootstrap admin token, a free loopback port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig, type SqmConfig } from '../config/index.js';
import { freePort } from '../tests/helpers/free-port.js';

export const BENCH_TOKEN = 'bench-admin-token-0123456789abcdef';
export const BENCH_SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';

export interface Service {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
}

export interface StartServiceOptions {
  /** The service's data directory (the embedded store lives here unless `clickhouseUrl`). */
  dataDir: string;
  clickhouseUrl?: string;
  /** Changes to the default configuration (written to a YAML file beside the data directory). */
  config?: (base: SqmConfig) => SqmConfig;
  /** The child's output: inherited (default) or dropped. */
  quiet?: boolean;
}

export async function startService(options: StartServiceOptions): Promise<Service> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SQM_PORT: String(port), SQM_HOST: '127.0.0.1', SQM_DATA_DIR: options.dataDir,
    SQM_BOOTSTRAP_ADMIN_TOKEN: BENCH_TOKEN, SQM_SECRET: BENCH_SECRET, SQM_LOG_LEVEL: 'warn',
    SQM_CLICKHOUSE_URL: options.clickhouseUrl ?? '',
    SQM_DEMO: '0',
  };
  if (options.config) {
    const path = `${options.dataDir}.config.yaml`;
    writeFileSync(path, stringify(options.config(structuredClone(loadConfig()) as SqmConfig)));
    env.SQM_CONFIG = path;
  }
  // As `npm start` runs it (package.json): a larger young generation for ingest's short-lived garbage.
  const child = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', join('server', 'main.ts')], {
    env,
    stdio: ['ignore', options.quiet ? 'ignore' : 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitReady(url, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, pid: child.pid ?? 0, child, stop };
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error(`the service exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the service did not become ready in 120 s');
}

/** POST records to the ingest API as JSON; throws unless every record was accepted. */
export async function postRecords(url: string, kind: string, records: readonly object[]): Promise<void> {
  const res = await fetch(`${url}/api/v1/ingest/${kind}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(records),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`ingest ${kind} answered ${res.status}: ${text.slice(0, 300)}`);
  const result = JSON.parse(text) as { accepted: number; rejected: unknown[] };
  if (result.rejected.length > 0) throw new Error(`ingest ${kind} rejected: ${JSON.stringify(result.rejected.slice(0, 3))}`);
}

/** ISO 8601 in whole seconds, as the ingest API takes times. */
export const iso = (epoch: number): string => new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
