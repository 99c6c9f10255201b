/**
 * The engine's tables (store/migrations/003_alerts.sql): every write appends a
 * new version; every read takes the newest version per key with argMax and
 * filters outside the subquery, so the same SQL runs on ClickHouse 18.16 and
 * chDB and no routine write is an ALTER.
 */
import { sql, type Sql, type Store } from '../store/index.js';
import { silenceRegion, type Silence } from './silences.js';
import type { HistoryEntry, InstanceRecord } from './state-machine.js';
import type { AlertInstance, InstanceState, Severity } from './types.js';

let lastVersion = 0;

/**
 * Versions for ReplacingMergeTree rows: microseconds of the wall clock, never
 * repeating in this process, so the newest write wins, also after a restart
 * (and whatever clock a test drives the engine with).
 */
export function nextVersion(): number {
  lastVersion = Math.max(lastVersion + 1, Date.now() * 1000);
  return lastVersion;
}

const epoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export interface StoredRule {
  id: string;
  definition: unknown;
  deleted: boolean;
  updatedAt: string;
  updatedBy: string;
}

export interface HistoryRow {
  at: string;
  from: InstanceState;
  to: InstanceState;
  severity: Severity | null;
  reason: string;
  value: number | null;
  volume: number | null;
  threshold: number | null;
  message: string;
  actor: string;
}

export interface InstanceQuery {
  /** null: every region (and instances without one). */
  regions: readonly string[] | null;
  states: readonly InstanceState[];
  severities?: readonly Severity[];
  ruleIds?: readonly string[];
  ids?: readonly string[];
}

export interface AlertStore {
  readRules(): Promise<StoredRule[]>;
  writeRule(id: string, definition: unknown | null, by: string, at: Date): Promise<void>;
  readInstances(): Promise<InstanceRecord[]>;
  writeInstances(records: readonly { record: InstanceRecord; deleted?: boolean }[], at: Date): Promise<void>;
  writeHistory(entries: readonly HistoryEntry[]): Promise<void>;
  writeAck(instance: AlertInstance, by: string, comment: string, at: Date): Promise<void>;
  readSilences(): Promise<Silence[]>;
  writeSilence(silence: Silence, at: Date): Promise<void>;
  /** Instances for the API, filtered in the query (regions, states…), most severe first. */
  queryInstances(query: InstanceQuery): Promise<AlertInstance[]>;
  queryHistory(instanceId: string, regions: readonly string[] | null, limit: number): Promise<HistoryRow[]>;
  /** Silences for the API: only those pinned to one of `regions` when given. */
  querySilences(regions: readonly string[] | null): Promise<Silence[]>;
}

