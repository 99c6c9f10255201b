/**
 * The dispatcher's saved state (migration 005 `notification_state`): one JSON
 * document per key (a group waiting, repeating or retrying; an escalation in
 * progress), written as a new version on every change. After a restart the
 * dispatcher carries on from here: a group whose first notice went out is not
 * notified again as new, and a retry that was due is still made.
 */
import { sql, type Store } from '../../store/index.js';

export interface StateStore {
  loadAll(): Promise<Map<string, unknown>>;
  /** `null` deletes the key. */
  save(changes: ReadonlyMap<string, unknown | null>): Promise<void>;
}

export class StoreStateStore implements StateStore {
  private lastVersion = 0;

  constructor(private readonly store: Store, private readonly now: () => Date = () => new Date()) {}

  async loadAll(): Promise<Map<string, unknown>> {
    const rows = await this.store.query<{ key: string; state: string; version: number }>(sql`
      SELECT key, lastState AS state, lastVersion AS version FROM (
        SELECT key, argMax(state, version) AS lastState, argMax(deleted, version) AS lastDeleted, max(version) AS lastVersion
        FROM ${this.store.table('notification_state')}
        GROUP BY key
      ) WHERE lastDeleted = 0`);
    const out = new Map<string, unknown>();
    for (const row of rows) {
      this.lastVersion = Math.max(this.lastVersion, Number(row.version));
      out.set(row.key, JSON.parse(row.state) as unknown);
    }
    return out;
  }

  async save(changes: ReadonlyMap<string, unknown | null>): Promise<void> {
    if (changes.size === 0) return;
    const nowMs = this.now().getTime();
    // Versions only grow, also when the clock (a test's, or a standby's) is behind the last writer.
    const version = Math.max(nowMs, this.lastVersion + 1);
    this.lastVersion = version;
    const rows = [...changes].map(([key, state]) => ({
      key,
      version,
      state: state === null ? '' : JSON.stringify(state),
      deleted: state === null ? 1 : 0,
      updatedAt: Math.floor(nowMs / 1000),
    }));
    await this.store.insert('notification_state', rows);
  }
}

export class MemoryStateStore implements StateStore {
  readonly data = new Map<string, string>();
  async loadAll(): Promise<Map<string, unknown>> {
    return new Map([...this.data].map(([k, v]) => [k, JSON.parse(v) as unknown]));
  }
  async save(changes: ReadonlyMap<string, unknown | null>): Promise<void> {
    for (const [key, state] of changes) {
      if (state === null) this.data.delete(key);
      else this.data.set(key, JSON.stringify(state));
    }
  }
}
