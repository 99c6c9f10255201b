/**
 * Lock-out after repeated failed logins, per user name and per client address.
 *
 * `maxFailuresPerUser` failures for one name within `windowMs` lock that name
 * for `lockoutMs`; `maxFailuresPerIp` failures from one address lock that
 * address. A locked name or address is refused before its password is checked,
 * so guessing stops even with the right password. Locking a name lets anyone
 * keep a user out (the price of stopping password guessing); admins still get
 * in with an API token, and the lock ends by itself.
 *
 * The state is in memory, per process: it is there to slow guessing, and a
 * restart clearing it costs an attacker a restart. The maps are bounded, so
 * guesses at random names cannot grow the server's memory.
 */

export interface LoginGuardOptions {
  maxFailuresPerUser: number;
  maxFailuresPerIp: number;
  windowMs: number;
  lockoutMs: number;
  now: () => Date;
  /** Most names (and addresses) tracked at once; the oldest are forgotten first. */
  maxEntries?: number;
}

export type LockScope = 'user' | 'ip';

export interface Lock {
  scope: LockScope;
  until: Date;
}

interface Counter {
  /** Times of recent failures (ms), oldest first. */
  failures: number[];
  lockedUntil: number;
}

class CounterMap {
  private readonly entries = new Map<string, Counter>();
  constructor(private readonly maxEntries: number) {}

  get(key: string): Counter | undefined {
    return this.entries.get(key);
  }

  getOrCreate(key: string): Counter {
    let counter = this.entries.get(key);
    if (counter) {
      // Re-insert, so the map's order is least recently failed first.
      this.entries.delete(key);
    } else {
      counter = { failures: [], lockedUntil: 0 };
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    }
    this.entries.set(key, counter);
    return counter;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

export class LoginGuard {
  private readonly users: CounterMap;
  private readonly ips: CounterMap;

  constructor(private readonly options: LoginGuardOptions) {
    this.users = new CounterMap(options.maxEntries ?? 10_000);
    this.ips = new CounterMap(options.maxEntries ?? 10_000);
  }

  /** The lock that refuses this attempt, if any (the address first: it is the wider one). */
  check(username: string, ip: string): Lock | undefined {
    const now = this.options.now().getTime();
    const ipLock = this.ips.get(ip)?.lockedUntil ?? 0;
    if (ipLock > now) return { scope: 'ip', until: new Date(ipLock) };
    const userLock = this.users.get(username)?.lockedUntil ?? 0;
    if (userLock > now) return { scope: 'user', until: new Date(userLock) };
    return undefined;
  }

  /** Count a failure; returns the locks this failure started (for the audit log). */
  recordFailure(username: string, ip: string): Lock[] {
    const started: Lock[] = [];
    const user = this.count(this.users.getOrCreate(username), this.options.maxFailuresPerUser);
    if (user) started.push({ scope: 'user', until: user });
    const address = this.count(this.ips.getOrCreate(ip), this.options.maxFailuresPerIp);
    if (address) started.push({ scope: 'ip', until: address });
    return started;
  }

  /**
   * A good password clears the name's failures. The address keeps its count:
   * otherwise one valid account would let its owner guess others' passwords
   * without limit by logging in between guesses.
   */
  recordSuccess(username: string): void {
    this.users.delete(username);
  }

  private count(counter: Counter, max: number): Date | undefined {
    const now = this.options.now().getTime();
    const since = now - this.options.windowMs;
    counter.failures = counter.failures.filter((t) => t > since && t <= now);
    counter.failures.push(now);
    if (counter.failures.length >= max) {
      counter.failures = [];
      counter.lockedUntil = now + this.options.lockoutMs;
      return new Date(counter.lockedUntil);
    }
    return undefined;
  }
}
