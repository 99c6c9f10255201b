/**
 * A real Prometheus Alertmanager for channel tests (Debian's
 * prometheus-alertmanager), started on a free loopback port with a minimal
 * configuration, its own storage directory and clustering switched off.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './free-port.js';

export const ALERTMANAGER_BINARY = '/usr/bin/prometheus-alertmanager';

export function alertmanagerSkipReason(): string | undefined {
  return existsSync(ALERTMANAGER_BINARY) ? undefined : `${ALERTMANAGER_BINARY} is missing (install Debian's prometheus-alertmanager)`;
}

/** One alert as Alertmanager's GET /api/v2/alerts returns it (the fields tests read). */
export interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  status: { state: string };
}

export interface AlertmanagerServer {
  url: string;
  alerts(filter?: string[]): Promise<GettableAlert[]>;
  stop(): Promise<void>;
}

// Every alert goes to a receiver that sends nothing: the test reads the API, not a notification.
const CONFIG = `route:
  receiver: blackhole
  group_wait: 1h
receivers:
  - name: blackhole
`;

export async function startAlertmanager(): Promise<AlertmanagerServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sqm-am-'));
  writeFileSync(join(dir, 'alertmanager.yml'), CONFIG);
  const port = await freePort();
  const child: ChildProcess = spawn(ALERTMANAGER_BINARY, [
    `--config.file=${join(dir, 'alertmanager.yml')}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  let exited: string | undefined;
  child.once('exit', (code) => {
    exited = `alertmanager exited (code ${code}): ${stderr.slice(0, 800)}`;
  });
  await waitForPort(port, 20_000, () => exited);
  const url = `http://127.0.0.1:${port}`;
  // The port opens before the API is ready; /-/ready says when it is.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (exited) throw new Error(exited);
    if (Date.now() > deadline) throw new Error(`alertmanager on ${url} never became ready: ${stderr.slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async alerts(filter = []) {
      const query = new URLSearchParams();
      for (const f of filter) query.append('filter', f);
      // Resolved alerts are still listed until garbage-collected; the test asks for every state.
      const response = await fetch(`${url}/api/v2/alerts?${query.toString()}`);
      if (!response.ok) throw new Error(`GET /api/v2/alerts: HTTP ${response.status}`);
      return await response.json() as GettableAlert[];
    },
    async stop() {
      if (!exited) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