export function createAlertStore(store: Store): AlertStore {
  const latestInstances = sql`(SELECT id,
      argMax(doc, version) AS doc, argMax(deleted, version) AS deleted,
      argMax(ruleId, version) AS ruleId, argMax(region, version) AS region,
      argMax(state, version) AS state, argMax(severity, version) AS severity
    FROM ${store.table('alert_instances')} GROUP BY id)`;
  const regionFilter = (regions: readonly string[] | null, column: Sql = sql`region`): Sql =>
    regions === null ? sql`1` : regions.length === 0 ? sql`0` : sql`${column} IN ${sql.list(regions)}`;

  return {
    async readRules() {
      const rows = await store.query<{ id: string; definition: string; deleted: number; updatedAt: number; updatedBy: string }>(sql`
        SELECT id, argMax(definition, version) AS definition, argMax(deleted, version) AS deleted,
          toUInt32(argMax(updatedAt, version)) AS updatedAt, argMax(updatedBy, version) AS updatedBy
        FROM ${store.table('alert_rules')} GROUP BY id ORDER BY id`);
      return rows.map((r) => ({
        id: r.id,
        definition: r.definition === '' ? null : JSON.parse(r.definition),
        deleted: Number(r.deleted) === 1,
        updatedAt: new Date(Number(r.updatedAt) * 1000).toISOString(),
        updatedBy: r.updatedBy,
      }));
    },

    async writeRule(id, definition, by, at) {
      await store.insert('alert_rules', [{
        id, version: nextVersion(), definition: definition === null ? '' : JSON.stringify(definition),
        deleted: definition === null ? 1 : 0, updatedAt: Math.floor(at.getTime() / 1000), updatedBy: by,
      }]);
    },

    async readInstances() {
      const rows = await store.query<{ doc: string }>(sql`SELECT doc FROM ${latestInstances} WHERE deleted = 0`);
      return rows.map((r) => JSON.parse(r.doc) as InstanceRecord);
    },

    async writeInstances(records, at) {
      await store.insert('alert_instances', records.map(({ record, deleted }) => ({
        id: record.instance.id,
        version: nextVersion(),
        ruleId: record.instance.ruleId,
        region: record.instance.labels.region ?? '',
        state: record.instance.state,
        severity: record.instance.severity ?? '',
        deleted: deleted ? 1 : 0,
        doc: JSON.stringify(record),
        updatedAt: Math.floor(at.getTime() / 1000),
      })));
    },

    async writeHistory(entries) {
      await store.insert('alert_history', entries.map((e) => ({
        instanceId: e.instanceId, seq: nextVersion(), ruleId: e.ruleId, region: e.region, at: epoch(e.at),
        fromState: e.from, toState: e.to, severity: e.severity ?? '', reason: e.reason,
        value: e.value, volume: e.volume, threshold: e.threshold, message: e.message, actor: e.actor,
      })));
    },

    async writeAck(instance, by, comment, at) {
      await store.insert('alert_acks', [{
        instanceId: instance.id, ruleId: instance.ruleId, region: instance.labels.region ?? '',
        at: Math.floor(at.getTime() / 1000), actor: by, comment, firingSince: epoch(instance.firingSince ?? at.toISOString()),
      }]);
    },

    async readSilences() {
      const rows = await store.query<{ doc: string }>(sql`
        SELECT doc FROM (SELECT id, argMax(doc, version) AS doc, argMax(deleted, version) AS deleted
          FROM ${store.table('alert_silences')} GROUP BY id) WHERE deleted = 0`);
      return rows.map((r) => JSON.parse(r.doc) as Silence);
    },

    async writeSilence(silence, at) {
      await store.insert('alert_silences', [{
        id: silence.id, version: nextVersion(), region: silenceRegion(silence.matchers), deleted: 0,
        doc: JSON.stringify(silence), updatedAt: Math.floor(at.getTime() / 1000),
      }]);
    },

    async queryInstances(query) {
      const filters: Sql[] = [sql`deleted = 0`, regionFilter(query.regions)];
      filters.push(query.states.length > 0 ? sql`state IN ${sql.list(query.states)}` : sql`0`);
      if (query.severities) filters.push(query.severities.length > 0 ? sql`severity IN ${sql.list(query.severities)}` : sql`0`);
      if (query.ruleIds) filters.push(query.ruleIds.length > 0 ? sql`ruleId IN ${sql.list(query.ruleIds)}` : sql`0`);
      if (query.ids) filters.push(query.ids.length > 0 ? sql`id IN ${sql.list(query.ids)}` : sql`0`);
      const rows = await store.query<{ doc: string }>(sql`
        SELECT doc FROM ${latestInstances} WHERE ${sql.join(filters, ' AND ')}
        ORDER BY severity = 'critical' DESC, state = 'firing' DESC, ruleId, region, id`);
      return rows.map((r) => (JSON.parse(r.doc) as InstanceRecord).instance);
    },

    async queryHistory(instanceId, regions, limit) {
      const rows = await store.query<{
        at: number; fromState: string; toState: string; severity: string; reason: string;
        value: number | null; volume: number | null; threshold: number | null; message: string; actor: string;
      }>(sql`
        SELECT toUInt32(at) AS at, fromState, toState, severity, reason, value, volume, threshold, message, actor
        FROM ${store.table('alert_history')}
        WHERE instanceId = ${instanceId} AND ${regionFilter(regions)}
        ORDER BY at DESC, seq DESC LIMIT ${limit}`);
      return rows.reverse().map((r) => ({
        at: new Date(Number(r.at) * 1000).toISOString(),
        from: r.fromState as InstanceState,
        to: r.toState as InstanceState,
        severity: r.severity === '' ? null : (r.severity as Severity),
        reason: r.reason,
        value: r.value === null ? null : Number(r.value),
        volume: r.volume === null ? null : Number(r.volume),
        threshold: r.threshold === null ? null : Number(r.threshold),
        message: r.message,
        actor: r.actor,
      }));
    },

    async querySilences(regions) {
      const rows = await store.query<{ doc: string }>(sql`
        SELECT doc FROM (SELECT id, argMax(doc, version) AS doc, argMax(deleted, version) AS deleted,
            argMax(region, version) AS region
          FROM ${store.table('alert_silences')} GROUP BY id)
        WHERE deleted = 0 AND ${regionFilter(regions)} ORDER BY id`);
      return rows.map((r) => JSON.parse(r.doc) as Silence);
    },
  };
}
