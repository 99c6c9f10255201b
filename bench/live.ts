/**
 * bench:live — what fan-out costs on the live stream.
 *
 * 1. Builds the real app on the embedded store (or SQM_CLICKHOUSE_URL), seeds
 *    today's calls for all 31 regions, and listens on loopback. Ticks are
 *    driven by hand (`app.liveHub.tick()`), so each is measured alone.
 * 2. A child process (so its CPU is not the server's) opens WebSocket clients
 *    and subscribes each to one region (`today`, four contact-centre KPIs).
 * 3. Before every tick one call per region is ingested, so every subscription
 *    has a change to send. The server notes the time and its CPU at the start
 *    of the tick; the child notes when each client receives its update; the
 *    server's CPU is read again once the last client has it.
 * 4. Three runs, each after one unmeasured warm-up tick: 1 client; 31 clients (one per region: the same 31 computations
 *    as the next run); 1,000 clients over the 31 regions. Prints the delay from
 *    the tick to the last client (p50, p99 over ticks), the per-client delay,
 *    and the server's CPU per tick, with the ratios; writes bench/out/live.json.
 *
 * Options: --clients N (default 1000), --ticks N (default 40), --seed-calls N per region (default 500).
 * Not a test: figures vary with the machine; the ratios are what to compare.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { loadConfig, validateConfigObject } from '../config/index.js';
import { startOfLocalDay } from '../kpi/index.js';
import { buildServer } from '../server/app.js';
import { migrate, openEmbeddedStore, openServerStore, sql, type Store } from '../store/index.js';
import { argValue } from './args.js';

const TOKEN = 'bench-admin-token-0123456789abcdef';
const SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';
const KPIS = ['offered', 'answer_rate', 'abandon_rate', 'asa'];


/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
const clock = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------
// The client process.

type ToChild = { type: 'open'; url: string; token: string; clients: number; regions: string[] } | { type: 'close' };
type FromChild =
  | { type: 'ready' }
  | { type: 'tick'; tick: number; times: number[] }
  | { type: 'closed' }
  | { type: 'failed'; message: string };

function runClients(): void {
  let sockets: WebSocket[] = [];
  let times: number[][] = [];
  const send = (message: FromChild) => process.send?.(message);

  process.on('message', (message: ToChild) => {
    if (message.type === 'close') {
      let open = sockets.length;
      if (open === 0) send({ type: 'closed' });
      for (const socket of sockets) {
        socket.once('close', () => { if (--open === 0) send({ type: 'closed' }); });
        socket.close(1000);
      }
      sockets = [];
      return;
    }
    const { url, token, clients, regions } = message;
    times = [];
    let snapshots = 0;
    const updates: number[] = new Array(clients).fill(0);
    const openOne = (i: number) => new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
      sockets.push(socket);
      socket.on('message', (data) => {
        const at = clock();
        const m = JSON.parse(data.toString()) as { type: string; message?: string };
        if (m.type === 'hello') {
          socket.send(JSON.stringify({ type: 'subscribe', id: 'wall', kpis: KPIS, regions: [regions[i % regions.length]], window: 'today' }));
        } else if (m.type === 'snapshot') {
          if (++snapshots === clients) send({ type: 'ready' });
        } else if (m.type === 'update') {
          const tick = updates[i]!++;
          (times[tick] ??= []).push(at);
          if (times[tick]!.length === clients) send({ type: 'tick', tick, times: times[tick]! });
        } else if (m.type === 'error') {
          send({ type: 'failed', message: m.message ?? 'error' });
        }
      });
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    // A hundred handshakes at a time: a burst of 1,000 SYNs is a different benchmark.
    void (async () => {
      try {
        for (let i = 0; i < clients; i += 100) {
          await Promise.all(Array.from({ length: Math.min(100, clients - i) }, (_, j) => openOne(i + j)));
        }
      } catch (error) {
        send({ type: 'failed', message: (error as Error).message });
      }
    })();
  });
}

// ---------------------------------------------------------------------------
// The server process.

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

interface RunResult {
  label: string;
  clients: number;
  subscriptions: number;
  ticks: number;
  lastClientMs: { p50: number; p99: number };
  perClientMs: { p50: number; p99: number };
  tickComputeMs: { p50: number };
  serverCpuMsPerTick: { p50: number; p99: number };
  serverCpuPercent: number;
}

async function main(): Promise<void> {
  const clientsWanted = argValue('--clients', 1000);
  const ticks = argValue('--ticks', 40);
  const seedCalls = argValue('--seed-calls', 500);

  const base = loadConfig();
  const config = validateConfigObject({
    ...structuredClone(base),
    tokens: [],
    // Ticks and heart-beats by hand; room for every client.
    live: { tickMs: 3_600_000, heartbeatMs: 3_600_000, maxClients: Math.max(5000, clientsWanted + 10), maxBufferedBytes: 16 * 1024 * 1024 },
    metrics: { enabled: false },
    security: { rateLimit: { enabled: false } },
  }, 'bench config');
  const regions = config.regions.map((r) => r.code);

  let store: Store;
  let dataDir: string | undefined;
  const url = process.env.SQM_CLICKHOUSE_URL;
  const database = `sqm_bench_live_${Date.now().toString(36)}`;
  if (url) {
    store = await openServerStore({ url, database });
  } else {
    dataDir = mkdtempSync(join(tmpdir(), 'sqm-bench-live-'));
    store = await openEmbeddedStore({ dataDir, database });
  }
  await migrate(store);
  const app = await buildServer({ config, store, secret: SECRET, bootstrapAdminToken: TOKEN });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const wsUrl = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/v1/live`;

  let callSeq = 0;
  const ingest = async (perRegion: number) => {
    const nowSec = Math.floor(Date.now() / 1000);
    const from = Math.max(startOfLocalDay(nowSec, config.timezone), nowSec - 6 * 3600);
    const records = [];
    for (const region of regions) {
      for (let i = 0; i < perRegion; i++) {
        const enteredAt = from + Math.floor(((nowSec - 60 - from) * (i + 1)) / (perRegion + 1));
        const answered = (callSeq + i) % 10 !== 0;
        records.push({
          id: `bench-live-${callSeq++}`, region, queue: 'general', channel: 'voice', enteredAt,
          ...(answered ? { answeredAt: enteredAt + 15, talkSeconds: 180 } : {}),
          endedAt: enteredAt + (answered ? 195 : 40), outcome: answered ? 'answered' : 'abandoned',
        });
      }
    }
    for (let i = 0; i < records.length; i += 20_000) {
      const res = await app.inject({
        method: 'POST', url: '/api/v1/ingest/calls',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        payload: JSON.stringify(records.slice(i, i + 20_000)),
      });
      if (res.statusCode !== 200) throw new Error(`ingest failed: ${res.statusCode} ${res.body}`);
    }
  };
  process.stdout.write(`seeding ${seedCalls} calls per region (${seedCalls * regions.length}) …\n`);
  await ingest(seedCalls);

  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--client-process'], { stdio: 'inherit' });
  const inbox: FromChild[] = [];
  let wake: (() => void) | undefined;
  child.on('message', (m: FromChild) => { inbox.push(m); wake?.(); });
  const receive = async <T extends FromChild['type']>(type: T): Promise<Extract<FromChild, { type: T }>> => {
    for (;;) {
      const i = inbox.findIndex((m) => m.type === type || m.type === 'failed');
      if (i >= 0) {
        const [m] = inbox.splice(i, 1);
        if (m!.type === 'failed') throw new Error(`client process: ${(m as { message: string }).message}`);
        return m as Extract<FromChild, { type: T }>;
      }
      await new Promise<void>((resolve) => { wake = resolve; });
    }
  };

  const run = async (label: string, clients: number): Promise<RunResult> => {
    process.stdout.write(`${label}: opening ${clients} client(s) …\n`);
    child.send({ type: 'open', url: wsUrl, token: TOKEN, clients, regions } satisfies ToChild);
    await receive('ready');
    // One unmeasured tick: the first computation of a subscription warms caches the others find warm.
    await ingest(1);
    await app.liveHub.tick();
    await receive('tick');
    const lastClient: number[] = [];
    const perClient: number[] = [];
    const compute: number[] = [];
    const cpu: number[] = [];
    let cpuTotal = 0;
    let wallTotal = 0;
    for (let tick = 0; tick < ticks; tick++) {
      await ingest(1);
      const cpu0 = process.cpuUsage();
      const t0 = clock();
      const report = await app.liveHub.tick();
      compute.push(clock() - t0);
      const { times } = await receive('tick');
      const t1 = clock();
      const used = process.cpuUsage(cpu0);
      const cpuMs = (used.user + used.system) / 1000;
      cpu.push(cpuMs);
      cpuTotal += cpuMs;
      wallTotal += t1 - t0;
      if (report.skipped) throw new Error('a tick was skipped');
      lastClient.push(Math.max(...times) - t0);
      for (const t of times) perClient.push(t - t0);
    }
    const subscriptions = app.liveHub.stats().subscriptions;
    child.send({ type: 'close' } satisfies ToChild);
    await receive('closed');
    // Let the server see the closes, then retire the subscriptions with one (member-less) tick.
    while (app.liveHub.stats().clients > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await app.liveHub.tick();
    return {
      label, clients, subscriptions, ticks,
      lastClientMs: { p50: percentile(lastClient, 50), p99: percentile(lastClient, 99) },
      perClientMs: { p50: percentile(perClient, 50), p99: percentile(perClient, 99) },
      tickComputeMs: { p50: percentile(compute, 50) },
      serverCpuMsPerTick: { p50: percentile(cpu, 50), p99: percentile(cpu, 99) },
      serverCpuPercent: (100 * cpuTotal) / wallTotal,
    };
  };

  const results: RunResult[] = [];
  try {
    results.push(await run('1 client', 1));
    results.push(await run(`${regions.length} clients (one per region)`, regions.length));
    results.push(await run(`${clientsWanted} clients over ${regions.length} regions`, clientsWanted));
  } finally {
    child.kill();
    await app.close();
    try {
      await store.command(sql`DROP DATABASE IF EXISTS ${store.database}`);
    } finally {
      await store.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  }

  const f = (n: number) => n.toFixed(1).padStart(8);
  process.stdout.write(`\nbench:live — ${ticks} ticks per run, ${KPIS.length} KPIs per subscription (window today), ${store.backend} store\n`);
  process.stdout.write('run                                 subs  tick→last client ms   tick→each client ms  tick returns  server CPU ms/tick  CPU %\n');
  process.stdout.write('                                          p50      p99          p50      p99       p50 ms        p50      p99\n');
  for (const r of results) {
    process.stdout.write(
      `${r.label.padEnd(35)} ${String(r.subscriptions).padStart(4)} ${f(r.lastClientMs.p50)} ${f(r.lastClientMs.p99)}     ${f(r.perClientMs.p50)} ${f(r.perClientMs.p99)}     ${f(r.tickComputeMs.p50)}  ${f(r.serverCpuMsPerTick.p50)} ${f(r.serverCpuMsPerTick.p99)} ${f(r.serverCpuPercent)}\n`,
    );
  }
  const [one, perRegion, many] = results as [RunResult, RunResult, RunResult];
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
  process.stdout.write(
    `\nfan-out cost, ${many.clients} clients vs 1: tick→last client p50 ×${ratio(many.lastClientMs.p50, one.lastClientMs.p50)}, ` +
    `server CPU per tick p50 ×${ratio(many.serverCpuMsPerTick.p50, one.serverCpuMsPerTick.p50)}\n` +
    `same ${perRegion.subscriptions} computations, ${many.clients} clients vs ${perRegion.clients}: ` +
    `tick→last client p50 ×${ratio(many.lastClientMs.p50, perRegion.lastClientMs.p50)}, ` +
    `server CPU per tick p50 ×${ratio(many.serverCpuMsPerTick.p50, perRegion.serverCpuMsPerTick.p50)}\n`,
  );
  const outDir = join(fileURLToPath(new URL('.', import.meta.url)), 'out');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'live.json'), JSON.stringify({ at: new Date().toISOString(), backend: store.backend, ticks, kpis: KPIS, results }, null, 2) + '\n');
}

if (process.argv.slice(2).includes('--client-process')) {
  runClients();
} else {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:live failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  });
}
