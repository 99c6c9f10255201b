/**
 * Receivers and policies: those of the configuration file (read-only at run
 * time), the built-in `dashboard` receiver, and those made through the API,
 * kept in the store as versions of a ReplacingMergeTree (migration 005) so
 * they survive restarts.
 *
 * Every write bumps a per-store generation number, so a dispatcher in the
 * same process reloads at its next tick; one in another process reloads on
 * its periodic refresh.
 */
import { Ajv, type ErrorObject } from 'ajv';
import type { SqmConfig } from '../../config/index.js';
import {
  checkPolicy,
  checkReceiver,
  DASHBOARD_RECEIVER_ID,
  DEFAULT_GROUP_BY,
  DEFAULT_GROUP_INTERVAL,
  DEFAULT_GROUP_WAIT,
  DEFAULT_REPEAT_INTERVAL,
  parseDuration,
  policySchema,
  receiverSchema,
  type PolicyConfig,
  type ReceiverConfig,
} from '../../config/notifications.js';
import { sql, type Store } from '../../store/index.js';

export type DefinitionSource = 'builtin' | 'config' | 'api';

export interface DefinitionEntry<T> {
  definition: T;
  source: DefinitionSource;
  /** For API-made definitions: when and by whom last changed. */
  updatedAt: string | null;
  updatedBy: string | null;
  /** Stored version (API-made definitions), so the next write is newer even if clocks differ. */
  version?: number;
}

export interface Definitions {
  receivers: Map<string, DefinitionEntry<ReceiverConfig>>;
  policies: Map<string, DefinitionEntry<PolicyConfig>>;
}

/** A policy with its durations in milliseconds and its defaults filled in. */
export interface ResolvedPolicy {
  id: string;
  groupBy: string[];
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  steps: { afterMs: number; receivers: string[] }[];
}

export function resolvePolicy(policy: PolicyConfig): ResolvedPolicy {
  return {
    id: policy.id,
    groupBy: policy.groupBy ? [...policy.groupBy] : [...DEFAULT_GROUP_BY],
    groupWaitMs: parseDuration(policy.groupWait ?? DEFAULT_GROUP_WAIT),
    groupIntervalMs: parseDuration(policy.groupInterval ?? DEFAULT_GROUP_INTERVAL),
    repeatIntervalMs: parseDuration(policy.repeatInterval ?? DEFAULT_REPEAT_INTERVAL),
    steps: policy.steps.map((s) => ({ afterMs: parseDuration(s.after ?? '0'), receivers: [...s.receivers] })),
  };
}

export const DASHBOARD_RECEIVER: ReceiverConfig = Object.freeze({
  id: DASHBOARD_RECEIVER_ID,
  channel: 'dashboard',
  description: 'The live dashboard (built in)',
}) as ReceiverConfig;

/** Why a change was refused; the route maps `kind` to an HTTP status. */
export class DefinitionError extends Error {
  override name = 'DefinitionError';
  constructor(
    readonly kind: 'invalid' | 'not_found' | 'read_only' | 'exists' | 'in_use',
    readonly problems: string[],
  ) {
    super(problems.join('; '));
  }
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validateReceiverShape = ajv.compile(receiverSchema);
const validatePolicyShape = ajv.compile(policySchema);

function schemaProblems(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const field = e.instancePath ? e.instancePath.slice(1) : '(body)';
    const extra = e.keyword === 'additionalProperties'
      ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"`
        + secretHint((e.params as { additionalProperty: string }).additionalProperty)
      : e.keyword === 'enum' ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
    return `${field}: ${e.message ?? 'invalid'}${extra}`;
  });
}

/** Someone who writes `password:` inline is told where secrets go instead. */
function secretHint(property: string): string {
  const hints: Record<string, string> = {
    password: ' (secrets are never stored: name an environment variable with passwordEnv)',
    token: ' (secrets are never stored: name an environment variable with tokenEnv)',
    key: ' (secrets are never stored: name an environment variable with keyEnv)',
    secret: ' (secrets are never stored: name an environment variable with secretEnv)',
    accessToken: ' (secrets are never stored: name an environment variable with accessTokenEnv)',
  };
  return hints[property] ?? '';
}

