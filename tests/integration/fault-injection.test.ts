/**
 * Fault injection (issue 7): records are streamed to the real service (a child
 * process running server/main.ts) while ClickHouse is killed with -9 and
 * restarted, then while SQM itself is killed with -9 and restarted, then both.
 * SQM is set to answer once a batch is synced to its spool, without waiting for
 * the store, and every kill of SQM happens while the spool holds acknowledged
 * records the store does not have yet. The client behaves as a collector should: a request that got no 200 (refused
 * connection, reset, 503) is sent again until it gets one. Afterwards the stored
 * calls must be exactly the acknowledged ones — none lost, none twice — and the
 * KPIs must equal the values worked out by hand from the records sent.
 *
 * The server run needs its own ClickHouse server to kill (Debian's
 * clickhouse-server, 18.16, as in CI), so it runs where the server suites run
 * (SQM_TEST_CLICKHOUSE_URL set). The embedded run kills SQM only: the engine is
 * inside it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startClickHouseServer, type ClickHouseServer } from '../helpers/clickhouse-server.js';
import type { SqmConfig } from '../../config/index.js';
import { createSqmProcess, SQM_PROCESS_TOKEN, type SqmProcess } from '../helpers/sqm-process.js';

const REGIONS = ['GD', 'BJ', 'SH'] as const;
const BATCH = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Call {
  id: string;
  region: (typeof REGIONS)[number];
  queue: string;
  channel: 'voice';
  enteredAt: number;
  answeredAt?: number;
  endedAt: number;
  outcome: 'answered' | 'abandoned';
  talkSeconds?: number;
}

/** Call n: region n mod 3; every fourth abandoned after 90 s (not a short abandon); answered ones wait n mod 30 s. */
function makeCall(n: number, base: number): Call {
  const region = REGIONS[n % REGIONS.length] as Call['region'];
  const enteredAt = base + (n % 1800);
  if (n % 4 === 0) return { id: `fi-${n}`, region, queue: 'q1', channel: 'voice', enteredAt, endedAt: enteredAt + 90, outcome: 'abandoned' };
  const answeredAt = enteredAt + (n % 30);
  return { id: `fi-${n}`, region, queue: 'q1', channel: 'voice', enteredAt, answeredAt, endedAt: answeredAt + 60, outcome: 'answered', talkSeconds: 60 };
}

/**
 * A client that sends numbered batches in order, each until it gets a 200, and
 * keeps what was acknowledged. `stored: false` answers (durable in the spool,
 * not yet in ClickHouse) are counted: they prove the spool took over.
 */
class Streamer {
  readonly acknowledged: string[] = [];
  sent = 0;
  notStoredYet = 0;
  retries = 0;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(private readonly sqm: SqmProcess, private readonly base: number) {}

