/**
 * Cluster mode (`SQM_CLICKHOUSE_CLUSTER=name`, server backend only).
 *
 * Every table SQM owns becomes a local table on each node (`calls_local`) with
 * a `Distributed` table in front under the name the code already uses
 * (`calls`), so `store.table('calls')` and every query above the store work
 * unchanged. The migrations stay one set of .sql files: `clusterStatements`
 * derives the cluster form of each statement (ON CLUSTER, `_local` names,
 * the Distributed table) from the single-server text.
 *
 * Where rows go (`PLACEMENT`):
 * - records are spread by their identity (`cityHash64(id)` and the like), so
 *   every version of a ticket, and every repeat of a call id, lands on one
 *   shard: ReplacingMergeTree de-duplication and argMax snapshot reads stay
 *   correct per shard, and the Distributed table merges the shards' results;
 * - the per-minute rollups are written by materialized views on each shard's
 *   LOCAL raw table into that shard's local rollup; the KPI queries merge
 *   aggregate states (`…Merge`, sums) across shards, which is exact. They
 *   have no sharding key, so an accidental direct insert fails loudly;
 * - the small metadata tables (migrations, alert state, people, notifications)
 *   all live on the first shard (a constant sharding key): every SQM process,
 *   whichever node it talks to, reads and writes the same rows, and a key's
 *   versions always meet. They are tiny, so spreading them buys nothing.
 */
import { Identifier, identifier, qualified, type Sql } from './sql.js';
import { TABLES, type Store, type TableName } from './store.js';

export const LOCAL_SUFFIX = '_local';

/** Where a table's rows live in cluster mode. */
export type Placement =
  /** Spread over the shards by this (integer) expression. */
  | { shardBy: string }
  /** A rollup filled on each shard by a materialized view; read through Distributed, never inserted into. */
  | { rollup: true }
  /** A materialized view: one per node, reading the local raw table, writing the local rollup. */
  | { view: true }
  /** Small metadata: every row on the first shard listed in remote_servers. */
  | { firstShard: true };

const FIRST_SHARD = { firstShard: true } as const;

export const PLACEMENT: Readonly<Record<TableName, Placement>> = {
  calls: { shardBy: 'cityHash64(id)' },
  surveys: { shardBy: 'cityHash64(id)' },
  tickets: { shardBy: 'cityHash64(id)' },
  faults: { shardBy: 'cityHash64(id)' },
  // The de-duplication key is (region, queue, at): one queue's samples stay together.
  queue_states: { shardBy: 'cityHash64(region, queue)' },
  // ReplacingMergeTree(ingestedAt) on (region, asOf): a region's corrections must meet its first figure.
  subscribers: { shardBy: 'cityHash64(region)' },
  // A request's rejected records share a batchId; replay de-duplication reads by it.
  dead_letters: { shardBy: 'cityHash64(batchId)' },
  calls_1m: { rollup: true },
  surveys_1m: { rollup: true },
  calls_1m_mv: { view: true },
  surveys_1m_mv: { view: true },
  schema_migrations: FIRST_SHARD,
  alert_rules: FIRST_SHARD,
  alert_instances: FIRST_SHARD,
  alert_history: FIRST_SHARD,
  alert_acks: FIRST_SHARD,
  alert_silences: FIRST_SHARD,
  users: FIRST_SHARD,
  sessions: FIRST_SHARD,
  api_tokens: FIRST_SHARD,
  audit_log: FIRST_SHARD,
  notification_log: FIRST_SHARD,
  notification_receivers: FIRST_SHARD,
  notification_policies: FIRST_SHARD,
  notification_state: FIRST_SHARD,
};

/** Names of the per-node tables, the allow-list `localTable` draws from. */
export const LOCAL_TABLES: readonly string[] = TABLES
  .filter((name) => !('view' in PLACEMENT[name]))
  .map((name) => `${name}${LOCAL_SUFFIX}`);

const CLUSTER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export class ClusterRewriteError extends Error {
  override name = 'ClusterRewriteError';
}

/** A cluster name from SQM_CLICKHOUSE_CLUSTER: a plain name (as in remote_servers), nothing else. */
export function clusterIdentifier(name: string): Identifier {
  if (!CLUSTER_PATTERN.test(name)) {
    throw new ClusterRewriteError(`cluster name "${name}" must match ${CLUSTER_PATTERN}`);
  }
  return Identifier.unchecked(name);
}

/** The node-local table behind a Distributed one in cluster mode; the table itself otherwise. */
export function localTable(store: Store, name: TableName): Sql {
  if (!store.cluster) return store.table(name);
  return qualified(store.database, identifier(`${name}${LOCAL_SUFFIX}`, LOCAL_TABLES));
}

function placementOf(name: string): Placement {
  const placement = (PLACEMENT as Record<string, Placement | undefined>)[name];
  if (!placement) {
    throw new ClusterRewriteError(`table "${name}" has no cluster placement: add it to PLACEMENT in store/cluster.ts`);
  }
  return placement;
}

function hasLocal(name: string): boolean {
  return !('view' in placementOf(name));
}

