/**
 * Cluster mode on real ClickHouse 18.16 servers: ZooKeeper and two servers on
 * loopback, a `remote_servers` cluster of two shards (one replica each), SQM's
 * store opened with the cluster name and migrated ON CLUSTER. One day of
 * simulated traffic (calls, tickets with their snapshots, faults, surveys,
 * queue samples, subscriber counts) goes through the real ingest API into the
 * cluster and, the same records, into a plain database on one server. Then:
 * rows landed on both shards (each server's local tables), every version of a
 * ticket on one shard, metadata on the first shard, and every KPI, cut by every
 * dimension, read from the rollups and from the raw tables, equals the
 * single-server result.
 *
 * Runs where SQM_TEST_CLICKHOUSE_URL is set (CI installs clickhouse-server);
 * fails, saying what to install, when ZooKeeper is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../config/index.js';
import { createKpiEngine, DIMENSIONS, KPI_IDS, KPIS, type KpiResponse } from '../../kpi/index.js';
import { createModel, type RecordBatch } from '../../simulator/index.js';
import { applyRetention, migrate, openServerStore, sql, type Store } from '../../store/index.js';
import { bearer, buildTestApp, TOKENS } from '../helpers/app.js';
import { startClickHouseServer, CLICKHOUSE_SERVER_BIN, CLICKHOUSE_SERVER_AVAILABLE, type ClickHouseServer } from '../helpers/clickhouse-server.js';
import { freePort } from '../helpers/free-port.js';
import { SERVER_URL, uniqueDatabase } from '../helpers/store.js';
import { startZooKeeper, zookeeperMissing, type ZooKeeperServer } from '../helpers/zookeeper.js';

const CLUSTER = 'sqm_test_shards';
// 20:00 Beijing on 31 October to 20:00 the next day: two monthly partitions (UTC), two subscriber days.
const START = Date.parse('2026-10-31T12:00:00Z') / 1000;
const END = START + 86_400;
const NOW = new Date((END + 60) * 1000);
const KINDS = ['subscribers', 'faults', 'calls', 'tickets', 'surveys', 'queues'] as const;
const TABLE_OF = { calls: 'calls', tickets: 'tickets', faults: 'faults', surveys: 'surveys', queues: 'queue_states', subscribers: 'subscribers' } as const;

function clusterXml(zk: ZooKeeperServer, tcpPorts: readonly number[], shard: number): string {
  const shards = tcpPorts
    .map((port) => `<shard><replica><host>127.0.0.1</host><port>${port}</port></replica></shard>`)
    .join('');
  return `
    <remote_servers><${CLUSTER}>${shards}</${CLUSTER}></remote_servers>
    <zookeeper><node><host>${zk.host}</host><port>${zk.port}</port></node></zookeeper>
    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
    <macros><shard>${shard}</shard><replica>r1</replica></macros>`;
}

/** Rows of a query sent straight to one server (its local tables), bypassing SQM. */
async function direct<T>(server: ClickHouseServer, query: string): Promise<T[]> {
  const response = await fetch(`${server.url}/?default_format=JSONEachRow`, { method: 'POST', body: query });
  const text = await response.text();
  if (!response.ok) throw new Error(`${server.url}: ${text}`);
  return text.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as T);
}

async function count(server: ClickHouseServer, database: string, table: string): Promise<number> {
  const rows = await direct<{ n: number }>(server, `SELECT toUInt32(count()) AS n FROM \`${database}\`.\`${table}\``);
  return Number(rows[0]?.n);
}

/**
 * Until the server has a ZooKeeper session (start-up, not an assertion): ON CLUSTER DDL sent
 * before that fails, and the 18.16 DDL worker has been seen to crash on it.
 */
async function waitForZooKeeper(server: ClickHouseServer, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await direct(server, "SELECT name FROM system.zookeeper WHERE path = '/'");
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${server.url} has no ZooKeeper session: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Series in a fixed order, so two responses compare whatever order rows came back in. */
function normalised(response: KpiResponse): KpiResponse {
  const key = (s: KpiResponse['series'][number]) => `${s.kpi}|${JSON.stringify(Object.entries(s.labels).sort())}`;
  return { ...response, series: [...response.series].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)) };
}

