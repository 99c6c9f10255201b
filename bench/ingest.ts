/**
 * bench:ingest — records per second over HTTP vs the engine's own bulk load.
 *
 * 1. Generates N call records (default 1,000,000; `--records N`), deterministic.
 * 2. Starts the real service (`server/main.ts`) in a child process and POSTs the
 *    records as NDJSON batches with a few requests in flight. `--store embedded`
 *    (default): on the embedded store; `--store server`: on a throw-away
 *    clickhouse-server started for the run on free ports (SQM_CLICKHOUSE_URL).
 * 3. Stops it, then loads the same rows into a fresh database with the same
 *    schema (materialized views included) with the engine's own bulk path:
 *    embedded, `INSERT INTO calls SELECT … FROM file(…, JSONEachRow)`; server,
 *    `INSERT INTO calls FORMAT JSONEachRow` over HTTP with the file as body.
 * 4. Prints both rates and their ratio, and writes bench/out/ingest.json
 *    (embedded) or bench/out/ingest-server.json.
 *
 * Not a test: figures vary with the machine; the ratio is what to compare.
 */
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../config/index.js';
import { migrate, openEmbeddedStore, openServerStore, sql, type Store } from '../store/index.js';
import { argText, argValue } from './args.js';
import { startThrowAwayClickHouse } from './clickhouse.js';
import { BENCH_SECRET as SECRET, BENCH_TOKEN as TOKEN, iso, startService } from './service.js';
import { createRandom } from '../simulator/random.js';

const RECORDS = argValue('--records', 1_000_000);
const BATCH = argValue('--batch', 10_000);
const IN_FLIGHT = argValue('--in-flight', 4);
const STORE = argText('--store', 'embedded', ['embedded', 'server']);
/** The aim of issue 7, on the embedded store. */
const INGEST_RATIO_AIM = 0.4;

interface CallRecord {
  id: string;
  region: string;
  queue: string;
  channel: 'voice' | 'chat' | 'video';
  enteredAt: number;
  answeredAt?: number;
  endedAt: number;
  outcome: 'answered' | 'abandoned' | 'callback' | 'overflow';
  talkSeconds?: number;
  holdSeconds?: number;
  wrapSeconds?: number;
  agent?: string;
  customer?: string;
  resolved?: boolean;
}

function generate(count: number, regions: string[]): CallRecord[] {
  // The simulator's seeded generator, so every run sends the same rows.
  const seeded = createRandom(20261130);
  const random = () => seeded.next();
  const end = Math.floor(Date.now() / 1000) - 3600;
  const span = 30 * 86400;
  const records: CallRecord[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const region = regions[Math.floor(random() * regions.length)] as string;
    const enteredAt = end - Math.floor(random() * span);
    const wait = Math.floor(random() * random() * 120);
    const roll = random();
    const outcome = roll < 0.9 ? 'answered' : roll < 0.97 ? 'abandoned' : roll < 0.99 ? 'callback' : 'overflow';
    const record: CallRecord = {
      id: `bench-${i}`,
      region,
      queue: `${region.toLowerCase()}-${random() < 0.7 ? 'general' : 'billing'}`,
      channel: random() < 0.8 ? 'voice' : random() < 0.5 ? 'chat' : 'video',
      enteredAt,
      endedAt: enteredAt + wait,
      outcome,
    };
    if (outcome === 'answered') {
      const talk = 30 + Math.floor(random() * 400);
      record.answeredAt = enteredAt + wait;
      record.talkSeconds = talk;
      record.holdSeconds = Math.floor(random() * 30);
      record.wrapSeconds = Math.floor(random() * 60);
      record.endedAt = enteredAt + wait + talk + record.holdSeconds;
      record.agent = `agent-${Math.floor(random() * 500)}`;
      record.resolved = random() < 0.85;
    }
    if (random() < 0.6) record.customer = `1380013${String(Math.floor(random() * 10000)).padStart(4, '0')}`;
    records[i] = record;
  }
  return records;
}