/** Index just past the parenthesis that closes the one at `open` (quotes skipped). */
function closingParen(text: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '`' || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i + 1;
  }
  throw new ClusterRewriteError(`unbalanced parentheses in: ${text.slice(0, 80)}`);
}

const CREATE_TABLE = /^CREATE TABLE (IF NOT EXISTS )?\{db\}\.(\w+)\s*\(/;
const CREATE_VIEW = /^CREATE MATERIALIZED VIEW (IF NOT EXISTS )?\{db\}\.(\w+)\s+TO\s+\{db\}\.(\w+)\s+AS\s+([\s\S]+)$/;
const ALTER_TABLE = /^ALTER TABLE \{db\}\.(\w+)\s+([\s\S]+)$/;
const DROP_TABLE = /^DROP TABLE (IF EXISTS )?\{db\}\.(\w+)\s*$/;
const COLUMN_CHANGE = /^(ADD|DROP|MODIFY|RENAME|COMMENT) COLUMN\b/i;

/**
 * The cluster form of one migration statement (still with its `{db}`
 * placeholder): ON CLUSTER everywhere, MergeTree tables renamed `_local` with
 * a Distributed table in front, materialized views moved onto the local
 * tables. A statement of another shape is refused, so a new kind of migration
 * statement cannot silently run on one node only.
 */
export function clusterStatements(statement: string, cluster: Identifier): string[] {
  const text = statement.trim();
  const on = `ON CLUSTER ${cluster.quoted}`;

  const table = CREATE_TABLE.exec(text);
  if (table) {
    const ifNotExists = table[1] ?? '';
    const name = table[2] as string;
    const placement = placementOf(name);
    if ('view' in placement) throw new ClusterRewriteError(`"${name}" is placed as a view but created as a table`);
    const open = table[0].length - 1;
    const close = closingParen(text, open);
    const columns = text.slice(open, close);
    const engine = text.slice(close).trim();
    if (!/^ENGINE\s*=/.test(engine)) throw new ClusterRewriteError(`CREATE TABLE ${name}: expected ENGINE after the columns`);
    const local = `${name}${LOCAL_SUFFIX}`;
    const key = 'shardBy' in placement ? `, ${placement.shardBy}` : 'firstShard' in placement ? ', 0' : '';
    return [
      `CREATE TABLE ${ifNotExists}{db}.${local} ${on}\n${columns}\n${engine}`,
      `CREATE TABLE ${ifNotExists}{db}.${name} ${on}\n${columns}\nENGINE = Distributed(${cluster.quoted}, {db}, ${local}${key})`,
    ];
  }

  const view = CREATE_VIEW.exec(text);
  if (view) {
    const [, ifNotExists = '', name = '', target = '', select = ''] = view;
    if (!('view' in placementOf(name))) throw new ClusterRewriteError(`"${name}" is created as a view but not placed as one`);
    if (!('rollup' in placementOf(target))) throw new ClusterRewriteError(`view "${name}" must write a rollup table, not "${target}"`);
    // Every table the SELECT reads becomes the node's local table: each shard's view sees that shard's inserts.
    const localSelect = select.replace(/\{db\}\.(\w+)/g, (whole, ref: string) => {
      if (!hasLocal(ref)) throw new ClusterRewriteError(`view "${name}" reads "${ref}", which has no local table`);
      return `{db}.${ref}${LOCAL_SUFFIX}`;
    });
    return [`CREATE MATERIALIZED VIEW ${ifNotExists}{db}.${name} ${on} TO {db}.${target}${LOCAL_SUFFIX} AS\n${localSelect}`];
  }

  const alter = ALTER_TABLE.exec(text);
  if (alter) {
    const [, name = '', rest = ''] = alter;
    if (!hasLocal(name)) throw new ClusterRewriteError(`ALTER TABLE ${name}: a view cannot be altered in cluster mode`);
    const local = `ALTER TABLE {db}.${name}${LOCAL_SUFFIX} ${on} ${rest}`;
    // The Distributed table mirrors the columns only; partitions, keys and data are the local table's.
    if (!COLUMN_CHANGE.test(rest)) return [local];
    const front = `ALTER TABLE {db}.${name} ${on} ${rest}`;
    // Add to the local tables before the Distributed one reads the column; drop in the reverse order.
    return /^DROP/i.test(rest) ? [front, local] : [local, front];
  }

  const drop = DROP_TABLE.exec(text);
  if (drop) {
    const [, ifExists = '', name = ''] = drop;
    if (!hasLocal(name)) return [`DROP TABLE ${ifExists}{db}.${name} ${on}`];
    return [`DROP TABLE ${ifExists}{db}.${name} ${on}`, `DROP TABLE ${ifExists}{db}.${name}${LOCAL_SUFFIX} ${on}`];
  }

  throw new ClusterRewriteError(
    `cannot derive the cluster form of this migration statement (only CREATE TABLE, CREATE MATERIALIZED VIEW … TO, ` +
    `ALTER TABLE and DROP TABLE on {db} tables are known): ${text.slice(0, 120)}`,
  );
}
