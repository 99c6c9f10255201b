/**
 * A throw-away ClickHouse server (Debian's clickhouse-server, 18.16) for tests
 * that need one of their own: to kill it with -9 and start it again on the
 * same data, or to build a cluster of several on loopback. It uses the same
 * config and users files as CI's shared server (.ci/clickhouse-config.xml,
 * .ci/clickhouse-users.xml), templated here the way .ci/clickhouse does it,
 * on free loopback ports and its own directory.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';
import { restartableProcess, waitUntilAnswers } from './restartable-process.js';

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


  const log = () => [
    `--- ${dir}/log/clickhouse-server.err.log`, tail(join(dir, 'log', 'clickhouse-server.err.log')),
    `--- ${dir}/log/stdout.log`, tail(join(dir, 'log', 'stdout.log')),
  ].join('\n');

  const server = restartableProcess(`ClickHouse on ${url}`, () => {
    const out = openSync(join(dir, 'log', 'stdout.log'), 'a');
    try {
      return spawn(CLICKHOUSE_SERVER_BIN, [`--config-file=${join(dir, 'config.xml')}`], { cwd: dir, stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
  });
  const kill = (signal?: NodeJS.Signals) => server.kill(signal);
  const start = async () => {
    server.spawn();
    await waitUntilAnswers(server, `${url}/ping`, startTimeoutMs, log);
  };
  // The directory goes too, so nothing needs a clean shutdown (which takes 18.16 about 8 s).
  const stop = async () => {
    await server.kill('SIGKILL');
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
      return server.running ? server.child?.pid ?? 0 : 0;
    },
    kill,
    start,
    stop,
    log,
  };
}