  start(): void {
    this.stopping = false;
    this.running = (async () => {
      while (!this.stopping) {
        await this.sendBatch();
        await sleep(20);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Until `count` more batches were acknowledged. */
  async waitFor(count: number): Promise<void> {
    const target = this.acknowledged.length + count * BATCH;
    const deadline = Date.now() + 120_000;
    while (this.acknowledged.length < target) {
      if (Date.now() > deadline) throw new Error(`only ${this.acknowledged.length} of ${target} records acknowledged; SQM said:\n${this.sqm.output()}`);
      await sleep(50);
    }
  }

  private async sendBatch(): Promise<void> {
    const first = this.sent;
    const calls = Array.from({ length: BATCH }, (_, i) => makeCall(first + i, this.base));
    const body = calls.map((c) => JSON.stringify(c)).join('\n');
    for (;;) {
      try {
        const res = await fetch(`${this.sqm.url}/api/v1/ingest/calls`, {
          method: 'POST',
          headers: { authorization: `Bearer ${SQM_PROCESS_TOKEN}`, 'content-type': 'application/x-ndjson' },
          body,
          signal: AbortSignal.timeout(30_000),
        });
        const answer = (await res.json()) as { accepted?: number; rejected?: unknown[]; stored?: boolean };
        if (res.status === 200) {
          if (answer.accepted !== BATCH) throw new Error(`batch at ${first}: ${JSON.stringify(answer).slice(0, 300)}`);
          for (const c of calls) this.acknowledged.push(c.id);
          if (answer.stored === false) this.notStoredYet++;
          this.sent += BATCH;
          return;
        }
        if (res.status !== 503) throw new Error(`batch at ${first}: HTTP ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
      } catch (error) {
        // Refused or reset while SQM is down or being killed: a collector sends the batch again.
        if (error instanceof Error && error.message.startsWith('batch at')) throw error;
      }
      this.retries++;
      await sleep(200);
    }
  }
}

async function api<T>(sqm: SqmProcess, path: string): Promise<T> {
  const res = await fetch(`${sqm.url}${path}`, { headers: { authorization: `Bearer ${SQM_PROCESS_TOKEN}` } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * SQM answers as soon as a batch is synced to its spool and drains to the store
 * once a second, so there is always something acknowledged but not yet stored
 * to lose — exactly what a crash must not lose.
 */
const ACK_ON_DISK = (base: SqmConfig): SqmConfig => ({
  ...base,
  ingest: { ...base.ingest, batchMaxWaitMs: 1_000, spool: { waitForStoreMs: 0 } },
});

/** /readyz: whether SQM is ready, and the records in its spool not yet stored (even while not ready); undefined while it is down. */
async function readiness(sqm: SqmProcess): Promise<{ ready: boolean; backlog: number } | undefined> {
  const res = await fetch(`${sqm.url}/readyz`).catch(() => undefined);
  const body = res ? ((await res.json()) as { spool?: { records: number } }) : undefined;
  return res && body?.spool ? { ready: res.ok, backlog: body.spool.records } : undefined;
}

/** kill -9 at a moment when the spool holds acknowledged records the store does not have yet. */
async function killWithBacklog(sqm: SqmProcess): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const backlog = (await readiness(sqm))?.backlog ?? 0;
    if (backlog > 0) {
      await sqm.kill('SIGKILL');
      return backlog;
    }
    if (Date.now() > deadline) throw new Error(`the spool never held a backlog; SQM said:\n${sqm.output()}`);
    await sleep(10);
  }
}

/** Wait until SQM is ready and its spool is empty: everything acknowledged is in the store. */
async function drained(sqm: SqmProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (let state = await readiness(sqm); !state?.ready || state.backlog > 0; state = await readiness(sqm)) {
    if (Date.now() > deadline) throw new Error(`the spool did not drain; SQM said:\n${sqm.output()}`);
    await sleep(200);
  }
}

/** The KPIs of the acknowledged calls, worked out from their definitions (KPIS.md) per region. */
function expectedKpis(ids: readonly string[], base: number) {
  const byRegion = new Map<string, { offered: number; answered: number; abandoned: number; waits: number }>();
  for (const id of ids) {
    const c = makeCall(Number(id.slice(3)), base);
    const r = byRegion.get(c.region) ?? { offered: 0, answered: 0, abandoned: 0, waits: 0 };
    r.offered++; // no short abandons: every abandoned call waited 90 s
    if (c.outcome === 'answered') {
      r.answered++;
      r.waits += (c.answeredAt as number) - c.enteredAt;
    } else {
      r.abandoned++;
    }
    byRegion.set(c.region, r);
  }
  return REGIONS.map((region) => {
    const r = byRegion.get(region) ?? { offered: 0, answered: 0, abandoned: 0, waits: 0 };
    return { region, offered: r.offered, answerRate: [r.answered, r.offered], abandonRate: [r.abandoned, r.offered], asa: [r.waits, r.answered] };
  });
}

interface KpiAnswer {
  series: { kpi: string; labels: { region: string }; points: { numerator: number; denominator: number }[] }[];
}

async function actualKpis(sqm: SqmProcess, base: number) {
  const from = new Date((base - 60) * 1000).toISOString();
  const to = new Date((base + 4 * 3600) * 1000).toISOString();
  const answer = await api<KpiAnswer>(sqm, `/api/v1/kpis?kpi=offered,answer_rate,abandon_rate,asa&by=region&region=${REGIONS.join(',')}&from=${from}&to=${to}`);
  const point = (kpi: string, region: string) => {
    const p = answer.series.find((s) => s.kpi === kpi && s.labels.region === region)?.points[0];
    return p ? [Number(p.numerator), Number(p.denominator)] : [0, 0];
  };
  return REGIONS.map((region) => ({
    region, offered: point('offered', region)[0], answerRate: point('answer_rate', region), abandonRate: point('abandon_rate', region), asa: point('asa', region),
  }));
}

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

// Records an hour old, so the window is in the past whatever the clock does during the test.
const base = Math.floor(Date.now() / 1000) - 3600;

describe.runIf(Boolean(process.env.SQM_TEST_CLICKHOUSE_URL))('fault injection on a ClickHouse server (kill -9)', () => {
  it('stores exactly the acknowledged records, with the right KPIs, after ClickHouse, SQM and both were killed', async () => {
    const clickhouse: ClickHouseServer = await startClickHouseServer();
    cleanups.push(() => clickhouse.stop());
    const sqm = await createSqmProcess({ dataDir: tempDir('sqm-fault-server-'), clickhouseUrl: clickhouse.url, config: ACK_ON_DISK });
    cleanups.push(() => sqm.kill());
    await sqm.start();
    const stream = new Streamer(sqm, base);
    stream.start();
    await stream.waitFor(5);

    // 1. ClickHouse dies: SQM keeps acknowledging (durable in its spool), then catches up.
    await clickhouse.kill('SIGKILL');
    await stream.waitFor(5);
    expect(stream.notStoredYet).toBeGreaterThan(0);
    await clickhouse.start();
    await stream.waitFor(5);

    // 2. SQM dies mid-stream, with acknowledged records only in its spool, and is restarted by its supervisor (here: the test).
    expect(await killWithBacklog(sqm)).toBeGreaterThan(0);
    await sleep(300);
    await sqm.start();
    await stream.waitFor(5);

    // 3. Both: ClickHouse first, then SQM with records in its spool that ClickHouse never got.
    await clickhouse.kill('SIGKILL');
    await stream.waitFor(3);
    expect(await killWithBacklog(sqm)).toBeGreaterThanOrEqual(300);
    // SQM comes back before ClickHouse does and waits for it.
    const restarting = sqm.start();
    await sleep(1_500);
    await clickhouse.start();
    await restarting;
    await stream.waitFor(5);
    await stream.stop();
    await drained(sqm);

    const acknowledged = stream.acknowledged;
    expect(new Set(acknowledged).size).toBe(acknowledged.length);
    // Straight from ClickHouse: every acknowledged id once, nothing else.
    const query = async (text: string) => {
      const res = await fetch(`${clickhouse.url}/?query=${encodeURIComponent(text)}`);
      if (!res.ok) throw new Error(await res.text());
      return (await res.text()).trim();
    };
    const database = (await query(`SELECT name FROM system.databases WHERE name NOT IN ('system', 'default') FORMAT TSV`)).split('\n')[0];
    const [rows, distinct] = (await query(`SELECT count(), uniqExact(id) FROM ${database}.calls FORMAT TSV`)).split('\t').map(Number);
    expect({ rows, distinct }).toEqual({ rows: acknowledged.length, distinct: acknowledged.length });
    // The per-minute rollup counted each call once too (a duplicate insert would be counted for ever).
    expect(Number(await query(`SELECT countMerge(entered) FROM ${database}.calls_1m FORMAT TSV`))).toBe(acknowledged.length);
    expect(await actualKpis(sqm, base)).toEqual(expectedKpis(acknowledged, base));
  }, 600_000);
});

describe('fault injection on the embedded store (kill -9 of SQM)', () => {
  it('stores exactly the acknowledged records, with the right KPIs, after SQM was killed twice mid-stream', async () => {
    const sqm = await createSqmProcess({ dataDir: tempDir('sqm-fault-embedded-'), config: ACK_ON_DISK });
    cleanups.push(() => sqm.kill());
    await sqm.start();
    const stream = new Streamer(sqm, base);
    stream.start();
    for (let round = 0; round < 2; round++) {
      await stream.waitFor(5);
      expect(await killWithBacklog(sqm)).toBeGreaterThan(0);
      await sleep(300);
      await sqm.start();
    }
    await stream.waitFor(5);
    await stream.stop();
    await drained(sqm);

    const acknowledged = stream.acknowledged;
    expect(new Set(acknowledged).size).toBe(acknowledged.length);
    // offered per region comes from the rollup (a duplicate would be counted there for ever) and must
    // match the acknowledged calls exactly, as must the ratios from the raw table.
    expect(await actualKpis(sqm, base)).toEqual(expectedKpis(acknowledged, base));
    const total = (await actualKpis(sqm, base)).reduce((n, r) => n + (r.offered ?? 0), 0);
    expect(total).toBe(acknowledged.length);
    await sqm.kill('SIGTERM');
  }, 600_000);
});
