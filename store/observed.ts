/**
 * A store that reports how long each statement took, for the query-latency
 * histogram on /metrics. It wraps any backend without changing what it does:
 * the observer sees the operation, the seconds and whether it succeeded, and
 * the result or the error passes through untouched.
 */
import type { Sql } from './sql.js';
import type { Store } from './store.js';

export type StoreOperation = 'query' | 'command' | 'insert';

/** Called once per statement; must not throw (it runs on the store's path). */
export type StoreObserver = (operation: StoreOperation, seconds: number, ok: boolean) => void;

export function observeStore(store: Store, observer: StoreObserver): Store {
  async function timed<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    let ok = false;
    try {
      const result = await run();
      ok = true;
      return result;
    } finally {
      observer(operation, Number(process.hrtime.bigint() - start) / 1e9, ok);
    }
  }
  return {
    get backend() { return store.backend; },
    get database() { return store.database; },
    get cluster() { return store.cluster; },
    table: (name) => store.table(name),
    query: <T>(statement: Sql) => timed('query', () => store.query<T>(statement)),
    command: (statement) => timed('command', () => store.command(statement)),
    insert: (table, rows, jsonText) => timed('insert', () => store.insert(table, rows, jsonText)),
    serverVersion: () => store.serverVersion(),
    close: () => store.close(),
  };
}
