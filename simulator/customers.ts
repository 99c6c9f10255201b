/**
 * A region's customers: a fixed pool of phone numbers with a skewed draw, so a
 * few customers get in touch often. Together with retries after an abandon and
 * repeat contacts after an unresolved one, this gives the repeat-contact and
 * repeat-complaint KPIs something real to find.
 */
import type { Random } from './random.js';

const PREFIXES = ['3', '5', '8'] as const;

export class CustomerPool {
  constructor(
    private readonly regionIndex: number,
    readonly size: number,
  ) {}

  /** A customer's phone number (11 digits, like a mainland mobile number). */
  number(index: number): string {
    const prefix = PREFIXES[index % PREFIXES.length] as string;
    return `1${prefix}${String(this.regionIndex % 100).padStart(2, '0')}${String(index).padStart(7, '0')}`;
  }

  /** Draw a customer; u² skews towards low indexes, the frequent callers. */
  pick(rng: Random): string {
    const u = rng.next();
    return this.number(Math.floor(u * u * this.size));
  }
}
