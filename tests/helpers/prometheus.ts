/**
 * A real Prometheus (Debian's `prometheus` package) for tests: started on a
 * free loopback port in its own temp directory, scraping one target every
 * second, and queried back through its HTTP API. Suites skip with a clear
 * message when the binary is missing (CI installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from './free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROMETHEUS_BIN = process.env.SQM_TEST_PROMETHEUS_BIN ?? '/usr/bin/prometheus';
export const PROMETHEUS_AVAILABLE = existsSync(PROMETHEUS_BIN);
export const PROMETHEUS_MISSING =
  `${PROMETHEUS_BIN} is not installed: the Prometheus scrape test is SKIPPED (apt-get install prometheus; CI installs it)`;


export interface PrometheusSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface TestPrometheus {
  url: string;
  /** An instant query; the vector it returns (empty until a scrape has the series). */
  query(expr: string): Promise<PrometheusSample[]>;
  /** Poll `query` until it returns at least one sample (a safety timeout, not an assertion). */
  waitFor(expr: string, timeoutMs?: number): Promise<PrometheusSample[]>;
  /** Prometheus's own log, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** `host:port` of the app. */
  target: string;
  metricsPath?: string;
  /** Sent as `Authorization: Bearer …` on every scrape. */
  bearerToken?: string;
}

async function get(url: string): Promise<Response | undefined> {
  try {
    return await fetch(url);
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startPrometheus(options: StartPrometheusOptions): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'sqm-prometheus-'));
  const port = await freePort();
  const auth = options.bearerToken === undefined ? [] : [
    '    authorization:',
    '      type: Bearer',
    `      credentials_file: ${join(dir, 'token')}`,
  ];
  if (options.bearerToken !== undefined) writeFileSync(join(dir, 'token'), options.bearerToken, { mode: 0o600 });
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: sqm',
    `    metrics_path: ${options.metricsPath ?? '/metrics'}`,
    ...auth,
    '    static_configs:',
    `      - targets: ['${options.target}']`,
    '',
  ].join('\n'));

  let output = '';
  const child: ChildProcess = spawn(PROMETHEUS_BIN, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await get(`${url}/-/ready`);
    if (res?.ok) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`Prometheus did not become ready:\n${output}`);
    }
    await sleep(100);
  }

  const query = async (expr: string): Promise<PrometheusSample[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; data?: { result: PrometheusSample[] }; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus query ${expr} failed: ${body.error ?? res.status}`);
    return body.data?.result ?? [];
  };

  return {
    url,
    query,
    async waitFor(expr, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const result = await query(expr);
        if (result.length > 0) return result;
        if (Date.now() > until) {
          const targets = await get(`${url}/api/v1/targets`);
          throw new Error(`no sample for ${expr}; targets: ${targets ? await targets.text() : '?'}\n${output}`);
        }
        await sleep(250);
      }
    },
    log: () => output,
    stop,
  };
}