/** The built-in dashboard receiver and the configuration's receivers and policies. */
export function definitionsFromConfig(config: SqmConfig): Definitions {
  const receivers = new Map<string, DefinitionEntry<ReceiverConfig>>();
  receivers.set(DASHBOARD_RECEIVER_ID, { definition: DASHBOARD_RECEIVER, source: 'builtin', updatedAt: null, updatedBy: null });
  for (const r of config.notifications?.receivers ?? []) {
    receivers.set(r.id, { definition: r, source: 'config', updatedAt: null, updatedBy: null });
  }
  const policies = new Map<string, DefinitionEntry<PolicyConfig>>();
  for (const p of config.notifications?.policies ?? []) {
    policies.set(p.id, { definition: p, source: 'config', updatedAt: null, updatedBy: null });
  }
  return { receivers, policies };
}

/** Store generations: bumped by every write, read by dispatchers to know when to reload. */
const generations = new WeakMap<Store, number>();

export function definitionsGeneration(store: Store): number {
  return generations.get(store) ?? 0;
}

interface StoredRow {
  id: string;
  definition: string;
  deleted: number;
  updatedAt: number;
  updatedBy: string;
  version: number;
}

export class NotificationDefinitions {
  private readonly regionCodes: ReadonlySet<string>;
  private lastVersion = 0;

  constructor(
    private readonly store: Store,
    private readonly config: SqmConfig,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.regionCodes = new Set(config.regions.map((r) => r.code));
  }

  /** Bumped by every write through any NotificationDefinitions over the same store in this process. */
  generation(): number {
    return definitionsGeneration(this.store);
  }

  /** The built-in and configured definitions, without touching the store. */
  fromConfig(): Definitions {
    return definitionsFromConfig(this.config);
  }

  /** Everything: configured definitions plus those in the store (which cannot shadow configured ids). */
  async load(): Promise<Definitions> {
    const defs = this.fromConfig();
    for (const row of await this.readTable('notification_receivers')) {
      if (defs.receivers.has(row.id)) continue;
      defs.receivers.set(row.id, { definition: JSON.parse(row.definition) as ReceiverConfig, source: 'api', updatedAt: new Date(row.updatedAt * 1000).toISOString(), updatedBy: row.updatedBy, version: row.version });
    }
    for (const row of await this.readTable('notification_policies')) {
      if (defs.policies.has(row.id)) continue;
      defs.policies.set(row.id, { definition: JSON.parse(row.definition) as PolicyConfig, source: 'api', updatedAt: new Date(row.updatedAt * 1000).toISOString(), updatedBy: row.updatedBy, version: row.version });
    }
    return defs;
  }

  private async readTable(table: 'notification_receivers' | 'notification_policies'): Promise<StoredRow[]> {
    // Newest version per id, deleted ones filtered outside the aggregation.
    const rows = await this.store.query<StoredRow>(sql`
      SELECT id, lastDefinition AS definition, lastDeleted AS deleted, lastUpdatedAt AS updatedAt,
             lastUpdatedBy AS updatedBy, lastVersion AS version
      FROM (
        SELECT id,
               argMax(definition, version) AS lastDefinition,
               argMax(deleted, version) AS lastDeleted,
               toUInt32(argMax(updatedAt, version)) AS lastUpdatedAt,
               argMax(updatedBy, version) AS lastUpdatedBy,
               max(version) AS lastVersion
        FROM ${this.store.table(table)}
        GROUP BY id
      ) WHERE lastDeleted = 0
      ORDER BY id`);
    return rows.map((r) => ({ ...r, deleted: Number(r.deleted), updatedAt: Number(r.updatedAt), version: Number(r.version) }));
  }

