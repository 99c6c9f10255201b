/**
 * Cluster mode's rewrite of the migrations (store/cluster.ts), run on the
 * actual migration files, and the statements migrate/retention send in
 * cluster mode (a recording store, no engine). The cluster test
 * (tests/integration/cluster.test.ts) runs the same statements on two real
 * ClickHouse 18.16 shards.
 */
import { describe, expect, it } from 'vitest';
import { readServiceSettings, ConfigError } from '../../config/load.js';
import {
  applyRetention, clusterIdentifier, clusterStatements, ClusterRewriteError, databaseIdentifier, loadMigrations,
  localTable, migrate, openStore, PLACEMENT, sql, tableOf, TABLES, type Sql, type Store,
} from '../../store/index.js';

const cluster = clusterIdentifier('sqm_shards');

function allClusterStatements(): string[] {
  return loadMigrations().flatMap((m) => m.statements.flatMap((s) => clusterStatements(s, cluster)));
}

/** A store that records what it is asked and answers queries from a callback. */
function recordingStore(options: { cluster?: boolean; answer?: (text: string) => unknown[] } = {}) {
  const commands: string[] = [];
  const queries: string[] = [];
  const database = databaseIdentifier('sqm');
  const store: Store = {
    backend: 'server',
    database,
    cluster: options.cluster === false ? undefined : cluster,
    table: (name) => tableOf(database, name),
    async query<T>(statement: Sql): Promise<T[]> {
      queries.push(statement.text);
      return (options.answer?.(statement.text) ?? []) as T[];
    },
    async command(statement: Sql) {
      commands.push(statement.text);
    },
    async insert() {},
    async serverVersion() {
      return '18.16.1';
    },
    async close() {},
  };
  return { store, commands, queries };
}

