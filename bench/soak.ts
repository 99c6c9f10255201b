/**
 * bench:soak — does the service's memory stay flat under steady load?
 *
 * 1. Starts the real service (`server/main.ts`, the default configuration: alert
 *    rules, live tick, metrics) in a child process: `--store embedded` (default)
 *    or `--store server` (a throw-away clickhouse-server, so the service's
 *    memory is its own and not the engine's too; writes soak-server.json).
 * 2. A live WebSocket client holds a wallboard's subscriptions (the last 15
 *    minutes and today, by region, for every region).
 * 3. Steady ingest on a fixed schedule: every second `--rate` calls (default
 *    200) over the 31 regions, and every 5 s a queue sample for each region's
 *    two queues; for `--warmup-minutes` (default 1) and then `--minutes`
 *    (default 10).
 * 4. Every 5 s the child's resident memory, V8 heap and memory held outside the
 *    heap by JS objects (buffers) are read from /metrics (process_resident_memory_bytes,
 *    nodejs_heap_size_used_bytes, nodejs_external_memory_bytes). The start
 *    figure is the median of the first 30 s after the warm-up, the end figure
 *    the median of the last 30 s (a single reading of the heap falls wherever
 *    the last garbage collection left it); growth = end / start − 1.
 * 5. Prints the figures and writes bench/out/soak.json (every reading too).
 *
 * On the embedded store the engine runs inside the service, so its caches and
 * merges are part of the resident memory; the V8 heap is the service's own objects.
 * Not a test: figures vary with the machine.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import { createRandom } from '../simulator/random.js';
import { argText, argValue, median, percentile } from './args.js';
import { startThrowAwayClickHouse } from './clickhouse.js';
import { BenchLiveClient, clock } from './live-client.js';
import { BENCH_TOKEN, iso, postRecords, startService } from './service.js';

const MINUTES = argValue('--minutes', 10);
const WARMUP_MINUTES = argValue('--warmup-minutes', 1);
const RATE = argValue('--rate', 200);
const STORE = argText('--store', 'embedded', ['embedded', 'server']);
const SAMPLE_EVERY_MS = 5000;
const WINDOW_MS = 30_000;
const AIM_GROWTH = 0.1;

interface Reading {
  /** Seconds since the ingest started. */
  t: number;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
}

async function readMemory(url: string): Promise<Omit<Reading, 't'>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const metric = (name: string) => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
    if (!match) throw new Error(`/metrics has no ${name}`);
    return Number(match[1]);
  };
  return {
    rssBytes: metric('process_resident_memory_bytes'),
    heapUsedBytes: metric('nodejs_heap_size_used_bytes'),
    externalBytes: metric('nodejs_external_memory_bytes'),
  };
}

const mib = (bytes: number) => +(bytes / 1048576).toFixed(1);