function toNdjson(records: CallRecord[]): string {
  let out = '';
  for (const r of records) {
    out += JSON.stringify({
      ...r,
      enteredAt: iso(r.enteredAt),
      endedAt: iso(r.endedAt),
      ...(r.answeredAt === undefined ? {} : { answeredAt: iso(r.answeredAt) }),
    }) + '\n';
  }
  return out;
}

/** The same record in the calls table's layout, for the engine's own bulk load. */
function toRow(r: CallRecord, ingestedAt: number): object {
  return {
    id: r.id, region: r.region, queue: r.queue, channel: r.channel,
    enteredAt: r.enteredAt, answeredAt: r.answeredAt ?? null, endedAt: r.endedAt, outcome: r.outcome,
    waitSeconds: (r.answeredAt ?? r.endedAt) - r.enteredAt,
    talkSeconds: r.talkSeconds ?? null, holdSeconds: r.holdSeconds ?? null, wrapSeconds: r.wrapSeconds ?? null,
    agent: r.agent ?? '',
    customer: r.customer ? createHmac('sha256', SECRET).update(r.customer).digest('hex') : '',
    resolved: r.resolved === undefined ? null : r.resolved ? 1 : 0,
    ingestedAt,
  };
}

async function httpIngest(bodies: string[], url: string): Promise<{ seconds: number; accepted: number }> {
  let next = 0;
  let accepted = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++] as string;
      const res = await fetch(`${url}/api/v1/ingest/calls`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' },
        body,
      });
      if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
      const result = (await res.json()) as { accepted: number; rejected: unknown[] };
      if (result.rejected.length > 0) throw new Error(`rejected records: ${JSON.stringify(result.rejected.slice(0, 3))}`);
      accepted += result.accepted;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return { seconds: (performance.now() - started) / 1000, accepted };
}

/** The calls table's columns, for reading the JSONEachRow file. */
const STRUCTURE = [
  'id String', 'region String', 'queue String', 'channel String', "enteredAt DateTime('UTC')",
  "answeredAt Nullable(DateTime('UTC'))", "endedAt DateTime('UTC')", 'outcome String', 'waitSeconds UInt32',
  'talkSeconds Nullable(UInt32)', 'holdSeconds Nullable(UInt32)', 'wrapSeconds Nullable(UInt32)', 'agent String',
  'customer String', 'resolved Nullable(UInt8)', "ingestedAt DateTime('UTC')",
].join(', ');