  /** Validate a receiver body; throws DefinitionError('invalid') naming each field. */
  validateReceiver(body: unknown): ReceiverConfig {
    if (!validateReceiverShape(body)) throw new DefinitionError('invalid', schemaProblems(validateReceiverShape.errors));
    const receiver = body as unknown as ReceiverConfig;
    if (receiver.channel === 'dashboard') throw new DefinitionError('invalid', ['channel: the dashboard receiver is built in; make receivers of other channels']);
    const problems = checkReceiver(receiver, '(body)', this.regionCodes).map((p) => p.replace(/^\(body\)\//, ''));
    if (problems.length > 0) throw new DefinitionError('invalid', problems);
    return receiver;
  }

  validatePolicy(body: unknown, receiverIds: ReadonlySet<string>): PolicyConfig {
    if (!validatePolicyShape(body)) throw new DefinitionError('invalid', schemaProblems(validatePolicyShape.errors));
    const policy = body as unknown as PolicyConfig;
    const problems = checkPolicy(policy, '(body)', receiverIds).map((p) => p.replace(/^\(body\)\//, ''));
    if (problems.length > 0) throw new DefinitionError('invalid', problems);
    return policy;
  }

  async createReceiver(body: unknown, actor: string): Promise<ReceiverConfig> {
    const receiver = this.validateReceiver(body);
    const defs = await this.load();
    if (defs.receivers.has(receiver.id)) throw new DefinitionError('exists', [`id: a receiver "${receiver.id}" exists already (${defs.receivers.get(receiver.id)?.source})`]);
    await this.write('notification_receivers', receiver.id, receiver, false, actor);
    return receiver;
  }

  async updateReceiver(id: string, body: unknown, actor: string): Promise<ReceiverConfig> {
    const defs = await this.load();
    const entry = this.requireApiEntry(defs.receivers.get(id), 'receiver', id);
    const receiver = this.validateReceiver(body);
    if (receiver.id !== id) throw new DefinitionError('invalid', [`id: "${receiver.id}" does not match the path's "${id}" (ids cannot be renamed)`]);
    await this.write('notification_receivers', id, receiver, false, actor, entry.version);
    return receiver;
  }

  async deleteReceiver(id: string, actor: string): Promise<void> {
    const defs = await this.load();
    const entry = this.requireApiEntry(defs.receivers.get(id), 'receiver', id);
    const users = [...defs.policies.values()].filter((p) => p.definition.steps.some((s) => s.receivers.includes(id))).map((p) => p.definition.id);
    if (users.length > 0) throw new DefinitionError('in_use', [`receiver "${id}" is used by the policies ${users.join(', ')}; remove it from them first`]);
    await this.write('notification_receivers', id, entry.definition, true, actor, entry.version);
  }

  async createPolicy(body: unknown, actor: string): Promise<PolicyConfig> {
    const defs = await this.load();
    const policy = this.validatePolicy(body, new Set(defs.receivers.keys()));
    if (defs.policies.has(policy.id)) throw new DefinitionError('exists', [`id: a policy "${policy.id}" exists already (${defs.policies.get(policy.id)?.source})`]);
    await this.write('notification_policies', policy.id, policy, false, actor);
    return policy;
  }

  async updatePolicy(id: string, body: unknown, actor: string): Promise<PolicyConfig> {
    const defs = await this.load();
    const entry = this.requireApiEntry(defs.policies.get(id), 'policy', id);
    const policy = this.validatePolicy(body, new Set(defs.receivers.keys()));
    if (policy.id !== id) throw new DefinitionError('invalid', [`id: "${policy.id}" does not match the path's "${id}" (ids cannot be renamed)`]);
    await this.write('notification_policies', id, policy, false, actor, entry.version);
    return policy;
  }

  async deletePolicy(id: string, actor: string): Promise<void> {
    const defs = await this.load();
    const entry = this.requireApiEntry(defs.policies.get(id), 'policy', id);
    await this.write('notification_policies', id, entry.definition, true, actor, entry.version);
  }

  private requireApiEntry<T>(entry: DefinitionEntry<T> | undefined, what: string, id: string): DefinitionEntry<T> {
    if (!entry) throw new DefinitionError('not_found', [`no ${what} "${id}"`]);
    if (entry.source !== 'api') {
      throw new DefinitionError('read_only', [`${what} "${id}" is ${entry.source === 'builtin' ? 'built in' : 'defined in the configuration file; change it there'}`]);
    }
    return entry;
  }

  private async write(table: 'notification_receivers' | 'notification_policies', id: string, definition: object, deleted: boolean, actor: string, previous = 0): Promise<void> {
    const nowMs = this.now().getTime();
    // Strictly increasing, so two quick edits never tie and a re-created id beats its deletion.
    const version = Math.max(nowMs, this.lastVersion + 1, previous + 1);
    this.lastVersion = version;
    await this.store.insert(table, [{
      id,
      version,
      definition: JSON.stringify(definition),
      deleted: deleted ? 1 : 0,
      updatedAt: Math.floor(nowMs / 1000),
      updatedBy: actor,
    }]);
    generations.set(this.store, definitionsGeneration(this.store) + 1);
  }
}

/**
 * A receiver as the API shows it. Definitions hold only environment-variable
 * names, never secret values; this copy makes that explicit, so a later
 * field holding a value can never leak by accident.
 */
export function publicReceiver(entry: DefinitionEntry<ReceiverConfig>): Record<string, unknown> {
  return { ...structuredClone(entry.definition), source: entry.source, updatedAt: entry.updatedAt, updatedBy: entry.updatedBy };
}

export function publicPolicy(entry: DefinitionEntry<PolicyConfig>): Record<string, unknown> {
  return { ...structuredClone(entry.definition), source: entry.source, updatedAt: entry.updatedAt, updatedBy: entry.updatedBy };
}
