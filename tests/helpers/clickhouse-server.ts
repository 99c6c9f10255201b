/**
 * A throw-away ClickHouse server (Debian's clickhouse-server, 18.16) for tests
 * that need one of their own: to kill it with -9 and start it again on the
 * same data, or to build a cluster of several on loopback. It uses the same
 * config and users files as CI's shared server (.ci/clickhouse-config.xml,
 * .ci/clickhouse-users.xml), templated here the way .ci/clickhouse does it,
 * on free loopback ports and its own directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

export const CLICKHOUSE_SERVER_BIN = process.env.SQM_TEST_CLICKHOUSE_SERVER_BIN ?? '/usr/sbin/clickhouse-server';
export const CLICKHOUSE_SERVER_AVAILABLE = existsSync(CLICKHOUSE_SERVER_BIN);

const CI_DIR = fileURLToPath(new URL('../../.ci/', import.meta.url));

export interface ClickHouseServer {
  /** http://127.0.0.1:PORT */
  url: string;
  httpPort: number;
  tcpPort: number;
  dir: string;
  /** The running server's pid (a new one after `start()`); 0 while it is down. */
  readonly pid: number;
  /** Send a signal (SIGKILL by default) and wait until the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** (Re)start on the same directory and ports; waits until /ping answers. */
  start(): Promise<void>;
  /** SIGTERM, wait for exit, remove the directory. */
  stop(): Promise<void>;
  /** The tail of the server's logs, for failure messages. */
  log(): string;
}

export interface StartClickHouseServerOptions {
  /** XML put inside the root element of config.xml (remote_servers, zookeeper, macros, …). */
  extraConfig?: string;
  /** The server's directory (created if missing, kept data reused); a fresh temp dir otherwise. */
  dir?: string;
  /** Fixed ports (free ones otherwise). */
  httpPort?: number;
  tcpPort?: number;
  /** How long to wait for /ping (start-up, not an assertion). Default 60 s. */
  startTimeoutMs?: number;
}

// Servers still running when the test process exits (a failed test, a timeout)
// are killed so they do not outlive the run and hold ports.
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** config.xml from the CI template: paths and ports substituted, extra XML before the closing root tag. */
export function clickHouseConfigXml(dir: string, httpPort: number, tcpPort: number, extraConfig = ''): string {
  const template = readFileSync(join(CI_DIR, 'clickhouse-config.xml'), 'utf8');
  const xml = template
    .replaceAll('@CH_DIR@', dir)
    .replaceAll('@HTTP_PORT@', String(httpPort))
    .replaceAll('@TCP_PORT@', String(tcpPort));
  const close = xml.lastIndexOf('</yandex>');
  if (close < 0) throw new Error('.ci/clickhouse-config.xml has no </yandex> root element');
  return `${xml.slice(0, close)}${extraConfig}\n${xml.slice(close)}`;
}

export async function startClickHouseServer(options: StartClickHouseServerOptions = {}): Promise<ClickHouseServer> {
  if (!CLICKHOUSE_SERVER_AVAILABLE) {
    throw new Error(`${CLICKHOUSE_SERVER_BIN} is not installed (apt-get install clickhouse-server; CI installs it)`);
  }
  installExitHook();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sqm-ch-'));
  for (const sub of ['log', 'data', 'tmp', 'user_files', 'format_schemas']) mkdirSync(join(dir, sub), { recursive: true });
  const httpPort = options.httpPort ?? await freePort();
  let tcpPort = options.tcpPort ?? await freePort();
  // Two free-port calls can hand back the same port once the first is closed again.
  while (tcpPort === httpPort) tcpPort = await freePort();
  writeFileSync(join(dir, 'config.xml'), clickHouseConfigXml(dir, httpPort, tcpPort, options.extraConfig));
  writeFileSync(join(dir, 'users.xml'), readFileSync(join(CI_DIR, 'clickhouse-users.xml')));
  const url = `http://127.0.0.1:${httpPort}`;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const log = () => [
    `--- ${dir}/log/clickhouse-server.err.log`, tail(join(dir, 'log', 'clickhouse-server.err.log')),
    `--- ${dir}/log/stdout.log`, tail(join(dir, 'log', 'stdout.log')),
  ].join('\n');

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    current.kill(signal);
    await exited;
  };

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) throw new Error(`ClickHouse on ${url} is already running`);
    const out = openSync(join(dir, 'log', 'stdout.log'), 'a');
    const proc = spawn(CLICKHOUSE_SERVER_BIN, [`--config-file=${join(dir, 'config.xml')}`], {
      cwd: dir,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    child = proc;
    running.add(proc);
    exited = new Promise<void>((resolve) => proc.once('exit', () => {
      running.delete(proc);
      resolve();
    }));
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      const ok = await fetch(`${url}/ping`).then((r) => r.ok, () => false);
      if (ok) return;
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`ClickHouse on ${url} exited during start-up (code ${proc.exitCode}, signal ${proc.signalCode}):\n${log()}`);
      }
      if (Date.now() > deadline) {
        await kill('SIGKILL');
        throw new Error(`ClickHouse did not answer ${url}/ping within ${startTimeoutMs} ms:\n${log()}`);
      }
      await sleep(100);
    }
  };

  const stop = async () => {
    const current = child;
    if (current && current.exitCode === null && current.signalCode === null) {
      current.kill('SIGTERM');
      // A clean shutdown takes a moment; a hung one must not hang the suite.
      const timer = setTimeout(() => current.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await start();
  } catch (error) {
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    url,
    httpPort,
    tcpPort,
    dir,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid ?? 0 : 0;
    },
    kill,
    start,
    stop,
    log,
  };
}