/** The engine's own bulk load of the file into a fresh database (same schema, same views): its seconds and the engine's version. */
async function bulkLoad(file: string, work: string, clickhouseUrl: string | undefined): Promise<{ seconds: number; engineVersion: string }> {
  const database = `bench_direct_${Date.now().toString(36)}`;
  const store: Store = clickhouseUrl
    ? await openServerStore({ url: clickhouseUrl, database, requestTimeoutMs: 3_600_000 })
    : await openEmbeddedStore({ dataDir: join(work, 'direct'), database });
  try {
    await migrate(store);
    let seconds: number;
    if (clickhouseUrl) {
      // The server's own HTTP bulk path: the file as the request body, parsed by the server.
      const body = readFileSync(file);
      const query = `INSERT INTO ${store.table('calls').text} FORMAT JSONEachRow`;
      const started = performance.now();
      const res = await fetch(`${clickhouseUrl}/?query=${encodeURIComponent(query)}`, { method: 'POST', body });
      if (!res.ok) throw new Error(`bulk load answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
      await res.arrayBuffer();
      seconds = (performance.now() - started) / 1000;
    } else {
      const started = performance.now();
      await store.command(sql`INSERT INTO ${store.table('calls')} SELECT * FROM file(${file}, 'JSONEachRow', ${STRUCTURE})`);
      seconds = (performance.now() - started) / 1000;
    }
    const stored = await store.query<{ c: number }>(sql`SELECT count() AS c FROM ${store.table('calls')}`);
    if (Number(stored[0]?.c) !== RECORDS) throw new Error(`bulk load stored ${stored[0]?.c} of ${RECORDS}`);
    const engineVersion = await store.serverVersion();
    if (clickhouseUrl) await store.command(sql`DROP DATABASE IF EXISTS ${store.database}`);
    return { seconds, engineVersion };
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const regions = config.regions.map((r) => r.code);
  const work = mkdtempSync(join(tmpdir(), 'sqm-bench-ingest-'));
  process.stdout.write(`bench:ingest  ${RECORDS.toLocaleString('en')} call records, batches of ${BATCH}, ${IN_FLIGHT} in flight, ${STORE} store\n`);

  const records = generate(RECORDS, regions);
  const bodies: string[] = [];
  for (let i = 0; i < records.length; i += BATCH) bodies.push(toNdjson(records.slice(i, i + BATCH)));
  const bytes = bodies.reduce((n, b) => n + Buffer.byteLength(b), 0);

  const clickhouse = STORE === 'server' ? await startThrowAwayClickHouse() : undefined;
  try {
    // 1. Over HTTP into the real service.
    const service = await startService({
      dataDir: join(work, 'service'),
      ...(clickhouse ? { clickhouseUrl: clickhouse.url } : {}),
      config: (base) => ({ ...base, clickhouse: { ...base.clickhouse, database: 'sqm_bench_ingest' } }),
    });
    let http: { seconds: number; accepted: number };
    try {
      http = await httpIngest(bodies, service.url);
    } finally {
      await service.stop();
    }
    if (http.accepted !== RECORDS) throw new Error(`accepted ${http.accepted} of ${RECORDS}`);
    const httpRate = RECORDS / http.seconds;

    // 2. The engine's own bulk load of the same rows.
    const ingestedAt = Math.floor(Date.now() / 1000);
    const file = join(work, 'calls.jsonl');
    let text = '';
    for (const r of records) text += JSON.stringify(toRow(r, ingestedAt)) + '\n';
    writeFileSync(file, text);
    text = '';
    const { seconds: bulkSeconds, engineVersion } = await bulkLoad(file, work, clickhouse?.url);
    const bulkRate = RECORDS / bulkSeconds;

    const report = {
      date: new Date().toISOString(),
      store: STORE,
      engineVersion,
      records: RECORDS,
      batch: BATCH,
      inFlight: IN_FLIGHT,
      payloadMiB: +(bytes / 1048576).toFixed(1),
      http: { seconds: +http.seconds.toFixed(2), recordsPerSecond: Math.round(httpRate) },
      bulkLoad: {
        path: clickhouse ? 'INSERT … FORMAT JSONEachRow over HTTP' : 'INSERT … SELECT FROM file(…, JSONEachRow)',
        seconds: +bulkSeconds.toFixed(2), recordsPerSecond: Math.round(bulkRate),
      },
      ratio: +(httpRate / bulkRate).toFixed(3),
      aim: STORE === 'embedded' ? INGEST_RATIO_AIM : null,
    };
    mkdirSync('bench/out', { recursive: true });
    writeFileSync(`bench/out/${STORE === 'embedded' ? 'ingest' : 'ingest-server'}.json`, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(
      `HTTP ingest (validate, hash, dedupe, store): ${report.http.recordsPerSecond.toLocaleString('en')} records/s (${report.http.seconds} s)\n` +
      `engine bulk load (${report.bulkLoad.path}): ${report.bulkLoad.recordsPerSecond.toLocaleString('en')} records/s (${report.bulkLoad.seconds} s)\n` +
      `ratio: ${report.ratio}${report.aim === null ? '' : ` (aim ≥ ${report.aim})`}\n`,
    );
  } finally {
    await clickhouse?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:ingest failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