describe.skipIf(!SERVER_URL)('cluster mode on two ClickHouse 18.16 shards', () => {
  const config = loadConfig();
  const records: RecordBatch = createModel({
    config, seed: 7, start: START, regions: ['GD', 'BJ', 'SH', 'HI'], volume: 0.1, queueSampleSeconds: 600,
  }).advanceTo(END);
  const clusterDb = uniqueDatabase('sqm_cluster');
  const singleDb = uniqueDatabase('sqm_single');

  let zk: ZooKeeperServer | undefined;
  const servers: ClickHouseServer[] = [];
  let shardA: ClickHouseServer;
  let shardB: ClickHouseServer;
  let clustered: Store;
  let single: Store;
  let clusterApp: FastifyInstance;
  let singleApp: FastifyInstance;

  beforeAll(async () => {
    const missing = zookeeperMissing();
    if (missing) throw new Error(`the cluster test needs ZooKeeper: ${missing}`);
    if (!CLICKHOUSE_SERVER_AVAILABLE) throw new Error(`the cluster test needs ${CLICKHOUSE_SERVER_BIN} (apt-get install clickhouse-server)`);
    zk = await startZooKeeper();
    const ports = { http: [await freePort(), await freePort()], tcp: [await freePort(), await freePort()] };
    if (new Set([...ports.http, ...ports.tcp]).size !== 4) throw new Error('free ports collided; run again');
    for (const shard of [0, 1]) {
      servers.push(await startClickHouseServer({
        httpPort: ports.http[shard], tcpPort: ports.tcp[shard], extraConfig: clusterXml(zk, ports.tcp, shard + 1),
      }));
    }
    [shardA, shardB] = servers as [ClickHouseServer, ClickHouseServer];

    try {
      for (const server of servers) await waitForZooKeeper(server);
      clustered = await openServerStore({ url: shardA.url, database: clusterDb, cluster: CLUSTER });
      await migrate(clustered);
    } catch (error) {
      // The servers' own logs say why DDL ON CLUSTER failed (ZooKeeper, the cluster definition).
      throw new Error(`${(error as Error).message}\n${shardA.log()}\n${shardB.log()}\n--- zookeeper\n${zk.log()}`);
    }
    // The reference: the same records in a plain database on one server.
    single = await openServerStore({ url: shardA.url, database: singleDb });
    await migrate(single);

    clusterApp = await buildTestApp(clustered, { now: () => NOW });
    singleApp = await buildTestApp(single, { now: () => NOW });
    for (const app of [clusterApp, singleApp]) {
      await app.ready();
      for (const kind of KINDS) {
        const response = await app.inject({
          method: 'POST', url: `/api/v1/ingest/${kind}`,
          headers: { ...bearer(TOKENS.ingest), 'content-type': 'application/json' },
          payload: JSON.stringify(records[kind]),
        });
        const body = response.json() as { accepted: number; rejected: unknown[] };
        if (response.statusCode !== 200 || body.rejected.length > 0) throw new Error(`ingest ${kind}: ${response.statusCode} ${response.body.slice(0, 500)}`);
      }
      await app.collector.flush(60_000);
    }
  }, 240_000);

  afterAll(async () => {
    await clusterApp?.close();
    await singleApp?.close();
    await clustered?.close();
    await single?.close();
    for (const server of servers) await server.stop();
    await zk?.stop();
  }, 120_000);

  it('stores every record once, spread over both shards', async () => {
    expect(records.calls.length).toBeGreaterThan(1000);
    for (const kind of KINDS) {
      const table = TABLE_OF[kind];
      const [reference] = await single.query<{ n: number }>(sql`SELECT toUInt32(count()) AS n FROM ${single.table(table)}`);
      const [total] = await clustered.query<{ n: number }>(sql`SELECT toUInt32(count()) AS n FROM ${clustered.table(table)}`);
      const onA = await count(shardA, clusterDb, `${table}_local`);
      const onB = await count(shardB, clusterDb, `${table}_local`);
      // Calls, faults and surveys have unique ids; tickets are stored once per snapshot (id, updatedAt).
      if (kind !== 'queues') expect(Number(reference?.n)).toBe(records[kind].length);
      expect(Number(total?.n)).toBe(Number(reference?.n));
      expect(onA + onB).toBe(Number(total?.n));
      if (kind !== 'subscribers') {
        expect(onA, `${table} on shard 1`).toBeGreaterThan(0);
        expect(onB, `${table} on shard 2`).toBeGreaterThan(0);
      }
    }
    // The rollups are written on each shard from that shard's own calls and surveys.
    for (const rollup of ['calls_1m_local', 'surveys_1m_local']) {
      expect(await count(shardA, clusterDb, rollup)).toBeGreaterThan(0);
      expect(await count(shardB, clusterDb, rollup)).toBeGreaterThan(0);
    }
  });

  it('keeps every snapshot of a ticket on one shard', async () => {
    const ids = async (server: ClickHouseServer) =>
      new Set((await direct<{ id: string }>(server, `SELECT DISTINCT id FROM \`${clusterDb}\`.tickets_local`)).map((r) => r.id));
    const [a, b] = [await ids(shardA), await ids(shardB)];
    expect([...a].filter((id) => b.has(id))).toEqual([]);
    // Meaningful only because tickets do have several snapshots.
    expect(a.size + b.size).toBe(new Set(records.tickets.map((t) => t.id)).size);
    expect(records.tickets.length).toBeGreaterThan(a.size + b.size);
  });

  it('keeps the metadata on the first shard', async () => {
    expect(await count(shardA, clusterDb, 'schema_migrations_local')).toBe(5);
    expect(await count(shardB, clusterDb, 'schema_migrations_local')).toBe(0);
  });

  it('answers every KPI, by every dimension, from the rollups and the raw tables, as one server does', async () => {
    const compared: string[] = [];
    for (const rollups of [true, false]) {
      const clusterKpis = createKpiEngine({ store: clustered, config, now: () => NOW, rollups });
      const singleKpis = createKpiEngine({ store: single, config, now: () => NOW, rollups });
      for (const by of [[], ...DIMENSIONS.map((d) => [d])]) {
        const kpis = KPI_IDS.filter((id) => by.every((d) => KPIS[id].dimensions.includes(d)));
        if (kpis.length === 0) continue;
        const request = { kpis: [...kpis], from: new Date(START * 1000), to: new Date(END * 1000), regions: null, by, step: '1h' as const };
        const fromCluster = normalised(await clusterKpis.query(request));
        const fromSingle = normalised(await singleKpis.query(request));
        expect(fromCluster, `by [${by.join()}] rollups ${rollups}`).toEqual(fromSingle);
        compared.push(`${by.join() || 'total'}:${kpis.length}`);
      }
    }
    // Every KPI was compared at least in total (25 KPIs) and by region.
    expect(compared).toContain(`total:${KPI_IDS.length}`);
    expect(compared).toContain(`region:${KPI_IDS.length}`);
  });

  it('counts what was sent: answered calls in the day equal the simulator\'s', async () => {
    const kpis = createKpiEngine({ store: clustered, config, now: () => NOW });
    const response = await kpis.query({ kpis: ['answer_rate', 'offered'], from: new Date(START * 1000), to: new Date(END * 1000), regions: null, by: [] });
    const point = (kpi: string) => response.series.find((s) => s.kpi === kpi)?.points[0];
    expect(point('answer_rate')?.numerator).toBe(records.calls.filter((c) => c.outcome === 'answered').length);
    expect(point('offered')?.numerator).toBe(records.calls.length);
  });

  it('computes IN over a second Distributed table on the node SQM talks to', async () => {
    const [row] = await clustered.query<{ n: number }>(sql`
      SELECT toUInt32(count()) AS n FROM ${clustered.table('calls')}
      WHERE id IN (SELECT id FROM ${clustered.table('calls')} WHERE outcome = 'answered')`);
    expect(Number(row?.n)).toBe(records.calls.filter((c) => c.outcome === 'answered').length);
  });

  it('serves a second SQM process on the other node: migrations already there, metadata shared', async () => {
    const second = await openServerStore({ url: shardB.url, database: clusterDb, cluster: CLUSTER });
    try {
      const report = await migrate(second);
      expect(report).toEqual({ applied: [], alreadyApplied: [1, 2, 3, 4, 5] });
      await second.insert('alert_rules', [{ id: 'from-b', version: 1, definition: '{}', deleted: 0, updatedAt: END, updatedBy: 'test' }]);
      const seen = await clustered.query<{ id: string }>(sql`SELECT id FROM ${clustered.table('alert_rules')} WHERE id = 'from-b'`);
      expect(seen).toEqual([{ id: 'from-b' }]);
      const [calls] = await second.query<{ n: number }>(sql`SELECT toUInt32(count()) AS n FROM ${second.table('calls')}`);
      expect(Number(calls?.n)).toBe(records.calls.length);
    } finally {
      await second.close();
    }
  });

  it('drops old months from the local tables of every shard', async () => {
    // Keep only November 2026: October's partitions go, on both shards, raw and rollup alike.
    const report = await applyRetention(clustered, 1, new Date(Date.UTC(2026, 10, 15)));
    const droppedCalls = report.dropped.filter((d) => d.table === 'calls').map((d) => d.partition);
    expect(droppedCalls).toEqual([202610]);
    expect(report.dropped.filter((d) => d.table === 'calls_1m').map((d) => d.partition)).toEqual([202610]);
    const october = `WHERE toYYYYMM(enteredAt) = 202610`;
    for (const server of [shardA, shardB]) {
      const [left] = await direct<{ n: number }>(server, `SELECT toUInt32(count()) AS n FROM \`${clusterDb}\`.calls_local ${october}`);
      expect(Number(left?.n)).toBe(0);
    }
    const november = records.calls.filter((c) => Date.parse(c.enteredAt) >= Date.UTC(2026, 10, 1)).length;
    expect(november).toBeGreaterThan(0);
    const [total] = await clustered.query<{ n: number }>(sql`SELECT toUInt32(count()) AS n FROM ${clustered.table('calls')}`);
    expect(Number(total?.n)).toBe(november);
  });
});
