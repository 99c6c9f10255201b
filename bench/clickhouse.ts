/**
 * A throw-away ClickHouse server (Debian's clickhouse-server) for one benchmark:
 * started with `.ci/clickhouse start DIR HTTP TCP` on free loopback ports in a
 * temp directory, stopped and removed afterwards, so a benchmark never touches
 * a server someone else is using.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../tests/helpers/free-port.js';

const SCRIPT = join('.ci', 'clickhouse');
export const CLICKHOUSE_SERVER_BIN = '/usr/sbin/clickhouse-server';

export interface ThrowAwayClickHouse {
  url: string;
  /** Stop the server, wait for it to exit, remove its directory. */
  stop(): Promise<void>;
}

export async function startThrowAwayClickHouse(): Promise<ThrowAwayClickHouse> {
  if (!existsSync(CLICKHOUSE_SERVER_BIN)) {
    throw new Error(`${CLICKHOUSE_SERVER_BIN} is not installed (apt-get install clickhouse-server)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sqm-bench-ch-'));
  const http = await freePort();
  let tcp = await freePort();
  // The OS can hand the same port back once the first probe has closed it.
  while (tcp === http) tcp = await freePort();
  const code = await script(dir, ['start', dir, String(http), String(tcp)]);
  if (code !== 0) {
    const log = readText(join(dir, 'script.log'));
    await stopIn(dir);
    throw new Error(`.ci/clickhouse start failed (exit ${code}):\n${log}`);
  }
  return { url: `http://127.0.0.1:${http}`, stop: () => stopIn(dir) };
}

/**
 * Run `.ci/clickhouse` with its output in DIR/script.log. Not through a pipe: the
 * server it starts in the background inherits the script's stdout, so a pipe
 * would stay open (and the call unfinished) for as long as the server runs.
 */
function script(dir: string, args: string[]): Promise<number> {
  const log = openSync(join(dir, 'script.log'), 'a');
  const child = spawn(SCRIPT, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * The server's pid. DIR/pid holds the pid of the background job `.ci/clickhouse`
 * started, which is either the server itself or the subshell whose child it is.
 */
function serverPid(dir: string): number {
  const pid = Number(readText(join(dir, 'pid')).trim());
  if (!(pid > 0)) return 0;
  if (readText(`/proc/${pid}/cmdline`).includes('clickhouse-server')) return pid;
  const children = readText(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/).filter(Boolean).map(Number);
  return children.find((c) => readText(`/proc/${c}/cmdline`).includes(dir)) ?? 0;
}

async function stopIn(dir: string): Promise<void> {
  const pid = serverPid(dir);
  await script(dir, ['stop', dir]);
  if (pid > 0 && alive(pid)) process.kill(pid, 'SIGTERM');
  // The directory may go only once the server has exited.
  for (let i = 0; pid > 0 && i < 600 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