describe('clusterStatements on the migration files', () => {
  it('turns a table into a local table and a Distributed table over it, keeping columns and engine', () => {
    const subscribers = loadMigrations()[0]!.statements.find((s) => s.includes('{db}.subscribers'))!;
    expect(clusterStatements(subscribers, cluster)).toEqual([
      'CREATE TABLE IF NOT EXISTS {db}.subscribers_local ON CLUSTER `sqm_shards`\n' +
        '(\n    region String,\n    asOf Date,\n    subscribers UInt64,\n    ingestedAt DateTime(\'UTC\')\n)\n' +
        'ENGINE = ReplacingMergeTree(ingestedAt)\nORDER BY (region, asOf)',
      'CREATE TABLE IF NOT EXISTS {db}.subscribers ON CLUSTER `sqm_shards`\n' +
        '(\n    region String,\n    asOf Date,\n    subscribers UInt64,\n    ingestedAt DateTime(\'UTC\')\n)\n' +
        'ENGINE = Distributed(`sqm_shards`, {db}, subscribers_local, cityHash64(region))',
    ]);
  });

  it('gives every table of TABLES a local table and a Distributed one, and every statement ON CLUSTER', () => {
    const statements = allClusterStatements();
    for (const statement of statements) expect(statement).toContain('ON CLUSTER `sqm_shards`');
    const distributed = new Map<string, string>();
    const locals = new Set<string>();
    for (const s of statements) {
      const d = /^CREATE TABLE IF NOT EXISTS \{db\}\.(\w+) ON CLUSTER [^\n]+\n[\s\S]*ENGINE = Distributed\(`sqm_shards`, \{db\}, (\w+)(?:, (.+))?\)$/.exec(s);
      if (d) {
        expect(d[2]).toBe(`${d[1]}_local`);
        distributed.set(d[1]!, d[3] ?? '(none)');
        continue;
      }
      const l = /^CREATE TABLE IF NOT EXISTS \{db\}\.(\w+)_local ON CLUSTER/.exec(s);
      if (l) locals.add(l[1]!);
    }
    // schema_migrations is created by migrate() itself, not by a migration file.
    const tables = TABLES.filter((t) => !t.endsWith('_mv') && t !== 'schema_migrations');
    expect([...locals].sort()).toEqual([...tables].sort());
    expect([...distributed.keys()].sort()).toEqual([...tables].sort());
    // Records by identity, rollups without a key (never inserted into), metadata on the first shard.
    expect(distributed.get('calls')).toBe('cityHash64(id)');
    expect(distributed.get('surveys')).toBe('cityHash64(id)');
    expect(distributed.get('tickets')).toBe('cityHash64(id)');
    expect(distributed.get('faults')).toBe('cityHash64(id)');
    expect(distributed.get('queue_states')).toBe('cityHash64(region, queue)');
    expect(distributed.get('dead_letters')).toBe('cityHash64(batchId)');
    expect(distributed.get('calls_1m')).toBe('(none)');
    expect(distributed.get('surveys_1m')).toBe('(none)');
    for (const meta of ['alert_rules', 'alert_instances', 'users', 'sessions', 'api_tokens', 'audit_log', 'notification_state']) {
      expect(distributed.get(meta)).toBe('0');
    }
  });

  it('puts the rollup views on the local tables of each shard', () => {
    const views = allClusterStatements().filter((s) => s.startsWith('CREATE MATERIALIZED VIEW'));
    expect(views).toHaveLength(2);
    const [calls, surveys] = views as [string, string];
    expect(calls.split('\n')[0]).toBe('CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.calls_1m_mv ON CLUSTER `sqm_shards` TO {db}.calls_1m_local AS');
    expect(calls).toContain('FROM {db}.calls_local\n');
    expect(surveys.split('\n')[0]).toBe('CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.surveys_1m_mv ON CLUSTER `sqm_shards` TO {db}.surveys_1m_local AS');
    expect(surveys).toContain('FROM {db}.surveys_local\n');
    // Nothing in a view reads a Distributed table.
    for (const view of views) expect(view.match(/\{db\}\.\w+/g)!.slice(1).every((ref) => ref.endsWith('_local'))).toBe(true);
  });

  it('rewrites ALTER and DROP statements for both tables, in a safe order', () => {
    expect(clusterStatements('ALTER TABLE {db}.calls ADD COLUMN site String DEFAULT \'\'', cluster)).toEqual([
      'ALTER TABLE {db}.calls_local ON CLUSTER `sqm_shards` ADD COLUMN site String DEFAULT \'\'',
      'ALTER TABLE {db}.calls ON CLUSTER `sqm_shards` ADD COLUMN site String DEFAULT \'\'',
    ]);
    expect(clusterStatements('ALTER TABLE {db}.calls DROP COLUMN site', cluster)).toEqual([
      'ALTER TABLE {db}.calls ON CLUSTER `sqm_shards` DROP COLUMN site',
      'ALTER TABLE {db}.calls_local ON CLUSTER `sqm_shards` DROP COLUMN site',
    ]);
    expect(clusterStatements('ALTER TABLE {db}.calls DROP PARTITION 202001', cluster)).toEqual([
      'ALTER TABLE {db}.calls_local ON CLUSTER `sqm_shards` DROP PARTITION 202001',
    ]);
    expect(clusterStatements('DROP TABLE IF EXISTS {db}.calls_1m_mv', cluster)).toEqual([
      'DROP TABLE IF EXISTS {db}.calls_1m_mv ON CLUSTER `sqm_shards`',
    ]);
    expect(clusterStatements('DROP TABLE IF EXISTS {db}.users', cluster)).toEqual([
      'DROP TABLE IF EXISTS {db}.users ON CLUSTER `sqm_shards`',
      'DROP TABLE IF EXISTS {db}.users_local ON CLUSTER `sqm_shards`',
    ]);
  });

  it('refuses what it cannot place rather than running it on one node', () => {
    expect(() => clusterStatements('CREATE TABLE IF NOT EXISTS {db}.mystery (x UInt8) ENGINE = MergeTree() ORDER BY x', cluster))
      .toThrow(/table "mystery" has no cluster placement: add it to PLACEMENT/);
    expect(() => clusterStatements('INSERT INTO {db}.calls SELECT * FROM {db}.calls', cluster))
      .toThrow(ClusterRewriteError);
    expect(() => clusterStatements('CREATE VIEW {db}.v AS SELECT 1', cluster)).toThrow(/cannot derive the cluster form/);
    expect(() => clusterStatements('CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.calls_1m_mv TO {db}.users AS SELECT 1', cluster))
      .toThrow(/must write a rollup table, not "users"/);
  });

  it('places every table SQM owns', () => {
    for (const name of TABLES) expect(PLACEMENT[name]).toBeDefined();
  });

  it('accepts only plain cluster names', () => {
    expect(clusterIdentifier('prod_2').quoted).toBe('`prod_2`');
    for (const bad of ['', 'a-b', 'x` ON CLUSTER y', '1abc', 'a b']) expect(() => clusterIdentifier(bad)).toThrow(/cluster name/);
  });
});

