/**
 * A throw-away ZooKeeper (Debian's `zookeeper` package, 3.8) for the cluster
 * test: ClickHouse 18.16 runs `ON CLUSTER` DDL through a queue in ZooKeeper.
 * Standalone, on a free loopback port, data in its own temp directory, run in
 * the foreground under this process (no systemd), admin HTTP server off.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export const ZOOKEEPER_JAR = process.env.SQM_TEST_ZOOKEEPER_JAR ?? '/usr/share/java/zookeeper.jar';
export const JAVA_BIN = process.env.SQM_TEST_JAVA_BIN ?? '/usr/bin/java';
// Without an slf4j binding ZooKeeper logs nothing; the simple one writes warnings to stderr, kept for failure messages.
const SLF4J_SIMPLE = '/usr/share/java/slf4j-simple.jar';

/** Why ZooKeeper cannot run here, or undefined when it can. */
export function zookeeperMissing(): string | undefined {
  if (!existsSync(ZOOKEEPER_JAR) || !existsSync(JAVA_BIN)) {
    return `ZooKeeper is not installed (${ZOOKEEPER_JAR}, ${JAVA_BIN}): ` +
      'apt-get install -y --no-install-recommends zookeeper (CI installs it)';
  }
  return undefined;
}

export interface ZooKeeperServer {
  host: string;
  port: number;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

function fourLetterWord(port: number, word: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.setTimeout(2000, () => socket.destroy());
    socket.once('connect', () => socket.write(word));
    socket.on('data', (chunk: Buffer) => { answer += chunk.toString('utf8'); });
    socket.once('close', () => resolve(answer));
    socket.once('error', () => resolve(''));
  });
}

export async function startZooKeeper(options: { startTimeoutMs?: number } = {}): Promise<ZooKeeperServer> {
  const missing = zookeeperMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'sqm-zk-'));
  mkdirSync(join(dir, 'data'));
  const port = await freePort();
  writeFileSync(join(dir, 'zoo.cfg'), [
    'tickTime=500',
    `dataDir=${join(dir, 'data')}`,
    `clientPort=${port}`,
    'clientPortAddress=127.0.0.1',
    'admin.enableServer=false',
    '4lw.commands.whitelist=ruok,srvr',
    'maxClientCnxns=0',
    '',
  ].join('\n'));
  const classpath = [ZOOKEEPER_JAR, ...(existsSync(SLF4J_SIMPLE) ? [SLF4J_SIMPLE] : [])].join(':');
  const child: ChildProcess = spawn(JAVA_BIN, [
    '-Xmx128m',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-cp', classpath,
    'org.apache.zookeeper.server.ZooKeeperServerMain',
    join(dir, 'zoo.cfg'),
  ], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    // `ruok` says imok as soon as the process runs; `srvr` reports a mode only once sessions are
    // served. A ClickHouse 18.16 that meets a ZooKeeper still starting can crash in its DDL worker.
    if (/Mode: standalone/.test(await fourLetterWord(port, 'srvr'))) break;
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`ZooKeeper did not answer on 127.0.0.1:${port}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { host: '127.0.0.1', port, dir, log: () => output, stop };
}
