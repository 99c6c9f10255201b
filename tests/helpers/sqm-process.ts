/**
 * The real service (`server/main.ts`) in a child process that a test may kill
 * with -9 and start again on the same data directory and port, as a crash and
 * a supervisor's restart would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadConfig, type SqmConfig } from '../../config/index.js';
import { freePort } from './free-port.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const SQM_PROCESS_TOKEN = 'fault-admin-token-0123456789abcdef';
const SECRET = 'fault-secret-0123456789abcdef0123456789abcdef';

export interface SqmProcess {
  url: string;
  readonly pid: number;
  /** Start (again) on the same data directory and port; resolves when /healthz answers. */
  start(): Promise<void>;
  /** Send a signal (SIGKILL by default) and wait for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** What the process wrote to stderr/stdout lately, for failure messages. */
  output(): string;
}

export interface SqmProcessOptions {
  dataDir: string;
  /** A ClickHouse server; the embedded store in `dataDir` otherwise. */
  clickhouseUrl?: string;
  env?: NodeJS.ProcessEnv;
  /** Changes to the default configuration, written to `<dataDir>.config.yaml` for SQM_CONFIG. */
  config?: (base: SqmConfig) => SqmConfig;
}

export async function createSqmProcess(options: SqmProcessOptions): Promise<SqmProcess> {
  const port = await freePort();
  let configEnv: NodeJS.ProcessEnv = {};
  if (options.config) {
    const path = `${options.dataDir}.config.yaml`;
    writeFileSync(path, stringify(options.config(structuredClone(loadConfig()) as SqmConfig)));
    configEnv = { SQM_CONFIG: path };
  }
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let lines: string[] = [];
  const remember = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter((l) => l.length > 0));
    if (lines.length > 200) lines = lines.slice(-100);
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    current.kill(signal);
    await exited;
  };

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) throw new Error('SQM is already running');
    const proc = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        SQM_PORT: String(port), SQM_HOST: '127.0.0.1', SQM_DATA_DIR: options.dataDir,
        SQM_CLICKHOUSE_URL: options.clickhouseUrl ?? '', SQM_BOOTSTRAP_ADMIN_TOKEN: SQM_PROCESS_TOKEN, SQM_SECRET: SECRET,
        SQM_LOG_LEVEL: 'warn', SQM_DEMO: '0', SQM_BUILD_DASHBOARD: '0',
        ...configEnv,
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', remember);
    proc.stderr?.on('data', remember);
    child = proc;
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`SQM exited during start-up:\n${lines.slice(-30).join('\n')}`);
      const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
      if (ok) return;
      if (Date.now() > deadline) {
        await kill();
        throw new Error(`SQM did not answer ${url}/healthz within 120 s:\n${lines.slice(-30).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  process.once('exit', () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  return {
    url,
    get pid() {
      return child?.pid ?? 0;
    },
    start,
    kill,
    output: () => lines.slice(-60).join('\n'),
  };
}