describe('migrate and retention in cluster mode', () => {
  it('creates schema_migrations first, then every migration, each statement ON CLUSTER', async () => {
    const { store, commands } = recordingStore();
    await migrate(store);
    expect(commands[0]).toMatch(/^CREATE TABLE IF NOT EXISTS `sqm`\.schema_migrations_local ON CLUSTER `sqm_shards`/);
    expect(commands[1]).toMatch(/^CREATE TABLE IF NOT EXISTS `sqm`\.schema_migrations ON CLUSTER `sqm_shards`[\s\S]*ENGINE = Distributed\(`sqm_shards`, `sqm`, schema_migrations_local, 0\)$/);
    // 23 tables (schema_migrations and the 22 of migrations 001-005) × (local + Distributed) + 2 views.
    expect(commands).toHaveLength(23 * 2 + 2);
    for (const c of commands) {
      expect(c).toContain('ON CLUSTER `sqm_shards`');
      expect(c).not.toContain('{db}');
    }
  });

  it('runs the single-server statements unchanged without a cluster', async () => {
    const { store, commands } = recordingStore({ cluster: false });
    await migrate(store);
    expect(commands).toHaveLength(1 + loadMigrations().reduce((n, m) => n + m.statements.length, 0));
    for (const c of commands) expect(c).not.toContain('ON CLUSTER');
  });

  it('lists partitions on every node and drops old ones from the local tables ON CLUSTER', async () => {
    const { store, queries, commands } = recordingStore({
      answer: (text) => text.includes("'calls_local'") ? [{ partition: '202312' }, { partition: '202401' }, { partition: '202406' }] : [],
    });
    const report = await applyRetention(store, 3, new Date(Date.UTC(2024, 5, 15)));
    expect(report.dropped).toEqual([{ table: 'calls', partition: 202312 }, { table: 'calls', partition: 202401 }]);
    expect(commands).toEqual([
      'ALTER TABLE `sqm`.`calls_local` ON CLUSTER `sqm_shards` DROP PARTITION 202312',
      'ALTER TABLE `sqm`.`calls_local` ON CLUSTER `sqm_shards` DROP PARTITION 202401',
    ]);
    expect(queries[0]).toContain("FROM cluster('sqm_shards', system, parts)");
    expect(queries[0]).toContain("table = 'calls_local'");
  });

  it('names the local table only in cluster mode', () => {
    expect(localTable(recordingStore().store, 'tickets').text).toBe('`sqm`.`tickets_local`');
    expect(localTable(recordingStore({ cluster: false }).store, 'tickets').text).toBe('`sqm`.`tickets`');
    expect(sql`${localTable(recordingStore().store, 'calls_1m')}`.text).toBe('`sqm`.`calls_1m_local`');
  });
});

describe('SQM_CLICKHOUSE_CLUSTER', () => {
  it('is read with the server URL', () => {
    const settings = readServiceSettings({ SQM_CLICKHOUSE_URL: 'http://127.0.0.1:8123', SQM_CLICKHOUSE_CLUSTER: 'sqm_shards' });
    expect(settings.clickhouseCluster).toBe('sqm_shards');
    expect(readServiceSettings({}).clickhouseCluster).toBeUndefined();
  });

  it('is refused without a server URL or with a name that is not plain, naming the variable', () => {
    expect(() => readServiceSettings({ SQM_CLICKHOUSE_CLUSTER: 'sqm_shards' }))
      .toThrow(/SQM_CLICKHOUSE_CLUSTER: needs SQM_CLICKHOUSE_URL/);
    expect(() => readServiceSettings({ SQM_CLICKHOUSE_URL: 'http://127.0.0.1:8123', SQM_CLICKHOUSE_CLUSTER: 'a-b' }))
      .toThrow(ConfigError);
  });

  it('cannot open the embedded store', async () => {
    await expect(openStore({ dataDir: '/nonexistent', database: 'sqm', clickhouseCluster: 'sqm_shards' }))
      .rejects.toThrow(/SQM_CLICKHOUSE_CLUSTER needs SQM_CLICKHOUSE_URL/);
  });
});

describe('SQM_ROLES', () => {
  it('defaults to every role, and takes a list', () => {
    expect(readServiceSettings({}).roles).toEqual(['collector', 'api', 'alerts']);
    expect(readServiceSettings({ SQM_ROLES: 'collector, api' }).roles).toEqual(['collector', 'api']);
    expect(readServiceSettings({ SQM_ROLES: 'alerts,alerts' }).roles).toEqual(['alerts']);
  });

  it('refuses unknown roles and an empty list, naming the variable', () => {
    expect(() => readServiceSettings({ SQM_ROLES: 'collector,evaluator' })).toThrow(/SQM_ROLES: a comma-separated list of collector, api, alerts/);
    expect(() => readServiceSettings({ SQM_ROLES: ' , ' })).toThrow(/SQM_ROLES/);
  });
});
