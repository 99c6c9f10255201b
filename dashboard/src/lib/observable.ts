/**
 * A minimal observable value that honours Svelte's store contract
 * (`subscribe` calls the listener at once and returns an unsubscribe), so
 * components read it with `$value` while this module stays plain TypeScript
 * that unit tests import without Svelte.
 */
export interface Readable<T> {
  subscribe(listener: (value: T) => void): () => void;
}

export interface Observable<T> extends Readable<T> {
  get(): T;
  set(value: T): void;
  update(change: (value: T) => T): void;
}

export function observable<T>(initial: T): Observable<T> {
  let value = initial;
  const listeners = new Set<(value: T) => void>();
  return {
    get: () => value,
    set(next) {
      value = next;
      for (const listener of [...listeners]) listener(value);
    },
    update(change) {
      this.set(change(value));
    },
    subscribe(listener) {
      listeners.add(listener);
      listener(value);
      return () => listeners.delete(listener);
    },
  };
}