async function main(): Promise<void> {
  const config = loadConfig();
  const regions = config.regions.map((r) => r.code);
  const totalMs = (WARMUP_MINUTES + MINUTES) * 60_000;
  process.stdout.write(
    `bench:soak  ${RATE} calls/s and ${regions.length * 2} queue samples every 5 s, ${WARMUP_MINUTES} min warm-up + ${MINUTES} min, ` +
    `a live client on today and the last 15 minutes, ${STORE} store\n`,
  );
  const work = mkdtempSync(join(tmpdir(), 'sqm-bench-soak-'));
  const clickhouse = STORE === 'server' ? await startThrowAwayClickHouse() : undefined;
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  let client: BenchLiveClient | undefined;
  try {
    service = await startService({ dataDir: join(work, 'service'), ...(clickhouse ? { clickhouseUrl: clickhouse.url } : {}) });
    const url = service.url;
    client = await BenchLiveClient.connect(`${url.replace('http', 'ws')}/api/v1/live`, BENCH_TOKEN);
    await client.subscribe({ id: 'rolling', kpis: ['answer_rate', 'service_level', 'asa', 'abandon_rate', 'calls_waiting', 'longest_wait'], by: ['region'], window: 'last 15m' });
    await client.subscribe({ id: 'today', kpis: ['offered', 'answer_rate', 'response_sla', 'csat'], by: ['region'], window: 'today' });

    const seeded = createRandom(20261202);
    const random = () => seeded.next();
    let seq = 0;
    const postMs: number[] = [];
    let late = 0;
    const readings: Reading[] = [];
    const started = clock();
    let nextSample = 0;
    for (let second = 0; second * 1000 < totalMs; second++) {
      const due = started + second * 1000;
      const wait = due - clock();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else if (wait < -1000) late++;
      const now = Math.floor(Date.now() / 1000);
      const calls = Array.from({ length: RATE }, () => {
        const region = regions[seq % regions.length] as string;
        const waitSeconds = Math.floor(random() * random() * 90);
        const answered = random() < 0.92;
        const enteredAt = now - 30 - waitSeconds - Math.floor(random() * 60);
        return {
          id: `soak-${seq++}`, region, queue: `${region.toLowerCase()}-${random() < 0.7 ? 'general' : 'billing'}`, channel: 'voice',
          enteredAt: iso(enteredAt), endedAt: iso(Math.min(now, enteredAt + waitSeconds + (answered ? 25 : 0))),
          outcome: answered ? 'answered' : 'abandoned',
          ...(answered ? { answeredAt: iso(enteredAt + waitSeconds), talkSeconds: 20 + Math.floor(random() * 5) } : {}),
        };
      });
      const t0 = clock();
      await postRecords(url, 'calls', calls);
      if (second % 5 === 0) {
        await postRecords(url, 'queues', regions.flatMap((region) => ['general', 'billing'].map((q) => ({
          region, queue: `${region.toLowerCase()}-${q}`, at: iso(now), waiting: Math.floor(random() * 20), longestWaitSeconds: Math.floor(random() * 120),
        }))));
      }
      postMs.push(clock() - t0);
      if (clock() - started >= nextSample) {
        readings.push({ t: +((clock() - started) / 1000).toFixed(1), ...(await readMemory(url)) });
        nextSample += SAMPLE_EVERY_MS;
      }
      if (second % 60 === 59) {
        const last = readings[readings.length - 1]!;
        process.stdout.write(`  ${Math.round((second + 1) / 60)} min: RSS ${mib(last.rssBytes)} MiB, heap ${mib(last.heapUsedBytes)} MiB, ${client.updates} live updates\n`);
      }
    }
    readings.push({ t: +((clock() - started) / 1000).toFixed(1), ...(await readMemory(url)) });
    if (client.errors.length > 0) throw new Error(`the live client got errors: ${client.errors.slice(0, 3).join('; ')}`);

    const warm = WARMUP_MINUTES * 60;
    const startWindow = readings.filter((r) => r.t >= warm && r.t < warm + WINDOW_MS / 1000);
    const endWindow = readings.filter((r) => r.t >= readings[readings.length - 1]!.t - WINDOW_MS / 1000);
    const figures = (key: 'rssBytes' | 'heapUsedBytes' | 'externalBytes') => {
      const start = median(startWindow.map((r) => r[key]));
      const end = median(endWindow.map((r) => r[key]));
      return { start: mib(start), end: mib(end), growth: end / start - 1 };
    };
    const report = {
      at: new Date().toISOString(),
      backend: STORE,
      minutes: MINUTES,
      warmupMinutes: WARMUP_MINUTES,
      callsPerSecond: RATE,
      callsSent: seq,
      liveUpdates: client.updates,
      postMs: { p50: percentile(postMs, 50), p99: percentile(postMs, 99) },
      secondsLate: late,
      rssMiB: figures('rssBytes'),
      heapUsedMiB: figures('heapUsedBytes'),
      externalMiB: figures('externalBytes'),
      aimGrowth: AIM_GROWTH,
      readings,
    };
    const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} %`;
    process.stdout.write(
      `resident memory: ${report.rssMiB.start} MiB → ${report.rssMiB.end} MiB (${pct(report.rssMiB.growth)}); ` +
      `V8 heap used: ${report.heapUsedMiB.start} MiB → ${report.heapUsedMiB.end} MiB (${pct(report.heapUsedMiB.growth)}); ` +
      `outside the heap (buffers): ${report.externalMiB.start} MiB → ${report.externalMiB.end} MiB (aim under +${100 * AIM_GROWTH} %)\n` +
      `${seq.toLocaleString('en')} calls sent, ${client.updates} live updates received; each second's POSTs p50 ${report.postMs.p50.toFixed(0)} ms, p99 ${report.postMs.p99.toFixed(0)} ms` +
      `${late > 0 ? `; ${late} seconds fell behind schedule` : ''}\n`,
    );
    mkdirSync('bench/out', { recursive: true });
    writeFileSync(`bench/out/${STORE === 'embedded' ? 'soak' : 'soak-server'}.json`, JSON.stringify(report, null, 2) + '\n');
  } finally {
    await client?.close();
    await service?.stop();
    await clickhouse?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:soak failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
