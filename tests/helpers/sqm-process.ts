/**
 * The real service (`server/main.ts`) in a child process that a test may kill
 * with -9 and start again on the same data directory and port, as a crash and
 * a supervisor's restart would.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadConfig, type SqmConfig } from '../../config/index.js';
import { freePort } from './free-port.js';
import { restartableProcess, waitUntilAnswers } from './restartable-process.js';

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
  let lines: string[] = [];
  const remember = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter((l) => l.length > 0));
    if (lines.length > 200) lines = lines.slice(-100);
  };

  const sqm = restartableProcess('SQM', () => {
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
    return proc;
  });
  const kill = (signal?: NodeJS.Signals) => sqm.kill(signal);
  const start = async () => {
    sqm.spawn();
    await waitUntilAnswers(sqm, `${url}/healthz`, 120_000, () => lines.slice(-30).join('\n'));
  };

  return {
    url,
    get pid() {
      return sqm.running ? sqm.child?.pid ?? 0 : 0;
    },
    start,
    kill,
    output: () => lines.slice(-60).join('\n'),
  };
}
