/**
 * A live-stream client for benchmarks (server/live/README.md, protocol 1):
 * bearer token on the upgrade, the value of every (subscription, KPI, labels)
 * kept current from snapshots and updates, and a wait for a value to reach a
 * given figure that reports when the message carrying it arrived.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

/** Milliseconds, sub-millisecond resolution, one clock for the whole process. */
export const clock = (): number => performance.timeOrigin + performance.now();

interface LiveValue {
  kpi: string;
  labels: Record<string, string>;
  t?: string;
  value: number | null;
}

type Waiter = { key: string; ok: (value: number) => boolean; resolve: (at: number) => void };

const keyOf = (id: string, kpi: string, labels: Record<string, string>) => JSON.stringify([id, kpi, Object.entries(labels).sort()]);

export class BenchLiveClient {
  private readonly values = new Map<string, number | null>();
  private waiters: Waiter[] = [];
  private snapshotWaiters = new Map<string, () => void>();
  updates = 0;
  errors: string[] = [];
  readonly closed: Promise<number>;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const at = clock();
      const message = JSON.parse(data.toString()) as { type: string; id?: string; values?: LiveValue[]; changed?: LiveValue[]; message?: string };
      if (message.type === 'snapshot' || message.type === 'update') {
        if (message.type === 'update') this.updates++;
        for (const v of (message.type === 'snapshot' ? message.values : message.changed) ?? []) {
          if (v.t !== undefined) continue; // series points: not what the benchmarks read
          this.values.set(keyOf(message.id ?? 'default', v.kpi, v.labels), v.value);
        }
        if (message.type === 'snapshot') this.snapshotWaiters.get(message.id ?? 'default')?.();
        this.waiters = this.waiters.filter((w) => {
          const value = this.values.get(w.key);
          if (value === undefined || value === null || !w.ok(value)) return true;
          w.resolve(at);
          return false;
        });
      } else if (message.type === 'error') {
        this.errors.push(message.message ?? 'error');
      }
    });
    this.closed = new Promise((resolve) => socket.once('close', (code) => resolve(code)));
  }

  static async connect(url: string, token: string): Promise<BenchLiveClient> {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const client = new BenchLiveClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** Subscribe and wait for the snapshot. */
  async subscribe(message: { id: string } & Record<string, unknown>): Promise<void> {
    const snapshot = new Promise<void>((resolve) => this.snapshotWaiters.set(message.id, resolve));
    this.socket.send(JSON.stringify({ type: 'subscribe', ...message }));
    await withTimeout(snapshot, 60_000, `no snapshot for subscription "${message.id}"${this.errors.length ? `: ${this.errors.join('; ')}` : ''}`);
  }

  value(id: string, kpi: string, labels: Record<string, string>): number | null | undefined {
    return this.values.get(keyOf(id, kpi, labels));
  }

  /** When (clock()) a message brought the value to one that satisfies `ok` (at once if it already does). */
  reached(id: string, kpi: string, labels: Record<string, string>, ok: (value: number) => boolean, timeoutMs: number): Promise<number> {
    const key = keyOf(id, kpi, labels);
    const current = this.values.get(key);
    if (current !== undefined && current !== null && ok(current)) return Promise.resolve(clock());
    const reached = new Promise<number>((resolve) => this.waiters.push({ key, ok, resolve }));
    return withTimeout(reached, timeoutMs, `${kpi} ${JSON.stringify(labels)} did not change within ${timeoutMs} ms`);
  }

  close(): Promise<number> {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(1000);
    return this.closed;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
